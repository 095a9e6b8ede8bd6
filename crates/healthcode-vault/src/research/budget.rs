//! The privacy-budget ledger: how much ε a dataset and period has, and what each release spent.

use healthcode_domain::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Sums of decimal ε such as ten spends of 0.1 must be allowed to reach a total of 1.0 exactly.
const FLOAT_SLACK: f64 = 1e-9;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum BudgetError {
    #[error("privacy budget exhausted: {remaining} of ε remains, the query asks for more; nothing was spent")]
    Exhausted { remaining: f64 },
    #[error("ε must be a finite number above zero, not {0}")]
    InvalidEpsilon(f64),
    #[error("sensitivity must be at least 1 (how many counts one person can change in total)")]
    InvalidSensitivity,
    #[error("a privacy budget ledger entry is invalid: {0}")]
    InvalidLedger(String),
}

/// One spend, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    query: String,
    epsilon: f64,
    at_ms: i64,
}

impl LedgerEntry {
    pub fn query(&self) -> &str {
        &self.query
    }

    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    pub fn at(&self) -> Timestamp {
        Timestamp::from_millis(self.at_ms)
    }
}

/// Proof of a spend, returned to the releaser to publish with the numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub query: String,
    pub epsilon: f64,
    pub at: Timestamp,
    pub remaining: f64,
}

/// Total ε for one dataset and period, under sequential composition: releases from the same data add up their ε.
/// Serialisable so that the caller stores it; spends are appended, never edited, and the spent amount is always
/// the sum of the entries, so a stored ledger cannot disagree with itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredBudget", into = "StoredBudget")]
pub struct PrivacyBudget {
    dataset: String,
    total_epsilon: f64,
    entries: Vec<LedgerEntry>,
}

impl PrivacyBudget {
    pub fn new(dataset: impl Into<String>, total_epsilon: f64) -> Result<Self, BudgetError> {
        check_epsilon(total_epsilon)?;
        Ok(PrivacyBudget { dataset: dataset.into(), total_epsilon, entries: Vec::new() })
    }

    /// Records `epsilon` for `query`, or refuses without recording anything if it would exceed the total.
    pub fn spend(&mut self, query: &str, epsilon: f64, at: Timestamp) -> Result<Receipt, BudgetError> {
        check_epsilon(epsilon)?;
        if self.spent() + epsilon > self.total_epsilon + FLOAT_SLACK {
            return Err(BudgetError::Exhausted { remaining: self.remaining() });
        }
        self.entries.push(LedgerEntry { query: query.to_owned(), epsilon, at_ms: at.as_millis() });
        Ok(Receipt { query: query.to_owned(), epsilon, at, remaining: self.remaining() })
    }

    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    pub fn total(&self) -> f64 {
        self.total_epsilon
    }

    pub fn spent(&self) -> f64 {
        self.entries.iter().map(|e| e.epsilon).sum()
    }

    pub fn remaining(&self) -> f64 {
        (self.total_epsilon - self.spent()).max(0.0)
    }

    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }
}

fn check_epsilon(epsilon: f64) -> Result<(), BudgetError> {
    if epsilon.is_finite() && epsilon > 0.0 {
        Ok(())
    } else {
        Err(BudgetError::InvalidEpsilon(epsilon))
    }
}

/// The stored form, checked on the way in: a ledger edited by hand must not carry a negative spend that would
/// quietly refund budget.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredBudget {
    dataset: String,
    total_epsilon: f64,
    entries: Vec<LedgerEntry>,
}

impl TryFrom<StoredBudget> for PrivacyBudget {
    type Error = BudgetError;

    fn try_from(stored: StoredBudget) -> Result<Self, Self::Error> {
        check_epsilon(stored.total_epsilon)?;
        if let Some(bad) = stored.entries.iter().find(|e| check_epsilon(e.epsilon).is_err()) {
            return Err(BudgetError::InvalidLedger(format!("query `{}` spends ε = {}", bad.query, bad.epsilon)));
        }
        Ok(PrivacyBudget { dataset: stored.dataset, total_epsilon: stored.total_epsilon, entries: stored.entries })
    }
}

impl From<PrivacyBudget> for StoredBudget {
    fn from(budget: PrivacyBudget) -> Self {
        StoredBudget { dataset: budget.dataset, total_epsilon: budget.total_epsilon, entries: budget.entries }
    }
}
