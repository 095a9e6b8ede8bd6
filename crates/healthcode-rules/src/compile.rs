//! Checks a rule-set file and turns it into the form the evaluator runs: selectors become
//! bit masks, field names become enum values, predicate names become indices. Every
//! mistake is reported with where it is (`rules[3].when.exists.within_window`).

use healthcode_domain::{
    Colour, DecisionColour, DeclaredItem, DiagnosisStatus, Duration, EvidenceKind, HomeCode, QuarantineMode, RiskLevel,
    RuleColour, TestResult,
};

use crate::format::{self, Condition, RuleSetFile, Text};
use crate::RuleSetError;

#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub window: Duration,
    pub international_red: Colour,
    pub rules: Vec<Rule>,
    pub predicates: Vec<Cond>,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub id: String,
    pub colour: RuleColour,
    pub title: Text,
    pub when: Cond,
}

#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Latest { among: Vec<Matcher>, is: Vec<Matcher> },
    Exists(Box<ExistsCond>),
    Any(Vec<Cond>),
    All(Vec<Cond>),
    Not(Box<Cond>),
    Predicate(usize),
}

#[derive(Debug, Clone)]
pub(crate) struct ExistsCond {
    pub event: Matcher,
    pub within_window: Option<TimeField>,
    pub stay_touches_window: bool,
    pub before_field: Option<TimeField>,
    pub area_level_at_least: Option<RiskLevel>,
    pub area_escalated: bool,
    pub min_distinct_approvers: Option<usize>,
    pub lapses: Option<LapseCond>,
    pub unless: Vec<ClearerCond>,
}

/// An anchor counts while X < `from` + term + overrun.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LapseCond {
    pub from: TimeField,
    pub term: Term,
    pub overrun: Duration,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Term {
    /// The anchor's `days` (a quarantine order's), at most this many days.
    DaysField {
        max_days: Option<u32>,
    },
    Days(u32),
}

impl ExistsCond {
    pub fn needs_area(&self) -> bool {
        self.area_level_at_least.is_some() || self.area_escalated
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ClearerCond {
    pub event: Matcher,
    pub after_anchor: bool,
    pub compare: Option<(TimeField, Op, TimeField)>,
    pub only_if_anchor_lacks: Option<(usize, TimeField)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Ge,
    Gt,
    Le,
    Lt,
}

/// The time fields of evidence that rules may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeField {
    At,
    OnsetAt,
    SampledAt,
    ExposureAt,
    EnteredAt,
    From,
    To,
    Until,
    Since,
    ArrivedAt,
}

impl TimeField {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "at" => TimeField::At,
            "onset_at" => TimeField::OnsetAt,
            "sampled_at" => TimeField::SampledAt,
            "exposure_at" => TimeField::ExposureAt,
            "entered_at" => TimeField::EnteredAt,
            "from" => TimeField::From,
            "to" => TimeField::To,
            "until" => TimeField::Until,
            "since" => TimeField::Since,
            "arrived_at" => TimeField::ArrivedAt,
            _ => return None,
        })
    }

    fn belongs_to(self, kind: EvidenceKind) -> bool {
        match self {
            TimeField::At => true,
            TimeField::OnsetAt => kind == EvidenceKind::Fever,
            TimeField::SampledAt => kind == EvidenceKind::Test,
            TimeField::ExposureAt => kind == EvidenceKind::CloseContact,
            TimeField::EnteredAt => kind == EvidenceKind::Entry,
            TimeField::From | TimeField::To => kind == EvidenceKind::Stay,
            TimeField::Until => kind == EvidenceKind::ManagementDecision,
            TimeField::Since => kind == EvidenceKind::Declaration,
            TimeField::ArrivedAt => kind == EvidenceKind::Arrival,
        }
    }
}

/// Which events a selector admits: a type, and for types with an enumerated field
/// (`result`, `status`, `color`, `mode`) a bit mask of admitted values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Matcher {
    pub kind: EvidenceKind,
    pub values: u32,
}

