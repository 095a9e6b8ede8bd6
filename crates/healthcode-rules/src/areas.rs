//! The area designations in force: which risk level and escalation cover an area at a
//! time, as known at another.

use healthcode_domain::{AreaCode, AreaRisk, Event, EventId, RiskLevel, Timestamp};
use rustc_hash::FxHashMap;

/// Every area designation, indexed by the normal form of its code. Designations are few
/// (thousands) and shared by all persons, so the service keeps one in memory.
#[derive(Debug, Clone, Default)]
pub struct AreaRiskIndex {
    by_code: FxHashMap<u64, Vec<Designation>>,
    count: usize,
}

#[derive(Debug, Clone)]
struct Designation {
    at: Timestamp,
    seq: i64,
    level: RiskLevel,
    escalated: bool,
    id: EventId,
}

/// The status of one area at one time.
#[derive(Debug, Clone, Default)]
pub struct AreaStatus<'a> {
    pub level: Option<RiskLevel>,
    pub escalated: bool,
    /// The designations in force that raise the level above low or escalate.
    pub designations: Vec<&'a EventId>,
}

impl AreaStatus<'_> {
    pub fn level(&self) -> RiskLevel {
        self.level.unwrap_or(RiskLevel::Low)
    }
}

impl AreaRiskIndex {
    pub fn new(designations: impl IntoIterator<Item = Event<AreaRisk>>) -> Self {
        let mut index = AreaRiskIndex::default();
        for d in designations {
            index.insert(d);
        }
        index
    }

    /// Adds a designation, keeping each code's list in `(at, seq)` order.
    pub fn insert(&mut self, d: Event<AreaRisk>) {
        let list = self.by_code.entry(key(d.body.area.normal())).or_default();
        let entry =
            Designation { at: d.at, seq: d.seq, level: d.body.level, escalated: d.body.escalate_to_red, id: d.id };
        let pos = list.partition_point(|e| (e.at, e.seq) <= (entry.at, entry.seq));
        list.insert(pos, entry);
        self.count += 1;
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The level and escalation of `area` at `x`, without saying which designations
    /// decide it: the fast path of evaluation.
    pub fn level_at(&self, area: &AreaCode, x: Timestamp) -> (RiskLevel, bool) {
        let mut level = RiskLevel::Low;
        let mut escalated = false;
        if self.by_code.is_empty() {
            return (level, escalated);
        }
        for prefix in area.covering_prefixes() {
            let Some(list) = self.by_code.get(&key(prefix)) else { continue };
            let visible = list.partition_point(|e| e.at <= x);
            if let Some(in_force) = visible.checked_sub(1).map(|i| &list[i]) {
                level = level.max(in_force.level);
                escalated |= in_force.escalated;
            }
        }
        (level, escalated)
    }

    /// The level and escalation of `area` at `x`, using only designations recorded at or
    /// before `x` (and so visible at x). For each exact code the latest one is in force.
    pub fn status_at(&self, area: &AreaCode, x: Timestamp) -> AreaStatus<'_> {
        let mut status = AreaStatus::default();
        if self.by_code.is_empty() {
            return status;
        }
        for prefix in area.covering_prefixes() {
            let Some(list) = self.by_code.get(&key(prefix)) else { continue };
            let visible = list.partition_point(|e| e.at <= x);
            let Some(in_force) = visible.checked_sub(1).map(|i| &list[i]) else { continue };
            if status.level.is_none_or(|l| in_force.level > l) {
                status.level = Some(in_force.level);
            }
            status.escalated |= in_force.escalated;
            if in_force.level > RiskLevel::Low || in_force.escalated {
                status.designations.push(&in_force.id);
            }
        }
        status
    }
}

/// A normal-form code as a number: its digits, and its length to tell `33` from `033`.
fn key(normal: &str) -> u64 {
    let digits = normal.bytes().fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    digits * 16 + normal.len() as u64
}
