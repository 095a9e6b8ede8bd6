use serde_json::json;

use super::*;

fn now() -> Timestamp {
    Timestamp::parse("2020-06-01T08:00:00+08:00").unwrap()
}

fn refused(value: serde_json::Value) -> ValidationError {
    parse_event(&value, now()).expect_err("should be refused")
}

#[test]
fn parses_every_evidence_type_of_the_spec() {
    let inputs = [
        json!({"type": "fever"}),
        json!({"type": "fever_resolved"}),
        json!({"type": "test", "result": "negative", "sampled_at": "2020-06-01T07:00:00+08:00"}),
        json!({"type": "diagnosis", "status": "asymptomatic"}),
        json!({"type": "close_contact", "exposure_at": "2020-05-30T08:00:00+08:00"}),
        json!({"type": "contact_cleared"}),
        json!({"type": "entry", "country": "GB", "entered_at": "2020-05-30T08:00:00+08:00"}),
        json!({"type": "stay", "area": "330106", "from": "2020-05-30T08:00:00+08:00", "to": null}),
        json!({"type": "quarantine_order", "mode": "home", "days": 7}),
        json!({"type": "quarantine_release", "mode": "centralized"}),
        json!({"type": "management_decision", "color": "yellow", "until": "2020-06-08T08:00:00+08:00",
               "basis": "传染病防治法 第三十九条", "approvers": ["wang", "li"]}),
        json!({"type": "retraction", "retracts": "t-1", "reason": "sample mislabelled"}),
        json!({"type": "area_risk", "area": "330100", "level": "high", "escalate_to_red": true}),
    ];
    for input in inputs {
        let parsed = parse_event(&input, now()).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(parsed.at, now());
    }
}

#[test]
fn fever_onset_defaults_to_the_recording_time() {
    let e = parse_event(&json!({"type": "fever", "at": "2020-06-02T08:00:00+08:00"}), now()).unwrap();
    let at = Timestamp::parse("2020-06-02T08:00:00+08:00").unwrap();
    assert_eq!(e.body, EventBody::Evidence(Evidence::Fever { onset_at: at }));
}

#[test]
fn unknown_type_is_named() {
    let e = refused(json!({"type": "feverish"}));
    assert_eq!(e.field.as_deref(), Some("type"));
    assert!(e.message.contains("unknown event type `feverish`"), "{e}");
    assert!(e.message.contains("close_contact"), "lists the choices: {e}");
}

#[test]
fn missing_type_and_non_objects_are_refused() {
    assert_eq!(refused(json!({"id": "x"})).field.as_deref(), Some("type"));
    assert!(refused(json!([1, 2])).message.contains("JSON object"));
    assert!(refused(json!("fever")).message.contains("JSON object"));
}

#[test]
fn missing_field_is_named() {
    let e = refused(json!({"type": "test", "result": "negative"}));
    assert_eq!(e.field.as_deref(), Some("sampled_at"));
    assert!(e.message.contains("missing required field `sampled_at`"), "{e}");
}

#[test]
fn malformed_fields_are_named() {
    let e = refused(json!({"type": "test", "result": "maybe", "sampled_at": "2020-06-01T07:00:00+08:00"}));
    assert_eq!(e.field.as_deref(), Some("result"));
    assert!(e.message.contains("`positive`, `negative`"), "{e}");
    let e = refused(json!({"type": "quarantine_order", "mode": "home", "days": "seven"}));
    assert_eq!(e.field.as_deref(), Some("days"));
    let e = refused(json!({"type": "quarantine_order", "mode": "home", "days": 0}));
    assert_eq!(e.field.as_deref(), Some("days"));
    let e = refused(json!({"type": "diagnosis", "status": 3}));
    assert!(e.message.contains("expected a string, got a number"), "{e}");
    let e = refused(json!({"type": "entry", "country": " ", "entered_at": "2020-05-30T08:00:00+08:00"}));
    assert_eq!(e.field.as_deref(), Some("country"));
    let e = parse_event(&json!({"type": "entry", "country": "gb", "entered_at": "2020-05-30T08:00:00+08:00"}), now())
        .unwrap();
    assert!(
        matches!(e.body, EventBody::Evidence(Evidence::Entry { ref country, .. }) if country == "GB"),
        "codes are upper-cased"
    );
}

#[test]
fn bad_timestamps_are_refused_with_an_example() {
    for bad in ["2020-06-01", "2020-06-01T08:00:00", "01/06/2020 08:00", "2020-13-01T08:00:00+08:00"] {
        let e = refused(json!({"type": "close_contact", "exposure_at": bad}));
        assert_eq!(e.field.as_deref(), Some("exposure_at"), "{bad}");
        assert!(e.message.contains("RFC 3339"), "{e}");
    }
    let e = refused(json!({"type": "fever", "at": "noon"}));
    assert_eq!(e.field.as_deref(), Some("at"));
}

#[test]
fn area_codes_must_have_6_9_or_12_digits() {
    for bad in ["3301", "3301061", "33010600", "330106001000A", "abcdef"] {
        let e = refused(json!({"type": "area_risk", "area": bad, "level": "high"}));
        assert_eq!(e.field.as_deref(), Some("area"), "{bad}");
        assert!(e.message.contains("6, 9 or 12 digits"), "{e}");
    }
}

#[test]
fn a_stay_cannot_end_before_it_starts() {
    let e = refused(json!({"type": "stay", "area": "330106",
        "from": "2020-06-02T08:00:00+08:00", "to": "2020-06-01T08:00:00+08:00"}));
    assert_eq!(e.field.as_deref(), Some("to"));
    assert!(e.message.contains("before it starts"), "{e}");
}