pub(crate) fn compile(file: &RuleSetFile) -> Result<Compiled, RuleSetError> {
    if file.format != 1 {
        return Err(invalid("format", format!("format {} is not known; this program reads format 1", file.format)));
    }
    if file.name.trim().is_empty() {
        return Err(invalid("name", "give the rule set a name"));
    }
    if file.version.trim().is_empty() {
        return Err(invalid("version", "give the rule set a version"));
    }
    if file.window_hours == 0 {
        return Err(invalid("window_hours", "the window must be at least one hour"));
    }
    let international_red = match file.international_red_shows.as_str() {
        "orange" => Colour::Orange,
        "red" => Colour::Red,
        other => {
            return Err(invalid("international_red_shows", format!("`{other}` must be `orange` or `red`")));
        }
    };
    let names: Vec<&String> = file.predicates.keys().collect();
    let compiler = Compiler { predicate_names: &names };
    let predicates = file
        .predicates
        .iter()
        .map(|(name, c)| compiler.condition(c, &format!("predicates.{name}")))
        .collect::<Result<Vec<_>, _>>()?;
    check_no_cycles(&predicates, &names)?;

    let mut rules = Vec::with_capacity(file.rules.len());
    for (i, rule) in file.rules.iter().enumerate() {
        let path = format!("rules[{i}]");
        let id = rule.id.trim();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(invalid(&format!("{path}.id"), "a rule id is letters, digits, `_` or `-` (e.g. R1)"));
        }
        if rules.iter().any(|r: &Rule| r.id == id) {
            return Err(invalid(&format!("{path}.id"), format!("rule id `{id}` is used twice")));
        }
        let when = compiler.condition(&rule.when, &format!("{path}.when"))?;
        rules.push(Rule { id: id.to_string(), colour: rule.colour, title: rule.title.clone(), when });
    }
    Ok(Compiled { window: Duration::hours(i64::from(file.window_hours)), international_red, rules, predicates })
}

struct Compiler<'a> {
    predicate_names: &'a [&'a String],
}

impl Compiler<'_> {
    fn condition(&self, c: &Condition, path: &str) -> Result<Cond, RuleSetError> {
        Ok(match c {
            Condition::Latest { among, is } => {
                if among.is_empty() {
                    return Err(invalid(&format!("{path}.latest.among"), "name at least one kind of event"));
                }
                Cond::Latest {
                    among: self.selectors(among, &format!("{path}.latest.among"))?,
                    is: self.selectors(is, &format!("{path}.latest.is"))?,
                }
            }
            Condition::Exists(e) => Cond::Exists(Box::new(self.exists(e, &format!("{path}.exists"))?)),
            Condition::Any(cs) => Cond::Any(self.conditions(cs, &format!("{path}.any"))?),
            Condition::All(cs) => Cond::All(self.conditions(cs, &format!("{path}.all"))?),
            Condition::Not(c) => Cond::Not(Box::new(self.condition(c, &format!("{path}.not"))?)),
            Condition::Predicate(name) => Cond::Predicate(self.predicate(name, &format!("{path}.predicate"))?),
        })
    }

    fn conditions(&self, cs: &[Condition], path: &str) -> Result<Vec<Cond>, RuleSetError> {
        if cs.is_empty() {
            return Err(invalid(path, "list at least one condition"));
        }
        cs.iter().enumerate().map(|(i, c)| self.condition(c, &format!("{path}[{i}]"))).collect()
    }

    fn predicate(&self, name: &str, path: &str) -> Result<usize, RuleSetError> {
        self.predicate_names
            .iter()
            .position(|n| n.as_str() == name)
            .ok_or_else(|| invalid(path, format!("no predicate named `{name}` is defined under [predicates]")))
    }

    fn exists(&self, e: &format::Exists, path: &str) -> Result<ExistsCond, RuleSetError> {
        let event = selector(&e.event, &format!("{path}.event"))?;
        let kind = event.kind;
        let field_of_anchor = |name: &Option<String>, what: &str| -> Result<Option<TimeField>, RuleSetError> {
            name.as_deref().map(|n| time_field(n, kind, &format!("{path}.{what}"))).transpose()
        };
        let within_window = field_of_anchor(&e.within_window, "within_window")?;
        let before_field = field_of_anchor(&e.before_field, "before_field")?;
        let stay_only = e.stay_touches_window || e.area_level_at_least.is_some() || e.area_escalated;
        if stay_only && kind != EvidenceKind::Stay {
            return Err(invalid(path, "stay_touches_window and area filters apply to `stay` events only"));
        }
        if e.min_distinct_approvers.is_some() && kind != EvidenceKind::ManagementDecision {
            return Err(invalid(path, "min_distinct_approvers applies to `management_decision` events only"));
        }
        let lapses = e.lapses.as_ref().map(|l| lapse(l, kind, &format!("{path}.lapses"))).transpose()?;
        let unless = e
            .unless
            .iter()
            .enumerate()
            .map(|(i, c)| self.clearer(c, kind, &format!("{path}.unless[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ExistsCond {
            event,
            within_window,
            stay_touches_window: e.stay_touches_window,
            before_field,
            area_level_at_least: e.area_level_at_least,
            area_escalated: e.area_escalated,
            min_distinct_approvers: e.min_distinct_approvers,
            lapses,
            unless,
        })
    }

    fn clearer(&self, c: &format::Clearer, anchor: EvidenceKind, path: &str) -> Result<ClearerCond, RuleSetError> {
        let event = selector(&c.event, &format!("{path}.event"))?;
        let compare = match &c.compare {
            None => None,
            Some(cmp) => {
                let op = match cmp.op.as_str() {
                    ">=" => Op::Ge,
                    ">" => Op::Gt,
                    "<=" => Op::Le,
                    "<" => Op::Lt,
                    other => {
                        return Err(invalid(&format!("{path}.compare.op"), format!("`{other}`: use >=, >, <= or <")))
                    }
                };
                Some((
                    time_field(&cmp.field, event.kind, &format!("{path}.compare.field"))?,
                    op,
                    time_field(&cmp.anchor_field, anchor, &format!("{path}.compare.anchor_field"))?,
                ))
            }
        };
        let only_if_anchor_lacks = match &c.only_if_anchor_lacks {
            None => None,
            Some(p) => Some((
                self.predicate(&p.predicate, &format!("{path}.only_if_anchor_lacks.predicate"))?,
                time_field(&p.at, anchor, &format!("{path}.only_if_anchor_lacks.at"))?,
            )),
        };
        if !c.after_anchor && compare.is_none() {
            return Err(invalid(
                path,
                "a clearer needs `after_anchor = true` or a `compare`, or it would clear events recorded after it",
            ));
        }
        Ok(ClearerCond { event, after_anchor: c.after_anchor, compare, only_if_anchor_lacks })
    }

    fn selectors(&self, s: &[format::Selector], path: &str) -> Result<Vec<Matcher>, RuleSetError> {
        s.iter().enumerate().map(|(i, s)| selector(s, &format!("{path}[{i}]"))).collect()
    }
}

