//! Rule evaluation in memory, one core: persons with 10–30 events each, the reference
//! rules, 300 designations. Prints persons per second for the full evaluation (colour,
//! reasons, evidence, next change) and for a baseline in the same run: one pass over the
//! same events doing trivial work, i.e. what merely reading the data costs.
//!
//! Run: `cargo bench -p healthcode-rules --bench evaluate`

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use healthcode_domain::{Duration, PersonKind};
use healthcode_rules::{AreaRiskIndex, RuleSet};
use healthcode_synth::{bench_region, designations_for_bench, persons_with_history};

const PERSONS: u64 = 200_000;
const ROUNDS: usize = 5;

fn main() {
    let seed = 7;
    let persons: Vec<_> = persons_with_history(seed, PERSONS, 10..=30).map(|(_, events)| events).collect();
    let events: usize = persons.iter().map(Vec::len).sum();
    let areas = AreaRiskIndex::new(designations_for_bench(seed));
    let rules = RuleSet::reference();
    let region = bench_region(seed);
    // Mid-period, when windows are open and designations in force; and the end.
    let times = [region.start.saturating_add(Duration::days(30)), region.end()];

    println!(
        "persons: {PERSONS}, events: {events} ({:.1} per person), designations: {}",
        events as f64 / PERSONS as f64,
        areas.len()
    );
    for at in times {
        let mut best_eval = f64::MAX;
        let mut best_base = f64::MAX;
        let mut colours = [0usize; 4];
        for _ in 0..ROUNDS {
            let start = Instant::now();
            let mut sum = 0i64;
            for events in &persons {
                for e in events.iter().filter(|e| e.at <= at) {
                    sum = sum.wrapping_add(e.at.as_millis() ^ e.seq);
                }
            }
            black_box(sum);
            best_base = best_base.min(start.elapsed().as_secs_f64());

            let start = Instant::now();
            colours = [0; 4];
            for events in &persons {
                let e = rules.evaluate(PersonKind::Domestic, events, &areas, at);
                colours[e.colour as usize] += 1;
                black_box(&e);
            }
            best_eval = best_eval.min(start.elapsed().as_secs_f64());
        }
        println!(
            "at {at}: evaluate {:>10.0} persons/s (best of {ROUNDS}); baseline pass over the events {:>10.0} persons/s; \
             ratio {:.1}x; colours green/yellow/orange/red = {:?}",
            PERSONS as f64 / best_eval,
            PERSONS as f64 / best_base,
            best_eval / best_base,
            colours
        );
    }
}
