//! Published trust lists: `SignedTrustList::from_json`, then `open` against the pinned root.
//!
//! First byte: 0, the rest is the published document as fetched; 1, the rest is the inner
//! list text, signed by the pinned root here so that the fuzzer gets past the signature
//! to the list's own reading and consistency checks.
//!
//! Checked besides "no panic": a document read writes back (`to_json`) to one that reads
//! the same; a list that opens, signed again, opens to the same list and is refused
//! under another root, an older sequence, and by a verifier it does not vouch for.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use healthcode_fuzz::{issuer, mode, root, sign, trust, NOW};
use healthcode_token::{issue_code, verify_code, SignedTrustList, TrustListError, Verifier, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((m, rest)) = mode(data) else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let pinned = root().public();
    let document = if m % 2 == 0 {
        text.to_string()
    } else {
        serde_json::json!({
            "trust_list": text,
            "root_key_id": root().key_id().to_string(),
            "signature": STANDARD.encode(sign(&root(), text.as_bytes())),
        })
        .to_string()
    };
    let Ok(signed) = SignedTrustList::from_json(&document) else { return };
    assert_eq!(SignedTrustList::from_json(&signed.to_json()).as_ref(), Ok(&signed));
    let _ = signed.content_hash();
    let Ok(list) = signed.open(&pinned) else { return };
    assert!(matches!(signed.open(&issuer().public()), Err(TrustListError::WrongRoot { .. })));
    if list.sequence < u64::MAX {
        assert!(matches!(signed.open_not_older(&pinned, Some(list.sequence + 1)), Err(TrustListError::Older { .. })));
    }
    let again = SignedTrustList::sign(&root(), &list);
    assert_eq!(SignedTrustList::from_json(&again.to_json()).and_then(|s| s.open(&pinned)).as_ref(), Ok(&list));
    // A token from our issuer verifies under the fuzzed list only if the list has its key.
    let verifier = Verifier::new(list.clone());
    let token = issue_code(&issuer(), &code_claims());
    let opts = VerifyOptions::at(NOW);
    let result = verifier.verify_code(&token, &opts);
    assert_eq!(result, verify_code(&token, &list, &opts));
    if result.is_ok() {
        assert!(list.find(issuer().key_id()).is_some());
        assert_eq!(list.region, trust().region);
    }
});

fn code_claims() -> healthcode_token::CodeClaims {
    healthcode_token::CodeClaims {
        issuer: "33".into(),
        code_id: "c_1".into(),
        colour: healthcode_domain::Colour::Green,
        kind: healthcode_domain::PersonKind::Domestic,
        display_name: "李*".into(),
        issued_at: NOW,
        expires_at: NOW + 300,
    }
}
