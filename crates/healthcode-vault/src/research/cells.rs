//! Small-cell suppression for aggregate counts (k-anonymity threshold), with complementary suppression so that a
//! released group total cannot be used to recover a suppressed cell by subtraction.

use std::collections::BTreeMap;

/// One aggregate cell: its dimensions (area, day, …) and how many persons it counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell<D> {
    pub dims: D,
    pub count: u64,
}

/// Why a cell is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `0 < count < k`.
    SmallCell,
    /// Large enough on its own, withheld so that a released total cannot reveal a small cell by subtraction.
    Complementary,
}

/// A suppressed cell: its dimensions and why, never its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed<D> {
    pub dims: D,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression<D> {
    pub released: Vec<Cell<D>>,
    pub suppressed: Vec<Suppressed<D>>,
}

/// Result of [`suppress_with_totals`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupedSuppression<D, G> {
    pub cells: Suppression<D>,
    /// Group totals (true sums over every cell of the group) that are safe to release alongside `cells`.
    pub totals: Vec<(G, u64)>,
    /// Groups whose total must not be released: no choice of complementary cells hides their small cells.
    pub withheld_totals: Vec<G>,
}

/// A cell of a group and why it is withheld; `None` while it is released.
type Member<D> = (Cell<D>, Option<Reason>);

/// Withholds every cell with `0 < count < k`. Zero cells are released: "nobody" identifies no one.
///
/// Alone this is safe only if no total over these cells is released; otherwise use [`suppress_with_totals`].
pub fn suppress_small_cells<D>(cells: impl IntoIterator<Item = Cell<D>>, k: u64) -> Suppression<D> {
    let mut out = Suppression { released: Vec::new(), suppressed: Vec::new() };
    for cell in cells {
        if is_small(cell.count, k) {
            out.suppressed.push(Suppressed { dims: cell.dims, reason: Reason::SmallCell });
        } else {
            out.released.push(cell);
        }
    }
    out
}

/// Small-cell suppression plus complementary suppression within groups (`group_of` picks the grouping, e.g. the
/// area, or the day), for a release that also publishes each group's total.
///
/// In each group, while some withheld cell's value is pinned down by the total (checked with the bounds an
/// attacker knows: a small cell lies in `1..k`, a complementary one between `k` and the smallest cell still
/// released), the smallest released non-zero cell is withheld too. If the group runs out of such cells, its total
/// is withheld instead. Limits: one grouping at a time (area *and* day totals together need a joint method), and
/// the sum of a group's withheld cells is still disclosed by its total.
pub fn suppress_with_totals<D, G: Ord + Clone>(
    cells: impl IntoIterator<Item = Cell<D>>,
    k: u64,
    group_of: impl Fn(&D) -> G,
) -> GroupedSuppression<D, G> {
    let mut groups: BTreeMap<G, Vec<Member<D>>> = BTreeMap::new();
    for cell in cells {
        let reason = is_small(cell.count, k).then_some(Reason::SmallCell);
        groups.entry(group_of(&cell.dims)).or_default().push((cell, reason));
    }
    let mut out = GroupedSuppression {
        cells: Suppression { released: Vec::new(), suppressed: Vec::new() },
        totals: Vec::new(),
        withheld_totals: Vec::new(),
    };
    for (group, mut members) in groups {
        let total = members.iter().map(|(c, _)| c.count).sum();
        if protect_group(&mut members, k) {
            out.totals.push((group, total));
        } else {
            out.withheld_totals.push(group);
        }
        for (cell, reason) in members {
            match reason {
                Some(reason) => out.cells.suppressed.push(Suppressed { dims: cell.dims, reason }),
                None => out.cells.released.push(cell),
            }
        }
    }
    out
}

fn is_small(count: u64, k: u64) -> bool {
    count > 0 && count < k
}

/// Adds complementary suppressions until no withheld value is exposed; false if that is impossible.
fn protect_group<D>(members: &mut [Member<D>], k: u64) -> bool {
    loop {
        if !any_exposed(members, k) {
            return true;
        }
        let next =
            members.iter_mut().filter(|(c, reason)| reason.is_none() && c.count > 0).min_by_key(|(c, _)| c.count);
        match next {
            Some((_, reason)) => *reason = Some(Reason::Complementary),
            None => return false,
        }
    }
}

/// Whether the total minus the released cells fixes some withheld cell to a single value, given per-cell bounds.
fn any_exposed<D>(members: &[Member<D>], k: u64) -> bool {
    let smallest_released =
        members.iter().filter(|(c, r)| r.is_none() && c.count > 0).map(|(c, _)| c.count).min().unwrap_or(u64::MAX);
    let withheld: Vec<(u64, (i128, i128))> = members
        .iter()
        .filter_map(|(c, reason)| reason.map(|reason| (c.count, bounds(reason, k, smallest_released))))
        .collect();
    if withheld.is_empty() {
        return false;
    }
    let sum: i128 = withheld.iter().map(|(count, _)| i128::from(*count)).sum();
    let lo_sum: i128 = withheld.iter().map(|(_, (lo, _))| lo).sum();
    let hi_sum: i128 = withheld.iter().map(|(_, (_, hi))| hi).sum();
    withheld.iter().any(|(_, (lo, hi))| {
        let others_lo = lo_sum - lo;
        let others_hi = hi_sum - hi;
        let least = (*lo).max(sum - others_hi);
        let most = (*hi).min(sum - others_lo);
        least >= most
    })
}

/// What an attacker who knows this procedure can say about a withheld cell without the data.
fn bounds(reason: Reason, k: u64, smallest_released: u64) -> (i128, i128) {
    match reason {
        Reason::SmallCell => (1, i128::from(k) - 1),
        Reason::Complementary => (i128::from(k), i128::from(smallest_released)),
    }
}
