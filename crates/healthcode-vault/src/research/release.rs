//! One research release: spend, noise, then threshold, in that order.

use healthcode_domain::Timestamp;
use rand::Rng;

use crate::research::noise::{DiscreteLaplace, MECHANISM};
use crate::research::{BudgetError, Cell, PrivacyBudget, Receipt};

/// What is asked of one release.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Recorded in the privacy-budget ledger, e.g. `"confirmed cases by county and day, 2020-02"`.
    pub label: String,
    /// ε spent by the whole release (every cell), under the sensitivity below.
    pub epsilon: f64,
    /// Most counts, summed over all cells, that one person can change; 1 when each person is in one cell.
    pub sensitivity: u64,
    /// Cells whose noisy count is below `k` are withheld.
    pub k: u64,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Release<D> {
    /// Noisy counts at or above `k`; never a per-person row.
    pub cells: Vec<Cell<D>>,
    /// How many cells were withheld because their noisy count was below `k`.
    pub suppressed: usize,
    pub epsilon: f64,
    pub sensitivity: u64,
    pub mechanism: &'static str,
    pub receipt: Receipt,
}

/// Releases aggregate `cells` with differential privacy.
///
/// 1. Spend `query.epsilon` from `budget`; if it is exhausted, stop with nothing released and nothing spent.
/// 2. Add discrete Laplace noise (scale Δ/ε) to *every* cell, clamping at zero.
/// 3. Withhold cells whose *noisy* count is below `k`.
///
/// Thresholding the true counts instead would make the set of released cells a function of unprotected data: a
/// cell present in one run and absent in the next would reveal a count crossing `k`. Deciding on noisy counts is
/// post-processing, so the threshold costs no extra privacy, and no complementary suppression is needed.
///
/// Pass the full grid (every area and day, zeros included): noise hides counts, not which cells exist.
pub fn release<D, R: Rng + ?Sized>(
    cells: impl IntoIterator<Item = Cell<D>>,
    query: &Query,
    rng: &mut R,
    budget: &mut PrivacyBudget,
) -> Result<Release<D>, BudgetError> {
    let mechanism = DiscreteLaplace::new(query.epsilon, query.sensitivity)?;
    let receipt = budget.spend(&query.label, query.epsilon, query.at)?;
    let mut released = Vec::new();
    let mut suppressed = 0;
    for cell in cells {
        let count = mechanism.noisy_count(cell.count, rng);
        if count < query.k {
            suppressed += 1;
        } else {
            released.push(Cell { dims: cell.dims, count });
        }
    }
    Ok(Release {
        cells: released,
        suppressed,
        epsilon: query.epsilon,
        sensitivity: query.sensitivity,
        mechanism: MECHANISM,
        receipt,
    })
}