#[test]
fn a_decision_needs_two_distinct_approvers() {
    let decision = |approvers: serde_json::Value| {
        json!({"type": "management_decision", "color": "red", "until": "2020-06-08T08:00:00+08:00",
               "basis": "law", "approvers": approvers})
    };
    for approvers in [json!([]), json!(["wang"]), json!(["wang", "wang"]), json!(["Wang", " wang "])] {
        let e = refused(decision(approvers.clone()));
        assert_eq!(e.field.as_deref(), Some("approvers"), "{approvers}");
        assert!(e.message.contains("two distinct approvers"), "{e}");
    }
    assert!(refused(decision(json!("wang,li"))).message.contains("list"));
    assert!(parse_event(&decision(json!(["wang", "li"])), now()).is_ok());
}

#[test]
fn a_decision_needs_a_basis_and_a_future_expiry() {
    let e = refused(json!({"type": "management_decision", "color": "red", "until": "2020-06-08T08:00:00+08:00",
        "basis": "  ", "approvers": ["a", "b"]}));
    assert_eq!(e.field.as_deref(), Some("basis"));
    let e = refused(json!({"type": "management_decision", "color": "red", "until": "2020-05-08T08:00:00+08:00",
        "basis": "law", "approvers": ["a", "b"]}));
    assert_eq!(e.field.as_deref(), Some("until"));
    let e = refused(json!({"type": "management_decision", "color": "green", "until": "2020-06-08T08:00:00+08:00",
        "basis": "law", "approvers": ["a", "b"]}));
    assert_eq!(e.field.as_deref(), Some("color"), "no decision can make a code green or set any colour but red/yellow");
}

#[test]
fn unknown_fields_are_refused_not_ignored() {
    let e = refused(json!({"type": "fever", "onset": "2020-06-01T08:00:00+08:00"}));
    assert_eq!(e.field.as_deref(), Some("onset"));
    assert!(e.message.contains("onset_at"), "suggests the real field: {e}");
    let e = refused(json!({"type": "contact_cleared", "color": "green"}));
    assert_eq!(e.field.as_deref(), Some("color"));
}

#[test]
fn designations_are_not_about_a_person() {
    let e = refused(json!({"type": "area_risk", "area": "330106", "level": "high", "person_id": "p1"}));
    assert!(e.message.contains("global"), "{e}");
}

#[test]
fn persons_are_named_one_way() {
    let e = refused(json!({"type": "fever", "person_id": "p1", "id_type": "passport", "id_number": "E1234567"}));
    assert!(e.message.contains("not both"), "{e}");
    let e = refused(json!({"type": "fever", "id_type": "passport"}));
    assert!(e.message.contains("give both"), "{e}");
    let e = refused(json!({"type": "fever", "id_type": "resident_id", "id_number": "110105194912310021"}));
    assert_eq!(e.field.as_deref(), Some("id_number"));
    assert!(!e.message.contains("110105194912310021"), "never echoes an ID number");
}

#[test]
fn control_characters_in_text_are_refused() {
    let e = refused(json!({"type": "entry", "country": "G\u{0}B", "entered_at": "2020-05-30T08:00:00+08:00"}));
    assert_eq!(e.field.as_deref(), Some("country"));
    assert!(e.message.contains("control character"), "{e}");
    let e = refused(json!({"type": "management_decision", "color": "red", "until": "2020-06-08T08:00:00+08:00",
        "basis": "law", "approvers": ["a\u{0}", "b"]}));
    assert_eq!(e.field.as_deref(), Some("approvers"));
}

#[test]
fn a_retraction_names_its_record_and_says_why() {
    let e = refused(json!({"type": "retraction", "reason": "sample mislabelled"}));
    assert_eq!(e.field.as_deref(), Some("retracts"));
    let e = refused(json!({"type": "retraction", "retracts": "has space", "reason": "sample mislabelled"}));
    assert_eq!(e.field.as_deref(), Some("retracts"));
    let e = refused(json!({"type": "retraction", "retracts": "t-1", "reason": "oops"}));
    assert_eq!(e.field.as_deref(), Some("reason"), "a reason is at least 5 characters: {e}");
    let e = refused(json!({"type": "retraction", "retracts": "t-1", "reason": "x".repeat(501)}));
    assert_eq!(e.field.as_deref(), Some("reason"));
}

fn event(id: &str, seq: i64, body: Evidence) -> Event<Evidence> {
    Event { id: EventId::parse(id).unwrap(), at: now().saturating_add(crate::Duration::hours(seq)), seq, body }
}

#[test]
fn retracted_marks_only_earlier_records_and_never_a_retraction() {
    let retract =
        |id: &str| Evidence::Retraction { retracts: EventId::parse(id).unwrap(), reason: "wrong person".into() };
    let test = Evidence::Test { result: TestResult::Positive, sampled_at: now() };
    assert_eq!(retracted(&[event("t-1", 1, test.clone())]), None, "nothing retracted: nothing to pay");
    let events = [
        event("t-1", 1, test.clone()),
        event("r-1", 2, retract("t-1")),
        event("r-2", 3, retract("r-1")),
        event("r-3", 4, retract("t-9")),
        event("r-4", 5, retract("t-2")),
        event("t-2", 6, test),
    ];
    assert_eq!(
        retracted(&events),
        Some(vec![true, false, false, false, false, false]),
        "a retraction of a retraction, of an unknown record or of a later one withdraws nothing"
    );
}
