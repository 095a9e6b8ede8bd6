//! Records as the JSON lines the HTTP API and the batch import accept.

use serde_json::Value;

use crate::SynthRecord;

/// The JSON object (one line, no newline) that ingests this record: `id`, `at`, `type`,
/// `person_id` (evidence only), then the event's own fields as in REFERENCE-RULES.md,
/// e.g. `{"id":"synth-2020-17-1","at":"2020-06-03T10:00:00+08:00","type":"stay",
/// "person_id":"p00000017","area":"330102001","from":"…","to":null}`.
///
/// `None` for a `Person` record: persons are registered, not ingested as events.
pub fn to_ndjson_line(record: &SynthRecord) -> Option<String> {
    let (id, at, person, body) = match record {
        SynthRecord::Person { .. } => return None,
        SynthRecord::Evidence { person, id, at, evidence } => (id, at, Some(person), to_value(evidence)),
        SynthRecord::Designation { id, at, risk } => {
            let mut body = to_value(risk);
            body.insert("type".to_string(), Value::from("area_risk"));
            (id, at, None, body)
        }
    };
    let mut fields = body;
    let type_name = fields.remove("type").expect("every event body has a type");
    let mut line = String::with_capacity(192);
    line.push('{');
    push_field(&mut line, "id", &Value::from(id.as_str()));
    push_field(&mut line, "at", &Value::from(at.to_rfc3339()));
    push_field(&mut line, "type", &type_name);
    if let Some(person) = person {
        push_field(&mut line, "person_id", &Value::from(person.as_str()));
    }
    for (key, value) in &fields {
        push_field(&mut line, key, value);
    }
    line.push('}');
    Some(line)
}

fn to_value<T: serde::Serialize>(body: &T) -> serde_json::Map<String, Value> {
    match serde_json::to_value(body) {
        Ok(Value::Object(map)) => map,
        other => unreachable!("domain events serialize to JSON objects, got {other:?}"),
    }
}

fn push_field(line: &mut String, key: &str, value: &Value) {
    if !line.ends_with('{') {
        line.push(',');
    }
    line.push_str(&Value::from(key).to_string());
    line.push(':');
    line.push_str(&value.to_string());
}

#[cfg(test)]
mod tests {
    use healthcode_domain::{parse_event, EventBody, PersonRef, Timestamp};

    use super::*;
    use crate::{designations_for_bench, generate, persons_with_history, RegionConfig};

    /// Parses a line as the API would and checks it is the record it came from.
    fn assert_round_trips(record: &SynthRecord) {
        let Some(line) = to_ndjson_line(record) else {
            assert!(matches!(record, SynthRecord::Person { .. }));
            return;
        };
        let value: Value = serde_json::from_str(&line).unwrap();
        let parsed = parse_event(&value, Timestamp::MIN).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(parsed.at_supplied);
        match record {
            SynthRecord::Evidence { person, id, at, evidence } => {
                assert_eq!(parsed.id.as_ref(), Some(id));
                assert_eq!(&parsed.at, at);
                assert_eq!(parsed.person, Some(PersonRef::Id(person.clone())));
                assert_eq!(parsed.body, EventBody::Evidence(evidence.clone()), "{line}");
            }
            SynthRecord::Designation { id, at, risk } => {
                assert_eq!(parsed.id.as_ref(), Some(id));
                assert_eq!(&parsed.at, at);
                assert_eq!(parsed.person, None);
                assert_eq!(parsed.body, EventBody::AreaRisk(risk.clone()), "{line}");
            }
            SynthRecord::Person { .. } => unreachable!(),
        }
    }

    #[test]
    fn every_demo_line_round_trips_through_the_parser() {
        let mut lines = 0;
        for record in generate(&RegionConfig::demo()).unwrap() {
            assert_round_trips(&record);
            lines += usize::from(!matches!(record, SynthRecord::Person { .. }));
        }
        assert!(lines > 20_000, "{lines}");
    }

    #[test]
    fn bench_events_round_trip_through_the_parser() {
        for (person, events) in persons_with_history(3, 500, 10..=30) {
            for e in events {
                assert_round_trips(&SynthRecord::Evidence {
                    person: person.clone(),
                    id: e.id,
                    at: e.at,
                    evidence: e.body,
                });
            }
        }
        for d in designations_for_bench(3) {
            assert_round_trips(&SynthRecord::Designation { id: d.id, at: d.at, risk: d.body });
        }
    }

    #[test]
    fn lines_start_with_the_envelope() {
        let record = generate(&RegionConfig::demo()).unwrap().find(|r| matches!(r, SynthRecord::Evidence { .. }));
        let line = to_ndjson_line(&record.unwrap()).unwrap();
        assert!(line.starts_with("{\"id\":\"synth-2020-"), "{line}");
        let keys: Vec<String> =
            serde_json::from_str::<serde_json::Map<String, Value>>(&line).unwrap().keys().cloned().collect();
        assert!(keys.contains(&"person_id".to_string()) && keys.contains(&"type".to_string()));
    }
}
