//! The rule-set file as written (TOML or JSON). `compile` turns it into the checked form
//! the evaluator runs; nothing here is evaluated directly.

use std::collections::BTreeMap;

use healthcode_domain::{RiskLevel, RuleColour};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleSetFile {
    /// The file format version; only 1 exists.
    pub format: u32,
    pub name: String,
    pub version: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub title: Text,
    /// Length of "the past 14 days" windows, in hours.
    pub window_hours: u32,
    /// The colour an international code shows where a domestic code shows red.
    #[serde(default = "default_international_red")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub international_red_shows: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub predicates: BTreeMap<String, Condition>,
    pub rules: Vec<RuleFile>,
}

fn default_international_red() -> String {
    "orange".to_string()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Text {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub zh: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub en: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub id: String,
    pub colour: RuleColour,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub title: Text,
    pub when: Condition,
}

/// A condition on a person's visible evidence at a time X.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Among the events matching `among`, the latest (by `at`, then ingestion) matches `is`.
    Latest { among: Vec<Selector>, is: Vec<Selector> },
    /// Some event (the anchor) matches `event` and every filter, and no `unless` clears it.
    Exists(Box<Exists>),
    // A condition holds conditions: in the OpenAPI schema these refer to `Condition` rather
    // than unfold it.
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    Any(Vec<Condition>),
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    All(Vec<Condition>),
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    Not(Box<Condition>),
    /// A named predicate of the rule set, at X.
    Predicate(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Exists {
    pub event: Selector,
    /// The anchor's time field lies in the window (X - window, X].
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub within_window: Option<String>,
    /// The anchor is a stay that touches the window: `from <= X` and (`to` null or `to > X - window`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub stay_touches_window: bool,
    /// X is before the anchor's time field (e.g. a decision's `until`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub before_field: Option<String>,
    /// The anchor's area (a stay's) has at least this risk level at X.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub area_level_at_least: Option<RiskLevel>,
    /// The anchor's area (a stay's) is escalated to red management at X.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub area_escalated: bool,
    /// The anchor (a management decision) names at least this many distinct approvers.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub min_distinct_approvers: Option<usize>,
    /// The anchor counts only until its term has run out (a quarantine order names its
    /// days): no single report keeps a code red for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapses: Option<Lapse>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub unless: Vec<Clearer>,
}

/// When an anchor stops counting by itself: `from` (a time field of the anchor) plus a
/// term of days, plus `overrun_hours` for a release that comes late. The term is the
/// anchor's own `days_field` (at most `max_days`) or a fixed `days`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Lapse {
    #[serde(default = "default_lapse_from")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days: Option<u32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub overrun_hours: u32,
}

fn default_lapse_from() -> String {
    "at".to_string()
}

/// An event that, when visible, stops an anchor from counting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Clearer {
    pub event: Selector,
    /// The clearer was recorded after the anchor (equal `at`: ingested later).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub after_anchor: bool,
    /// A time field of the clearer compared with one of the anchor's. If the anchor's
    /// field is empty (an open stay's `to`), the clearer cannot clear it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub compare: Option<Compare>,
    /// The clearer counts only if the anchor lacks this predicate at its time field.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub only_if_anchor_lacks: Option<PredicateAt>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Compare {
    pub field: String,
    pub op: String,
    pub anchor_field: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PredicateAt {
    pub predicate: String,
    pub at: String,
}

/// Which events: a type and optionally allowed values of its enumerated fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Selector {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub result: Option<OneOrMany>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub status: Option<OneOrMany>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub color: Option<OneOrMany>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub mode: Option<OneOrMany>,
    /// What a `declaration` declares. Left out of the canonical JSON when absent, so the
    /// digests of rule sets written before declarations existed do not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<OneOrMany>,
    /// What home code an `arrival` showed; absent from the canonical JSON when not given,
    /// as `item`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_code: Option<OneOrMany>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn values(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(v) => vec![v.as_str()],
            OneOrMany::Many(vs) => vs.iter().map(String::as_str).collect(),
        }
    }
}
