//! Invariants of the evaluator over random histories.

use healthcode_domain::{
    AreaCode, AreaRisk, DecisionColour, DiagnosisStatus, Duration, Event, EventId, Evidence, PersonKind,
    QuarantineMode, RiskLevel, TestResult, Timestamp,
};
use proptest::prelude::*;

use crate::{AreaRiskIndex, RuleSet};

const START: i64 = 1_590_969_600_000; // 2020-06-01T08:00:00+08:00
const HOUR: i64 = 3_600_000;

fn hour(h: i64) -> Timestamp {
    Timestamp::from_millis(START + h * HOUR)
}

const AREAS: [&str; 4] = ["330106", "330106001", "330102", "420106"];
const DESIGNATED: [&str; 4] = ["330100", "330106", "420100", "330102"];

fn evidence() -> impl Strategy<Value = Evidence> {
    let time = (0i64..960).prop_map(hour);
    prop_oneof![
        time.clone().prop_map(|onset_at| Evidence::Fever { onset_at }),
        Just(Evidence::FeverResolved),
        (any::<bool>(), time.clone()).prop_map(|(p, sampled_at)| Evidence::Test {
            result: if p { TestResult::Positive } else { TestResult::Negative },
            sampled_at
        }),
        (0usize..5).prop_map(|i| Evidence::Diagnosis { status: DiagnosisStatus::ALL[i] }),
        time.clone().prop_map(|exposure_at| Evidence::CloseContact { exposure_at }),
        Just(Evidence::ContactCleared),
        time.clone().prop_map(|entered_at| Evidence::Entry { country: "GB".into(), entered_at }),
        (0usize..4, time.clone(), proptest::option::of(0i64..200)).prop_map(|(a, from, len)| Evidence::Stay {
            area: AreaCode::parse(AREAS[a]).unwrap(),
            from,
            to: len.map(|l| Timestamp::from_millis(from.as_millis() + l * HOUR)),
        }),
        (any::<bool>(), 1u32..30).prop_map(|(c, days)| Evidence::QuarantineOrder {
            mode: if c { QuarantineMode::Centralized } else { QuarantineMode::Home },
            days
        }),
        Just(Evidence::QuarantineRelease { mode: QuarantineMode::Home }),
        (any::<bool>(), time).prop_map(|(red, until)| Evidence::ManagementDecision {
            color: if red { DecisionColour::Red } else { DecisionColour::Yellow },
            until,
            basis: "law".into(),
            approvers: vec!["a".into(), "b".into()],
        }),
    ]
}

/// A history: (recorded-at hour, evidence) in arrival order, plus designations.
/// (recorded-at hour, area index, level index, escalated)
type DesignationSpec = (i64, usize, usize, bool);

fn history() -> impl Strategy<Value = (Vec<(i64, Evidence)>, Vec<DesignationSpec>)> {
    (
        proptest::collection::vec((0i64..960, evidence()), 0..25),
        proptest::collection::vec((0i64..960, 0usize..4, 0usize..3, proptest::bool::weighted(0.2)), 0..6),
    )
}

/// Records a history in the given arrival order: `seq` follows arrival.
fn record(arrivals: &[(i64, Evidence)]) -> Vec<Event<Evidence>> {
    let mut events: Vec<Event<Evidence>> = arrivals
        .iter()
        .enumerate()
        .map(|(seq, (h, body))| Event {
            id: EventId::parse(&format!("e{h}-{}", body_tag(body))).unwrap(),
            at: hour(*h),
            seq: seq as i64,
            body: body.clone(),
        })
        .collect();
    events.sort_by_key(Event::order_key);
    events
}

fn body_tag(body: &Evidence) -> String {
    serde_json::to_string(body).unwrap().len().to_string() + body.kind().as_str()
}

fn areas(designations: &[DesignationSpec]) -> AreaRiskIndex {
    AreaRiskIndex::new(designations.iter().enumerate().map(|(i, (h, a, level, escalate))| Event {
        id: EventId::parse(&format!("d{i}")).unwrap(),
        at: hour(*h),
        seq: 1000 + i as i64,
        body: AreaRisk {
            area: AreaCode::parse(DESIGNATED[*a]).unwrap(),
            level: RiskLevel::ALL[*level],
            escalate_to_red: *escalate,
        },
    }))
}

