//! Events as departments send them (`parse_event`), then through the reference rules.
//!
//! The input is the JSON text of one event (as an NDJSON line or an API body is). Checked
//! besides "no panic": parsing does not depend on the default time when the event has an
//! `at`; parsed evidence and area designations survive a serde round trip unchanged;
//! recorded times write out as RFC 3339 that reads back to the same instant; the
//! reference rules evaluate the event (as evidence or as a designation) without panicking,
//! at its own time and at the ends of time, and the next change they announce is later.
#![no_main]

use healthcode_domain::{parse_event, AreaRisk, Event, EventBody, EventId, Evidence, PersonKind, Timestamp};
use healthcode_fuzz::NOW;
use healthcode_rules::{AreaRiskIndex, RuleSet};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(RuleSet::reference)
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let default_at = Timestamp::from_millis(NOW * 1000);
    let Ok(event) = parse_event(&value, default_at) else { return };
    let elsewhere =
        parse_event(&value, Timestamp::from_millis(0)).expect("parsing does not depend on the default time");
    if event.at_supplied {
        assert_eq!(event, elsewhere);
    } else {
        assert_eq!(event.at, default_at);
    }
    let written = event.at.to_rfc3339();
    if !written.starts_with('@') {
        assert_eq!(Timestamp::parse(&written), Ok(event.at), "{written}");
    }
    let id = event.id.clone().unwrap_or_else(|| EventId::parse("e1").expect("a valid id"));
    let moments = [event.at, Timestamp::MIN, Timestamp::MAX, Timestamp::from_millis(0)];
    match &event.body {
        EventBody::Evidence(evidence) => {
            let json = serde_json::to_string(evidence).expect("evidence serialises");
            assert_eq!(&serde_json::from_str::<Evidence>(&json).expect("evidence reads back"), evidence, "{json}");
            let events = [Event { id, at: event.at, seq: 1, body: evidence.clone() }];
            let areas = AreaRiskIndex::new([]);
            for kind in [PersonKind::Domestic, PersonKind::International] {
                for at in moments {
                    let evaluation = rules().evaluate(kind, &events, &areas, at);
                    if let Some(next) = evaluation.next_change {
                        assert!(next > at, "next change {next:?} is not after {at:?}");
                    }
                }
            }
        }
        EventBody::AreaRisk(designation) => {
            let json = serde_json::to_string(designation).expect("a designation serialises");
            assert_eq!(&serde_json::from_str::<AreaRisk>(&json).expect("a designation reads back"), designation);
            let areas = AreaRiskIndex::new([Event { id, at: event.at, seq: 1, body: designation.clone() }]);
            for at in moments {
                let _ = areas.level_at(&designation.area, at);
            }
        }
    }
});
