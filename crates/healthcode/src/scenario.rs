//! `healthcode scenario run`: the contract of `shared/scenarios/README.md`.
//! Each scenario's events go, in order, through the same validation and ingestion path
//! as production data, into a fresh store; the person is then evaluated at each expected
//! time with the active rule set.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use healthcode_domain::{Colour, PersonId, PersonKind, Timestamp};
use healthcode_rules::RuleSet;
use healthcode_service::{AtPolicy, HealthService, ManualClock, Pseudonymiser, RowStatus};
use healthcode_store_sqlite::SqliteStore;
use serde_json::{json, Value};

/// What a run found, for the exit code.
#[derive(Debug, Default)]
pub struct Outcome {
    pub passed: usize,
    pub failed: usize,
    pub unreadable: usize,
}

impl Outcome {
    pub fn exit_code(&self) -> i32 {
        if self.unreadable > 0 {
            2
        } else if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

struct Scenario {
    name: String,
    kind: PersonKind,
    events: Vec<Value>,
    expect: Vec<Expectation>,
}

struct Expectation {
    at_text: String,
    at: Timestamp,
    colour: Colour,
    reasons: Option<Vec<String>>,
}

pub async fn run(paths: &[PathBuf], rules: &RuleSet, as_json: bool) -> Outcome {
    let mut outcome = Outcome::default();
    for file in scenario_files(paths, &mut outcome) {
        let scenario =
            match std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display())).and_then(
                |text| parse_scenario(&text).with_context(|| format!("{} is not a valid scenario", file.display())),
            ) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    outcome.unreadable += 1;
                    continue;
                }
            };
        if let Err(e) = run_one(&scenario, rules, as_json, &mut outcome).await {
            eprintln!("error: scenario {}: {e:#}", scenario.name);
            outcome.unreadable += 1;
        }
    }
    if as_json {
        eprintln!("{} passed, {} failed", outcome.passed, outcome.failed);
    } else {
        println!("{} passed, {} failed", outcome.passed, outcome.failed);
    }
    outcome
}

fn scenario_files(paths: &[PathBuf], outcome: &mut Outcome) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect_json(path, &mut found);
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            eprintln!("error: {} does not exist", path.display());
            outcome.unreadable += 1;
        }
    }
    files
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_json(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn parse_scenario(text: &str) -> anyhow::Result<Scenario> {
    let v: Value = serde_json::from_str(text)?;
    let name = v["name"].as_str().ok_or_else(|| anyhow!("missing `name`"))?.to_string();
    let kind = match v["person"]["kind"].as_str().unwrap_or("domestic") {
        "domestic" => PersonKind::Domestic,
        "international" => PersonKind::International,
        other => bail!("person.kind `{other}` is neither domestic nor international"),
    };
    let events = v["events"].as_array().cloned().unwrap_or_default();
    let mut expect = Vec::new();
    for (i, e) in v["expect"].as_array().ok_or_else(|| anyhow!("missing `expect` list"))?.iter().enumerate() {
        let at_text = e["at"].as_str().ok_or_else(|| anyhow!("expect[{i}].at is missing"))?.to_string();
        let at = Timestamp::parse(&at_text).map_err(|m| anyhow!("expect[{i}].at: {m}"))?;
        let colour = e["color"]
            .as_str()
            .or_else(|| e["colour"].as_str())
            .and_then(Colour::parse)
            .ok_or_else(|| anyhow!("expect[{i}].color must be green, yellow, orange or red"))?;
        let reasons = match e.get("reasons") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut r: Vec<String> = items.iter().filter_map(|x| x.as_str().map(String::from)).collect();
                r.sort();
                Some(r)
            }
            Some(_) => bail!("expect[{i}].reasons must be a list of rule ids"),
        };
        expect.push(Expectation { at_text, at, colour, reasons });
    }
    Ok(Scenario { name, kind, events, expect })
}

async fn run_one(s: &Scenario, rules: &RuleSet, as_json: bool, outcome: &mut Outcome) -> anyhow::Result<()> {
    let store = Arc::new(SqliteStore::open_in_memory().context("cannot open a temporary store")?);
    let start = s.events.iter().find_map(|e| e["at"].as_str()).and_then(|t| Timestamp::parse(t).ok());
    let clock = ManualClock::new(start.unwrap_or(Timestamp::from_millis(0)));
    let service =
        HealthService::open(store, Arc::new(clock.clone()), Pseudonymiser::new(b"scenario".to_vec()), rules.clone())
            .await?;
    let person = PersonId::parse("scenario-person")?;
    service.residents().register_pseudonymous(person.clone(), s.kind, None).await?;

    for (i, event) in s.events.iter().enumerate() {
        let mut row = event.clone();
        if let Some(object) = row.as_object_mut() {
            object.entry("id").or_insert_with(|| json!(format!("{}#{}", s.name, i + 1)));
            // A scenario is about one person: whoever its events name, they are this one.
            let is_designation = object.get("type").and_then(Value::as_str) == Some("area_risk");
            if !is_designation {
                object.remove("id_type");
                object.remove("id_number");
                object.insert("person_id".into(), json!(person.as_str()));
            }
        }
        if let Some(at) = event["at"].as_str().and_then(|t| Timestamp::parse(t).ok()) {
            clock.set(at);
        }
        let report =
            service.evidence().ingest(&[row.to_string()], AtPolicy::Supplied, &format!("scenario {}", s.name)).await?;
        let result = &report.rows[0];
        if result.status == RowStatus::Rejected {
            let error = result.error.clone().unwrap_or_default();
            if as_json {
                println!("{}", json!({"scenario": s.name, "rejected": event, "error": error}));
            } else {
                println!("rejected  {}  event {}: {}", s.name, i + 1, error);
            }
        }
    }

    for e in &s.expect {
        let explanation = service.codes().explain_at(&person, e.at).await?;
        let actual: Vec<String> = explanation.reasons.iter().map(|r| r.rule.clone()).collect();
        let ok = explanation.colour == e.colour && e.reasons.as_ref().is_none_or(|r| *r == actual);
        if ok {
            outcome.passed += 1;
        } else {
            outcome.failed += 1;
        }
        if as_json {
            let mut line = json!({
                "scenario": s.name, "at": e.at_text, "expected": e.colour.as_str(),
                "actual": explanation.colour.as_str(), "reasons": actual, "ok": ok,
            });
            if let Some(r) = &e.reasons {
                line["expected_reasons"] = json!(r);
            }
            println!("{line}");
        } else {
            let expected_reasons = e.reasons.as_ref().map_or("*".to_string(), |r| format!("[{}]", r.join(",")));
            println!(
                "{:<4}  {}  {}  expected {} {}  actual {} [{}]",
                if ok { "ok" } else { "FAIL" },
                s.name,
                e.at_text,
                e.colour,
                expected_reasons,
                explanation.colour,
                actual.join(",")
            );
        }
    }
    Ok(())
}
