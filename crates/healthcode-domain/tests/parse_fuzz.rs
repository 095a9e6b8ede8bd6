//! The event parser takes untrusted input: whatever JSON arrives, it answers with an
//! event or a refusal that says what is wrong, and never panics.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_domain::{parse_event, Timestamp};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const FIELDS: &[&str] = &[
    "id",
    "at",
    "type",
    "person_id",
    "id_type",
    "id_number",
    "onset_at",
    "result",
    "sampled_at",
    "status",
    "exposure_at",
    "country",
    "entered_at",
    "area",
    "from",
    "to",
    "mode",
    "days",
    "color",
    "until",
    "basis",
    "approvers",
    "level",
    "escalate_to_red",
    "source",
    "note",
    "extra",
];
const TYPES: &[&str] = &[
    "fever",
    "fever_resolved",
    "test",
    "diagnosis",
    "close_contact",
    "contact_cleared",
    "entry",
    "stay",
    "quarantine_order",
    "quarantine_release",
    "management_decision",
    "area_risk",
    "unknown",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,30}".prop_map(Value::from),
        prop::sample::select(vec![
            "2020-06-01T08:00:00+08:00",
            "2020-06-01",
            "330106",
            "3301",
            "330106001002",
            "positive",
            "home",
            "red",
            "high",
            "GB",
            "11010519491231002X",
            "",
            "2020-02-30T08:00:00+08:00",
            "9999-12-31T23:59:59+14:00",
        ])
        .prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects that look like events: a known type and a random selection of known fields.
fn event_like() -> impl Strategy<Value = Value> {
    (prop::sample::select(TYPES), prop::collection::vec((prop::sample::select(FIELDS), value()), 0..10)).prop_map(
        |(kind, fields)| {
            let mut object = Map::new();
            for (name, v) in fields {
                object.insert(name.to_string(), v);
            }
            object.insert("type".into(), json!(kind));
            Value::Object(object)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_json_gets_an_answer(v in value()) {
        if let Err(e) = parse_event(&v, Timestamp::from_millis(0)) {
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn event_like_json_gets_an_answer_naming_the_field(v in event_like()) {
        if let Err(e) = parse_event(&v, Timestamp::from_millis(0)) {
            prop_assert!(!e.message.is_empty());
            if let Some(field) = &e.field {
                prop_assert!(e.message.contains(field.as_str()) || field == "to" || field == "approvers",
                    "the message names the field: {:?}", e);
            }
        }
    }

    #[test]
    fn accepted_events_round_trip_through_storage_json(v in event_like()) {
        if let Ok(parsed) = parse_event(&v, Timestamp::from_millis(0)) {
            if let healthcode_domain::EventBody::Evidence(e) = parsed.body {
                let back: healthcode_domain::Evidence = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
                prop_assert_eq!(back, e);
            }
        }
    }
}
