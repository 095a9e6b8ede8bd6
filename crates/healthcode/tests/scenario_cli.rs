//! The scenario suites, run the way an authority runs them: through the
//! `healthcode scenario run` command, and the command's contract itself.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn healthcode(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthcode")).args(args).current_dir(repo_root()).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The public scenario suite, when one is at hand: `HEALTHCODE_PUBLIC_SCENARIOS`, or
/// `../shared/scenarios` beside the repository (as in CI). A clone on its own has neither,
/// and its tests use only the repository's files.
fn public_scenarios() -> Option<PathBuf> {
    let given = std::env::var_os("HEALTHCODE_PUBLIC_SCENARIOS").map(PathBuf::from);
    given.or_else(|| Some(repo_root().join("../shared/scenarios"))).filter(|p| p.is_dir())
}

#[test]
fn every_public_scenario_passes_through_the_cli() {
    let Some(shared) = public_scenarios() else {
        // Past the harness's capture, so that a run without the suite says so.
        eprintln!(
            "public scenarios not run: set HEALTHCODE_PUBLIC_SCENARIOS, or put them in ../shared/scenarios \
             (the repository's own suite runs in every_scenario_of_our_own_passes_through_the_cli)"
        );
        return;
    };
    let out = healthcode(&["scenario", "run", shared.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(out.status.success(), "scenario run failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last.split_whitespace().next().unwrap().parse().unwrap();
    assert!(passed >= 30, "expected every expectation of the public scenarios to run, got {passed}");
}

#[test]
fn every_scenario_of_our_own_passes_through_the_cli() {
    let out = healthcode(&["scenario", "run", "scenarios"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.lines().last().unwrap().ends_with(" passed, 0 failed"));
    assert!(text.contains("rejected  invalid-events-are-skipped"), "rejections are reported: {text}");
}

#[test]
fn json_output_has_one_object_per_expectation_and_rejection() {
    let out = healthcode(&["scenario", "run", "--json", "scenarios/decision-one-approver-rejected.json"]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> =
        stdout(&out).lines().map(|l| serde_json::from_str(l).expect("every line is JSON")).collect();
    let rejected: Vec<_> = lines.iter().filter(|l| l.get("rejected").is_some()).collect();
    assert_eq!(rejected.len(), 2);
    assert!(rejected[0]["error"].as_str().unwrap().contains("two distinct approvers"));
    let results: Vec<_> = lines.iter().filter(|l| l.get("ok").is_some()).collect();
    assert_eq!(results.len(), 1);
    let r = results[0];
    assert_eq!(r["scenario"], "decision-one-approver-rejected");
    assert_eq!(r["expected"], "green");
    assert_eq!(r["actual"], "green");
    assert_eq!(r["reasons"], serde_json::json!([]));
    assert_eq!(r["ok"], true);
    assert!(r["at"].is_string());
}

#[test]
fn a_failing_expectation_exits_1_and_says_fail() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.json");
    std::fs::write(
        &file,
        r#"{"name":"wrong","person":{"kind":"domestic"},"events":[
            {"at":"2020-06-01T08:00:00+08:00","type":"close_contact","exposure_at":"2020-05-31T08:00:00+08:00"}],
           "expect":[{"at":"2020-06-01T09:00:00+08:00","color":"green"}]}"#,
    )
    .unwrap();
    let out = healthcode(&["scenario", "run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("FAIL") && text.contains("expected green") && text.contains("actual red [R2]"), "{text}");
    assert!(text.ends_with("0 passed, 1 failed\n"), "{text}");
}

#[test]
fn unreadable_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(&file, "{ not json").unwrap();
    assert_eq!(healthcode(&["scenario", "run", file.to_str().unwrap()]).status.code(), Some(2));
    assert_eq!(healthcode(&["scenario", "run", "/no/such/scenarios"]).status.code(), Some(2));
}

#[test]
fn another_rule_set_can_be_tested_against_the_suite() {
    // A proposed change: a 7-day window. The reference suite must notice.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("seven-days.toml");
    let text = healthcode_rules::REFERENCE_RULES_TOML
        .replace("window_hours = 336", "window_hours = 168")
        .replace("version = \"2026.1\"", "version = \"proposal-7d\"");
    std::fs::write(&rules, text).unwrap();
    let ours = "scenarios/stay-ten-days-ago-within-window.json";
    let out = healthcode(&["scenario", "run", "--rules", rules.to_str().unwrap(), ours]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("expected yellow [Y2]  actual green []"), "{}", stdout(&out));
    let out = healthcode(&["scenario", "run", ours]);
    assert_eq!(out.status.code(), Some(0), "the reference rules pass it: {}", stdout(&out));

    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "format = 1\nname = \"x\"").unwrap();
    let out = healthcode(&["scenario", "run", "--rules", broken.to_str().unwrap(), "scenarios"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rule set"));
}
