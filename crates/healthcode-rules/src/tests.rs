use healthcode_domain::{parse_event, AreaRisk, Colour, Event, EventBody, EventId, Evidence, PersonKind, Timestamp};
use serde_json::json;

use super::*;

fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// Builds a person's evidence and the designations from scenario-style JSON, in order.
fn history(events: &[serde_json::Value]) -> (Vec<Event<Evidence>>, AreaRiskIndex) {
    let mut evidence = Vec::new();
    let mut areas = AreaRiskIndex::default();
    for (seq, value) in events.iter().enumerate() {
        let e = parse_event(value, Timestamp::MIN).unwrap();
        let id = EventId::parse(&format!("e{seq}")).unwrap();
        match e.body {
            EventBody::Evidence(body) => evidence.push(Event { id, at: e.at, seq: seq as i64, body }),
            EventBody::AreaRisk(body) => areas.insert(Event::<AreaRisk> { id, at: e.at, seq: seq as i64, body }),
        }
    }
    evidence.sort_by_key(Event::order_key);
    (evidence, areas)
}

fn eval_at(events: &[serde_json::Value], at: &str) -> (Colour, Vec<String>, Option<Timestamp>) {
    let rules = RuleSet::reference();
    let (evidence, areas) = history(events);
    let e = rules.evaluate(PersonKind::Domestic, &evidence, &areas, t(at));
    (e.colour, e.reason_ids().into_iter().map(String::from).collect(), e.next_change)
}

#[test]
fn the_reference_rule_set_has_the_spec_rule_ids() {
    let rules = RuleSet::reference();
    let ids: Vec<&str> = rules.rules().map(|r| r.id).collect();
    assert_eq!(ids, ["R1", "R2", "R3", "R4", "R5", "R6", "Y1", "Y2", "Y3"]);
    assert!(rules.digest().starts_with("sha256:"));
    assert_eq!(rules.window(), healthcode_domain::Duration::hours(336));
}

#[test]
fn json_and_toml_of_the_same_rules_have_the_same_digest() {
    let rules = RuleSet::reference();
    let json = serde_json::to_string(rules.file()).unwrap();
    let again = RuleSet::parse(&json).unwrap();
    assert_eq!(again.digest(), rules.digest());
}

#[test]
fn no_evidence_is_green_forever() {
    assert_eq!(eval_at(&[], "2020-06-01T08:00:00+08:00"), (Colour::Green, vec![], None));
}

#[test]
fn entry_from_abroad_turns_green_exactly_14_days_after_entry() {
    let events = [json!({"at": "2020-06-01T08:00:00+08:00", "type": "entry", "country": "GB",
                         "entered_at": "2020-06-01T06:00:00+08:00"})];
    let (colour, reasons, next) = eval_at(&events, "2020-06-02T08:00:00+08:00");
    assert_eq!((colour, reasons), (Colour::Red, vec!["R3".to_string()]));
    assert_eq!(next, Some(t("2020-06-15T06:00:00+08:00")));
    let (colour, _, next) = eval_at(&events, "2020-06-15T06:00:00+08:00");
    assert_eq!((colour, next), (Colour::Green, None));
    let (colour, _, _) = eval_at(&events, "2020-06-15T05:59:59+08:00");
    assert_eq!(colour, Colour::Red);
}

#[test]
fn a_stay_in_a_risk_area_lapses_14_days_after_it_ends() {
    let events = [
        json!({"at": "2020-06-01T08:00:00+08:00", "type": "area_risk", "area": "330106", "level": "high"}),
        json!({"at": "2020-06-02T08:00:00+08:00", "type": "stay", "area": "330106001",
               "from": "2020-06-01T08:00:00+08:00", "to": "2020-06-02T08:00:00+08:00"}),
    ];
    let (colour, reasons, next) = eval_at(&events, "2020-06-03T08:00:00+08:00");
    assert_eq!((colour, reasons), (Colour::Yellow, vec!["Y2".to_string()]));
    assert_eq!(next, Some(t("2020-06-16T08:00:00+08:00")));
}