/// The longest term a rule may give an anchor by itself (`days`, `max_days`): a year.
const MAX_TERM_DAYS: u32 = 366;

fn lapse(l: &format::Lapse, kind: EvidenceKind, path: &str) -> Result<LapseCond, RuleSetError> {
    let from = time_field(&l.from, kind, &format!("{path}.from"))?;
    let within = |days: u32, what: &str| -> Result<u32, RuleSetError> {
        if (1..=MAX_TERM_DAYS).contains(&days) {
            Ok(days)
        } else {
            Err(invalid(&format!("{path}.{what}"), format!("a term of 1 to {MAX_TERM_DAYS} days")))
        }
    };
    let term = match (&l.days_field, l.days) {
        (Some(field), None) => {
            if field != "days" || kind != EvidenceKind::QuarantineOrder {
                return Err(invalid(
                    &format!("{path}.days_field"),
                    format!("`{kind}` events have no number of days `{field}` (only `quarantine_order.days`)"),
                ));
            }
            Term::DaysField { max_days: l.max_days.map(|d| within(d, "max_days")).transpose()? }
        }
        (None, Some(days)) if l.max_days.is_none() => Term::Days(within(days, "days")?),
        (None, Some(_)) => return Err(invalid(&format!("{path}.max_days"), "max_days bounds a days_field only")),
        _ => return Err(invalid(path, "give the term as `days_field` (the anchor's) or `days` (fixed), not both")),
    };
    if l.overrun_hours > MAX_TERM_DAYS * 24 {
        return Err(invalid(&format!("{path}.overrun_hours"), format!("at most {} hours", MAX_TERM_DAYS * 24)));
    }
    Ok(LapseCond { from, term, overrun: Duration::hours(i64::from(l.overrun_hours)) })
}

fn time_field(name: &str, kind: EvidenceKind, path: &str) -> Result<TimeField, RuleSetError> {
    let field = TimeField::parse(name).ok_or_else(|| {
        invalid(
            path,
            format!(
                "`{name}` is not a time field (at, onset_at, sampled_at, exposure_at, entered_at, from, to, until, since)"
            ),
        )
    })?;
    if !field.belongs_to(kind) {
        return Err(invalid(path, format!("`{kind}` events have no `{name}` field")));
    }
    Ok(field)
}

