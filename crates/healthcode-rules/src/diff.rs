//! What a proposed rule set changes, rule by rule, for the people who approve it.

use serde::Serialize;

use crate::format::RuleSetFile;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum RuleChange {
    Added {
        rule: String,
    },
    Removed {
        rule: String,
    },
    /// The rule's colour, title or condition differ.
    Changed {
        rule: String,
        before: String,
        after: String,
    },
    /// A setting of the whole set (window, predicates, international colour).
    Setting {
        name: String,
        before: String,
        after: String,
    },
}

/// The changes from `before` to `after`: settings first, then rules in `after`'s order,
/// then rules `after` no longer has.
pub fn diff(before: &RuleSetFile, after: &RuleSetFile) -> Vec<RuleChange> {
    let mut changes = Vec::new();
    let settings: [(&str, String, String); 3] = [
        ("window_hours", before.window_hours.to_string(), after.window_hours.to_string()),
        ("international_red_shows", before.international_red_shows.clone(), after.international_red_shows.clone()),
        ("predicates", json(&before.predicates), json(&after.predicates)),
    ];
    for (name, b, a) in settings {
        if b != a {
            changes.push(RuleChange::Setting { name: name.to_string(), before: b, after: a });
        }
    }
    for rule in &after.rules {
        match before.rules.iter().find(|r| r.id == rule.id) {
            None => changes.push(RuleChange::Added { rule: rule.id.clone() }),
            Some(old) if old != rule => {
                changes.push(RuleChange::Changed { rule: rule.id.clone(), before: json(old), after: json(rule) })
            }
            Some(_) => {}
        }
    }
    for old in before.rules.iter().filter(|o| !after.rules.iter().any(|r| r.id == o.id)) {
        changes.push(RuleChange::Removed { rule: old.id.clone() });
    }
    changes
}

/// Compact JSON of a part of a rule set, to show what changed.
fn json<T: Serialize>(part: &T) -> String {
    serde_json::to_string(part).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;

    #[test]
    fn a_changed_window_and_a_removed_rule_are_listed() {
        let reference = RuleSet::reference().file().clone();
        let mut proposed = reference.clone();
        proposed.window_hours = 168;
        proposed.rules.retain(|r| r.id != "R3");
        proposed.rules[0].title.en = "changed".into();
        let changes = diff(&reference, &proposed);
        assert!(
            matches!(&changes[0], RuleChange::Setting { name, after, .. } if name == "window_hours" && after == "168")
        );
        assert!(changes.iter().any(|c| matches!(c, RuleChange::Changed { rule, .. } if rule == "R1")));
        assert!(changes.contains(&RuleChange::Removed { rule: "R3".into() }));
        assert!(diff(&reference, &reference).is_empty());
    }
}