#[test]
fn the_evidence_behind_a_reason_names_the_stay_and_the_designation() {
    let rules = RuleSet::reference();
    let (evidence, areas) = history(&[
        json!({"at": "2020-06-01T08:00:00+08:00", "type": "area_risk", "area": "420100", "level": "high", "escalate_to_red": true}),
        json!({"at": "2020-06-02T08:00:00+08:00", "type": "stay", "area": "420106",
               "from": "2020-06-01T08:00:00+08:00", "to": null}),
    ]);
    let e = rules.evaluate(PersonKind::Domestic, &evidence, &areas, t("2020-06-03T08:00:00+08:00"));
    assert_eq!(e.reason_ids(), ["R6", "Y2"]);
    let r6: Vec<&str> = e.reasons[0].evidence.iter().map(|id| id.as_str()).collect();
    assert_eq!(r6, ["e0", "e1"]);
    assert_eq!(e.next_change, None, "an open stay never lapses by itself");
}

#[test]
fn a_management_decision_lapses_at_until() {
    let events = [json!({"at": "2020-06-01T08:00:00+08:00", "type": "management_decision", "color": "yellow",
        "until": "2020-06-05T08:00:00+08:00", "basis": "law", "approvers": ["a", "b"]})];
    let (colour, reasons, next) = eval_at(&events, "2020-06-02T08:00:00+08:00");
    assert_eq!((colour, reasons), (Colour::Yellow, vec!["Y3".to_string()]));
    assert_eq!(next, Some(t("2020-06-05T08:00:00+08:00")));
    assert_eq!(eval_at(&events, "2020-06-05T08:00:00+08:00").0, Colour::Green);
}

#[test]
fn a_quarantine_order_holds_until_released_but_lapses_14_days_past_its_term() {
    let order = json!({"at": "2020-06-01T08:00:00+08:00", "type": "quarantine_order", "mode": "home", "days": 14});
    // Past its term, a late release still counts: the order holds meanwhile.
    let (colour, reasons, next) = eval_at(std::slice::from_ref(&order), "2020-06-20T08:00:00+08:00");
    assert_eq!((colour, reasons), (Colour::Red, vec!["R4".to_string()]));
    assert_eq!(next, Some(t("2020-06-29T08:00:00+08:00")), "14 days of term and 14 of overrun");
    assert_eq!(eval_at(std::slice::from_ref(&order), "2020-06-29T08:00:00+08:00").0, Colour::Green);
    // A release ends it at once, as before.
    let released =
        [order.clone(), json!({"at": "2020-06-10T08:00:00+08:00", "type": "quarantine_release", "mode": "home"})];
    assert_eq!(eval_at(&released, "2020-06-10T08:00:00+08:00").0, Colour::Green);
    // A feed cannot stretch the term: 365 days count as the rule set's 28.
    let long =
        [json!({"at": "2020-06-01T08:00:00+08:00", "type": "quarantine_order", "mode": "centralized", "days": 365})];
    let (_, _, next) = eval_at(&long, "2020-06-02T08:00:00+08:00");
    assert_eq!(next, Some(t("2020-07-13T08:00:00+08:00")), "28 + 14 days");
}

