//! The evaluator: a person's visible evidence, the designations and a time in; the rules
//! that hold, the evidence behind each, and the next change by the passing of time out.

use healthcode_domain::{distinct_approvers, Colour, Event, EventId, Evidence, PersonKind, RuleColour, Timestamp};

use crate::areas::AreaRiskIndex;
use crate::compile::{ClearerCond, Compiled, Cond, ExistsCond, Matcher, Op, TimeField};

/// How many future instants the search for the next change looks at before it settles
/// for a conservative answer (the next instant it did not examine).
const MAX_CANDIDATES: usize = 64;

/// The verdict for one person at one time. Borrows ids from the rule set, the evidence
/// and the designations it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation<'a> {
    pub colour: Colour,
    /// Every rule that holds, sorted by id.
    pub reasons: Vec<Reason<'a>>,
    /// The next time at which the result changes by the passing of time alone.
    pub next_change: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason<'a> {
    pub rule: &'a str,
    pub colour: RuleColour,
    /// The events (evidence and designations) that make the rule hold.
    pub evidence: Vec<&'a EventId>,
}

impl Evaluation<'_> {
    pub fn reason_ids(&self) -> Vec<&str> {
        self.reasons.iter().map(|r| r.rule).collect()
    }
}

pub(crate) fn evaluate<'a>(
    set: &'a Compiled,
    kind: PersonKind,
    events: &'a [Event<Evidence>],
    areas: &'a AreaRiskIndex,
    at: Timestamp,
) -> Evaluation<'a> {
    debug_assert!(
        events.windows(2).all(|w| w[0].order_key() <= w[1].order_key()),
        "evidence must be sorted by (at, seq)"
    );
    let visible = &events[..events.partition_point(|e| e.at <= at)];
    let ctx = Ctx { set, events: visible, areas, as_of: at };

    let mut candidates = Vec::new();
    let mut reasons = Vec::new();
    for rule in &set.rules {
        let mut evidence = Vec::new();
        if ctx.cond(&rule.when, at, Some(&mut evidence), Some(&mut candidates)) {
            evidence.sort();
            evidence.dedup();
            reasons.push(Reason { rule: rule.id.as_str(), colour: rule.colour, evidence });
        }
    }
    reasons.sort_by(|a, b| a.rule.cmp(b.rule));

    let colour = match reasons.iter().map(|r| r.colour).max() {
        None => Colour::Green,
        Some(RuleColour::Yellow) => Colour::Yellow,
        Some(RuleColour::Red) if kind == PersonKind::International => set.international_red,
        Some(RuleColour::Red) => Colour::Red,
    };
    let next_change = ctx.next_change(at, &reasons, candidates);
    Evaluation { colour, reasons, next_change }
}

struct Ctx<'a> {
    set: &'a Compiled,
    events: &'a [Event<Evidence>],
    areas: &'a AreaRiskIndex,
    as_of: Timestamp,
}

/// Whether an anchor's time filters hold at X, and when they may next flip.
struct TimeStatus {
    holds: bool,
    flips: [Option<Timestamp>; 5],
}

impl<'a> Ctx<'a> {
    /// Does `c` hold at `x`? Pushes the ids behind it into `evidence`, and every future
    /// instant at which a part of it may flip into `candidates`. Without either sink it
    /// may stop at the first answer.
    fn cond(
        &self,
        c: &Cond,
        x: Timestamp,
        mut evidence: Option<&mut Vec<&'a EventId>>,
        mut candidates: Option<&mut Vec<Timestamp>>,
    ) -> bool {
        let thorough = evidence.is_some() || candidates.is_some();
        match c {
            Cond::Latest { among, is } => {
                let latest = self.events.iter().rev().find(|e| among.iter().any(|m| matches(m, &e.body)));
                match latest {
                    Some(e) if is.iter().any(|m| matches(m, &e.body)) => {
                        if let Some(ev) = evidence {
                            ev.push(&e.id);
                        }
                        true
                    }
                    _ => false,
                }
            }
            Cond::Exists(e) => self.exists(e, x, evidence, candidates),
            Cond::Any(cs) => {
                let mut any = false;
                for c in cs {
                    any |= self.cond(c, x, evidence.as_deref_mut(), candidates.as_deref_mut());
                    if any && !thorough {
                        break;
                    }
                }
                any
            }
            Cond::All(cs) => {
                let mark = evidence.as_ref().map_or(0, |ev| ev.len());
                let mut all = true;
                for c in cs {
                    all &= self.cond(c, x, evidence.as_deref_mut(), candidates.as_deref_mut());
                    if !all && !thorough {
                        break;
                    }
                }
                if !all {
                    if let Some(ev) = evidence {
                        ev.truncate(mark);
                    }
                }
                all
            }
            Cond::Not(c) => !self.cond(c, x, None, candidates),
            Cond::Predicate(i) => self.cond(&self.set.predicates[*i], x, evidence, candidates),
        }
    }

