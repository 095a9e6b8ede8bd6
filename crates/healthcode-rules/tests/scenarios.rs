//! The scenario folders against the pure evaluator, without a store: a fast check that
//! the rules themselves are right. The CLI test runs the same files through ingestion.

use std::path::{Path, PathBuf};

use healthcode_domain::{parse_event, Colour, Event, EventBody, EventId, PersonKind, Timestamp};
use healthcode_rules::{AreaRiskIndex, RuleSet};
use serde_json::Value;

fn scenario_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    [root.join("scenarios"), root.join("../shared/scenarios")].into_iter().filter(|p| p.is_dir()).collect()
}

#[test]
fn every_scenario_holds_under_the_reference_rules() {
    let rules = RuleSet::reference();
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in scenario_dirs() {
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        for file in files {
            let s: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            let kind =
                if s["person"]["kind"] == "international" { PersonKind::International } else { PersonKind::Domestic };
            let mut evidence = Vec::new();
            let mut areas = AreaRiskIndex::default();
            for (seq, raw) in s["events"].as_array().unwrap().iter().enumerate() {
                let Ok(e) = parse_event(raw, Timestamp::MIN) else { continue };
                let id = EventId::parse(&format!("e{seq}")).unwrap();
                match e.body {
                    EventBody::Evidence(body) => evidence.push(Event { id, at: e.at, seq: seq as i64, body }),
                    EventBody::AreaRisk(body) => areas.insert(Event { id, at: e.at, seq: seq as i64, body }),
                }
            }
            evidence.sort_by_key(Event::order_key);
            for expect in s["expect"].as_array().unwrap() {
                let at = Timestamp::parse(expect["at"].as_str().unwrap()).unwrap();
                let e = rules.evaluate(kind, &evidence, &areas, at);
                let colour = Colour::parse(expect["color"].as_str().unwrap()).unwrap();
                let reasons_ok = expect.get("reasons").and_then(Value::as_array).is_none_or(|r| {
                    let mut want: Vec<&str> = r.iter().filter_map(Value::as_str).collect();
                    want.sort();
                    want == e.reason_ids()
                });
                checked += 1;
                if e.colour != colour || !reasons_ok {
                    failures.push(format!(
                        "{} at {}: expected {expect}, got {:?} {:?}",
                        s["name"],
                        at,
                        e.colour,
                        e.reason_ids()
                    ));
                }
            }
        }
    }
    assert!(checked > 0, "no scenarios found");
    assert!(failures.is_empty(), "{} of {checked} expectations failed:\n{}", failures.len(), failures.join("\n"));
}