#[test]
fn a_lapse_is_checked_where_it_is_written() {
    let lapse = "when.exists.lapses = { from = \"at\", days_field = \"days\", max_days = 28, overrun_hours = 336 }";
    let cases = [
        ("{ days_field = \"days\" }", "days_field", "only `quarantine_order.days`"),
        ("{ days = 0 }", "lapses.days", "1 to 366"),
        ("{ days = 14, max_days = 7 }", "lapses.max_days", "bounds a days_field"),
        ("{ from = \"sampled_at\", days = 14 }", "lapses.from", "no `sampled_at`"),
        ("{ }", "lapses", "not both"),
    ];
    for (written, at, says) in cases {
        // On R3 (entries), whose events have no `days`.
        let text = REFERENCE_RULES_TOML.replace(
            "when.exists.within_window = \"entered_at\"",
            &format!("when.exists.within_window = \"entered_at\"\nwhen.exists.lapses = {written}"),
        );
        match RuleSet::parse(&text) {
            Err(RuleSetError::Invalid { path, message }) => {
                assert!(path.ends_with(at), "{written}: {path}");
                assert!(message.contains(says), "{written}: {message}");
            }
            other => panic!("{written}: expected an invalid rule set, got {other:?}"),
        }
    }
    assert!(REFERENCE_RULES_TOML.contains(lapse), "the reference rules bound quarantine orders");
    // A rule set without lapses keeps the digest it had before lapses existed.
    let without = REFERENCE_RULES_TOML.replace(&format!("{lapse}\n"), "");
    let json = serde_json::to_string(RuleSet::parse(&without).unwrap().file()).unwrap();
    assert!(!json.contains("lapses"), "{json}");
}

#[test]
fn fever_resolved_does_not_clear_a_fever_with_epidemiological_history() {
    let events = [
        json!({"at": "2020-06-01T08:00:00+08:00", "type": "entry", "country": "GB", "entered_at": "2020-05-20T08:00:00+08:00"}),
        json!({"at": "2020-06-01T09:00:00+08:00", "type": "fever", "onset_at": "2020-06-01T08:00:00+08:00"}),
        json!({"at": "2020-06-02T09:00:00+08:00", "type": "fever_resolved"}),
    ];
    let (_, reasons, _) = eval_at(&events, "2020-06-02T10:00:00+08:00");
    assert_eq!(reasons, ["R3", "Y1"]);
    // Once the entry is older than 14 days, R3 lapses but the fever stays uncleared:
    // the history counted at the onset.
    let (colour, reasons, _) = eval_at(&events, "2020-06-04T10:00:00+08:00");
    assert_eq!((colour, reasons), (Colour::Yellow, vec!["Y1".to_string()]));
}

#[test]
fn equal_at_the_event_ingested_later_counts_as_later() {
    let same = "2020-06-01T08:00:00+08:00";
    let cleared_after = [
        json!({"at": same, "type": "close_contact", "exposure_at": "2020-05-31T08:00:00+08:00"}),
        json!({"at": same, "type": "contact_cleared"}),
    ];
    assert_eq!(eval_at(&cleared_after, same).0, Colour::Green);
    let cleared_before = [cleared_after[1].clone(), cleared_after[0].clone()];
    assert_eq!(eval_at(&cleared_before, same).0, Colour::Red);
}

#[test]
fn international_codes_show_orange_for_red() {
    let rules = RuleSet::reference();
    let (evidence, areas) =
        history(&[json!({"at": "2020-06-01T08:00:00+08:00", "type": "diagnosis", "status": "suspected"})]);
    let e = rules.evaluate(PersonKind::International, &evidence, &areas, t("2020-06-01T09:00:00+08:00"));
    assert_eq!(e.colour, Colour::Orange);
}

#[test]
fn rule_set_mistakes_are_reported_where_they_are() {
    let broken = REFERENCE_RULES_TOML.replace("within_window = \"entered_at\"", "within_window = \"sampled_at\"");
    match RuleSet::parse(&broken) {
        Err(RuleSetError::Invalid { path, message }) => {
            assert!(path.contains("within_window"), "{path}");
            assert!(message.contains("`entry` events have no `sampled_at`"), "{message}");
        }
        other => panic!("expected an invalid rule set, got {other:?}"),
    }
    let unknown_type = REFERENCE_RULES_TOML.replace("type = \"fever_resolved\"", "type = \"fever_gone\"");
    assert!(matches!(RuleSet::parse(&unknown_type), Err(RuleSetError::Invalid { .. })));
    let duplicate_id = REFERENCE_RULES_TOML.replace("id = \"R2\"", "id = \"R1\"");
    assert!(matches!(RuleSet::parse(&duplicate_id), Err(RuleSetError::Invalid { .. })));
    let typo = REFERENCE_RULES_TOML.replace("after_anchor = true", "afterr_anchor = true");
    assert!(matches!(RuleSet::parse(&typo), Err(RuleSetError::Syntax(_))), "unknown keys are refused");
    let cycle = format!("{REFERENCE_RULES_TOML}\n[predicates.loop]\npredicate = \"loop\"\n");
    assert!(RuleSet::parse(&cycle).is_err());
}