    fn exists(
        &self,
        e: &ExistsCond,
        x: Timestamp,
        mut evidence: Option<&mut Vec<&'a EventId>>,
        mut candidates: Option<&mut Vec<Timestamp>>,
    ) -> bool {
        let thorough = evidence.is_some() || candidates.is_some();
        let mut found = false;
        for (i, anchor) in self.events.iter().enumerate() {
            if !matches(&e.event, &anchor.body) {
                continue;
            }
            let time = self.time_status(e, anchor, x);
            let may_hold_later = time.flips.iter().flatten().any(|&t| t > x);
            if !time.holds && !may_hold_later {
                continue;
            }
            if let Some(min) = e.min_distinct_approvers {
                match &anchor.body {
                    Evidence::ManagementDecision { approvers, .. } if distinct_approvers(approvers) >= min => {}
                    _ => continue,
                }
            }
            let mut area_ids = Vec::new();
            if e.needs_area() {
                let Evidence::Stay { area, .. } = &anchor.body else { continue };
                let status = self.areas.status_at(area, x.min(self.as_of));
                let level_ok = e.area_level_at_least.is_none_or(|min| status.level() >= min);
                if !level_ok || (e.area_escalated && !status.escalated) {
                    continue;
                }
                area_ids = status.designations;
            }
            if e.unless.iter().any(|c| self.clears(c, i, anchor)) {
                continue;
            }
            if let Some(cands) = candidates.as_deref_mut() {
                cands.extend(time.flips.iter().flatten().filter(|&&t| t > x));
            }
            if time.holds {
                found = true;
                if let Some(ev) = evidence.as_deref_mut() {
                    ev.push(&anchor.id);
                    ev.extend(area_ids);
                }
                if !thorough {
                    return true;
                }
            }
        }
        found
    }

    fn time_status(&self, e: &ExistsCond, anchor: &Event<Evidence>, x: Timestamp) -> TimeStatus {
        let window = self.set.window;
        let mut status = TimeStatus { holds: true, flips: [None; 5] };
        if let Some(field) = e.within_window {
            // t in (x - window, x]  <=>  x in [t, t + window)
            match time_of(anchor, field) {
                Some(t) => {
                    status.holds &= t <= x && x < t.saturating_add(window);
                    status.flips[0] = Some(t);
                    status.flips[1] = Some(t.saturating_add(window));
                }
                None => status.holds = false,
            }
        }
        if e.stay_touches_window {
            if let Evidence::Stay { from, to, .. } = &anchor.body {
                // from <= x and (to is open or to > x - window)  <=>  x in [from, to + window)
                let end = to.map(|to| to.saturating_add(window));
                status.holds &= *from <= x && end.is_none_or(|end| x < end);
                status.flips[2] = Some(*from);
                status.flips[3] = end;
            } else {
                status.holds = false;
            }
        }
        if let Some(field) = e.before_field {
            match time_of(anchor, field) {
                Some(t) => {
                    status.holds &= x < t;
                    status.flips[4] = Some(t);
                }
                None => status.holds = false,
            }
        }
        status
    }

