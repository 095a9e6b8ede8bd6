//! Rule-set files as the provincial office proposes them: `RuleSet::parse` (TOML, or
//! JSON when the text starts with `{`), then evaluation.
//!
//! Checked besides "no panic": a rule set that reads writes back as JSON, and as TOML when
//! TOML can hold it, to text that reads to the same rule set (same digest); it evaluates
//! a person with no evidence, at the ends of time, and the next change it announces is
//! later; `diff` against the reference rules and against itself runs, and finds no change
//! against itself.
#![no_main]

use healthcode_domain::{PersonKind, Timestamp};
use healthcode_fuzz::NOW;
use healthcode_rules::{diff, AreaRiskIndex, RuleSet};
use libfuzzer_sys::fuzz_target;

fn reference() -> &'static RuleSet {
    static RULES: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    RULES.get_or_init(RuleSet::reference)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(rules) = RuleSet::parse(text) else { return };
    let json = serde_json::to_string(rules.file()).expect("a rule set serialises as JSON");
    let again = RuleSet::parse(&json).expect("a rule set written as JSON reads");
    assert_eq!(again.digest(), rules.digest());
    if let Ok(toml) = toml::to_string(rules.file()) {
        if !toml.trim_start().starts_with('{') {
            let again = RuleSet::parse(&toml).expect("a rule set written as TOML reads");
            assert_eq!(again.digest(), rules.digest(), "{toml}");
        }
    }
    let areas = AreaRiskIndex::new([]);
    for at in [Timestamp::from_millis(NOW * 1000), Timestamp::MIN, Timestamp::MAX, Timestamp::from_millis(0)] {
        for kind in [PersonKind::Domestic, PersonKind::International] {
            let evaluation = rules.evaluate(kind, &[], &areas, at);
            if let Some(next) = evaluation.next_change {
                assert!(next > at);
            }
        }
    }
    assert!(diff(rules.file(), rules.file()).is_empty());
    let _ = diff(reference().file(), rules.file());
});
