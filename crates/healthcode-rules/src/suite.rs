//! Checking a rule set against colour scenarios, without a store: what an authority
//! attaches to a proposed rule change (the CLI's `scenario run` goes through ingestion
//! instead; both read the format of `shared/scenarios/README.md`).

use healthcode_domain::{parse_event, Colour, Event, EventBody, EventId, PersonKind, Timestamp};
use serde::Serialize;
use serde_json::Value;

use crate::{AreaRiskIndex, RuleSet};

/// One expectation of one scenario, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub scenario: String,
    pub at: String,
    pub expected: String,
    pub actual: String,
    pub reasons: Vec<String>,
    pub ok: bool,
}

/// Checks every expectation of a scenario (JSON as in `shared/scenarios`). Events that
/// do not validate are skipped, as ingestion would refuse them. `Err` says what is
/// malformed in the scenario itself.
pub fn check_scenario(rules: &RuleSet, scenario: &Value) -> Result<Vec<Checked>, String> {
    let name = scenario["name"].as_str().ok_or("a scenario needs a `name`")?.to_string();
    let kind = match scenario["person"]["kind"].as_str().unwrap_or("domestic") {
        "domestic" => PersonKind::Domestic,
        "international" => PersonKind::International,
        other => return Err(format!("{name}: person.kind `{other}` is neither domestic nor international")),
    };
    let mut evidence = Vec::new();
    let mut areas = AreaRiskIndex::default();
    for (seq, raw) in scenario["events"].as_array().ok_or(format!("{name}: `events` is not a list"))?.iter().enumerate()
    {
        let Ok(e) = parse_event(raw, Timestamp::MIN) else { continue };
        // The event's own id when it has one (a retraction names the record it withdraws).
        let id = e.id.unwrap_or_else(|| EventId::parse(&format!("e{seq}")).expect("a plain id"));
        match e.body {
            EventBody::Evidence(body) => evidence.push(Event { id, at: e.at, seq: seq as i64, body }),
            EventBody::AreaRisk(body) => areas.insert(Event { id, at: e.at, seq: seq as i64, body }),
        }
    }
    evidence.sort_by_key(Event::order_key);
    let mut checked = Vec::new();
    for (i, expect) in
        scenario["expect"].as_array().ok_or(format!("{name}: `expect` is not a list"))?.iter().enumerate()
    {
        let at_text = expect["at"].as_str().ok_or(format!("{name}: expect[{i}].at is missing"))?;
        let at = Timestamp::parse(at_text).map_err(|m| format!("{name}: expect[{i}].at: {m}"))?;
        let colour_text = expect["color"].as_str().ok_or(format!("{name}: expect[{i}].color is missing"))?;
        let colour =
            Colour::parse(colour_text).ok_or(format!("{name}: expect[{i}].color `{colour_text}` is no colour"))?;
        let evaluation = rules.evaluate(kind, &evidence, &areas, at);
        let reasons: Vec<String> = evaluation.reason_ids().into_iter().map(String::from).collect();
        let reasons_ok = expect.get("reasons").and_then(Value::as_array).is_none_or(|r| {
            let mut want: Vec<&str> = r.iter().filter_map(Value::as_str).collect();
            want.sort();
            want == reasons.iter().map(String::as_str).collect::<Vec<_>>()
        });
        checked.push(Checked {
            scenario: name.clone(),
            at: at_text.to_string(),
            expected: expect.to_string(),
            actual: evaluation.colour.as_str().to_string(),
            ok: evaluation.colour == colour && reasons_ok,
            reasons,
        });
    }
    Ok(checked)
}
