//! `HC1:`/`HV1:`/`HP1:` tokens end to end: base45, zlib, COSE_Sign1, CWT claims.
//!
//! The first byte picks the layer the rest of the input is, so that the fuzzer reaches
//! every layer past the signature check:
//! - 0: token text, verified as all three kinds;
//! - 1: a CWT claims payload, signed by the trusted issuer and wrapped (second byte: kind);
//! - 2: COSE bytes, wrapped but not re-signed (second byte: kind);
//! - 3: a zlib stream, base45-encoded (second byte: kind).
//!
//! Checked besides "no panic": the free functions, `Verifier` and `prepare_code` +
//! `check_signatures` + `finish_code` give the same answer; claims that verify, issued
//! again by the issuer, verify to the same claims; text that verifies under a key is
//! refused under a list that does not trust it.
#![no_main]

use healthcode_fuzz::{issuer, kind_of, mode, signed_cose, trust, wrap, wrap_zlib, NOW};
use healthcode_token::{
    check_signatures, issue_card, issue_code, issue_venue, verify_card, verify_code, verify_venue, TokenKind,
    TrustList, Verifier, VerifyOptions, MAX_TOKEN_CHARS,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((m, rest)) = mode(data) else { return };
    match m % 4 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                check_all_kinds(text);
            }
        }
        1..=3 => {
            let Some((k, body)) = mode(rest) else { return };
            let kind = kind_of(k);
            let token = match m % 4 {
                1 => wrap(kind, &signed_cose(&issuer(), body)),
                2 => wrap(kind, body),
                _ => wrap_zlib(kind, body),
            };
            check_all_kinds(&token);
        }
        _ => unreachable!(),
    }
});

fn check_all_kinds(token: &str) {
    let list = trust();
    let verifier = Verifier::new(list.clone());
    let opts = VerifyOptions::at(NOW);
    let empty = TrustList { keys: vec![], ..list.clone() };

    let code = verify_code(token, &list, &opts);
    assert_eq!(code, verifier.verify_code(token, &opts));
    // The batch path: same answer as one by one.
    let batched = verifier.prepare_code(token).and_then(|prepared| {
        let holds = check_signatures(&[&prepared])[0];
        verifier.finish_code(prepared, holds, &opts)
    });
    assert_eq!(code, batched);
    if let Ok(claims) = &code {
        assert!(verify_code(token, &empty, &opts).is_err());
        let again = issue_code(&issuer(), claims);
        // The issuer writes stored blocks: a text that deflate shrank may not fit again.
        if again.len() <= MAX_TOKEN_CHARS {
            assert_eq!(verify_code(&again, &list, &opts).as_ref(), Ok(claims));
        }
        assert!(token.starts_with(TokenKind::Code.prefix()));
    }

    let venue = verify_venue(token, &list, &opts);
    assert_eq!(venue, verifier.verify_venue(token, &opts));
    if let Ok(claims) = &venue {
        assert!(verify_venue(token, &empty, &opts).is_err());
        let again = issue_venue(&issuer(), claims);
        // The issuer writes stored blocks: a text that deflate shrank may not fit again.
        if again.len() <= MAX_TOKEN_CHARS {
            assert_eq!(verify_venue(&again, &list, &opts).as_ref(), Ok(claims));
        }
    }

    let card = verify_card(token, &list, &opts);
    assert_eq!(card, verifier.verify_card(token, &opts));
    if let Ok(claims) = &card {
        assert!(verify_card(token, &empty, &opts).is_err());
        let again = issue_card(&issuer(), claims);
        // The issuer writes stored blocks: a text that deflate shrank may not fit again.
        if again.len() <= MAX_TOKEN_CHARS {
            assert_eq!(verify_card(&again, &list, &opts).as_ref(), Ok(claims));
        }
    }
    // One text is one kind at most.
    assert!([code.is_ok(), venue.is_ok(), card.is_ok()].iter().filter(|ok| **ok).count() <= 1);
}