    /// Does `clearer` stop the anchor (at index `i`) from counting?
    fn clears(&self, clearer: &ClearerCond, i: usize, anchor: &Event<Evidence>) -> bool {
        let mut lacks_checked: Option<bool> = None;
        let candidates = if clearer.after_anchor { &self.events[i + 1..] } else { self.events };
        for other in candidates {
            if !matches(&clearer.event, &other.body) {
                continue;
            }
            if clearer.after_anchor && other.order_key() <= anchor.order_key() {
                continue;
            }
            if let Some((field, op, anchor_field)) = clearer.compare {
                let (Some(a), Some(b)) = (time_of(other, field), time_of(anchor, anchor_field)) else { continue };
                let ok = match op {
                    Op::Ge => a >= b,
                    Op::Gt => a > b,
                    Op::Le => a <= b,
                    Op::Lt => a < b,
                };
                if !ok {
                    continue;
                }
            }
            if let Some((predicate, at_field)) = clearer.only_if_anchor_lacks {
                let lacks = *lacks_checked.get_or_insert_with(|| match time_of(anchor, at_field) {
                    Some(t) => !self.cond(&self.set.predicates[predicate], t, None, None),
                    None => false,
                });
                if !lacks {
                    return false;
                }
            }
            return true;
        }
        false
    }

    /// The first candidate instant after `at` at which the set of rules that hold differs.
    fn next_change(&self, at: Timestamp, now: &[Reason<'_>], mut candidates: Vec<Timestamp>) -> Option<Timestamp> {
        candidates.retain(|&t| t > at);
        candidates.sort_unstable();
        candidates.dedup();
        let holding_now: Vec<&str> = now.iter().map(|r| r.rule).collect();
        for &t in candidates.iter().take(MAX_CANDIDATES) {
            let holding_then =
                self.set.rules.iter().filter(|r| self.cond(&r.when, t, None, None)).map(|r| r.id.as_str());
            if !holding_then.eq_sorted(&holding_now) {
                return Some(t);
            }
        }
        candidates.get(MAX_CANDIDATES).copied()
    }
}

trait EqSorted<'s> {
    fn eq_sorted(self, sorted: &[&'s str]) -> bool;
}

impl<'s, I: Iterator<Item = &'s str>> EqSorted<'s> for I {
    /// Compares rule ids in rule-set order with a sorted list of ids.
    fn eq_sorted(self, sorted: &[&'s str]) -> bool {
        let mut ids: Vec<&str> = self.collect();
        ids.sort_unstable();
        ids == sorted
    }
}

fn matches(m: &Matcher, body: &Evidence) -> bool {
    if body.kind() != m.kind {
        return false;
    }
    if m.values == u32::MAX {
        return true;
    }
    let bit = match body {
        Evidence::Test { result, .. } => position(healthcode_domain::TestResult::ALL, result),
        Evidence::Diagnosis { status } => position(healthcode_domain::DiagnosisStatus::ALL, status),
        Evidence::ManagementDecision { color, .. } => position(healthcode_domain::DecisionColour::ALL, color),
        Evidence::QuarantineOrder { mode, .. } | Evidence::QuarantineRelease { mode } => {
            position(healthcode_domain::QuarantineMode::ALL, mode)
        }
        _ => return true,
    };
    m.values & (1 << bit) != 0
}

fn position<T: PartialEq>(all: &[T], v: &T) -> u32 {
    all.iter().position(|x| x == v).unwrap_or(31) as u32
}

fn time_of(e: &Event<Evidence>, field: TimeField) -> Option<Timestamp> {
    match (field, &e.body) {
        (TimeField::At, _) => Some(e.at),
        (TimeField::OnsetAt, Evidence::Fever { onset_at }) => Some(*onset_at),
        (TimeField::SampledAt, Evidence::Test { sampled_at, .. }) => Some(*sampled_at),
        (TimeField::ExposureAt, Evidence::CloseContact { exposure_at }) => Some(*exposure_at),
        (TimeField::EnteredAt, Evidence::Entry { entered_at, .. }) => Some(*entered_at),
        (TimeField::From, Evidence::Stay { from, .. }) => Some(*from),
        (TimeField::To, Evidence::Stay { to, .. }) => *to,
        (TimeField::Until, Evidence::ManagementDecision { until, .. }) => Some(*until),
        _ => None,
    }
}
