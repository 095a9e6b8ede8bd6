//! The evaluator: a person's visible evidence, the designations and a time in; the rules
//! that hold, the evidence behind each, and the next change by the passing of time out.

use std::cell::RefCell;

use healthcode_domain::{
    distinct_approvers, Colour, Duration, Event, EventId, Evidence, EvidenceKind, PersonKind, RiskLevel, RuleColour,
    Timestamp,
};

use crate::areas::AreaRiskIndex;
use crate::compile::{ClearerCond, Compiled, Cond, ExistsCond, LapseCond, Matcher, Op, Term, TimeField};

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
    // A record withdrawn by its source (before `at`) is invisible to every rule.
    let withdrawn = healthcode_domain::retracted(visible);
    let ctx = Ctx {
        set,
        events: visible,
        by_kind: KindIndex::new(visible, withdrawn.as_deref()),
        withdrawn,
        areas,
        as_of: at,
        area_memo: RefCell::new(Vec::new()),
    };

    // Future instants at which each rule may flip, tagged with the rule's index.
    let mut candidates: Vec<(Timestamp, usize)> = Vec::new();
    let mut flips = Vec::new();
    let mut holding = vec![false; set.rules.len()];
    let mut reasons = Vec::new();
    for (index, rule) in set.rules.iter().enumerate() {
        let mut evidence = Vec::new();
        if ctx.cond(&rule.when, at, Some(&mut evidence), Some(&mut flips)) {
            evidence.sort();
            evidence.dedup();
            holding[index] = true;
            reasons.push(Reason { rule: rule.id.as_str(), colour: rule.colour, evidence });
        }
        candidates.extend(flips.drain(..).filter(|&t| t > at).map(|t| (t, index)));
    }
    reasons.sort_by(|a, b| a.rule.cmp(b.rule));

    let colour = match reasons.iter().map(|r| r.colour).max() {
        None => Colour::Green,
        Some(RuleColour::Yellow) => Colour::Yellow,
        Some(RuleColour::Red) if kind == PersonKind::International => set.international_red,
        Some(RuleColour::Red) => Colour::Red,
    };
    let next_change = ctx.next_change(&holding, candidates);
    Evaluation { colour, reasons, next_change }
}

struct Ctx<'a> {
    set: &'a Compiled,
    events: &'a [Event<Evidence>],
    by_kind: KindIndex,
    /// Which events a retraction withdrew (`None`: none was).
    withdrawn: Option<Vec<bool>>,
    areas: &'a AreaRiskIndex,
    as_of: Timestamp,
    /// The area status of each stay at `as_of` (0: not looked up yet), since the search
    /// for the next change asks again at later instants, where designations are the same.
    area_memo: RefCell<Vec<u8>>,
}

/// Whether an anchor's time filters hold at X, and when they may next flip.
struct TimeStatus {
    holds: bool,
    flips: [Option<Timestamp>; 6],
}

