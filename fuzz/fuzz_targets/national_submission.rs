//! The national exchange's untrusted lines: what a region submits to the hub
//! (`Submission::parse`, refused with a field and a reason or read whole) and what a region
//! reads from the hub's log (`Entry::from_leaf_bytes`).
//!
//! The input is one line. Checked besides "no panic": a line the parser reads becomes a
//! record whose canonical form reads back as the same log entry; a region can sign it
//! (`sign_line`), the signed line reads back with its signature, and the signature holds
//! for the record the hub would publish from it (`verify_record`), so that a region's
//! line never fails at the hub for a reason the parser did not give; a leaf that reads as
//! an entry writes back as an entry that reads the same.
#![no_main]

use healthcode_domain::Timestamp;
use healthcode_fuzz::{issuer, NOW};
use healthcode_log::Entry;
use healthcode_service::national::exchange::{sign_line, verify_record};
use healthcode_service::national::Submission;
use healthcode_token::{TrustList, TrustedKey};
use libfuzzer_sys::fuzz_target;

const REGION: &str = "41";

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = Entry::from_leaf_bytes(data) {
        let again = Entry::from_leaf_bytes(&entry.leaf_bytes()).expect("an entry's own leaf reads back");
        assert_eq!(again, entry);
    }
    let Ok(line) = std::str::from_utf8(data) else { return };
    let Ok(submission) = Submission::parse(line) else { return };
    let person = submission.person().unwrap_or_default().to_string();
    let at = Timestamp::from_millis(NOW * 1000);
    let record = submission.to_record(REGION, &person, at);
    let _ = record.signed_payload();
    let entry = Entry::NationalRecord(record);
    assert_eq!(Entry::from_leaf_bytes(&entry.leaf_bytes()).expect("a record's leaf reads back"), entry);

    let key = issuer();
    let signed = sign_line(line, REGION, &key).expect("a line the parser reads can be signed");
    let again = Submission::parse(&signed).expect("a signed line reads back");
    assert!(again.signed().is_some(), "{signed}");
    assert_eq!(again.id(), submission.id());
    let trust = TrustList {
        region: REGION.into(),
        sequence: 1,
        issued_at: NOW - 86_400,
        keys: vec![TrustedKey::of(&key, NOW - 86_400)],
    };
    let published = again.to_record(REGION, &person, at);
    assert_eq!(verify_record(&published, &trust), Ok(()), "{signed}");
});