#[test]
fn a_changed_rule_set_changes_colours_without_code() {
    // A 7-day window instead of 14: an entry 10 days ago no longer makes the code red.
    let shorter = REFERENCE_RULES_TOML
        .replace("window_hours = 336", "window_hours = 168")
        .replace("version = \"2026.1\"", "version = \"test\"");
    let rules = RuleSet::parse(&shorter).unwrap();
    let (evidence, areas) = history(&[json!({"at": "2020-06-01T08:00:00+08:00", "type": "entry", "country": "GB",
        "entered_at": "2020-06-01T08:00:00+08:00"})]);
    let at = t("2020-06-11T08:00:00+08:00");
    assert_eq!(rules.evaluate(PersonKind::Domestic, &evidence, &areas, at).colour, Colour::Green);
    assert_eq!(RuleSet::reference().evaluate(PersonKind::Domestic, &evidence, &areas, at).colour, Colour::Red);
    assert_ne!(rules.digest(), RuleSet::reference().digest());
}

mod properties;

#[test]
fn a_retracted_record_is_unseen_from_its_retraction_on() {
    let events = [
        json!({"at": "2020-06-01T08:00:00+08:00", "type": "test", "result": "positive",
               "sampled_at": "2020-06-01T07:00:00+08:00"}),
        json!({"at": "2020-06-02T08:00:00+08:00", "type": "retraction", "retracts": "e0",
               "reason": "sample belongs to another person"}),
    ];
    let (colour, reasons, _) = eval_at(&events, "2020-06-02T07:59:59+08:00");
    assert_eq!((colour, reasons), (Colour::Red, vec!["R1".to_string()]), "as known before the retraction");
    assert_eq!(eval_at(&events, "2020-06-02T08:00:00+08:00"), (Colour::Green, vec![], None));
}

#[test]
fn retracting_a_clearing_record_brings_back_what_it_cleared() {
    let events = [
        json!({"at": "2020-06-01T08:00:00+08:00", "type": "close_contact", "exposure_at": "2020-05-31T08:00:00+08:00"}),
        json!({"at": "2020-06-01T09:00:00+08:00", "type": "contact_cleared"}),
        json!({"at": "2020-06-01T10:00:00+08:00", "type": "retraction", "retracts": "e1",
               "reason": "cleared the wrong person"}),
    ];
    assert_eq!(eval_at(&events, "2020-06-01T09:30:00+08:00").0, Colour::Green);
    let (colour, reasons, _) = eval_at(&events, "2020-06-01T10:00:00+08:00");
    assert_eq!((colour, reasons), (Colour::Red, vec!["R2".to_string()]));
}

#[test]
fn no_rule_may_name_a_retraction() {
    let mut file = RuleSet::reference().file().clone();
    let text = serde_json::to_string(&file).unwrap().replacen("\"close_contact\"", "\"retraction\"", 1);
    file = serde_json::from_str(&text).unwrap();
    let error = RuleSet::from_file(file).unwrap_err();
    assert!(error.to_string().contains("not evidence a rule can name"), "{error}");
}

/// A rule a province may add (as a rule change, like any other): a fever the resident
/// declared themself makes the code yellow for the window, unless a negative test
/// sampled after it clears it.
const DECLARED_FEVER_RULE: &str = r#"
[[rules]]
id = "Y4"
colour = "yellow"
title = { zh = "自行申报发热", en = "Declared a fever" }
when.exists.event = { type = "declaration", item = "fever" }
when.exists.within_window = "since"
when.exists.unless = [{ event = { type = "test", result = "negative" }, after_anchor = true }]
"#;

