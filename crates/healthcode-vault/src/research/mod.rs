//! Research export: aggregate counts by area and day, never per-person rows.
//!
//! Two tools: [`suppress_small_cells`] / [`suppress_with_totals`] for exact tables under a k threshold, and
//! [`release`] for differentially private tables with a [`PrivacyBudget`] ledger. See the crate README for ε, k
//! and their caveats.

mod budget;
mod cells;
mod noise;
mod release;

pub use budget::{BudgetError, LedgerEntry, PrivacyBudget, Receipt};
pub use cells::{
    suppress_small_cells, suppress_with_totals, Cell, GroupedSuppression, Reason, Suppressed, Suppression,
};
pub use noise::{DiscreteLaplace, MECHANISM};
pub use release::{release, Query, Release};