fn summary(rules: &RuleSet, events: &[Event<Evidence>], areas: &AreaRiskIndex, at: Timestamp) -> String {
    let e = rules.evaluate(PersonKind::Domestic, events, areas, at);
    format!("{:?} {:?} {:?}", e.colour, e.reason_ids(), e.next_change)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Events recorded at distinct times give the same result whatever order they arrive in.
    #[test]
    fn arrival_order_of_distinct_times_does_not_matter(
        (arrivals, designations) in history(),
        shuffle in any::<u64>(),
        at in 0i64..1200,
    ) {
        let mut distinct = arrivals.clone();
        distinct.sort_by_key(|(h, _)| *h);
        distinct.dedup_by_key(|(h, _)| *h);
        let mut shuffled = distinct.clone();
        shuffle_with(&mut shuffled, shuffle);
        let rules = RuleSet::reference();
        let areas = areas(&designations);
        prop_assert_eq!(
            summary(&rules, &record(&distinct), &areas, hour(at)),
            summary(&rules, &record(&shuffled), &areas, hour(at))
        );
    }

    /// Events with the same `at` may arrive interleaved with others in any way; only
    /// their order among themselves (which the spec says decides ties) matters.
    #[test]
    fn only_the_order_among_equal_times_matters(
        (arrivals, designations) in history(),
        shuffle in any::<u64>(),
        at in 0i64..1200,
    ) {
        let mut shuffled = arrivals.clone();
        shuffle_with(&mut shuffled, shuffle);
        // Restore the original relative order of each group of equal `at`.
        let mut by_time = arrivals.clone();
        by_time.sort_by_key(|(h, _)| *h); // stable: keeps arrival order within a group
        shuffled.sort_by_key(|(h, _)| *h);
        let mut groups = by_time.into_iter();
        for slot in shuffled.iter_mut() {
            *slot = groups.next().unwrap();
        }
        let rules = RuleSet::reference();
        let areas = areas(&designations);
        prop_assert_eq!(
            summary(&rules, &record(&arrivals), &areas, hour(at)),
            summary(&rules, &record(&shuffled), &areas, hour(at))
        );
    }

    /// From its time on, a retraction is as if the record it withdraws had never been
    /// recorded; before it, as if there were no retraction.
    #[test]
    fn a_retraction_is_as_if_the_record_had_never_been(
        (arrivals, designations) in history(),
        pick in any::<proptest::sample::Index>(),
        delay in 0i64..200,
        at in 0i64..1200,
    ) {
        prop_assume!(!arrivals.is_empty());
        let index = pick.index(arrivals.len());
        let (h, body) = arrivals[index].clone();
        let id = format!("e{h}-{}", body_tag(&body));
        // Two records that happen to share an id would make the one withdrawn ambiguous.
        prop_assume!(arrivals.iter().filter(|(h2, b)| format!("e{h2}-{}", body_tag(b)) == id).count() == 1);
        let retracted_at = h + delay;
        let mut with = arrivals.clone();
        with.push((retracted_at, Evidence::Retraction { retracts: EventId::parse(&id).unwrap(), reason: "wrong person".into() }));
        let mut without = arrivals.clone();
        without.remove(index);
        let rules = RuleSet::reference();
        let areas = areas(&designations);
        let expected = if at >= retracted_at { record(&without) } else { record(&arrivals) };
        prop_assert_eq!(
            summary(&rules, &record(&with), &areas, hour(at)),
            summary(&rules, &expected, &areas, hour(at))
        );
    }

    /// Evaluating at T ignores everything recorded after T.
    #[test]
    fn evidence_recorded_after_t_is_invisible_at_t(
        (arrivals, designations) in history(),
        (later, later_designations) in history(),
        at in 0i64..960,
    ) {
        let rules = RuleSet::reference();
        let before: Vec<_> = arrivals.into_iter().filter(|(h, _)| *h <= at).collect();
        let after: Vec<_> = later.into_iter().map(|(h, e)| (at + 1 + h, e)).collect();
        let mut all = before.clone();
        all.extend(after);
        let known: Vec<_> = designations.iter().copied().filter(|d| d.0 <= at).collect();
        let mut all_designations = known.clone();
        all_designations.extend(later_designations.iter().map(|&(h, a, l, e)| (at + 1 + h, a, l, e)));
        prop_assert_eq!(
            summary(&rules, &record(&before), &areas(&known), hour(at)),
            summary(&rules, &record(&all), &areas(&all_designations), hour(at))
        );
    }

    /// The next change is exact: with no new evidence, nothing changes before it, and
    /// something changes at it.
    #[test]
    fn next_change_is_the_first_change(
        (arrivals, designations) in history(),
        probe in 0u32..1000,
    ) {
        let rules = RuleSet::reference();
        let events = record(&arrivals);
        let areas = areas(&designations);
        let at = hour(1000); // after every recording
        let now = rules.evaluate(PersonKind::Domestic, &events, &areas, at);
        let reasons: Vec<String> = now.reason_ids().iter().map(|s| s.to_string()).collect();
        match now.next_change {
            None => {
                let far = at.saturating_add(Duration::days(400));
                prop_assert_eq!(owned(rules.evaluate(PersonKind::Domestic, &events, &areas, far).reason_ids()), reasons);
            }
            Some(next) => {
                prop_assert!(next > at);
                let span = next.as_millis() - at.as_millis();
                let between = Timestamp::from_millis(at.as_millis() + span * i64::from(probe) / 1000);
                prop_assert_eq!(owned(rules.evaluate(PersonKind::Domestic, &events, &areas, between).reason_ids()), reasons.clone());
                prop_assert_ne!(owned(rules.evaluate(PersonKind::Domestic, &events, &areas, next).reason_ids()), reasons);
            }
        }
    }

    /// The colour follows from the reasons: red if a red rule holds, else yellow if a
    /// yellow one does, else green.
    #[test]
    fn colour_is_the_worst_reason((arrivals, designations) in history(), at in 0i64..1200) {
        let rules = RuleSet::reference();
        let events = record(&arrivals);
        let areas = areas(&designations);
        let e = rules.evaluate(PersonKind::Domestic, &events, &areas, hour(at));
        let ids = e.reason_ids();
        let expected = if ids.iter().any(|r| r.starts_with('R')) {
            healthcode_domain::Colour::Red
        } else if ids.is_empty() {
            healthcode_domain::Colour::Green
        } else {
            healthcode_domain::Colour::Yellow
        };
        prop_assert_eq!(e.colour, expected);
        for reason in &e.reasons {
            prop_assert!(!reason.evidence.is_empty(), "rule {} holds with no evidence behind it", reason.rule);
        }
    }
}

fn shuffle_with<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

fn owned(ids: Vec<&str>) -> Vec<String> {
    ids.into_iter().map(String::from).collect()
}