impl<'a> Ctx<'a> {
    fn is_withdrawn(&self, index: usize) -> bool {
        self.withdrawn.as_ref().is_some_and(|w| w[index])
    }

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
                let latest = self
                    .events
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(i, e)| !self.is_withdrawn(*i) && among.iter().any(|m| matches(m, &e.body)))
                    .map(|(_, e)| e);
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
        for &i in self.by_kind.of(e.event.kind) {
            let i = i as usize;
            let anchor = &self.events[i];
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
            if e.needs_area() {
                let Evidence::Stay { area, .. } = &anchor.body else { continue };
                let (level, escalated) = self.area_level(i, area, x);
                let level_ok = e.area_level_at_least.is_none_or(|min| level >= min);
                if !level_ok || (e.area_escalated && !escalated) {
                    continue;
                }
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
                    if let (true, Evidence::Stay { area, .. }) = (e.needs_area(), &anchor.body) {
                        ev.extend(self.areas.status_at(area, x.min(self.as_of)).designations);
                    }
                }
                if !thorough {
                    return true;
                }
            }
        }
        found
    }

    fn area_level(&self, i: usize, area: &healthcode_domain::AreaCode, x: Timestamp) -> (RiskLevel, bool) {
        if x < self.as_of {
            return self.areas.level_at(area, x);
        }
        let mut memo = self.area_memo.borrow_mut();
        if memo.is_empty() {
            memo.resize(self.events.len(), 0);
        }
        if memo[i] == 0 {
            let (level, escalated) = self.areas.level_at(area, self.as_of);
            memo[i] = 1 + (level as u8) * 2 + u8::from(escalated);
        }
        let code = memo[i] - 1;
        (RiskLevel::ALL[usize::from(code / 2)], code % 2 == 1)
    }

    fn time_status(&self, e: &ExistsCond, anchor: &Event<Evidence>, x: Timestamp) -> TimeStatus {
        let window = self.set.window;
        let mut status = TimeStatus { holds: true, flips: [None; 6] };
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
        if let Some(lapse) = &e.lapses {
            match lapse_time(anchor, lapse) {
                Some(end) => {
                    status.holds &= x < end;
                    status.flips[5] = Some(end);
                }
                None => status.holds = false,
            }
        }
        status
    }

    /// Does `clearer` stop the anchor (at index `i`) from counting?
    fn clears(&self, clearer: &ClearerCond, i: usize, anchor: &Event<Evidence>) -> bool {
        let mut lacks_checked: Option<bool> = None;
        let of_kind = self.by_kind.of(clearer.event.kind);
        let later = if clearer.after_anchor { of_kind.partition_point(|&j| j as usize <= i) } else { 0 };
        for other in of_kind[later..].iter().map(|&j| &self.events[j as usize]) {
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

    /// The first candidate instant at which some rule's truth differs from now. A rule
    /// can only flip at one of its own candidate instants, so only those are re-checked.
    fn next_change(&self, holding: &[bool], mut candidates: Vec<(Timestamp, usize)>) -> Option<Timestamp> {
        candidates.sort_unstable();
        candidates.dedup();
        for (examined, &(t, rule)) in candidates.iter().enumerate() {
            if examined == MAX_CANDIDATES {
                return Some(t);
            }
            if self.cond(&self.set.rules[rule].when, t, None, None) != holding[rule] {
                return Some(t);
            }
        }
        None
    }
}

/// The positions of a person's events grouped by kind (a counting sort), so that a rule
/// about close contacts does not look at stays. Positions keep time order within a kind.
struct KindIndex {
    positions: Vec<u32>,
    starts: [u32; KINDS + 1],
}

const KINDS: usize = EvidenceKind::ALL.len();

impl KindIndex {
    /// Indexes `events`, leaving out those `withdrawn` marks.
    fn new(events: &[Event<Evidence>], withdrawn: Option<&[bool]>) -> Self {
        let kept = |i: usize| withdrawn.is_none_or(|w| !w[i]);
        let mut starts = [0u32; KINDS + 1];
        for (_, e) in events.iter().enumerate().filter(|(i, _)| kept(*i)) {
            starts[e.body.kind() as usize + 1] += 1;
        }
        for k in 0..KINDS {
            starts[k + 1] += starts[k];
        }
        let mut next = starts;
        let mut positions = vec![0u32; starts[KINDS] as usize];
        for (i, e) in events.iter().enumerate().filter(|(i, _)| kept(*i)) {
            let k = e.body.kind() as usize;
            positions[next[k] as usize] = i as u32;
            next[k] += 1;
        }
        KindIndex { positions, starts }
    }

    fn of(&self, kind: EvidenceKind) -> &[u32] {
        let k = kind as usize;
        &self.positions[self.starts[k] as usize..self.starts[k + 1] as usize]
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
        Evidence::Declaration { item, .. } => position(healthcode_domain::DeclaredItem::ALL, item),
        Evidence::Arrival { home_code, .. } => position(healthcode_domain::HomeCode::ALL, home_code),
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

/// When an anchor stops counting by itself: its `from` plus its term plus the overrun.
fn lapse_time(anchor: &Event<Evidence>, lapse: &LapseCond) -> Option<Timestamp> {
    let days = match (lapse.term, &anchor.body) {
        (Term::Days(days), _) => days,
        (Term::DaysField { max_days }, Evidence::QuarantineOrder { days, .. }) => {
            max_days.map_or(*days, |max| (*days).min(max))
        }
        (Term::DaysField { .. }, _) => return None,
    };
    let from = time_of(anchor, lapse.from)?;
    Some(from.saturating_add(Duration::days(i64::from(days))).saturating_add(lapse.overrun))
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
        (TimeField::Since, Evidence::Declaration { since, .. }) => Some(*since),
        (TimeField::ArrivedAt, Evidence::Arrival { arrived_at, .. }) => Some(*arrived_at),
        _ => None,
    }
}
