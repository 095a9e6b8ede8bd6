//! Rough throughput of the hot store paths, run by hand (not a test, asserts nothing):
//!
//! ```text
//! cargo run --release -p healthcode-store-sqlite --example throughput -- [PERSONS] [DIR]
//! ```
//!
//! Registers PERSONS persons (default 100,000), inserts 5 events each in batches of
//! 10,000 (twice: first person by person, then interleaved across persons as live
//! ingestion arrives), then reads every person's evidence and saves a code for each, in
//! chunks of 10,000 (what bulk re-evaluation does around the rules).

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use healthcode_domain::{AreaCode, Colour, EventId, Evidence, PersonId, PersonKind, TestResult, Timestamp};
use healthcode_store::prelude::*;
use healthcode_store::{CodeState, NewEvidence, PersonRecord, ReasonEvidence};
use healthcode_store_sqlite::SqliteStore;

const BATCH: usize = 10_000;
const T0: i64 = 1_590_969_600_000;
const HOUR: i64 = 3_600_000;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let persons: usize = args.next().map_or(100_000, |n| n.parse().expect("PERSONS is a number"));
    let temp = tempfile::tempdir().unwrap();
    let dir = args.next().map_or_else(|| temp.path().to_path_buf(), Into::into);
    let store = SqliteStore::open(&dir.join("throughput.sqlite3")).unwrap();

    let ids: Vec<PersonId> = (0..persons).map(|i| PersonId::parse(&format!("p{i:09}")).unwrap()).collect();
    let started = Instant::now();
    for chunk in ids.chunks(BATCH) {
        let records: Vec<PersonRecord> = chunk
            .iter()
            .map(|id| PersonRecord {
                id: id.clone(),
                kind: PersonKind::Domestic,
                registered_at: Timestamp::from_millis(T0),
                residence_area: Some(AreaCode::parse("330106").unwrap()),
            })
            .collect();
        store.register_persons(&records).await.unwrap();
    }
    report("register_persons", persons, "persons", started);

    // Person by person: each person's events are adjacent, as a bulk load sends them.
    let by_person: Vec<NewEvidence> =
        ids.iter().enumerate().flat_map(|(i, p)| (0..3).map(move |k| event(p, i, k))).collect();
    let started = Instant::now();
    for batch in by_person.chunks(BATCH) {
        store.insert_evidence(batch).await.unwrap();
    }
    report("insert_evidence, person by person", by_person.len(), "rows", started);
    if std::env::var_os("ONLY_LOAD").is_some() {
        return;
    }
    if std::env::var_os("ONLY_READ").is_some() {
        let started = Instant::now();
        for _ in 0..5 {
            for chunk in ids.chunks(BATCH) {
                store.evidence_for_many(chunk).await.unwrap();
            }
        }
        report("evidence_for_many, 5 times", 5 * persons, "persons", started);
        return;
    }

    // Interleaved: the next events of everyone, in time order, as live ingestion sends them.
    let interleaved: Vec<NewEvidence> =
        (3..5).flat_map(|k| ids.iter().enumerate().map(move |(i, p)| event(p, i, k))).collect();
    let started = Instant::now();
    for batch in interleaved.chunks(BATCH) {
        store.insert_evidence(batch).await.unwrap();
    }
    report("insert_evidence, interleaved", interleaved.len(), "rows", started);

    let started = Instant::now();
    let resent = store.insert_evidence(&interleaved[..BATCH.min(interleaved.len())]).await.unwrap();
    report("insert_evidence, resent duplicates", resent.len(), "rows", started);

    for (revision, pass) in [(1, "first codes"), (2, "replacing codes")] {
        let (mut read_time, mut save_time, mut events) = (0.0, 0.0, 0);
        let started = Instant::now();
        for chunk in ids.chunks(BATCH) {
            let t = Instant::now();
            let histories = store.evidence_for_many(chunk).await.unwrap();
            read_time += t.elapsed().as_secs_f64();
            events += histories.iter().map(|(_, e)| e.len()).sum::<usize>();
            let codes: Vec<CodeState> = histories.iter().map(|(p, e)| code(p, e.len(), revision)).collect();
            let t = Instant::now();
            store.save_codes(&codes, &healthcode_store::LogAppend::default()).await.unwrap();
            save_time += t.elapsed().as_secs_f64();
        }
        report(&format!("evidence_for_many + save_codes, {pass}"), persons, "persons", started);
        println!("  evidence_for_many: {read_time:.2} s ({events} events); save_codes: {save_time:.2} s");
    }

    let started = Instant::now();
    let queued = store
        .queue_persons_with_stays_under("3301", Timestamp::from_millis(T0), Timestamp::from_millis(T0))
        .await
        .unwrap();
    report("queue_persons_with_stays_under(3301)", queued as usize, "persons", started);
    let started = Instant::now();
    let due = store.due_persons(Timestamp::from_millis(T0 + 1000 * HOUR), BATCH).await.unwrap();
    report("due_persons", due.len(), "persons", started);
    drop(temp);
}

fn event(person: &PersonId, i: usize, k: usize) -> NewEvidence {
    let at = T0 + (k as i64) * 24 * HOUR + (i % 1000) as i64;
    let ts = Timestamp::from_millis;
    let evidence = match k {
        0 | 3 => Evidence::Stay {
            area: AreaCode::parse(["330106", "330106001", "330206", "310101"][i % 4]).unwrap(),
            from: ts(at - 48 * HOUR),
            to: (k == 0).then(|| ts(at)),
        },
        1 | 4 => Evidence::Test { result: TestResult::Negative, sampled_at: ts(at - HOUR) },
        _ => Evidence::Fever { onset_at: ts(at) },
    };
    NewEvidence {
        person: person.clone(),
        id: EventId::parse(&format!("e{i:09}-{k}")).unwrap(),
        at: ts(at),
        evidence,
        hub_line: None,
    }
}

fn code(person: &PersonId, events: usize, revision: i64) -> CodeState {
    CodeState {
        person: person.clone(),
        colour: if events > 4 { Colour::Yellow } else { Colour::Green },
        reasons: vec!["Y1".into()],
        evidence: vec![ReasonEvidence { rule: "Y1".into(), events: vec![EventId::parse("e1").unwrap()] }],
        since: Timestamp::from_millis(T0),
        evaluated_at: Timestamp::from_millis(T0 + HOUR),
        rules_version: "bench".into(),
        next_change: (events > 4).then(|| Timestamp::from_millis(T0 + 14 * 24 * HOUR)),
        revision,
    }
}

fn report(what: &str, n: usize, unit: &str, started: Instant) {
    let s = started.elapsed().as_secs_f64();
    println!("{what}: {n} {unit} in {s:.2} s ({:.0} {unit}/s)", n as f64 / s);
}
