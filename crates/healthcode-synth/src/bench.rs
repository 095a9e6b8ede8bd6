//! Ready-made evidence for in-memory rule-evaluation benchmarks: persons with their
//! recorded events, and designations over the same areas, without a store.

use std::ops::RangeInclusive;

use healthcode_domain::{AreaRisk, Event, Evidence, PersonId, RiskLevel, Timestamp};

use crate::plan::RegionPlan;
use crate::region::{event_id, person_id};
use crate::rng::{stream, Rng};
use crate::story::Story;
use crate::RegionConfig;

/// How many designations [`designations_for_bench`] makes.
pub const BENCH_DESIGNATIONS: usize = 300;

/// The region benchmark persons live in: `RegionConfig::bench` (the real 浙江省: 11 cities,
/// 85 counties, 1,257 streets; 60 days from 2020-06-01) with this seed. Evaluate at its
/// `end()`.
pub fn bench_region(seed: u64) -> RegionConfig {
    RegionConfig { seed, ..RegionConfig::bench(1_000_000) }
}

/// The stream of [`persons_with_history`].
pub struct BenchPersons {
    plan: RegionPlan,
    next: u64,
    count: u64,
    events_per_person: RangeInclusive<usize>,
    seq: i64,
}

/// `n` persons (`p00000001`…), each with a number of events drawn from
/// `events_per_person`, sorted by `(at, seq)`: routine stays and negative tests, and for
/// some a story (about 15% a fever, 5% a close contact with quarantine, 3% an entry from
/// abroad with 14+7 days of quarantine, 1% a confirmed case, 1% a management decision).
/// When a story alone has more events than drawn, its latest events are left out.
///
/// Events lie in the period of [`bench_region`]`(seed)`; `seq` runs on from
/// [`BENCH_DESIGNATIONS`] across all persons, in the order yielded.
pub fn persons_with_history(seed: u64, n: u64, events_per_person: RangeInclusive<usize>) -> BenchPersons {
    let plan = RegionPlan::new(&bench_region(seed)).expect("the bench region is valid");
    BenchPersons { plan, next: 0, count: n, events_per_person, seq: BENCH_DESIGNATIONS as i64 }
}

impl Iterator for BenchPersons {
    type Item = (PersonId, Vec<Event<Evidence>>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        let plan = &self.plan;
        let seed = plan.config.seed;
        let mut rng = Rng::derive(seed, stream::BENCH_PERSON, index);
        let (lo, hi) = (*self.events_per_person.start(), *self.events_per_person.end());
        let target = rng.between(lo as i64, hi as i64).max(0) as usize;
        let layout = &plan.layout;
        let home = layout.street_at(rng.below(layout.streets.len() as u64) as usize);
        let role = rng.below(1000);
        let case = rng.below(plan.counts.cases.max(1));

        let mut story = Story::new(rng, layout, plan.start, plan.end);
        match role {
            0..=9 => story.case(&plan.case(case)),
            10..=59 => story.contact(&plan.case(case)),
            60..=89 => story.traveller(),
            90..=239 => story.fever(),
            240..=249 => story.decision(index),
            _ => {}
        }
        let missing = target.saturating_sub(story.len()) as u32;
        let stays = (missing * 3).div_ceil(4);
        story.routine(home, stays, missing - stays, false);
        let mut events = story.finish();
        events.truncate(target);

        let pid = person_id(index);
        let events = events
            .into_iter()
            .enumerate()
            .map(|(k, (at, body))| {
                self.seq += 1;
                Event {
                    id: event_id(format!("bench-{seed}-{}-{}", index + 1, k + 1)),
                    at: Timestamp::from_millis(at),
                    seq: self.seq,
                    body,
                }
            })
            .collect();
        Some((pid, events))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.count - self.next).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

/// [`BENCH_DESIGNATIONS`] designations over the areas of [`bench_region`]`(seed)`, sorted
/// by `(at, seq)` with `seq` 1, 2, …: mostly streets, some counties, a few whole cities;
/// half medium, a quarter high (a few of those escalated to red), a quarter downgrades to low.
pub fn designations_for_bench(seed: u64) -> Vec<Event<AreaRisk>> {
    let config = bench_region(seed);
    let plan = RegionPlan::new(&config).expect("the bench region is valid");
    let layout = &plan.layout;
    let mut rng = Rng::derive(seed, stream::BENCH_DESIGNATION, 0);
    let mut list: Vec<(i64, AreaRisk)> = (0..BENCH_DESIGNATIONS)
        .map(|_| {
            let area = match rng.below(100) {
                0..=2 => rng.pick(&layout.cities).clone(),
                3..=19 => rng.pick(&layout.counties).clone(),
                _ => rng.pick(&layout.streets).clone(),
            };
            let level = match rng.below(100) {
                0..=49 => RiskLevel::Medium,
                50..=74 => RiskLevel::High,
                _ => RiskLevel::Low,
            };
            let escalate_to_red = level == RiskLevel::High && rng.per_mille(40);
            let at = plan.start + rng.minutes(0, plan.end - plan.start);
            (at, AreaRisk { area, level, escalate_to_red })
        })
        .collect();
    list.sort_by_key(|d| d.0);
    list.into_iter()
        .enumerate()
        .map(|(k, (at, body))| Event {
            id: event_id(format!("bench-{seed}-area-{}", k + 1)),
            at: Timestamp::from_millis(at),
            seq: k as i64 + 1,
            body,
        })
        .collect()
}
