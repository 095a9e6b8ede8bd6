//! Log entries: canonical JSON, one spelling each, and the person commitment.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_log::*;

fn colour_change() -> Entry {
    Entry::ColourChange(ColourChange {
        at: 1_655_280_000_000,
        person_commitment: person_commitment(&[7; 32], "P-0001", 0),
        old_colour: Some("green".into()),
        new_colour: "red".into(),
        rules: vec!["R5".into()],
        evidence_digests: vec!["ab".repeat(32)],
        rule_set_version: "2022.3".into(),
        origin: None,
    })
}

fn all_kinds() -> Vec<Entry> {
    vec![
        colour_change(),
        Entry::ColourChange(ColourChange {
            at: 0,
            person_commitment: person_commitment(&[1; 32], "P-0002", 0),
            old_colour: None,
            new_colour: "green".into(),
            rules: vec![],
            evidence_digests: vec![],
            rule_set_version: "1".into(),
            origin: None,
        }),
        Entry::ColourChange(ColourChange {
            at: 0,
            person_commitment: person_commitment(&[1; 32], "P-0003", 1),
            old_colour: Some("green".into()),
            new_colour: "red".into(),
            rules: vec!["R2".into()],
            evidence_digests: vec!["ef".repeat(32)],
            rule_set_version: "1".into(),
            origin: Some("trace".into()),
        }),
        Entry::AccountInUse(AccountInUse {
            at: 6,
            username: "province/qian".into(),
            role: "provincial_office".into(),
            jurisdiction: Some("33".into()),
            department: None,
            created_at: 1,
            key_label: Some("minted at night".into()),
            key_created_at: Some(2),
        }),
        Entry::DeviceApproval(DeviceApproval {
            at: 5,
            device_id: "d0123".into(),
            venue_id: "v0456".into(),
            approved_by: "province/qian".into(),
        }),
        Entry::AgreementConfirmation(AgreementConfirmation {
            at: 7,
            receiving: "33".into(),
            issuing: "41".into(),
            path: "recognition".into(),
            from: 1,
            until: None,
            approvers: vec!["zhejiang/qian".into(), "zhejiang/sun".into()],
        }),
        Entry::DeclarationConfirmation(DeclarationConfirmation {
            at: 6,
            declaration_id: "wd-0123".into(),
            key_seen_by: vec!["hangzhou/wang".into()],
            confirmed_by: "hangzhou/chen".into(),
            items: 2,
        }),
        Entry::TraceApproval(TraceApproval {
            at: 4,
            trace_id: "trace0123".into(),
            persons: 3,
            proposed_by: "hangzhou/chen".into(),
            approved_by: "province/qian".into(),
            visits_published: None,
            visits_withdrawn: None,
            withdrawn_because: None,
        }),
        Entry::TraceApproval(TraceApproval {
            at: 5,
            trace_id: "trace4567".into(),
            persons: 0,
            proposed_by: "hangzhou/chen".into(),
            approved_by: "province/qian".into(),
            visits_published: Some(2),
            visits_withdrawn: None,
            withdrawn_because: None,
        }),
        Entry::RuleSetApproval(RuleSetApproval {
            at: 1,
            version: "2022.3".into(),
            digest: format!("sha256:{}", "cd".repeat(32)),
            approvers: vec!["health-commission/zhang".into(), "legal-office/li".into()],
            activates_at: 2,
        }),
        Entry::DesignationApproval(DesignationApproval {
            at: 3,
            area: "410102".into(),
            level: "high".into(),
            escalate_to_red: true,
            proposed_by: "cdc/wang".into(),
            approved_by: "hq/zhao".into(),
            event_id: Some("d-7".into()),
        }),
        Entry::DecisionApproval(DecisionApproval {
            at: 4,
            decision_id: "D-17".into(),
            colour: "red".into(),
            basis: "《传染病防治法》第三十九条".into(),
            approvers: vec!["a".into(), "b".into()],
            persons: 1317,
            until: 5,
        }),
        Entry::Alarm(Alarm {
            at: 6,
            kind: "red_without_evidence".into(),
            jurisdiction: "4101".into(),
            detail: "1317 codes turned red by decision in 3 days".into(),
        }),
    ]
}

