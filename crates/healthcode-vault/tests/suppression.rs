//! Small-cell and complementary suppression.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use healthcode_vault::research::{suppress_small_cells, suppress_with_totals, Cell, Reason};
use proptest::prelude::*;

fn cell(area: &'static str, day: u32, count: u64) -> Cell<(&'static str, u32)> {
    Cell { dims: (area, day), count }
}

#[test]
fn cells_between_zero_and_k_are_withheld_without_their_counts() {
    let out = suppress_small_cells([cell("330102", 1, 0), cell("330102", 2, 3), cell("330102", 3, 9)], 5);
    assert_eq!(out.released, vec![cell("330102", 1, 0), cell("330102", 3, 9)]);
    assert_eq!(out.suppressed.len(), 1);
    assert_eq!(out.suppressed[0].dims, ("330102", 2));
    assert_eq!(out.suppressed[0].reason, Reason::SmallCell);
}

#[test]
fn a_lone_small_cell_takes_the_next_smallest_with_it() {
    let cells = [cell("A", 1, 3), cell("A", 2, 12), cell("A", 3, 10), cell("B", 1, 20), cell("B", 2, 30)];
    let out = suppress_with_totals(cells, 5, |(area, _)| *area);
    let withheld: Vec<_> = out.cells.suppressed.iter().map(|s| (s.dims, s.reason)).collect();
    assert_eq!(withheld, vec![(("A", 1), Reason::SmallCell), (("A", 3), Reason::Complementary)]);
    assert_eq!(out.totals, vec![("A", 25), ("B", 50)]);
    assert!(out.withheld_totals.is_empty());
}

#[test]
fn a_group_with_nothing_to_hide_behind_has_its_total_withheld() {
    let out = suppress_with_totals([cell("A", 1, 2), cell("A", 2, 0)], 5, |(area, _)| *area);
    assert_eq!(out.withheld_totals, vec!["A"]);
    assert!(out.totals.is_empty());
    assert_eq!(out.cells.released, vec![cell("A", 2, 0)]);
}

#[test]
fn two_small_cells_that_must_both_be_one_take_a_complement() {
    // Released 30 and total 52 would leave 2 for two small cells of at least 1 each: both 1. With the 20 withheld
    // too, 22 splits as two small cells and one of at least k in many ways.
    let cells = [cell("A", 1, 1), cell("A", 2, 1), cell("A", 3, 20), cell("A", 4, 30)];
    let out = suppress_with_totals(cells, 5, |(a, _)| *a);
    assert_eq!(out.totals, vec![("A", 52)]);
    assert_eq!(out.cells.released, vec![cell("A", 4, 30)]);
    assert_eq!(out.cells.suppressed[2].reason, Reason::Complementary);
}

#[test]
fn a_total_over_only_withheld_cells_can_still_be_released() {
    let out = suppress_with_totals([cell("A", 1, 1), cell("A", 2, 1), cell("A", 3, 20)], 5, |(a, _)| *a);
    assert!(out.cells.released.is_empty());
    assert_eq!(out.totals, vec![("A", 22)]);
}

type Dims = (u8, u8);

fn grid() -> impl Strategy<Value = (Vec<Cell<Dims>>, u64)> {
    // Counts skewed small so that most groups have something to suppress.
    let count = prop_oneof![3 => 0u64..6, 1 => 0u64..15];
    (proptest::collection::vec(count, 1..=16), 2u64..=5).prop_map(|(counts, k)| {
        let cells =
            counts.into_iter().enumerate().map(|(i, count)| Cell { dims: ((i % 4) as u8, (i / 4) as u8), count });
        (cells.collect(), k)
    })
}

/// Every value a withheld cell could take, for an attacker who knows the released cells, the group total, which
/// withheld cells are small and which complementary, and the rule that picked the complements.
fn feasible_values(withheld: &[(Reason, u64)], released: &[u64], total: u64, k: u64) -> Vec<Vec<u64>> {
    let rest = total - released.iter().sum::<u64>();
    let smallest_released = released.iter().copied().filter(|&c| c > 0).min().unwrap_or(rest);
    let ranges: Vec<(u64, u64)> = withheld
        .iter()
        .map(|(reason, _)| match reason {
            Reason::SmallCell => (1, k - 1),
            Reason::Complementary => (k, smallest_released.min(rest)),
        })
        .collect();
    let mut seen = vec![Vec::new(); ranges.len()];
    let mut choice = Vec::new();
    enumerate(&ranges, rest, &mut choice, &mut seen);
    seen
}

fn enumerate(ranges: &[(u64, u64)], rest: u64, choice: &mut Vec<u64>, seen: &mut [Vec<u64>]) {
    let i = choice.len();
    if i == ranges.len() {
        if rest == 0 {
            for (values, v) in seen.iter_mut().zip(choice.iter()) {
                if !values.contains(v) {
                    values.push(*v);
                }
            }
        }
        return;
    }
    let (lo, hi) = ranges[i];
    for v in lo..=hi.min(rest) {
        choice.push(v);
        enumerate(ranges, rest - v, choice, seen);
        choice.pop();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_released_cell_is_small((cells, k) in grid()) {
        let out = suppress_small_cells(cells.clone(), k);
        prop_assert!(out.released.iter().all(|c| c.count == 0 || c.count >= k));
        prop_assert_eq!(out.released.len() + out.suppressed.len(), cells.len());
    }

    #[test]
    fn no_withheld_cell_is_recoverable_from_a_released_total((cells, k) in grid(), by_day in any::<bool>()) {
        let group_of = |d: &Dims| if by_day { d.1 } else { d.0 };
        let truth: BTreeMap<Dims, u64> = cells.iter().map(|c| (c.dims, c.count)).collect();
        let out = suppress_with_totals(cells.clone(), k, group_of);

        prop_assert!(out.cells.released.iter().all(|c| c.count == 0 || c.count >= k));
        prop_assert!(cells.iter().filter(|c| c.count > 0 && c.count < k).all(|c| !out.cells.released.contains(c)));
        for (group, total) in &out.totals {
            prop_assert_eq!(*total, cells.iter().filter(|c| group_of(&c.dims) == *group).map(|c| c.count).sum::<u64>());
            let released: Vec<u64> =
                out.cells.released.iter().filter(|c| group_of(&c.dims) == *group).map(|c| c.count).collect();
            let withheld: Vec<(Reason, u64)> = out.cells.suppressed.iter()
                .filter(|s| group_of(&s.dims) == *group)
                .map(|s| (s.reason, truth[&s.dims]))
                .collect();
            prop_assert!(withheld.len() != 1, "a single withheld cell is the total minus the released cells");
            for (values, (_, true_value)) in feasible_values(&withheld, &released, *total, k).iter().zip(&withheld) {
                prop_assert!(values.contains(true_value));
                prop_assert!(values.len() >= 2, "group {group}: withheld value {true_value} is pinned down");
            }
        }
    }
}