fn selector(s: &format::Selector, path: &str) -> Result<Matcher, RuleSetError> {
    let kind = EvidenceKind::parse(&s.kind).ok_or_else(|| {
        invalid(
            &format!("{path}.type"),
            format!("`{}` is not an evidence type; use one of {}", s.kind, EvidenceKind::choices()),
        )
    })?;
    if kind == EvidenceKind::Retraction {
        return Err(invalid(
            &format!("{path}.type"),
            "a retraction is not evidence a rule can name: it withdraws another record, which the rules then no \
             longer see",
        ));
    }
    let given: Vec<(&str, &format::OneOrMany)> = [
        ("result", &s.result),
        ("status", &s.status),
        ("color", &s.color),
        ("mode", &s.mode),
        ("item", &s.item),
        ("home_code", &s.home_code),
    ]
    .into_iter()
    .filter_map(|(n, v)| v.as_ref().map(|v| (n, v)))
    .collect();
    let own_field = match kind {
        EvidenceKind::Test => Some("result"),
        EvidenceKind::Diagnosis => Some("status"),
        EvidenceKind::ManagementDecision => Some("color"),
        EvidenceKind::QuarantineOrder | EvidenceKind::QuarantineRelease => Some("mode"),
        EvidenceKind::Declaration => Some("item"),
        EvidenceKind::Arrival => Some("home_code"),
        _ => None,
    };
    let mut values = u32::MAX;
    for (name, v) in given {
        if Some(name) != own_field {
            return Err(invalid(&format!("{path}.{name}"), format!("`{kind}` events have no `{name}` to select on")));
        }
        values = 0;
        for value in v.values() {
            let bit = value_bit(kind, value).ok_or_else(|| {
                invalid(&format!("{path}.{name}"), format!("`{value}` is not a value of `{kind}.{name}`"))
            })?;
            values |= 1 << bit;
        }
    }
    Ok(Matcher { kind, values })
}

fn value_bit(kind: EvidenceKind, value: &str) -> Option<u32> {
    fn pos<T: PartialEq + Copy>(all: &[T], v: Option<T>) -> Option<u32> {
        all.iter().position(|x| Some(*x) == v).map(|p| p as u32)
    }
    match kind {
        EvidenceKind::Test => pos(TestResult::ALL, TestResult::parse(value)),
        EvidenceKind::Diagnosis => pos(DiagnosisStatus::ALL, DiagnosisStatus::parse(value)),
        EvidenceKind::ManagementDecision => pos(DecisionColour::ALL, DecisionColour::parse(value)),
        EvidenceKind::QuarantineOrder | EvidenceKind::QuarantineRelease => {
            pos(QuarantineMode::ALL, QuarantineMode::parse(value))
        }
        EvidenceKind::Declaration => pos(DeclaredItem::ALL, DeclaredItem::parse(value)),
        EvidenceKind::Arrival => pos(HomeCode::ALL, HomeCode::parse(value)),
        _ => None,
    }
}

fn check_no_cycles(predicates: &[Cond], names: &[&String]) -> Result<(), RuleSetError> {
    fn refs(c: &Cond, out: &mut Vec<usize>) {
        match c {
            Cond::Predicate(i) => out.push(*i),
            Cond::Any(cs) | Cond::All(cs) => cs.iter().for_each(|c| refs(c, out)),
            Cond::Not(c) => refs(c, out),
            Cond::Exists(e) => out.extend(e.unless.iter().filter_map(|u| u.only_if_anchor_lacks.map(|(p, _)| p))),
            Cond::Latest { .. } => {}
        }
    }
    fn visit(i: usize, predicates: &[Cond], state: &mut [u8], names: &[&String]) -> Result<(), RuleSetError> {
        match state[i] {
            1 => return Err(invalid(&format!("predicates.{}", names[i]), "the predicate refers to itself (a cycle)")),
            2 => return Ok(()),
            _ => {}
        }
        state[i] = 1;
        let mut out = Vec::new();
        refs(&predicates[i], &mut out);
        for j in out {
            visit(j, predicates, state, names)?;
        }
        state[i] = 2;
        Ok(())
    }
    let mut state = vec![0u8; predicates.len()];
    (0..predicates.len()).try_for_each(|i| visit(i, predicates, &mut state, names))
}

fn invalid(path: &str, message: impl Into<String>) -> RuleSetError {
    RuleSetError::Invalid { path: path.to_string(), message: message.into() }
}