#[test]
fn every_kind_round_trips_through_its_leaf_bytes() {
    for entry in all_kinds() {
        let bytes = entry.leaf_bytes();
        assert_eq!(Entry::from_leaf_bytes(&bytes), Ok(entry.clone()));
        assert_eq!(entry.leaf_hash(), leaf_hash(&bytes));
    }
}

#[test]
fn the_canonical_form_is_pinned() {
    // Changing this spelling changes every leaf hash: it is a format change, not a refactor.
    let json = String::from_utf8(colour_change().leaf_bytes()).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"type":"colour_change","at":1655280000000,"person_commitment":"{}","old_colour":"green","new_colour":"red","rules":["R5"],"evidence_digests":["{}"],"rule_set_version":"2022.3"}}"#,
            person_commitment(&[7; 32], "P-0001", 0),
            "ab".repeat(32)
        )
    );
    let first = Entry::ColourChange(ColourChange {
        old_colour: None,
        ..match colour_change() {
            Entry::ColourChange(c) => c,
            _ => unreachable!(),
        }
    });
    assert!(String::from_utf8(first.leaf_bytes()).unwrap().contains(r#""old_colour":null"#));
    // The origin, when known, comes last; entries without it keep their old bytes.
    let with_origin = Entry::ColourChange(ColourChange {
        origin: Some("decision".into()),
        ..match colour_change() {
            Entry::ColourChange(c) => c,
            _ => unreachable!(),
        }
    });
    let text = String::from_utf8(with_origin.leaf_bytes()).unwrap();
    assert!(text.ends_with(r#""rule_set_version":"2022.3","origin":"decision"}"#), "{text}");
    assert_eq!(Entry::from_leaf_bytes(text.as_bytes()).unwrap(), with_origin);
}

#[test]
fn other_spellings_of_an_entry_are_refused() {
    let canonical = String::from_utf8(colour_change().leaf_bytes()).unwrap();
    let spaced = canonical.replace(",\"", ", \"");
    let reordered = canonical.replacen(
        r#""type":"colour_change","at":1655280000000"#,
        r#""at":1655280000000,"type":"colour_change""#,
        1,
    );
    let extra = canonical.replacen('{', r#"{"person_id":"P-0001","#, 1);
    for other in [spaced, reordered, format!("{canonical}\n")] {
        assert_eq!(Entry::from_leaf_bytes(other.as_bytes()), Err(EntryError::NotCanonical), "{other}");
    }
    for invalid in [extra.as_str(), r#"{"type":"colour_flip","at":1}"#, "not json", ""] {
        let result = Entry::from_leaf_bytes(invalid.as_bytes());
        assert!(matches!(result, Err(EntryError::Invalid(_)) | Err(EntryError::NotCanonical)), "{invalid}: {result:?}");
    }
}

#[test]
fn person_commitments_follow_the_documented_encoding() {
    // Computed independently: Python hashlib over the encoding in the README.
    let salt: [u8; 32] = std::array::from_fn(|i| i as u8);
    assert_eq!(
        person_commitment(&salt, "P-0001", 3),
        "b641402c3c1f941f8dd22574ae9dc9a5d6d6c587e2286454c45dde63095f8d63"
    );
    let c = person_commitment(&salt, "P-0001", 0);
    assert_eq!(c.len(), 64);
    assert_ne!(c, person_commitment(&salt, "P-0001", 1), "each change has its own commitment");
    assert_ne!(c, person_commitment(&[0; 32], "P-0001", 0), "another salt, another commitment");
    assert_ne!(c, person_commitment(&salt, "P-0002", 0));
}
