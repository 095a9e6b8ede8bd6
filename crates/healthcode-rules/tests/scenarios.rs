//! The scenario folders against the pure evaluator, without a store: a fast check that
//! the rules themselves are right. The CLI test runs the same files through ingestion.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use healthcode_rules::RuleSet;
use serde_json::Value;

/// The repository's own scenarios, and the public suite when it is at hand
/// (`HEALTHCODE_PUBLIC_SCENARIOS`, or `../shared/scenarios` beside the repository).
fn scenario_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let public = std::env::var_os("HEALTHCODE_PUBLIC_SCENARIOS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/scenarios"));
    if public.is_dir() {
        eprintln!("public scenarios run too, from {}", public.display());
    } else {
        eprintln!(
            "public scenarios not run: set HEALTHCODE_PUBLIC_SCENARIOS, or put them in ../shared/scenarios (the \
             repository's own suite runs)"
        );
    }
    [root.join("scenarios"), public].into_iter().filter(|p| p.is_dir()).collect()
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
            for result in healthcode_rules::suite::check_scenario(&rules, &s).unwrap() {
                checked += 1;
                if !result.ok {
                    failures.push(format!(
                        "{} at {}: expected {}, got {} {:?}",
                        result.scenario, result.at, result.expected, result.actual, result.reasons
                    ));
                }
            }
        }
    }
    assert!(checked > 0, "no scenarios found");
    assert!(failures.is_empty(), "{} of {checked} expectations failed:\n{}", failures.len(), failures.join("\n"));
}
