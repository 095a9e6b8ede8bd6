// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use healthcode_synth::{bench_region, designations_for_bench, persons_with_history, BENCH_DESIGNATIONS};

#[test]
fn bench_persons_have_the_asked_number_of_sorted_events() {
    let region = bench_region(11);
    let mut ids = HashSet::new();
    let mut seqs = HashSet::new();
    let mut kinds = HashSet::new();
    let mut persons = 0;
    for (person, events) in persons_with_history(11, 2_000, 10..=30) {
        persons += 1;
        assert!((10..=30).contains(&events.len()), "{person}: {}", events.len());
        assert!(events.windows(2).all(|w| w[0].order_key() < w[1].order_key()), "{person}: not sorted");
        for e in events {
            assert!(e.at >= region.start && e.at <= region.end());
            assert!(e.seq > BENCH_DESIGNATIONS as i64);
            assert!(ids.insert(e.id) && seqs.insert(e.seq));
            kinds.insert(e.body.kind());
        }
    }
    assert_eq!(persons, 2_000);
    assert!(kinds.len() >= 10, "a mix of evidence: {kinds:?}");
    assert_eq!(persons_with_history(11, 5, 3..=3).map(|(_, e)| e.len()).collect::<Vec<_>>(), [3; 5]);
}

#[test]
fn bench_is_deterministic() {
    let a: Vec<_> = persons_with_history(5, 50, 10..=30).collect();
    let b: Vec<_> = persons_with_history(5, 50, 10..=30).collect();
    assert_eq!(a, b);
    assert_ne!(a, persons_with_history(6, 50, 10..=30).collect::<Vec<_>>());
    assert_eq!(designations_for_bench(5), designations_for_bench(5));
}

#[test]
fn bench_designations_are_sorted_and_cover_the_region() {
    let region = bench_region(2);
    let list = designations_for_bench(2);
    assert_eq!(list.len(), BENCH_DESIGNATIONS);
    assert!(list.windows(2).all(|w| w[0].order_key() < w[1].order_key()));
    assert!(list.iter().all(|d| d.body.area.as_str().starts_with("33") && d.at <= region.end()));
    let areas: HashSet<_> = list.iter().map(|d| d.body.area.clone()).collect();
    assert!(areas.len() > 200);
}
