//! The research release: budget first, noise on every cell, threshold on noisy counts.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_domain::Timestamp;
use healthcode_vault::research::{release, BudgetError, Cell, PrivacyBudget, Query, MECHANISM};
use rand::rngs::StdRng;
use rand::SeedableRng;

fn query(epsilon: f64, k: u64) -> Query {
    Query { label: "cases by county and day".into(), epsilon, sensitivity: 1, k, at: Timestamp::from_millis(0) }
}

fn grid(count_of: impl Fn(u32, u32) -> u64) -> Vec<Cell<(u32, u32)>> {
    (0..10)
        .flat_map(|area| (0..30).map(move |day| (area, day)))
        .map(|(a, d)| Cell { dims: (a, d), count: count_of(a, d) })
        .collect()
}

#[test]
fn releases_noisy_cells_at_or_above_k_and_reports_the_rest() {
    let mut budget = PrivacyBudget::new("2020-02", 1.0).unwrap();
    let mut rng = StdRng::seed_from_u64(5);
    let cells = grid(|a, d| u64::from(a * d % 17));
    let out = release(cells.clone(), &query(0.5, 5), &mut rng, &mut budget).unwrap();
    assert!(out.cells.iter().all(|c| c.count >= 5));
    assert_eq!(out.cells.len() + out.suppressed, cells.len());
    assert_eq!(out.mechanism, MECHANISM);
    assert_eq!((out.epsilon, out.sensitivity), (0.5, 1));
    assert_eq!(out.receipt.epsilon, 0.5);
    assert!((budget.remaining() - 0.5).abs() < 1e-12);
    let changed = out.cells.iter().filter(|c| cells.iter().any(|t| t.dims == c.dims && t.count != c.count)).count();
    assert!(changed > out.cells.len() / 2, "noise is added to released cells");
}

#[test]
fn the_threshold_applies_to_noisy_counts_not_true_ones() {
    // With little ε, some truly empty cells come out above k and some truly large ones below: the released set
    // depends on noise, not on which true counts crossed k.
    let mut budget = PrivacyBudget::new("2020-02", 1.0).unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    let cells = grid(|a, _| if a < 5 { 0 } else { 6 });
    let out = release(cells, &query(0.05, 5), &mut rng, &mut budget).unwrap();
    assert!(out.cells.iter().any(|c| c.dims.0 < 5), "a true zero released");
    assert!(out.suppressed > 0);
    let large_released = out.cells.iter().filter(|c| c.dims.0 >= 5).count();
    assert!(large_released < 150, "some true sixes withheld");
}

#[test]
fn an_exhausted_budget_releases_nothing_and_spends_nothing() {
    let mut budget = PrivacyBudget::new("2020-02", 1.0).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    release(grid(|_, _| 9), &query(0.8, 5), &mut rng, &mut budget).unwrap();
    let before = budget.clone();
    let err = release(grid(|_, _| 9), &query(0.8, 5), &mut rng, &mut budget).unwrap_err();
    assert!(matches!(err, BudgetError::Exhausted { .. }));
    assert_eq!(budget, before);
}

#[test]
fn same_seed_same_release() {
    let run = || {
        let mut budget = PrivacyBudget::new("d", 1.0).unwrap();
        release(grid(|a, d| u64::from(a + d)), &query(1.0, 3), &mut StdRng::seed_from_u64(3), &mut budget)
            .unwrap()
            .cells
    };
    assert_eq!(run(), run());
}
