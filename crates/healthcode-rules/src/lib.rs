#![doc = include_str!("../README.md")]

mod areas;
mod compile;
mod diff;
mod eval;
pub mod format;
pub mod suite;

use healthcode_domain::{Duration, Event, Evidence, PersonKind, RuleColour, Timestamp};
use sha2::{Digest, Sha256};

pub use areas::{AreaRiskIndex, AreaStatus};
pub use diff::{diff, RuleChange};
pub use eval::{Evaluation, Reason};
pub use format::{RuleSetFile, Text};

/// The rule set this program ships: `shared/spec/REFERENCE-RULES.md` as data.
pub const REFERENCE_RULES_TOML: &str = include_str!("../rulesets/reference.toml");

/// A rule a receiving region may add to the reference set (seed 004, the Shandong
/// measure): red for the 14 days after an `arrival` whose home code this region does not
/// recognise, or that showed none. A fragment: append it to a rule set's TOML.
pub const NO_RECOGNISED_CODE_RULE: &str = include_str!("../rulesets/additions/no-recognised-code.toml");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleSetError {
    #[error("the rule set cannot be read: {0}")]
    Syntax(String),
    #[error("the rule set is invalid at `{path}`: {message}")]
    Invalid { path: String, message: String },
}

/// A checked, ready-to-run rule set, with the file it came from (to publish and diff)
/// and that file's digest (to name exactly which rules produced a colour).
#[derive(Debug, Clone)]
pub struct RuleSet {
    file: RuleSetFile,
    compiled: compile::Compiled,
    digest: String,
}

/// What a rule is, for explanations.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo<'a> {
    pub id: &'a str,
    pub colour: RuleColour,
    pub title: &'a Text,
}

impl RuleSet {
    /// The default rule set.
    pub fn reference() -> RuleSet {
        RuleSet::parse(REFERENCE_RULES_TOML).expect("the shipped reference rule set is valid")
    }

    /// Reads a rule set written in TOML, or in JSON (text starting with `{`).
    pub fn parse(text: &str) -> Result<RuleSet, RuleSetError> {
        let file: RuleSetFile = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| RuleSetError::Syntax(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| RuleSetError::Syntax(e.to_string()))?
        };
        RuleSet::from_file(file)
    }

    pub fn from_file(file: RuleSetFile) -> Result<RuleSet, RuleSetError> {
        let compiled = compile::compile(&file)?;
        let canonical = serde_json::to_vec(&file).map_err(|e| RuleSetError::Syntax(e.to_string()))?;
        let digest = format!("sha256:{:x}", Sha256::digest(&canonical));
        Ok(RuleSet { file, compiled, digest })
    }

    pub fn name(&self) -> &str {
        &self.file.name
    }

    pub fn version(&self) -> &str {
        &self.file.version
    }

    /// `sha256:` of the canonical JSON of the rule set: equal digests, equal rules.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    pub fn file(&self) -> &RuleSetFile {
        &self.file
    }

    /// The length of the "past 14 days" window.
    pub fn window(&self) -> Duration {
        self.compiled.window
    }

    pub fn rules(&self) -> impl Iterator<Item = RuleInfo<'_>> {
        self.compiled.rules.iter().map(|r| RuleInfo { id: &r.id, colour: r.colour, title: &r.title })
    }

    pub fn rule(&self, id: &str) -> Option<RuleInfo<'_>> {
        self.rules().find(|r| r.id == id)
    }

    /// Evaluates a person at `at`, as known at `at`: only evidence and designations
    /// recorded at or before `at` count. `evidence` must be sorted by `(at, seq)`.
    pub fn evaluate<'a>(
        &'a self,
        kind: PersonKind,
        evidence: &'a [Event<Evidence>],
        areas: &'a AreaRiskIndex,
        at: Timestamp,
    ) -> Evaluation<'a> {
        eval::evaluate(&self.compiled, kind, evidence, areas, at)
    }
}

#[cfg(test)]
mod tests;