#[test]
fn declarations_are_judged_by_the_rules_in_force() {
    let declared = [json!({"at": "2020-06-01T08:00:00+08:00", "type": "declaration", "item": "fever",
                           "since": "2020-05-31T20:00:00+08:00"})];
    assert_eq!(eval_at(&declared, "2020-06-01T09:00:00+08:00").0, Colour::Green, "the reference has no such rule");

    let rules = RuleSet::parse(&format!("{REFERENCE_RULES_TOML}{DECLARED_FEVER_RULE}")).unwrap();
    let (evidence, areas) = history(&declared);
    let e = rules.evaluate(PersonKind::Domestic, &evidence, &areas, t("2020-06-01T09:00:00+08:00"));
    assert_eq!((e.colour, e.reason_ids()), (Colour::Yellow, vec!["Y4"]));
    assert_eq!(e.next_change, Some(t("2020-06-14T20:00:00+08:00")), "14 days after the declared onset");
    let cough = [json!({"at": "2020-06-01T08:00:00+08:00", "type": "declaration", "item": "cough"})];
    let (evidence, areas) = history(&cough);
    assert_eq!(
        rules.evaluate(PersonKind::Domestic, &evidence, &areas, t("2020-06-01T09:00:00+08:00")).colour,
        Colour::Green
    );
    let mut cleared = declared.to_vec();
    cleared.push(json!({"at": "2020-06-02T08:00:00+08:00", "type": "test", "result": "negative",
                        "sampled_at": "2020-06-02T07:00:00+08:00"}));
    let (evidence, areas) = history(&cleared);
    assert_eq!(
        rules.evaluate(PersonKind::Domestic, &evidence, &areas, t("2020-06-02T09:00:00+08:00")).colour,
        Colour::Green
    );
    // A rule may select on what was declared, and only on that.
    let wrong = DECLARED_FEVER_RULE.replace("item = \"fever\"", "item = \"headache\"");
    assert!(RuleSet::parse(&format!("{REFERENCE_RULES_TOML}{wrong}")).unwrap_err().to_string().contains("headache"));
}

#[test]
fn an_arrival_without_a_recognised_code_is_judged_by_the_receiving_rules() {
    let arrival = |home_code: &str| {
        [json!({"at": "2020-03-01T08:00:00+08:00", "type": "arrival", "origin": "420000", "home_code": home_code,
                "arrived_at": "2020-03-01T07:00:00+08:00"})]
    };
    let at = t("2020-03-02T09:00:00+08:00");
    assert_eq!(
        eval_at(&arrival("none"), "2020-03-02T09:00:00+08:00").0,
        Colour::Green,
        "the reference has no such rule"
    );

    let rules = RuleSet::parse(&format!("{REFERENCE_RULES_TOML}{NO_RECOGNISED_CODE_RULE}")).unwrap();
    for (home_code, expected) in [("none", Colour::Red), ("no_agreement", Colour::Red), ("recognised", Colour::Green)] {
        let (evidence, areas) = history(&arrival(home_code));
        let e = rules.evaluate(PersonKind::Domestic, &evidence, &areas, at);
        assert_eq!(e.colour, expected, "{home_code}");
        if expected == Colour::Red {
            assert_eq!(e.reason_ids(), vec!["R-arrival"]);
            assert_eq!(e.next_change, Some(t("2020-03-15T07:00:00+08:00")), "14 days after arriving");
        }
    }
    // A rule may select on what was shown, and only on its values.
    let wrong = NO_RECOGNISED_CODE_RULE.replace("\"none\"]", "\"forged\"]");
    assert!(RuleSet::parse(&format!("{REFERENCE_RULES_TOML}{wrong}")).unwrap_err().to_string().contains("forged"));
    let misplaced = NO_RECOGNISED_CODE_RULE.replace("type = \"arrival\"", "type = \"stay\"");
    assert!(RuleSet::parse(&format!("{REFERENCE_RULES_TOML}{misplaced}")).is_err(), "stays have no home code");
}
