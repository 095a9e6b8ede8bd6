//! The story every backend runs: each check takes a fresh, empty store and asserts one
//! promise of [`Store`]. A backend's test calls [`run_all`] with a function that makes
//! such a store; a failure names the promise that broke.

// A test story: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod recorder;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use recorder::{Recorder, METHODS};

use healthcode_domain::{AccessOutcome, VenueCategory};
use healthcode_domain::{
    AreaCode, AreaRisk, Colour, DecisionColour, Department, DiagnosisStatus, EventId, Evidence, PersonId, PersonKind,
    QuarantineMode, RiskLevel, TestResult, Timestamp,
};

use crate::{Account, Approval, Credential, CredentialKind, Decision, DecisionStatus, NewAlarm};
use crate::{AdmittedRecord, NationalLink, ParkedRecord, SignedOutside, Signer};
use crate::{CheckinMethod, DeviceRecord, NewCheckin, PersonProfile, VenueRecord, VisitElsewhere};
use crate::{
    CodeState, ColourChangeCount, Inserted, NewDesignation, NewEvidence, NewRejection, PersonRecord, ReasonEvidence,
    Store,
};
use crate::{
    Complaint, ComplaintAnswer, ComplaintCounts, ComplaintGrade, ComplaintQuery, ComplaintStatus, ComplaintStep,
    CorrectionAnswer, CorrectionRequest, NewAccess, ProxyLink, ResidentKey,
};
use crate::{DocumentWrite, LogAppend, LogLeaf, LogNode, StoreError, StoredCheckpoint};
use crate::{FeedChunk, FeedCommit, FeedRejection, FeedRow};
use crate::{ResearchCount, ResearchMetric, CST_OFFSET_MS};
use crate::{SealedPersonalData, PERSONAL_TABLES};

/// Runs every check, each on a store from `make`, and fails if some method of the store's
/// capabilities was never called by any check.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: Store,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let make = || async { Recorder::new(make().await, seen.clone()) };
    registering_twice_keeps_the_first(&make().await).await;
    event_ids_are_stored_once_across_kinds(&make().await).await;
    evidence_about_an_unregistered_person_stores_nothing(&make().await).await;
    seq_follows_insertion_and_evidence_is_sorted_by_time(&make().await).await;
    the_same_events_inserted_at_once_are_stored_once(&make().await).await;
    evidence_queues_its_person_at_its_time(&make().await).await;
    saving_codes_sets_or_clears_the_queue(&make().await).await;
    servers_claim_disjoint_shares_of_the_queue(&make().await).await;
    a_lease_has_one_holder_at_a_time(&make().await).await;
    federation_links_once_queues_in_order_and_parks_by_hub_index(&make().await).await;
    federation_finds_what_a_key_signed_outside_its_trusted_times(&make().await).await;
    records_queue_their_hub_lines_only_when_stored(&make().await).await;
    stays_under_an_area_are_queued_by_prefix_and_end(&make().await).await;
    persons_with_evidence_are_queued_for_rule_changes(&make().await).await;
    evidence_for_many_answers_every_person(&make().await).await;
    codes_round_trip_and_are_counted(&make().await).await;
    every_kind_of_evidence_round_trips(&make().await).await;
    rejections_are_kept_in_order(&make().await).await;
    colour_changes_are_counted_by_hour_and_a_burst_is_marked_once(&make().await).await;
    a_code_is_saved_only_over_the_revision_it_was_evaluated_from(&make().await).await;
    checkpoint_records_round_trip(&make().await).await;
    the_log_appends_atomically_with_codes_and_refuses_a_stale_writer(&make().await).await;
    a_staged_save_keeps_its_codes_only_with_its_log(&make().await).await;
    accounts_credentials_decisions_and_alarms_round_trip(&make().await).await;
    documents_are_kept_whole_by_kind(&make().await).await;
    resident_keys_proxies_accesses_and_complaints_round_trip(&make().await).await;
    destruction_empties_every_personal_table_and_keeps_the_rest(&make().await).await;
    erasing_one_person_leaves_everyone_else(&make().await).await;
    feed_chunks_move_the_mark_once_with_their_rows(&make().await).await;
    research_counts_are_distinct_persons_by_area_and_day(&make().await).await;
    the_status_counts_connections_within_the_pool(&make().await).await;
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    let never: Vec<&str> = METHODS.iter().copied().filter(|m| !seen.contains(m)).collect();
    assert!(
        never.is_empty(),
        "the conformance story never calls {never:?}: add a check that does, so that both backends are compared on it"
    );
}

fn t(hours: i64) -> Timestamp {
    Timestamp::from_millis(1_590_969_600_000 + hours * 3_600_000)
}

fn pid(s: &str) -> PersonId {
    PersonId::parse(s).unwrap()
}

fn eid(s: &str) -> EventId {
    EventId::parse(s).unwrap()
}

async fn person(store: &impl Store, id: &str) -> PersonId {
    let record = PersonRecord {
        id: pid(id),
        kind: PersonKind::Domestic,
        registered_at: t(0),
        residence_area: Some(AreaCode::parse("330106").unwrap()),
    };
    store.register_person(&record).await.unwrap();
    record.id
}

fn fever(person: &PersonId, id: &str, at: i64) -> NewEvidence {
    NewEvidence {
        person: person.clone(),
        id: eid(id),
        at: t(at),
        evidence: Evidence::Fever { onset_at: t(at) },
        hub_line: None,
    }
}

fn stay(person: &PersonId, id: &str, area: &str, to: Option<i64>) -> NewEvidence {
    NewEvidence {
        person: person.clone(),
        id: eid(id),
        at: t(1),
        evidence: Evidence::Stay { area: AreaCode::parse(area).unwrap(), from: t(0), to: to.map(t) },
        hub_line: None,
    }
}

/// A first code (revision 1); `code_at` for a later revision.
fn code(person: &PersonId, colour: Colour, next_change: Option<i64>) -> CodeState {
    code_at(person, colour, next_change, 1)
}

fn code_at(person: &PersonId, colour: Colour, next_change: Option<i64>, revision: i64) -> CodeState {
    CodeState {
        person: person.clone(),
        colour,
        reasons: vec!["Y1".into()],
        evidence: vec![ReasonEvidence { rule: "Y1".into(), events: vec![eid("e1")] }],
        since: t(1),
        evaluated_at: t(2),
        rules_version: "test".into(),
        next_change: next_change.map(t),
        revision,
    }
}

async fn registering_twice_keeps_the_first(store: &impl Store) {
    let first =
        PersonRecord { id: pid("p1"), kind: PersonKind::International, registered_at: t(0), residence_area: None };
    assert!(store.register_person(&first).await.unwrap(), "a new person is reported as created");
    let second = PersonRecord { kind: PersonKind::Domestic, registered_at: t(5), ..first.clone() };
    assert!(!store.register_person(&second).await.unwrap(), "registering again is reported as not created");
    assert_eq!(store.person(&pid("p1")).await.unwrap(), Some(first), "registering again changes nothing");
    assert_eq!(store.person(&pid("nobody")).await.unwrap(), None);
    assert_eq!(store.person_count().await.unwrap(), 1);
    assert_eq!(store.persons(&[pid("p1"), pid("nobody")]).await.unwrap().len(), 1, "persons() skips unknown ids");
    let many: Vec<PersonRecord> = ["p1", "p2", "p3", "p2"]
        .iter()
        .map(|id| PersonRecord { id: pid(id), kind: PersonKind::Domestic, registered_at: t(9), residence_area: None })
        .collect();
    assert_eq!(store.register_persons(&many).await.unwrap(), 2, "a bulk registration creates only the new persons");
    assert_eq!(store.person_count().await.unwrap(), 3);
    assert_eq!(store.person(&pid("p1")).await.unwrap().unwrap().kind, PersonKind::International, "p1 unchanged");
    let known =
        PersonRecord { id: pid("from-a-list"), kind: PersonKind::Domestic, registered_at: t(0), residence_area: None };
    store.register_person(&known).await.unwrap();
    let area = AreaCode::parse("330106").unwrap();
    assert!(store.fill_residence_area(&known.id, &area).await.unwrap(), "an area is filled in where none was");
    let other = AreaCode::parse("310101").unwrap();
    assert!(!store.fill_residence_area(&known.id, &other).await.unwrap(), "never changed once recorded");
    assert_eq!(store.person(&known.id).await.unwrap().unwrap().residence_area, Some(area));
}

async fn evidence_about_an_unregistered_person_stores_nothing(store: &impl Store) {
    let p = person(store, "p1").await;
    let stranger = pid("never-registered");
    let batch = [fever(&p, "ok", 1), fever(&stranger, "orphan", 1)];
    let refused = store.insert_evidence(&batch).await;
    assert!(refused.is_err(), "evidence must name a registered person: {refused:?}");
    assert!(store.evidence_for(&p).await.unwrap().is_empty(), "the whole batch is refused, not part of it");
    assert!(store.evidence_for(&stranger).await.unwrap().is_empty());
    assert!(matches!(store.insert_evidence(&batch[..1]).await.unwrap()[0], Inserted::New { .. }));
}

async fn event_ids_are_stored_once_across_kinds(store: &impl Store) {
    let p = person(store, "p1").await;
    let out = store.insert_evidence(&[fever(&p, "e1", 1), fever(&p, "e1", 1), fever(&p, "e1", 2)]).await.unwrap();
    assert!(matches!(out[0], Inserted::New { .. }), "first insert of an id is new");
    assert_eq!(out[1], Inserted::Duplicate { same_content: true }, "a resend is a harmless duplicate");
    assert_eq!(out[2], Inserted::Duplicate { same_content: false }, "a reused id with other content is flagged");
    let later = NewEvidence { at: t(9), ..fever(&p, "e1", 1) };
    let out = store.insert_evidence(&[later]).await.unwrap();
    assert_eq!(out[0], Inserted::Duplicate { same_content: true }, "a resend received later is the same record");
    assert_eq!(store.evidence_for(&p).await.unwrap().len(), 1, "a duplicate id is stored once");

    let d = |id: &str| NewDesignation {
        id: eid(id),
        at: t(1),
        risk: AreaRisk { area: AreaCode::parse("330106").unwrap(), level: RiskLevel::High, escalate_to_red: false },
        hub_line: None,
    };
    let out = store.insert_designations(&[d("e1"), d("d1"), d("d1")]).await.unwrap();
    assert_eq!(out[0], Inserted::Duplicate { same_content: false }, "evidence and designations share one id space");
    assert!(matches!(out[1], Inserted::New { .. }));
    assert_eq!(out[2], Inserted::Duplicate { same_content: true });
    let stored = store.designations_after(0).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(store.unapplied_designations().await.unwrap(), stored, "a new designation is not yet applied");
    store.mark_designations_applied(&[stored[0].seq]).await.unwrap();
    assert!(store.unapplied_designations().await.unwrap().is_empty(), "marked applied");
    assert_eq!(store.designations_after(0).await.unwrap(), stored, "applied designations are still designations");
    let out = store.insert_evidence(&[fever(&p, "d1", 3)]).await.unwrap();
    assert_eq!(out[0], Inserted::Duplicate { same_content: false }, "an evidence id may not reuse a designation's");
    // With more designations than ids in a batch (a backend may look them up either way).
    store.insert_designations(&[d("d2"), d("d3")]).await.unwrap();
    let out = store.insert_evidence(&[fever(&p, "d3", 3)]).await.unwrap();
    assert_eq!(out[0], Inserted::Duplicate { same_content: false }, "nor any of many designations' ids");
}

async fn the_same_events_inserted_at_once_are_stored_once(store: &impl Store) {
    let p = person(store, "p1").await;
    // Enough rows for a backend's bulk path (PostgreSQL's COPY) and its row path.
    for rows in [2_000, 10] {
        let batch: Vec<NewEvidence> = (0..rows).map(|i| fever(&p, &format!("same-{rows}-{i}"), 1)).collect();
        let (first, second) = futures_util::join!(store.insert_evidence(&batch), store.insert_evidence(&batch));
        let (first, second) = (first.unwrap(), second.unwrap());
        for (a, b) in first.iter().zip(&second) {
            let new = [a, b].iter().filter(|o| matches!(o, Inserted::New { .. })).count();
            let duplicate = [a, b].iter().filter(|o| **o == &Inserted::Duplicate { same_content: true }).count();
            assert_eq!(
                (new, duplicate),
                (1, 1),
                "two servers given one event: stored by one, a duplicate to the other"
            );
        }
    }
    assert_eq!(store.evidence_for(&p).await.unwrap().len(), 2_010);

    // Two feeds naming the same events in opposite orders, at once: neither waits for
    // ever on the other (a backend that inserts them concurrently must not deadlock), and
    // each event is stored by one of them.
    for rows in [1_500, 10] {
        let forward: Vec<NewEvidence> = (0..rows).map(|i| fever(&p, &format!("both-{rows}-{i}"), 2)).collect();
        let backward: Vec<NewEvidence> = forward.iter().rev().cloned().collect();
        let (first, second) = futures_util::join!(store.insert_evidence(&forward), store.insert_evidence(&backward));
        let (first, second) = (first.unwrap(), second.unwrap());
        for (a, b) in first.iter().zip(second.iter().rev()) {
            let new = [a, b].iter().filter(|o| matches!(o, Inserted::New { .. })).count();
            assert_eq!(new, 1, "stored by exactly one of two batches: {a:?} / {b:?}");
        }
    }
    assert_eq!(store.evidence_for(&p).await.unwrap().len(), 2_010 + 1_510);

    // An event and a designation under one id, at once: ids are one space, so one is
    // stored and the other refused as a duplicate with other content.
    for i in 0..20 {
        let id = format!("either-{i}");
        let designation = NewDesignation {
            id: eid(&id),
            at: t(1),
            risk: AreaRisk { area: AreaCode::parse("330106").unwrap(), level: RiskLevel::High, escalate_to_red: false },
            hub_line: None,
        };
        let (evidence, designation) = ([fever(&p, &id, 1)], [designation]);
        let (evidence, designation) =
            futures_util::join!(store.insert_evidence(&evidence), store.insert_designations(&designation));
        let outcomes = [evidence.unwrap()[0], designation.unwrap()[0]];
        let new = outcomes.iter().filter(|o| matches!(o, Inserted::New { .. })).count();
        assert_eq!(new, 1, "one of an event and a designation sharing an id is stored: {outcomes:?}");
    }
}

async fn seq_follows_insertion_and_evidence_is_sorted_by_time(store: &impl Store) {
    let p = person(store, "p1").await;
    let out =
        store.insert_evidence(&[fever(&p, "late", 9), fever(&p, "early", 1), fever(&p, "same", 1)]).await.unwrap();
    let seqs: Vec<i64> = out
        .iter()
        .map(|o| if let Inserted::New { seq } = o { *seq } else { panic!("expected new, got {o:?}") })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seq grows in insertion order: {seqs:?}");
    let d = store
        .insert_designations(&[NewDesignation {
            id: eid("d"),
            at: t(0),
            risk: AreaRisk {
                area: AreaCode::parse("330100").unwrap(),
                level: RiskLevel::Medium,
                escalate_to_red: true,
            },
            hub_line: None,
        }])
        .await
        .unwrap();
    assert!(matches!(d[0], Inserted::New { seq } if seq > seqs[2]), "designations continue the same sequence");
    let events = store.evidence_for(&p).await.unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["early", "same", "late"], "evidence comes back sorted by (at, seq)");
    assert_eq!(events[0].body, Evidence::Fever { onset_at: t(1) }, "bodies round-trip");
    let stored = store.designations_after(0).await.unwrap();
    assert!(stored[0].body.escalate_to_red && stored[0].body.area.normal() == "3301", "designations round-trip");
    let later = |id: &str, hours: i64| NewDesignation {
        id: eid(id),
        at: t(hours),
        risk: AreaRisk { area: AreaCode::parse("330200").unwrap(), level: RiskLevel::High, escalate_to_red: false },
        hub_line: None,
    };
    let out = store.insert_designations(&[later("d2", -5), later("d3", 7)]).await.unwrap();
    let Inserted::New { seq: d2 } = out[0] else { panic!("expected new, got {:?}", out[0]) };
    let seen = store.designations_after(stored[0].seq).await.unwrap();
    let ids: Vec<&str> = seen.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["d2", "d3"], "those recorded after a seq, by (at, seq), even one dated earlier");
    assert_eq!(store.designations_after(d2).await.unwrap().len(), 1, "nothing at or below the seq given");
    assert!(store.designations_after(i64::MAX).await.unwrap().is_empty());
}

async fn evidence_queues_its_person_at_its_time(store: &impl Store) {
    let p = person(store, "p1").await;
    let q = person(store, "p2").await;
    store.insert_evidence(&[fever(&p, "a", 5)]).await.unwrap();
    store.insert_evidence(&[fever(&p, "b", 3), fever(&q, "c", 7)]).await.unwrap();
    store.insert_evidence(&[fever(&p, "d", 9)]).await.unwrap();
    assert_eq!(store.queue_len().await.unwrap(), 2);
    assert!(store.due_persons(t(2), 10).await.unwrap().is_empty(), "nobody is due before their earliest event");
    assert_eq!(store.due_persons(t(3), 10).await.unwrap(), std::slice::from_ref(&p), "the earliest due time is kept");
    assert_eq!(store.due_persons(t(100), 10).await.unwrap(), [p.clone(), q.clone()], "due persons come earliest first");
    assert_eq!(store.due_persons(t(100), 1).await.unwrap(), std::slice::from_ref(&p), "the limit is respected");
    store.queue_persons(std::slice::from_ref(&q), t(1)).await.unwrap();
    assert_eq!(store.due_persons(t(100), 10).await.unwrap(), [q.clone(), p], "queueing earlier moves a person up");
    store.queue_persons(std::slice::from_ref(&q), t(50)).await.unwrap();
    assert_eq!(store.due_persons(t(1), 10).await.unwrap(), [q], "queueing later never postpones");
}

async fn saving_codes_sets_or_clears_the_queue(store: &impl Store) {
    let p = person(store, "p1").await;
    let q = person(store, "p2").await;
    store.insert_evidence(&[fever(&p, "a", 1), fever(&q, "b", 1)]).await.unwrap();
    let saved = || async {
        store
            .save_codes(&[code(&p, Colour::Yellow, Some(40)), code(&q, Colour::Green, None)], &LogAppend::default())
            .await
    };
    saved().await.unwrap();
    assert_eq!(
        store.due_persons(t(1), 10).await.unwrap(),
        [p.clone(), q.clone()],
        "entries no evaluation claimed stay as they are: it may not have seen why they were queued"
    );
    store.claim_persons(&[p.clone(), q.clone()], t(2), t(3)).await.unwrap();
    let other = [p.clone(), q.clone()].map(|who| CodeState { revision: 2, ..code(&who, Colour::Green, None) });
    // Queued again after the claim (new evidence): the claim ends, and the entry stays.
    store.insert_evidence(&[fever(&q, "c", 2)]).await.unwrap();
    store
        .save_codes(
            &[CodeState { next_change: Some(t(40)), ..other[0].clone() }, other[1].clone()],
            &LogAppend::default(),
        )
        .await
        .unwrap();
    assert_eq!(store.queue_len().await.unwrap(), 2, "a claimed code without next change leaves the queue");
    assert_eq!(
        store.due_persons(t(39), 10).await.unwrap(),
        std::slice::from_ref(&q),
        "a claimed entry becomes the next change; one queued since the claim stays"
    );
    assert_eq!(store.due_persons(t(40), 10).await.unwrap(), [q.clone(), p.clone()]);
    store.claim_persons(std::slice::from_ref(&q), t(39), t(41)).await.unwrap();
    assert!(
        store.claim_due_persons(t(39), 10, t(41)).await.unwrap().is_empty(),
        "a person claimed by an evaluation is not handed to another"
    );
    store
        .save_codes(&[CodeState { revision: 3, ..code(&q, Colour::Green, None) }], &LogAppend::default())
        .await
        .unwrap();
    assert_eq!(store.due_persons(t(100), 10).await.unwrap(), [p], "the claimed entry is gone with its code saved");
}

async fn servers_claim_disjoint_shares_of_the_queue(store: &impl Store) {
    let persons = [person(store, "p1").await, person(store, "p2").await, person(store, "p3").await];
    for (i, p) in persons.iter().enumerate() {
        store.insert_evidence(&[fever(p, &format!("e{i}"), i as i64)]).await.unwrap();
    }
    let first = store.claim_due_persons(t(10), 2, t(11)).await.unwrap();
    assert_eq!(first, persons[..2], "the earliest due, up to the limit");
    let second = store.claim_due_persons(t(10), 10, t(11)).await.unwrap();
    assert_eq!(second, persons[2..], "a second server gets only what the first did not claim");
    assert!(store.claim_due_persons(t(10), 10, t(11)).await.unwrap().is_empty(), "everything due is claimed");
    assert_eq!(store.due_persons(t(10), 10).await.unwrap().len(), 3, "claimed persons are still queued");
    // The first server saves one code; the other claimed person's server dies.
    store.save_codes(&[code(&persons[0], Colour::Yellow, Some(12))], &LogAppend::default()).await.unwrap();
    assert!(
        store.claim_due_persons(t(10), 10, t(11)).await.unwrap().is_empty(),
        "before the claims end, nothing is handed out again"
    );
    assert_eq!(
        store.claim_due_persons(t(11), 10, t(20)).await.unwrap(),
        persons[1..],
        "a claim that ended returns its persons to the queue"
    );
    assert_eq!(
        store.claim_due_persons(t(12), 10, t(20)).await.unwrap(),
        persons[..1],
        "a saved code's next change is a new, unclaimed entry"
    );
}

async fn a_lease_has_one_holder_at_a_time(store: &impl Store) {
    assert_eq!(store.lease("scheduler").await.unwrap(), None, "never taken");
    assert!(store.take_lease("scheduler", "a", t(0), t(1)).await.unwrap(), "a free lease is taken");
    assert!(!store.take_lease("scheduler", "b", t(0), t(1)).await.unwrap(), "not while another holds it");
    assert!(store.take_lease("other", "b", t(0), t(1)).await.unwrap(), "leases are independent by name");
    assert!(store.take_lease("scheduler", "a", t(0), t(2)).await.unwrap(), "its holder renews it");
    assert!(!store.take_lease("scheduler", "b", t(1), t(3)).await.unwrap(), "the renewal holds past the first end");
    let held = store.lease("scheduler").await.unwrap().unwrap();
    assert_eq!((held.name.as_str(), held.holder.as_str(), held.until), ("scheduler", "a", t(2)));
    assert!(store.take_lease("scheduler", "b", t(2), t(4)).await.unwrap(), "an ended lease passes to the next");
    assert!(!store.take_lease("scheduler", "a", t(3), t(5)).await.unwrap(), "and its former holder has lost it");
    store.release_lease("scheduler", "a").await.unwrap();
    assert_eq!(store.lease("scheduler").await.unwrap().unwrap().holder, "b", "only the holder can give it up");
    store.release_lease("scheduler", "b").await.unwrap();
    assert!(store.take_lease("scheduler", "a", t(3), t(5)).await.unwrap(), "a given-up lease is free at once");
}

fn link(national_id: &str, person: &PersonId) -> NationalLink {
    NationalLink { national_id: national_id.into(), person: person.clone() }
}

fn parked(national_id: &str, hub_index: u64, entry: &str) -> ParkedRecord {
    ParkedRecord {
        national_id: national_id.into(),
        hub_index,
        entry: entry.into(),
        parked_at: t(hub_index as i64),
        signer: signer("41", Some("k1"), hub_index as i64),
    }
}

fn signer(region: &str, kid: Option<&str>, hours: i64) -> Signer {
    Signer { region: region.into(), kid: kid.map(str::to_string), hub_at: t(hours) }
}

fn admitted(id: &str, person: Option<&PersonId>, hub_index: u64, signer: Signer) -> AdmittedRecord {
    AdmittedRecord {
        record_id: id.into(),
        kind: if person.is_some() { "key_person" } else { "risk_level" }.into(),
        person: person.cloned(),
        hub_index,
        signer,
    }
}

fn outside(region: &str, kid: &str, from: i64, until: Option<i64>) -> SignedOutside {
    SignedOutside { region: region.into(), kid: kid.into(), from: t(from), until: until.map(t) }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

/// The national exchange (`FederationStore`): pseudonyms, the hub's queue, parked records.
/// What a record sends to the national hub is queued in the transaction that stores it (an
/// outbox): in the order given, only for records that are new, and not at all when the
/// batch is refused.
async fn records_queue_their_hub_lines_only_when_stored(store: &impl Store) {
    let p = person(store, "p").await;
    let with_line = |e: NewEvidence, line: &str| NewEvidence { hub_line: Some(line.into()), ..e };
    let queued =
        || async { store.queued_submissions(100).await.unwrap().into_iter().map(|s| s.line).collect::<Vec<_>>() };
    store.insert_evidence(&[with_line(fever(&p, "old", 1), "line-old")]).await.unwrap();
    let out = store
        .insert_evidence(&[
            with_line(fever(&p, "z-new", 3), "line-z"),
            with_line(fever(&p, "old", 1), "line-old-again"),
            fever(&p, "quiet", 2),
            with_line(fever(&p, "a-new", 2), "line-a"),
            with_line(fever(&p, "a-new", 2), "line-a-twice"),
        ])
        .await
        .unwrap();
    assert!(matches!(out[0], Inserted::New { .. }) && matches!(out[3], Inserted::New { .. }));
    assert_eq!(
        queued().await,
        ["line-old", "line-z", "line-a"],
        "the lines of the records stored, in the batch's order; a resend's and a repeat's are not queued again"
    );
    let refused = store
        .insert_evidence(&[
            with_line(fever(&p, "b-new", 4), "line-b"),
            with_line(fever(&pid("nobody"), "c-new", 4), "line-c"),
        ])
        .await;
    assert!(refused.is_err(), "evidence about an unregistered person refuses the batch");
    assert_eq!(queued().await.len(), 3, "a refused batch queues nothing");

    let level = |id: &str, line: Option<&str>| NewDesignation {
        id: eid(id),
        at: t(5),
        risk: AreaRisk { area: AreaCode::parse("330106").unwrap(), level: RiskLevel::High, escalate_to_red: false },
        hub_line: line.map(String::from),
    };
    store.insert_designations(&[level("d1", Some("level-1")), level("old", Some("level-old"))]).await.unwrap();
    store.insert_designations(&[level("d1", Some("level-1-again")), level("d2", None)]).await.unwrap();
    assert_eq!(
        queued().await[3..],
        ["level-1"],
        "a designation's line with it; not for an id taken by evidence, a resend, or one without a line"
    );
}

async fn federation_links_once_queues_in_order_and_parks_by_hub_index(store: &impl Store) {
    let (alice, bob, carol) = (person(store, "alice").await, person(store, "bob").await, person(store, "carol").await);

    // Links: insert or ignore.
    store.link_national_ids(&[]).await.unwrap();
    store.link_national_ids(&[link("n-a", &alice), link("n-b", &bob)]).await.unwrap();
    store.link_national_ids(&[link("n-a", &bob), link("n-a2", &alice)]).await.unwrap();
    store.link_national_ids(&[link("n-c", &carol), link("n-c", &bob)]).await.unwrap();
    let by_id = |ids: &[&str]| {
        let ids = strings(ids);
        async move {
            let mut found = store.persons_by_national_id(&ids).await.unwrap();
            found.sort();
            found
        }
    };
    assert_eq!(
        by_id(&["n-a", "n-unknown", "n-b"]).await,
        [link("n-a", &alice), link("n-b", &bob)],
        "a second link for a stored national id does not replace the first; unknown ids are left out"
    );
    assert_eq!(by_id(&["n-c"]).await, [link("n-c", &carol)], "of one id twice in a batch, the first is kept");
    assert!(by_id(&["n-unknown"]).await.is_empty());
    assert!(store.persons_by_national_id(&[]).await.unwrap().is_empty());
    let dave = person(store, "dave").await;
    let mut of = store.national_ids_of(&[alice.clone(), dave.clone()]).await.unwrap();
    of.sort();
    assert_eq!(of, [link("n-a", &alice), link("n-a2", &alice)], "every pseudonym of a person; one without is left out");
    let mut of = store.national_ids_of(&[bob.clone(), carol.clone()]).await.unwrap();
    of.sort();
    assert_eq!(of, [link("n-b", &bob), link("n-c", &carol)], "bob kept only his own link");
    assert!(store.national_ids_of(&[dave]).await.unwrap().is_empty());
    assert!(store.national_ids_of(&[]).await.unwrap().is_empty());

    // The queue of submissions: in order; removing removes only the given seqs.
    assert!(store.queued_submissions(10).await.unwrap().is_empty(), "an empty queue");
    store.queue_submissions(&strings(&["l1", "l2", "l3"])).await.unwrap();
    store.queue_submissions(&strings(&["l4"])).await.unwrap();
    store.queue_submissions(&[]).await.unwrap();
    let queued = store.queued_submissions(10).await.unwrap();
    let lines = |q: &[crate::QueuedSubmission]| q.iter().map(|s| s.line.clone()).collect::<Vec<_>>();
    assert_eq!(lines(&queued), ["l1", "l2", "l3", "l4"], "oldest first, in the order given");
    assert!(queued.windows(2).all(|w| w[0].seq < w[1].seq), "seqs grow in queue order: {queued:?}");
    assert_eq!(store.queued_submissions(2).await.unwrap(), queued[..2], "up to the limit, oldest first");
    store.remove_submissions(&[queued[0].seq, queued[2].seq]).await.unwrap();
    store.remove_submissions(&[]).await.unwrap();
    let left = store.queued_submissions(10).await.unwrap();
    assert_eq!(left, [queued[1].clone(), queued[3].clone()], "only the acknowledged ones go; the rest keep their seqs");
    store.queue_submissions(&strings(&["l5"])).await.unwrap();
    let after = store.queued_submissions(10).await.unwrap();
    assert_eq!(lines(&after), ["l2", "l4", "l5"], "a later line queues behind the ones left");
    assert!(after[2].seq > queued[3].seq);
    store.remove_submissions(&after.iter().map(|s| s.seq).collect::<Vec<_>>()).await.unwrap();
    assert!(store.queued_submissions(10).await.unwrap().is_empty(), "all acknowledged");

    // Parked records: kept once per (national id, hub index), read back by hub index.
    store
        .park_records(&[parked("n-x", 7, "x7"), parked("n-x", 3, "x3"), parked("n-y", 5, "y5"), parked("n-z", 1, "z1")])
        .await
        .unwrap();
    store
        .park_records(&[parked("n-x", 3, "x3 again"), parked("n-y", 9, "y9"), parked("n-y", 9, "y9 again")])
        .await
        .unwrap();
    store.park_records(&[]).await.unwrap();
    let entries =
        |r: Vec<ParkedRecord>| r.into_iter().map(|r| (r.national_id, r.hub_index, r.entry)).collect::<Vec<_>>();
    let record = |n: &str, i: u64, e: &str| (n.to_string(), i, e.to_string());
    assert_eq!(
        entries(store.parked_records(&strings(&["n-x", "n-y", "n-unknown"])).await.unwrap()),
        [record("n-x", 3, "x3"), record("n-y", 5, "y5"), record("n-x", 7, "x7"), record("n-y", 9, "y9")],
        "by hub index, only the asked ids; parking a record again keeps the first"
    );
    assert!(store.parked_records(&strings(&["n-unknown"])).await.unwrap().is_empty());
    assert!(store.parked_records(&[]).await.unwrap().is_empty());
    store.unpark_records("n-y", &[3, 7]).await.unwrap();
    assert_eq!(
        store.parked_records(&strings(&["n-x"])).await.unwrap().len(),
        2,
        "unparking names one national id: another's records at those indices stay"
    );
    store.unpark_records("n-x", &[3, 99]).await.unwrap();
    store.unpark_records("n-x", &[]).await.unwrap();
    assert_eq!(
        entries(store.parked_records(&strings(&["n-x", "n-y", "n-z"])).await.unwrap()),
        [record("n-z", 1, "z1"), record("n-y", 5, "y5"), record("n-x", 7, "x7"), record("n-y", 9, "y9")],
        "only the given indices of that national id go"
    );
    let kept = store.parked_records(&strings(&["n-y"])).await.unwrap();
    assert_eq!(kept.iter().map(|r| r.parked_at).collect::<Vec<_>>(), [t(5), t(9)], "when each was parked");

    // Retention: records parked before a time go, the rest stay.
    assert_eq!(store.delete_parked_before(t(7)).await.unwrap(), 2, "z1 and y5");
    assert_eq!(
        entries(store.parked_records(&strings(&["n-x", "n-y", "n-z"])).await.unwrap()),
        [record("n-x", 7, "x7"), record("n-y", 9, "y9")]
    );
    assert_eq!(store.delete_parked_before(t(7)).await.unwrap(), 0);
}

/// A revocation of another region's key (`FederationStore`): the records that key signed,
/// parked or in use here, found by region, key and the hub's time, and nothing else.
async fn federation_finds_what_a_key_signed_outside_its_trusted_times(store: &impl Store) {
    let (alice, bob) = (person(store, "alice").await, person(store, "bob").await);
    let signers = |r: Vec<ParkedRecord>| r.into_iter().map(|r| (r.hub_index, r.signer)).collect::<Vec<_>>();
    store
        .park_records(&[
            ParkedRecord { signer: signer("41", Some("k1"), 2), ..parked("n-x", 2, "x2") },
            ParkedRecord { signer: signer("41", Some("k1"), 6), ..parked("n-y", 6, "y6") },
            ParkedRecord { signer: signer("41", Some("k1"), 9), ..parked("n-x", 9, "x9") },
            ParkedRecord { signer: signer("41", Some("k2"), 7), ..parked("n-x", 7, "x7") },
            ParkedRecord { signer: signer("41", None, 8), ..parked("n-z", 8, "z8") },
            ParkedRecord { signer: signer("37", Some("k1"), 8), ..parked("n-z", 10, "z10") },
        ])
        .await
        .unwrap();
    assert_eq!(
        signers(store.parked_records(&strings(&["n-z"])).await.unwrap()),
        [(8, signer("41", None, 8)), (10, signer("37", Some("k1"), 8))],
        "each record's signer as parked, an unsigned one's too"
    );
    assert_eq!(
        signers(store.parked_signed_outside(&outside("41", "k1", 3, Some(6)), 10).await.unwrap()),
        [(2, signer("41", Some("k1"), 2)), (6, signer("41", Some("k1"), 6)), (9, signer("41", Some("k1"), 9))],
        "before the key's start, and from its end (compromise) on, by hub index; that region's and key's only"
    );
    assert_eq!(
        signers(store.parked_signed_outside(&outside("41", "k1", 0, Some(6)), 10).await.unwrap()),
        [(6, signer("41", Some("k1"), 6)), (9, signer("41", Some("k1"), 9))],
        "at the end's very hour: outside"
    );
    assert_eq!(
        signers(store.parked_signed_outside(&outside("41", "k1", 3, Some(6)), 2).await.unwrap()),
        [(2, signer("41", Some("k1"), 2)), (6, signer("41", Some("k1"), 6))],
        "up to the limit, the first by hub index"
    );
    assert!(store.parked_signed_outside(&outside("41", "k1", 0, None), 10).await.unwrap().is_empty(), "no end");
    assert!(store.parked_signed_outside(&outside("33", "k1", 0, Some(0)), 10).await.unwrap().is_empty());

    // Records in use: noted once, found the same way, forgotten by id within their region.
    let henan = |hours: i64| signer("41", Some("k1"), hours);
    store.note_admitted(&[]).await.unwrap();
    store
        .note_admitted(&[
            admitted("a", Some(&alice), 3, henan(3)),
            admitted("b", Some(&bob), 5, henan(5)),
            admitted("level", None, 6, henan(6)),
            admitted("c", Some(&alice), 4, signer("41", Some("k2"), 4)),
            admitted("u", Some(&alice), 1, signer("41", None, 1)),
            admitted("a", Some(&bob), 8, signer("37", Some("k1"), 8)),
        ])
        .await
        .unwrap();
    store.note_admitted(&[admitted("b", Some(&alice), 9, henan(9))]).await.unwrap();
    let compromised = store.admitted_signed_outside(&outside("41", "k1", 0, Some(5)), 10).await.unwrap();
    assert_eq!(
        compromised,
        [admitted("b", Some(&bob), 5, henan(5)), admitted("level", None, 6, henan(6))],
        "from the compromise on, by hub index; a record noted again keeps its first note; a risk level names no one"
    );
    let wholly = store.admitted_signed_outside(&outside("41", "k1", 0, Some(-1_000)), 10).await.unwrap();
    assert_eq!(wholly.len(), 3, "revoked wholly: all it signed, never another key's, region's or an unsigned one");
    assert_eq!(
        store.admitted_signed_outside(&outside("41", "k1", 0, Some(-1_000)), 1).await.unwrap(),
        [admitted("a", Some(&alice), 3, henan(3))],
        "up to the limit, the first by hub index"
    );
    store.forget_admitted("41", &strings(&["b", "level", "unknown"])).await.unwrap();
    store.forget_admitted("41", &[]).await.unwrap();
    assert_eq!(
        store.admitted_signed_outside(&outside("41", "k1", 0, Some(-1_000)), 10).await.unwrap(),
        [admitted("a", Some(&alice), 3, henan(3))]
    );
    assert_eq!(
        store.admitted_signed_outside(&outside("37", "k1", 0, Some(-1_000)), 10).await.unwrap(),
        [admitted("a", Some(&bob), 8, signer("37", Some("k1"), 8))],
        "forgetting names one region: another's record of the same id stays"
    );
}

async fn stays_under_an_area_are_queued_by_prefix_and_end(store: &impl Store) {
    let county = person(store, "county").await;
    let street = person(store, "street").await;
    let neighbour = person(store, "neighbour").await;
    let long_ago = person(store, "long-ago").await;
    let still_there = person(store, "still-there").await;
    store
        .insert_evidence(&[
            stay(&county, "s1", "330106", Some(10)),
            stay(&street, "s2", "330106001", Some(10)),
            stay(&neighbour, "s3", "330206", Some(10)),
            stay(&long_ago, "s4", "330106", Some(2)),
            stay(&still_there, "s5", "330106001002", None),
        ])
        .await
        .unwrap();
    let everyone = [county.clone(), street.clone(), neighbour.clone(), long_ago.clone(), still_there.clone()];
    store.claim_persons(&everyone, t(10), t(11)).await.unwrap();
    store
        .save_codes(
            &[
                code(&county, Colour::Green, None),
                code(&street, Colour::Green, None),
                code(&neighbour, Colour::Green, None),
                code(&long_ago, Colour::Green, None),
                code(&still_there, Colour::Green, None),
            ],
            &LogAppend::default(),
        )
        .await
        .unwrap();
    assert_eq!(store.queue_len().await.unwrap(), 0);
    let mut want = vec![county.clone(), street.clone(), still_there.clone()];
    want.sort();
    assert_eq!(store.persons_with_stays_under("3301", t(5)).await.unwrap(), want, "found by prefix, in id order");
    assert_eq!(store.queue_len().await.unwrap(), 0, "finding persons queues nobody");
    let queued = store.queue_persons_with_stays_under("3301", t(5), t(20)).await.unwrap();
    assert_eq!(queued, 3, "stays under 3301 that ended after the cut-off or have not ended");
    let mut due = store.due_persons(t(20), 10).await.unwrap();
    due.sort();
    assert_eq!(due, want);
    assert!(store.due_persons(t(19), 10).await.unwrap().is_empty(), "queued at the given due time");
    assert_eq!(store.queue_persons_with_stays_under("3399", t(0), t(20)).await.unwrap(), 0, "no stays under 3399");

    // The same persons in pages of two, shared a page at a time.
    assert_eq!(store.page_persons_with_stays_under("3301", t(5), t(20), 2).await.unwrap(), 3);
    assert_eq!(store.paged_persons().await.unwrap(), 3);
    assert_eq!(store.claim_page(t(19), t(30)).await.unwrap(), None, "not before the pages are due");
    let first = store.claim_page(t(20), t(30)).await.unwrap().expect("a page is due");
    assert_eq!(first.persons, want[..2], "in person order, up to the page size");
    let second = store.claim_page(t(20), t(30)).await.unwrap().expect("another server takes the next page");
    assert_eq!(second.persons, want[2..]);
    assert_eq!(store.claim_page(t(29), t(40)).await.unwrap(), None, "both are held");
    store.finish_page(first.id).await.unwrap();
    assert_eq!(store.paged_persons().await.unwrap(), 1);
    // The second page's server dies: its hold ends, and another takes the page.
    let again = store.claim_page(t(30), t(40)).await.unwrap().expect("a page whose hold ended");
    assert_eq!(again, second);
    store.finish_page(again.id).await.unwrap();
    assert_eq!((store.claim_page(t(100), t(110)).await.unwrap(), store.paged_persons().await.unwrap()), (None, 0));
    assert_eq!(store.page_persons_with_stays_under("3399", t(0), t(20), 2).await.unwrap(), 0, "no page for no one");
    assert_eq!(store.claim_page(t(100), t(110)).await.unwrap(), None);
}

async fn persons_with_evidence_are_queued_for_rule_changes(store: &impl Store) {
    let p = person(store, "p1").await;
    person(store, "no-evidence").await;
    store.insert_evidence(&[fever(&p, "a", 1), fever(&p, "b", 2)]).await.unwrap();
    store.save_codes(&[code(&p, Colour::Yellow, None)], &LogAppend::default()).await.unwrap();
    assert_eq!(store.queue_persons_with_evidence(t(0)).await.unwrap(), 1);
    assert_eq!(store.due_persons(t(0), 10).await.unwrap(), std::slice::from_ref(&p));
    store.save_codes(&[code_at(&p, Colour::Yellow, None, 2)], &LogAppend::default()).await.unwrap();
    assert_eq!(store.queue_codes_of_other_versions("test", t(0)).await.unwrap(), 0, "codes of this version stay");
    assert_eq!(
        store.queue_codes_of_other_versions("2.0", t(0)).await.unwrap(),
        1,
        "codes of another version are queued"
    );
    assert_eq!(store.due_persons(t(0), 10).await.unwrap(), [p]);
}

async fn evidence_for_many_answers_every_person(store: &impl Store) {
    let p = person(store, "p1").await;
    let q = person(store, "p2").await;
    let test = NewEvidence {
        person: q.clone(),
        id: eid("t"),
        at: t(4),
        evidence: Evidence::Test { result: TestResult::Negative, sampled_at: t(3) },
        hub_line: None,
    };
    store.insert_evidence(&[fever(&p, "b", 2), test, fever(&p, "a", 1)]).await.unwrap();
    store.refresh_statistics().await.unwrap();
    let many = store.evidence_for_many(&[q.clone(), pid("nobody"), p.clone()]).await.unwrap();
    assert_eq!(many.len(), 3, "every requested person appears once");
    assert_eq!(many[0].0, q);
    assert_eq!(many[0].1.len(), 1);
    assert!(many[1].1.is_empty(), "a person without evidence has an empty list");
    let ids: Vec<&str> = many[2].1.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"], "each list is sorted by (at, seq)");
}

async fn codes_round_trip_and_are_counted(store: &impl Store) {
    let p = person(store, "p1").await;
    let q = person(store, "p2").await;
    let r = person(store, "p3").await;
    let c = code(&p, Colour::Red, Some(9));
    store
        .save_codes(&[c.clone(), code(&q, Colour::Red, None), code(&r, Colour::Green, None)], &LogAppend::default())
        .await
        .unwrap();
    assert_eq!(store.code(&p).await.unwrap(), Some(c.clone()), "a code round-trips");
    assert_eq!(store.code(&pid("nobody")).await.unwrap(), None);
    let mut updated = c.clone();
    updated.colour = Colour::Yellow;
    updated.revision = 2;
    store.save_codes(&[updated.clone()], &LogAppend::default()).await.unwrap();
    assert_eq!(store.code(&p).await.unwrap(), Some(updated.clone()), "saving the next revision replaces the code");
    let summaries = store.code_summaries(&[p.clone(), pid("nobody")]).await.unwrap();
    assert_eq!(summaries, [crate::CodeSummary::from(&updated)], "summaries match the stored codes");
    assert_eq!(store.codes(&[p, q, pid("nobody")]).await.unwrap().len(), 2);
    let reds = store.codes_with_colour(Colour::Red, 10).await.unwrap();
    assert_eq!(reds.len(), 1, "codes_with_colour finds the one red code left");
    assert_eq!(store.codes_with_colour(Colour::Orange, 10).await.unwrap(), vec![]);
    let mut counts = store.colour_counts().await.unwrap();
    counts.sort();
    assert_eq!(counts, [(Colour::Green, 1), (Colour::Yellow, 1), (Colour::Red, 1)]);
    let elsewhere =
        PersonRecord { id: pid("p4"), kind: PersonKind::Domestic, registered_at: t(0), residence_area: None };
    store.register_person(&elsewhere).await.unwrap();
    store.save_codes(&[code(&elsewhere.id, Colour::Red, None)], &LogAppend::default()).await.unwrap();
    let mut by_area = store.colour_counts_by_area().await.unwrap();
    by_area.sort();
    let area = Some(AreaCode::parse("330106").unwrap());
    assert_eq!(
        by_area,
        [
            (None, Colour::Red, 1),
            (area.clone(), Colour::Green, 1),
            (area.clone(), Colour::Yellow, 1),
            (area, Colour::Red, 1)
        ],
        "codes by residence area, a person without one under None"
    );
}

async fn rejections_are_kept_in_order(store: &impl Store) {
    let r = |n: usize| NewRejection {
        received_at: t(1),
        owner: Some(if n == 2 { "telecom" } else { "health" }.to_string()),
        origin: format!("batch row {n}"),
        input: "{\"type\":\"feverish\"}".into(),
        field: n.is_multiple_of(2).then(|| "type".to_string()),
        reason: format!("reason {n}"),
    };
    store.record_rejections(&[r(1), r(2), r(3)]).await.unwrap();
    store.record_rejections(&[]).await.unwrap();
    store.record_rejections(&[NewRejection { owner: None, ..r(4) }]).await.unwrap();
    let all = store.rejections(0, 10, None).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "ids increase");
    assert_eq!(all[1].field.as_deref(), Some("type"));
    assert_eq!(all[2].reason, "reason 3");
    assert_eq!((all[1].owner.as_deref(), all[3].owner.as_deref()), (Some("telecom"), None), "owners read back");
    let page = store.rejections(all[0].id, 1, None).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].origin, "batch row 2", "paging continues after the given id");
    let healths: Vec<String> =
        store.rejections(0, 10, Some("health")).await.unwrap().into_iter().map(|r| r.origin).collect();
    assert_eq!(healths, ["batch row 1", "batch row 3"], "an owner's own rejections only");
    assert_eq!(store.rejections(all[0].id, 10, Some("telecom")).await.unwrap().len(), 1);
    assert!(store.rejections(0, 10, Some("nobody")).await.unwrap().is_empty());
}

async fn colour_changes_are_counted_by_hour_and_a_burst_is_marked_once(store: &impl Store) {
    let count = |hour: i64, origin: &str, area: &str, persons: u64| ColourChangeCount {
        hour,
        origin: origin.into(),
        area: area.into(),
        persons,
    };
    store.add_colour_changes(&[]).await.unwrap();
    store
        .add_colour_changes(&[
            count(10, "trace", "3301", 4),
            count(11, "trace", "3301", 1),
            count(10, "decision", "3301", 9),
        ])
        .await
        .unwrap();
    store.add_colour_changes(&[count(10, "trace", "3301", 3), count(10, "trace", "3302", 5)]).await.unwrap();
    assert_eq!(
        store.colour_changes("trace", "3301", 0, 100).await.unwrap(),
        [count(10, "trace", "3301", 7), count(11, "trace", "3301", 1)],
        "summed by hour, one origin and area, by hour"
    );
    assert_eq!(store.colour_changes("trace", "3301", 11, 12).await.unwrap(), [count(11, "trace", "3301", 1)]);
    assert!(store.colour_changes("feed:stay", "3301", 0, 100).await.unwrap().is_empty());
    assert!(store.mark_colour_burst("trace", "3301", 10).await.unwrap(), "the first mark");
    assert!(!store.mark_colour_burst("trace", "3301", 10).await.unwrap(), "once per hour");
    assert!(store.mark_colour_burst("trace", "3302", 10).await.unwrap(), "each area on its own");
    assert!(!store.mark_colour_burst("trace", "3301", 99).await.unwrap(), "an hour with no count");
}

/// Two evaluations of one person from the same stored code: the second to save loses,
/// whole (its batch, queue entries and log appended with it), and says who to evaluate again.
async fn a_code_is_saved_only_over_the_revision_it_was_evaluated_from(store: &impl Store) {
    let p = person(store, "p1").await;
    let q = person(store, "p2").await;
    store.save_codes(&[code(&p, Colour::Yellow, Some(5))], &LogAppend::default()).await.unwrap();
    let refused = store.save_codes(&[code(&p, Colour::Red, None)], &LogAppend::default()).await;
    assert!(
        matches!(&refused, Err(StoreError::CodeConflict { persons }) if persons == std::slice::from_ref(&p)),
        "a second first code: {refused:?}"
    );
    store.save_codes(&[code_at(&p, Colour::Red, Some(6), 2)], &LogAppend::default()).await.unwrap();
    // A stale evaluation (from revision 1) in a batch with a fresh one: nothing is saved.
    let log = LogAppend {
        leaves: vec![LogLeaf { index: 0, data: vec![1], person: Some(p.clone()) }],
        nodes: vec![LogNode { level: 0, index: 0, hash: [1; 32] }],
        checkpoint: None,
        documents: vec![],
    };
    let refused = store.save_codes(&[code(&q, Colour::Red, None), code_at(&p, Colour::Green, None, 2)], &log).await;
    assert!(
        matches!(&refused, Err(StoreError::CodeConflict { persons }) if persons == std::slice::from_ref(&p)),
        "{refused:?}"
    );
    assert_eq!(store.code(&p).await.unwrap().map(|c| (c.colour, c.revision)), Some((Colour::Red, 2)));
    assert_eq!(store.code(&q).await.unwrap(), None, "the batch's other codes are not saved either");
    assert_eq!(store.log_size().await.unwrap(), 0, "nor its log entries");
    assert_eq!(store.due_persons(t(100), 10).await.unwrap(), std::slice::from_ref(&p), "nor its queue entries");
    let summary = store.code_summaries(std::slice::from_ref(&p)).await.unwrap();
    assert_eq!(summary[0].revision, 2, "summaries carry the revision to evaluate from");
    assert!(store.save_codes(&[code_at(&q, Colour::Red, None, 0)], &LogAppend::default()).await.is_err());
}

async fn every_kind_of_evidence_round_trips(store: &impl Store) {
    let p = person(store, "p1").await;
    let all = [
        Evidence::Fever { onset_at: t(1) },
        Evidence::FeverResolved,
        Evidence::Test { result: TestResult::Positive, sampled_at: t(2) },
        Evidence::Diagnosis { status: DiagnosisStatus::Asymptomatic },
        Evidence::CloseContact { exposure_at: t(3) },
        Evidence::ContactCleared,
        Evidence::Entry { country: "GB".into(), entered_at: t(4) },
        Evidence::Stay { area: AreaCode::parse("330106001002").unwrap(), from: t(5), to: None },
        Evidence::Stay { area: AreaCode::parse("330100").unwrap(), from: t(5), to: Some(t(6)) },
        Evidence::QuarantineOrder { mode: QuarantineMode::Home, days: 7 },
        Evidence::QuarantineRelease { mode: QuarantineMode::Centralized },
        Evidence::ManagementDecision {
            color: DecisionColour::Yellow,
            until: t(90),
            basis: "《传染病防治法》第三十九条".into(),
            approvers: vec!["officer-a".into(), "officer-b".into()],
        },
        Evidence::Retraction { retracts: eid("k2"), reason: "样本标签错误 (sample mislabelled)".into() },
    ];
    let batch: Vec<NewEvidence> = all
        .iter()
        .enumerate()
        .map(|(i, e)| NewEvidence {
            person: p.clone(),
            id: eid(&format!("k{i}")),
            at: t(10 + i as i64),
            evidence: e.clone(),
            hub_line: None,
        })
        .collect();
    store.insert_evidence(&batch).await.unwrap();
    let back: Vec<Evidence> = store.evidence_for(&p).await.unwrap().into_iter().map(|e| e.body).collect();
    assert_eq!(back, all, "every kind of evidence comes back as it went in");
    let again = store.insert_evidence(&batch).await.unwrap();
    assert!(again.iter().all(|o| *o == Inserted::Duplicate { same_content: true }), "resends compare equal: {again:?}");
}

async fn checkpoint_records_round_trip(store: &impl Store) {
    let p = person(store, "p1").await;
    let profile = PersonProfile { person: p.clone(), code_id: "c-abc".into(), masked_name: Some("张*丰".into()) };
    store.save_profile(&profile).await.unwrap();
    assert_eq!(store.profile(&p).await.unwrap(), Some(profile.clone()), "a profile reads back");
    store.save_profile(&PersonProfile { masked_name: None, ..profile.clone() }).await.unwrap();
    assert_eq!(store.profile(&p).await.unwrap(), Some(profile), "saving without a name keeps the stored one");
    assert_eq!(store.person_by_code_id("c-abc").await.unwrap(), Some(p.clone()), "a code id finds its person");
    assert_eq!(store.person_by_code_id("c-none").await.unwrap(), None);
    let card = store.code_card(&p).await.unwrap().expect("a registered person has a card");
    assert_eq!(
        (card.record.id.clone(), card.code, card.profile.map(|p| p.code_id)),
        (p.clone(), None, Some("c-abc".into()))
    );
    assert_eq!(store.code_card(&pid("nobody")).await.unwrap(), None);
    let key = ResidentKey { key_hash: "key-p1".into(), person: p.clone(), label: "app".into(), created_at: t(1) };
    store.save_resident_key(&key).await.unwrap();
    let (with_key, holder) = store.code_card_with_key(&p, "key-p1").await.unwrap();
    assert_eq!(with_key, store.code_card(&p).await.unwrap(), "the card read with a key is the card");
    assert_eq!(holder, Some(key.clone()), "and the key comes with it, its holder and label");
    let (with_key, holder) = store.code_card_with_key(&p, "no-such-key").await.unwrap();
    assert!(with_key.is_some() && holder.is_none(), "an unknown key has no holder; the card is still read");
    let (none, holder) = store.code_card_with_key(&pid("nobody"), "key-p1").await.unwrap();
    assert_eq!((none, holder), (None, Some(key.clone())), "the key is resolved even for a person who is not there");
    store.save_codes(&[code(&p, Colour::Yellow, Some(40))], &LogAppend::default()).await.unwrap();
    let (card, _) = store.code_card_with_key(&p, "key-p1").await.unwrap();
    let stored = store.code(&p).await.unwrap();
    assert!(stored.is_some() && card.unwrap().code == stored, "the card carries the stored code, whole");

    let venue = VenueRecord {
        id: "v1".into(),
        name: "联华超市".into(),
        category: VenueCategory::Supermarket,
        area: Some(AreaCode::parse("330106").unwrap()),
        registered_at: t(1),
        operator_key_hash: "op-hash".into(),
    };
    store.register_venue(&venue).await.unwrap();
    assert!(store.register_venue(&venue).await.is_err(), "a venue id is registered once");
    assert_eq!(store.venue("v1").await.unwrap(), Some(venue.clone()));
    assert_eq!(store.venue_by_operator_key("op-hash").await.unwrap(), Some(venue.clone()));
    assert_eq!(store.venue_by_operator_key("other").await.unwrap(), None);
    assert_eq!(store.venues(10).await.unwrap(), vec![venue]);

    let device = DeviceRecord {
        id: "d1".into(),
        venue: "v1".into(),
        label: "东门".into(),
        key_hash: "dev-hash".into(),
        registered_at: t(2),
        approved_by: None,
        approved_at: None,
    };
    store.register_device(&device).await.unwrap();
    assert_eq!(store.device_by_key("dev-hash").await.unwrap(), Some(device.clone()));
    assert_eq!(store.device_by_key("nope").await.unwrap(), None);
    assert_eq!(store.device("d1").await.unwrap(), Some(device.clone()));
    assert_eq!(store.device("nope").await.unwrap(), None);
    assert!(store.approve_device("d1", "officer", t(3)).await.unwrap(), "approved once");
    assert!(!store.approve_device("d1", "another", t(4)).await.unwrap(), "an approval stands");
    assert!(!store.approve_device("nope", "officer", t(4)).await.unwrap(), "no such device");
    let approved = DeviceRecord { approved_by: Some("officer".into()), approved_at: Some(t(3)), ..device };
    assert_eq!(store.device_by_key("dev-hash").await.unwrap(), Some(approved.clone()));
    let second = DeviceRecord { id: "d2".into(), key_hash: "dev-2".into(), registered_at: t(5), ..approved.clone() };
    store.register_device(&DeviceRecord { approved_by: None, approved_at: None, ..second.clone() }).await.unwrap();
    let listed: Vec<String> = store.devices(10).await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(listed, ["d2", "d1"], "devices, newest first");
    assert_eq!(store.devices(1).await.unwrap().len(), 1);

    let checkin = |at: i64, outcome| NewCheckin {
        person: p.clone(),
        venue: "v1".into(),
        at: t(at),
        method: CheckinMethod::GateCode,
        device: Some("d1".into()),
        colour: Colour::Yellow,
        outcome,
    };
    let batch = [checkin(5, AccessOutcome::Deny), checkin(3, AccessOutcome::Allow), checkin(9, AccessOutcome::Deny)];
    store.record_checkins(&batch).await.unwrap();
    let listed = store.checkins_at_venue("v1", t(3), t(9), 100).await.unwrap();
    let times: Vec<Timestamp> = listed.iter().map(|c| c.checkin.at).collect();
    assert_eq!(times, [t(3), t(5)], "check-ins in [from, to), oldest first");
    assert_eq!(listed[1].checkin, batch[0], "a check-in reads back whole");
    let mine = store.checkins_of_person(&p, t(4), t(10), 100).await.unwrap();
    assert_eq!(mine.iter().map(|c| c.checkin.at).collect::<Vec<_>>(), [t(5), t(9)], "a person's check-ins by time");
    let counts = store.checkin_counts("v1", t(0), t(10)).await.unwrap();
    assert_eq!(counts, vec![(AccessOutcome::Allow, 1), (AccessOutcome::Deny, 2)], "counts by outcome");

    // Visits to another region's venues: no venue of this store, matched by region and venue.
    let visit = |region: &str, venue: &str, at: i64| VisitElsewhere {
        person: p.clone(),
        region: region.into(),
        venue: venue.into(),
        at: t(at),
        colour: Colour::Green,
        outcome: AccessOutcome::Allow,
    };
    let visits = [visit("41", "v9", 6), visit("41", "v9", 2), visit("41", "v1", 6), visit("44", "v9", 6)];
    store.record_visits_elsewhere(&visits).await.unwrap();
    let there = store.visits_elsewhere_at("41", "v9", t(0), t(10), 100).await.unwrap();
    assert_eq!(there, [visits[1].clone(), visits[0].clone()], "one region's venue, oldest first, read back whole");
    assert_eq!(store.visits_elsewhere_at("41", "v9", t(3), t(6), 100).await.unwrap(), [], "within [from, to)");
    assert_eq!(store.visits_elsewhere_at("41", "v9", t(0), t(10), 1).await.unwrap().len(), 1, "at most limit");
    assert!(store.checkins_at_venue("v9", t(0), t(10), 100).await.unwrap().is_empty(), "not a local check-in");

    assert_eq!(
        store.delete_checkins_before(t(5)).await.unwrap(),
        2,
        "retention deletes what is older, here and elsewhere"
    );
    let kept = store.checkins_of_person(&p, t(0), t(10), 100).await.unwrap();
    assert_eq!(kept.iter().map(|c| c.checkin.at).collect::<Vec<_>>(), [t(5), t(9)]);
    assert_eq!(store.visits_elsewhere_at("41", "v9", t(0), t(10), 100).await.unwrap(), [visits[0].clone()]);
}

async fn a_staged_save_keeps_its_codes_only_with_its_log(store: &impl Store) {
    let p = person(store, "p1").await;
    let q = person(store, "p2").await;
    let leaf = |index: u64, who: &PersonId| LogLeaf { index, data: vec![index as u8; 3], person: Some(who.clone()) };
    let append = |index: u64, who: &PersonId| LogAppend {
        leaves: vec![leaf(index, who)],
        nodes: vec![],
        checkpoint: None,
        documents: vec![],
    };

    assert!(store.saves_at_once() >= 1, "a bulk re-evaluation saves at least one chunk at a time");
    let red = [code(&p, Colour::Red, Some(9))];
    let dropped = store.stage_codes(&red).await.unwrap();
    drop(dropped);
    assert_eq!(store.code(&p).await.unwrap(), None, "a staged save dropped uncommitted keeps nothing");
    assert_eq!(store.queue_len().await.unwrap(), 0, "nor its queue entry");

    store.stage_codes(&red).await.unwrap().commit(&append(0, &p)).await.unwrap();
    assert_eq!(store.code(&p).await.unwrap().map(|c| c.colour), Some(Colour::Red));
    assert_eq!(store.log_size().await.unwrap(), 1, "the codes and their log entries are kept together");
    assert_eq!(store.log_indices_of(&p).await.unwrap(), [0]);

    // Two saves of different persons staged at once; the later one appends first.
    let (p_yellow, q_yellow) = ([code_at(&p, Colour::Yellow, None, 2)], [code(&q, Colour::Yellow, None)]);
    let first = store.stage_codes(&p_yellow).await.unwrap();
    let second = store.stage_codes(&q_yellow).await.unwrap();
    second.commit(&append(1, &q)).await.unwrap();
    first.commit(&append(2, &p)).await.unwrap();
    assert_eq!(store.code(&p).await.unwrap().map(|c| (c.colour, c.revision)), Some((Colour::Yellow, 2)));
    assert_eq!(store.code(&q).await.unwrap().map(|c| c.colour), Some(Colour::Yellow));
    assert_eq!(store.log_size().await.unwrap(), 3);

    // A stale revision is refused (staged or at the commit, as the backend stages), and a
    // commit whose log entries meet a grown log keeps nothing of either.
    let (stale_green, next_green) = ([code_at(&p, Colour::Green, None, 2)], [code_at(&p, Colour::Green, None, 3)]);
    let stale = match store.stage_codes(&stale_green).await {
        Ok(staged) => staged.commit(&append(3, &p)).await,
        Err(e) => Err(e),
    };
    assert!(matches!(stale, Err(StoreError::CodeConflict { .. })), "{stale:?}");
    let behind = store.stage_codes(&next_green).await.unwrap().commit(&append(1, &p)).await;
    assert!(matches!(behind, Err(StoreError::LogConflict { expected: 1, found: 3 })), "{behind:?}");
    assert_eq!(store.code(&p).await.unwrap().map(|c| c.revision), Some(2), "nothing of a refused commit is kept");
    assert_eq!(store.log_size().await.unwrap(), 3);
}

async fn the_log_appends_atomically_with_codes_and_refuses_a_stale_writer(store: &impl Store) {
    let p = person(store, "p1").await;
    let leaf = |index: u64, who: Option<&PersonId>| LogLeaf { index, data: vec![index as u8; 3], person: who.cloned() };
    // A leaf's node is its RFC 6962 hash (a backend may derive it from the leaf); higher
    // nodes are whatever the writer computed.
    let node = |level: u8, index: u64| {
        let hash = if level == 0 {
            use sha2::Digest;
            sha2::Sha256::new().chain_update([0u8]).chain_update(vec![index as u8; 3]).finalize().into()
        } else {
            [index as u8 + level; 32]
        };
        LogNode { level, index, hash }
    };
    assert_eq!(store.log_size().await.unwrap(), 0);
    let checkpoint = |size| StoredCheckpoint { size, note: format!("note {size}"), signed_at: t(size as i64) };
    // The first append stores its checkpoint in the same transaction.
    let first = LogAppend {
        leaves: vec![leaf(0, Some(&p)), leaf(1, None)],
        nodes: vec![node(0, 0), node(0, 1)],
        checkpoint: Some(checkpoint(2)),
        documents: vec![],
    };
    store.save_codes(&[code(&p, Colour::Red, None)], &first).await.unwrap();
    assert_eq!(store.log_size().await.unwrap(), 2);
    assert_eq!(store.latest_checkpoint().await.unwrap(), Some(checkpoint(2)));

    // A writer that still thinks the log has 1 leaf is refused, and its codes are not saved.
    let document = |id: &str, body: &str| DocumentWrite {
        kind: "marks".into(),
        id: id.into(),
        at: t(1),
        body: body.into(),
        claim: false,
    };
    let stale = LogAppend {
        leaves: vec![leaf(1, Some(&p))],
        nodes: vec![],
        checkpoint: None,
        documents: vec![document("stale", "{}")],
    };
    let refused = store.save_codes(&[code_at(&p, Colour::Green, None, 2)], &stale).await;
    assert!(matches!(refused, Err(StoreError::LogConflict { expected: 1, found: 2 })), "{refused:?}");
    assert_eq!(store.code(&p).await.unwrap().unwrap().colour, Colour::Red, "nothing of a refused append is kept");
    assert_eq!(store.document("marks", "stale").await.unwrap(), None, "nor its documents");

    // Documents written with an append stand with it.
    let with_documents = LogAppend {
        leaves: vec![leaf(2, None)],
        nodes: vec![node(0, 2)],
        checkpoint: None,
        documents: vec![document("approved", r#"{"status":"approved"}"#)],
    };
    store.append_log(&with_documents).await.unwrap();
    assert_eq!(store.document("marks", "approved").await.unwrap().as_deref(), Some(r#"{"status":"approved"}"#));
    assert_eq!(store.log_size().await.unwrap(), 3);

    // A claim is made once: a second append claiming the same document keeps nothing.
    let claim = |index: u64| LogAppend {
        leaves: vec![leaf(index, None)],
        nodes: vec![node(0, index)],
        checkpoint: None,
        documents: vec![DocumentWrite { claim: true, ..document("claimed", &format!("{{\"by\":{index}}}")) }],
    };
    store.append_log(&claim(3)).await.unwrap();
    let again = store.append_log(&claim(4)).await;
    assert!(
        matches!(&again, Err(StoreError::DocumentExists { kind, id }) if kind == "marks" && id == "claimed"),
        "{again:?}"
    );
    assert_eq!(store.log_size().await.unwrap(), 4, "the losing claim's leaf is not kept");
    assert_eq!(store.document("marks", "claimed").await.unwrap().as_deref(), Some(r#"{"by":3}"#));
    assert_eq!(store.log_leaves(1, 10).await.unwrap(), vec![(1, vec![1; 3]), (2, vec![2; 3]), (3, vec![3; 3])]);
    assert_eq!(
        store.log_nodes(&[(0, 2), (0, 0), (4, 0), (0, 4)]).await.unwrap(),
        vec![node(0, 2), node(0, 0)],
        "missing nodes are left out (the losing claim's leaf among them)"
    );
    assert_eq!(store.log_indices_of(&p).await.unwrap(), vec![0], "a person's own entries");

    store.save_checkpoint(&checkpoint(2)).await.unwrap();
    store.save_checkpoint(&checkpoint(3)).await.unwrap();
    store.save_checkpoint(&checkpoint(3)).await.unwrap();
    assert_eq!(store.latest_checkpoint().await.unwrap(), Some(checkpoint(3)));
    assert_eq!(store.checkpoints(0, 10).await.unwrap(), vec![checkpoint(2), checkpoint(3)]);
    assert_eq!(store.checkpoints(2, 10).await.unwrap(), vec![checkpoint(3)]);
}

async fn accounts_credentials_decisions_and_alarms_round_trip(store: &impl Store) {
    let account = Account {
        id: "a1".into(),
        username: "wang.wei".into(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        role: healthcode_domain::Role::ProvincialOffice,
        jurisdiction: Some("33".into()),
        department: None,
        created_at: t(0),
        disabled: false,
        acting_with_key_issued_at: None,
    };
    assert!(store.create_account(&account).await.unwrap());
    assert!(
        !store.create_account(&Account { id: "a2".into(), ..account.clone() }).await.unwrap(),
        "a username is taken once"
    );
    assert_eq!(store.account_by_username("wang.wei").await.unwrap(), Some(account.clone()));
    assert_eq!(store.account_by_username("nobody").await.unwrap(), None);
    let telecom = Account {
        id: "a3".into(),
        username: "telecom-feed".into(),
        password_hash: None,
        role: healthcode_domain::Role::DataSource,
        jurisdiction: None,
        department: Some(healthcode_domain::Department::Telecom),
        created_at: t(1),
        disabled: true,
        acting_with_key_issued_at: None,
    };
    assert!(store.create_account(&telecom).await.unwrap());

    let credential = Credential {
        key_hash: "h1".into(),
        account: "a3".into(),
        kind: CredentialKind::ApiKey,
        label: "feed".into(),
        created_at: t(2),
        expires_at: Some(t(99)),
    };
    store.save_credential(&credential).await.unwrap();
    assert_eq!(store.credential("h1").await.unwrap(), Some((credential, telecom)), "a credential finds its account");
    store.delete_credential("h1").await.unwrap();
    assert_eq!(store.credential("h1").await.unwrap(), None);

    let p = person(store, "p1").await;
    let mut decision = Decision {
        id: "dec-1".into(),
        proposed_by: "a1".into(),
        proposed_at: t(3),
        colour: DecisionColour::Red,
        until: t(300),
        basis: "《传染病防治法》第三十九条".into(),
        persons: vec![p],
        approvals: vec![],
        status: DecisionStatus::Proposed,
        jurisdiction: Some("3301".into()),
    };
    store.save_decision(&decision).await.unwrap();
    // A first approval is saved over the decision as read: of two given at once, the one
    // saved second finds it changed, and writes nothing.
    let seen = store.decision("dec-1").await.unwrap().unwrap();
    let first = Decision { approvals: vec![Approval { by: "a8".into(), at: t(4) }], ..seen.clone() };
    let other = Decision { approvals: vec![Approval { by: "a7".into(), at: t(4) }], ..seen.clone() };
    assert!(store.replace_decision(&first, &seen).await.unwrap(), "saved over the decision as it was read");
    assert!(!store.replace_decision(&other, &seen).await.unwrap(), "not over a decision that changed since");
    assert_eq!(store.decision("dec-1").await.unwrap(), Some(first.clone()));
    let gone = Decision { id: "dec-gone".into(), ..first.clone() };
    assert!(!store.replace_decision(&gone, &gone).await.unwrap(), "nor creates one");
    assert_eq!(store.decision("dec-gone").await.unwrap(), None);
    decision.approvals.push(Approval { by: "a9".into(), at: t(4) });
    decision.status = DecisionStatus::Applied;
    store.save_decision(&decision).await.unwrap();
    assert_eq!(store.decision("dec-1").await.unwrap(), Some(decision.clone()), "saving again replaces");
    assert_eq!(store.decisions(10).await.unwrap(), vec![decision]);
    assert_eq!(store.decision("nope").await.unwrap(), None);

    let alarm = |kind: &str| NewAlarm {
        at: t(5),
        kind: kind.into(),
        jurisdiction: "3301".into(),
        detail: "x".into(),
        log_index: Some(7),
    };
    let first = store.record_alarm(&alarm("mass_decision")).await.unwrap();
    let second = store.record_alarm(&alarm("approver_share")).await.unwrap();
    assert!(second > first);
    let listed = store.alarms(0, 10).await.unwrap();
    assert_eq!(listed.iter().map(|a| a.alarm.kind.as_str()).collect::<Vec<_>>(), ["mass_decision", "approver_share"]);
    assert_eq!(store.alarms(first, 10).await.unwrap().len(), 1);
}

async fn documents_are_kept_whole_by_kind(store: &impl Store) {
    store.put_document("rule_proposal", "r1", t(1), r#"{"v":1}"#).await.unwrap();
    store.put_document("rule_proposal", "r2", t(2), r#"{"v":2}"#).await.unwrap();
    store.put_document("other", "r1", t(3), "{}").await.unwrap();
    store.put_document("rule_proposal", "r1", t(1), r#"{"v":3}"#).await.unwrap();
    assert_eq!(store.document("rule_proposal", "r1").await.unwrap().as_deref(), Some(r#"{"v":3}"#), "replaced");
    assert_eq!(
        store.documents("rule_proposal", 10).await.unwrap(),
        vec![r#"{"v":2}"#.to_string(), r#"{"v":3}"#.to_string()]
    );
    assert_eq!(store.document("rule_proposal", "nope").await.unwrap(), None);

    // Replaced only over the body as read (a compare-and-set), never created.
    assert!(store.replace_document("rule_proposal", "r1", t(1), r#"{"v":4}"#, r#"{"v":3}"#).await.unwrap());
    assert!(!store.replace_document("rule_proposal", "r1", t(1), r#"{"v":5}"#, r#"{"v":3}"#).await.unwrap());
    assert_eq!(store.document("rule_proposal", "r1").await.unwrap().as_deref(), Some(r#"{"v":4}"#));
    assert!(!store.replace_document("other", "r1", t(1), r#"{"v":6}"#, r#"{"v":4}"#).await.unwrap(), "by kind");
    assert!(!store.replace_document("rule_proposal", "nope", t(1), "{}", "{}").await.unwrap());
    assert_eq!(store.document("rule_proposal", "nope").await.unwrap(), None);
}

async fn resident_keys_proxies_accesses_and_complaints_round_trip(store: &impl Store) {
    let (mother, son, daughter) = (pid("mother"), pid("son"), pid("daughter"));
    let key =
        ResidentKey { key_hash: "h1".into(), person: son.clone(), label: "registration".into(), created_at: t(1) };
    store.save_resident_key(&key).await.unwrap();
    let second = ResidentKey { key_hash: "h2".into(), label: "counter:office".into(), ..key.clone() };
    store.save_resident_key(&second).await.unwrap();
    assert_eq!(store.resident_key("h1").await.unwrap(), Some(key.clone()), "a resident key reads back");
    assert_eq!(store.resident_key("nope").await.unwrap(), None);
    assert!(store.has_resident_key(&son).await.unwrap() && !store.has_resident_key(&mother).await.unwrap());
    let claim = |hash: &str| ResidentKey {
        key_hash: hash.into(),
        person: mother.clone(),
        label: "registration".into(),
        created_at: t(1),
    };
    assert!(store.claim_resident_key(&claim("m1")).await.unwrap(), "the first claim of a person holds");
    assert!(!store.claim_resident_key(&claim("m2")).await.unwrap(), "a second finds the person claimed");
    assert_eq!(store.resident_key("m2").await.unwrap(), None);
    assert_eq!(store.delete_resident_keys(&mother).await.unwrap(), 1);
    assert_eq!(store.delete_resident_keys(&son).await.unwrap(), 2, "every key of the person is deleted");
    assert_eq!(store.resident_key("h2").await.unwrap(), None);

    let link = |proxy: &PersonId, dependant: &PersonId, at| ProxyLink {
        proxy: proxy.clone(),
        dependant: dependant.clone(),
        relation: "child".into(),
        created_at: t(at),
        agreed_with_counter_key_of: None,
    };
    // The daughter's link was agreed to with a key an official gave the mother at a counter.
    let at_counter =
        ProxyLink { agreed_with_counter_key_of: Some("office-3301".into()), ..link(&daughter, &mother, 3) };
    assert!(store.save_proxy(&link(&son, &mother, 2)).await.unwrap(), "a new link is created");
    assert!(!store.save_proxy(&link(&son, &mother, 5)).await.unwrap(), "an existing link is left as it was");
    assert!(store.save_proxy(&at_counter).await.unwrap());
    assert_eq!(
        store.proxy_links(&mother).await.unwrap(),
        vec![link(&son, &mother, 2), at_counter.clone()],
        "a dependant sees every proxy, oldest first"
    );
    assert_eq!(store.proxy_links(&son).await.unwrap(), vec![link(&son, &mother, 2)], "a proxy sees its dependants");
    assert!(store.end_proxy(&son, &mother).await.unwrap());
    assert!(!store.end_proxy(&son, &mother).await.unwrap(), "ending twice finds nothing");
    assert_eq!(store.proxy_links(&son).await.unwrap(), vec![]);

    let access = |person: &PersonId, at, actor: &str| NewAccess {
        person: person.clone(),
        at: t(at),
        actor: actor.into(),
        role: "local_office".into(),
        purpose: "complaint c-1".into(),
        what: "code".into(),
    };
    store.record_accesses(&[]).await.unwrap();
    store.record_accesses(&[access(&mother, 1, "a"), access(&son, 2, "b"), access(&mother, 3, "c")]).await.unwrap();
    let read = store.accesses(&mother, 10).await.unwrap();
    assert_eq!(
        read.iter().map(|a| a.access.clone()).collect::<Vec<_>>(),
        vec![access(&mother, 3, "c"), access(&mother, 1, "a")],
        "a person's accesses, newest first, nobody else's"
    );
    assert_eq!(store.accesses(&mother, 1).await.unwrap().len(), 1, "the limit holds");

    let complaint = |id: &str, person: &PersonId, at, area: Option<&str>| Complaint {
        id: id.into(),
        person: person.clone(),
        filed_by: "self".into(),
        filed_at: t(at),
        area: area.map(str::to_string),
        subject: "colour".into(),
        text: "我没有去过那里".into(),
        colour_at_filing: "yellow".into(),
        reasons_at_filing: vec!["Y1".into()],
        status: ComplaintStatus::Open,
        answer: None,
        event: None,
        grade: ComplaintGrade::Normal,
        blocks: None,
        due_at: Some(t(at + 10)),
        escalated_at: None,
        correction: None,
        steps: Vec::new(),
        attachments: Vec::new(),
    };
    store.save_complaint(&complaint("c1", &mother, 1, Some("330106"))).await.unwrap();
    store.save_complaint(&complaint("c2", &son, 2, Some("310101"))).await.unwrap();
    store.save_complaint(&complaint("c3", &mother, 3, None)).await.unwrap();
    let mut answered = complaint("c1", &mother, 1, Some("330106"));
    answered.status = ComplaintStatus::Dismissed;
    answered.answer = Some(ComplaintAnswer { by: "handler".into(), at: t(4), text: "the test record stands".into() });
    store.save_complaint(&answered).await.unwrap();
    assert_eq!(store.complaint("c1").await.unwrap(), Some(answered), "an answer replaces the record");
    let ids = |list: Vec<Complaint>| list.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let all = ComplaintQuery::default();
    assert_eq!(ids(store.complaints(&all, 10).await.unwrap()), ["c3", "c2", "c1"], "newest first");
    let mothers = ComplaintQuery { person: Some(mother.clone()), ..all.clone() };
    assert_eq!(ids(store.complaints(&mothers, 10).await.unwrap()), ["c3", "c1"]);
    let open = ComplaintQuery { open_only: true, ..all.clone() };
    assert_eq!(ids(store.complaints(&open, 10).await.unwrap()), ["c3", "c2"]);
    let hangzhou = ComplaintQuery { area_prefix: Some("3301".into()), ..all.clone() };
    assert_eq!(ids(store.complaints(&hangzhou, 10).await.unwrap()), ["c1"], "an area prefix; no area, no match");
    assert_eq!(store.complaints(&all, 2).await.unwrap().len(), 2);

    // The queues beside the area: a department's correction requests, the deadlines
    // passed, the escalated.
    let mut asked = complaint("c2", &son, 2, Some("310101"));
    asked.event = Some(eid("t-1"));
    asked.correction = Some(CorrectionRequest {
        department: Department::Health,
        event: eid("t-1"),
        requested_by: "handler".into(),
        requested_at: t(5),
        text: "please check the sample's label".into(),
        answer: None,
    });
    asked.steps.push(ComplaintStep {
        at: t(5),
        what: "correction_requested".into(),
        by: "handler".into(),
        detail: String::new(),
    });
    store.save_complaint(&asked).await.unwrap();
    assert_eq!(store.complaint("c2").await.unwrap(), Some(asked.clone()), "requests and steps round-trip");
    let health = ComplaintQuery { awaiting: Some(Department::Health), ..all.clone() };
    assert_eq!(ids(store.complaints(&health, 10).await.unwrap()), ["c2"]);
    let police = ComplaintQuery { awaiting: Some(Department::Police), ..all.clone() };
    assert!(store.complaints(&police, 10).await.unwrap().is_empty());
    let waiting = ComplaintQuery { awaiting_any: true, ..all.clone() };
    assert_eq!(ids(store.complaints(&waiting, 10).await.unwrap()), ["c2"]);
    asked.correction.as_mut().unwrap().answer = Some(CorrectionAnswer {
        outcome: "declined".into(),
        by: "health".into(),
        at: t(6),
        text: "the label was right".into(),
    });
    store.save_complaint(&asked).await.unwrap();
    assert!(store.complaints(&waiting, 10).await.unwrap().is_empty(), "an answered request waits for nobody");

    // c3 is due at 13, c2 at 12; c1 is answered.
    let due = |at| ComplaintQuery { due_by: Some(t(at)), ..ComplaintQuery::default() };
    assert!(store.complaints(&due(11), 10).await.unwrap().is_empty());
    assert_eq!(ids(store.complaints(&due(13), 10).await.unwrap()), ["c3", "c2"]);
    let mut escalated = complaint("c3", &mother, 3, None);
    escalated.escalated_at = Some(t(13));
    store.save_complaint(&escalated).await.unwrap();
    assert_eq!(ids(store.complaints(&due(13), 10).await.unwrap()), ["c2"], "escalated once");
    let escalated_only = ComplaintQuery { escalated_only: true, ..ComplaintQuery::default() };
    assert_eq!(ids(store.complaints(&escalated_only, 10).await.unwrap()), ["c3"]);
    // c2 waits for nobody since health declined; c3 is escalated; c1 is answered.
    let counts = store.complaint_counts().await.unwrap();
    assert_eq!(counts, ComplaintCounts { open: 2, awaiting_department: 0, escalated: 1 });
    let mut waiting = complaint("c4", &son, 4, None);
    waiting.event = Some(eid("t-2"));
    waiting.correction = Some(CorrectionRequest { answer: None, ..asked.correction.clone().unwrap() });
    store.save_complaint(&waiting).await.unwrap();
    assert_eq!(store.complaint_counts().await.unwrap().awaiting_department, 1);
}

async fn erasing_one_person_leaves_everyone_else(store: &impl Store) {
    let alice = person(store, "alice").await;
    let bob = person(store, "bob").await;
    for p in [&alice, &bob] {
        let sealed =
            SealedPersonalData { person: p.clone(), wrapped_key: vec![1; 72], sealed: vec![2; 60], updated_at: t(1) };
        store.save_personal_data(&sealed).await.unwrap();
        store
            .insert_evidence(&[fever(p, &format!("f-{p}"), 1), stay(p, &format!("s-{p}"), "330106", Some(2))])
            .await
            .unwrap();
        let key = ResidentKey {
            key_hash: format!("k-{p}"),
            person: p.clone(),
            label: "registration".into(),
            created_at: t(1),
        };
        store.save_resident_key(&key).await.unwrap();
        let visit = VisitElsewhere {
            person: p.clone(),
            region: "41".into(),
            venue: "v9".into(),
            at: t(1),
            colour: Colour::Green,
            outcome: AccessOutcome::Allow,
        };
        store.record_visits_elsewhere(&[visit]).await.unwrap();
    }
    store
        .save_proxy(&ProxyLink {
            proxy: alice.clone(),
            dependant: bob.clone(),
            relation: "child".into(),
            created_at: t(1),
            agreed_with_counter_key_of: None,
        })
        .await
        .unwrap();
    let naming = |who: &PersonId| NewRejection {
        received_at: t(1),
        owner: Some("health".into()),
        origin: "api".into(),
        input: format!("{{\"person_id\":\"{who}\",\"type\":\"feverish\"}}"),
        field: Some("type".into()),
        reason: "unknown type".into(),
    };
    store.record_rejections(&[naming(&alice), naming(&bob)]).await.unwrap();
    store.put_document("card", "card-a", t(1), &format!("{{\"person\":\"{alice}\"}}")).await.unwrap();
    store.put_document("card", "card-b", t(1), &format!("{{\"person\":\"{bob}\"}}")).await.unwrap();
    store.link_national_ids(&[link("n-alice", &alice), link("n-bob", &bob)]).await.unwrap();
    // A record the hub published under her pseudonym, not yet admitted; and one of his.
    store.park_records(&[parked("n-alice", 1, "a1"), parked("n-bob", 2, "b2")]).await.unwrap();
    // Records of another region in use about each, and a risk level about no one.
    store
        .note_admitted(&[
            admitted("a1", Some(&alice), 3, signer("41", Some("k1"), 3)),
            admitted("b1", Some(&bob), 4, signer("41", Some("k1"), 4)),
            admitted("level", None, 5, signer("41", Some("k1"), 5)),
        ])
        .await
        .unwrap();

    let removed = store.erase_person(&alice).await.unwrap();
    let count = |table: &str| removed.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
    assert_eq!(
        (count("persons"), count("evidence"), count("stays"), count("personal_data"), count("proxies")),
        (Some(1), Some(2), Some(1), Some(1), Some(1)),
        "{removed:?}"
    );
    assert_eq!(count("rejections"), Some(1), "the rejected input that named her");
    assert_eq!(count("documents (cards, claim codes)"), Some(1), "her printed card's record");
    assert_eq!(count("national_links"), Some(1), "her national pseudonym");
    assert_eq!(count("national_parked"), Some(1), "the record still parked under it");
    assert_eq!(count("national_admitted"), Some(1), "the signer of the record about her");
    assert_eq!(count("visits_elsewhere"), Some(1), "her visit to another region's venue");
    let visitors = store.visits_elsewhere_at("41", "v9", t(0), t(2), 10).await.unwrap();
    assert_eq!(visitors.iter().map(|v| &v.person).collect::<Vec<_>>(), [&bob], "his visit stays");
    assert!(store.persons_by_national_id(&strings(&["n-alice"])).await.unwrap().is_empty());
    assert!(store.parked_records(&strings(&["n-alice"])).await.unwrap().is_empty());
    assert_eq!(
        store.national_ids_of(std::slice::from_ref(&bob)).await.unwrap(),
        [link("n-bob", &bob)],
        "his link stays"
    );
    assert_eq!(store.parked_records(&strings(&["n-bob"])).await.unwrap().len(), 1, "and his parked record");
    let in_use = store.admitted_signed_outside(&outside("41", "k1", 0, Some(-1_000)), 10).await.unwrap();
    assert_eq!(
        in_use.iter().map(|r| r.record_id.as_str()).collect::<Vec<_>>(),
        ["b1", "level"],
        "his record's signer, and the level's, stay"
    );
    assert!(store.document("card", "card-a").await.unwrap().is_none());
    assert!(store.document("card", "card-b").await.unwrap().is_some());
    assert_eq!(store.person(&alice).await.unwrap(), None);
    assert!(store.evidence_for(&alice).await.unwrap().is_empty());
    assert_eq!(store.personal_data(&alice).await.unwrap(), None);
    assert_eq!(store.resident_key(&format!("k-{alice}")).await.unwrap(), None);
    assert!(store.proxy_links(&bob).await.unwrap().is_empty(), "the link to her is gone from his side too");
    // Bob keeps everything.
    assert!(store.person(&bob).await.unwrap().is_some());
    assert_eq!(store.evidence_for(&bob).await.unwrap().len(), 2);
    assert!(store.personal_data(&bob).await.unwrap().is_some());
    assert!(store.resident_key(&format!("k-{bob}")).await.unwrap().is_some());
    let rejections = store.rejections(0, 10, None).await.unwrap();
    assert_eq!(rejections.len(), 1);
    assert!(rejections[0].input.contains(bob.as_str()));
    assert!(store.erase_person(&alice).await.unwrap().iter().all(|(_, n)| *n == 0), "erasing twice removes nothing");
}

async fn destruction_empties_every_personal_table_and_keeps_the_rest(store: &impl Store) {
    let alice = person(store, "alice").await;
    let sealed =
        SealedPersonalData { person: alice.clone(), wrapped_key: vec![1; 72], sealed: vec![2; 60], updated_at: t(1) };
    store.save_personal_data(&sealed).await.unwrap();
    assert_eq!(store.personal_data(&alice).await.unwrap(), Some(sealed.clone()), "sealed data round-trips as bytes");
    let newer = SealedPersonalData { sealed: vec![3; 61], updated_at: t(2), ..sealed };
    store.save_personal_data(&newer).await.unwrap();
    assert_eq!(store.personal_data(&alice).await.unwrap(), Some(newer.clone()), "saving again replaces");
    let bob = person(store, "bob").await;
    let bobs = SealedPersonalData { person: bob.clone(), ..newer.clone() };
    store.save_personal_data(&bobs).await.unwrap();
    let first = store.personal_data_after(None, 1).await.unwrap();
    assert_eq!(first, vec![newer.clone()], "pages in person id order");
    assert_eq!(store.personal_data_after(Some(&alice), 10).await.unwrap(), vec![bobs]);
    assert!(store.personal_data_after(Some(&bob), 10).await.unwrap().is_empty());
    store.insert_evidence(&[fever(&alice, "f-1", 1)]).await.unwrap();
    let key =
        ResidentKey { key_hash: "k".into(), person: alice.clone(), label: "registration".into(), created_at: t(1) };
    store.save_resident_key(&key).await.unwrap();
    store.put_document("trace", "t1", t(1), "{}").await.unwrap();
    store.put_document("rule_proposal", "r1", t(1), "{}").await.unwrap();
    store.put_document("trace", "t0", t(0), "{}").await.unwrap();
    assert_eq!(store.delete_documents_before("trace", t(1)).await.unwrap(), 1, "only the older, only of that kind");
    assert!(store.document("trace", "t1").await.unwrap().is_some());
    let account = Account {
        id: "a1".into(),
        username: "auditor".into(),
        password_hash: None,
        role: healthcode_domain::Role::Auditor,
        jurisdiction: None,
        department: None,
        created_at: t(0),
        disabled: false,
        acting_with_key_issued_at: None,
    };
    store.create_account(&account).await.unwrap();

    let consent =
        crate::Consent { person: alice.clone(), purpose: "transport_card".into(), granted_at: t(1), revoked_at: None };
    store.save_consent(&consent).await.unwrap();
    assert_eq!(store.consents(&alice).await.unwrap(), vec![consent.clone()]);
    let withdrawn = crate::Consent { revoked_at: Some(t(2)), ..consent };
    store.save_consent(&withdrawn).await.unwrap();
    assert_eq!(
        store.consents(&alice).await.unwrap(),
        vec![withdrawn],
        "withdrawing replaces, keeping when it was given"
    );

    store.link_national_ids(&[link("n-alice", &alice)]).await.unwrap();
    store.park_records(&[parked("n-stranger", 1, "s1")]).await.unwrap();
    store.note_admitted(&[admitted("a1", Some(&alice), 2, signer("41", Some("k1"), 2))]).await.unwrap();

    let removed = store.destroy_personal_data().await.unwrap();
    let count = |table: &str| removed.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
    assert_eq!(
        removed.len(),
        PERSONAL_TABLES.len() + 5,
        "every personal table, the exchange's pseudonyms (links, parked, queued and admitted records) and the \
         contact lists: {removed:?}"
    );
    assert_eq!((count("national_links"), count("national_parked")), (Some(1), Some(1)));
    assert_eq!(count("national_admitted"), Some(1));
    assert!(store.persons_by_national_id(&strings(&["n-alice"])).await.unwrap().is_empty());
    assert!(store.parked_records(&strings(&["n-stranger"])).await.unwrap().is_empty());
    assert_eq!((count("persons"), count("evidence"), count("personal_data")), (Some(2), Some(1), Some(2)));
    assert_eq!(count("documents (contact lists, claim codes, cards)"), Some(1));
    assert_eq!(store.person_count().await.unwrap(), 0);
    assert_eq!(store.personal_data(&alice).await.unwrap(), None, "the wrapped key is gone: nothing can open the data");
    assert_eq!(store.resident_key("k").await.unwrap(), None);
    assert!(store.consents(&alice).await.unwrap().is_empty());
    assert!(store.evidence_for(&alice).await.unwrap().is_empty());
    assert_eq!(store.document("trace", "t1").await.unwrap(), None);
    assert!(store.document("rule_proposal", "r1").await.unwrap().is_some(), "rule proposals are not personal");
    assert!(store.account_by_username("auditor").await.unwrap().is_some(), "staff accounts stay");
    assert!(store.destroy_personal_data().await.unwrap().iter().all(|(_, n)| *n == 0), "a second run finds nothing");
}

async fn feed_chunks_move_the_mark_once_with_their_rows(store: &impl Store) {
    let known = person(store, "p1").await;
    let newcomer =
        PersonRecord { id: pid("p2"), kind: PersonKind::International, registered_at: t(0), residence_area: None };
    let row = |line: u64, e: NewEvidence| FeedRow { line, evidence: e, input: format!("input {line}") };
    let refused = |line: u64, id: &str| FeedRejection {
        line,
        event_id: Some(id.into()),
        field: Some("result".into()),
        reason: "field `result`: expected one of positive, negative".into(),
        input: format!("input {line}"),
    };
    store.insert_evidence(&[fever(&known, "old", 1)]).await.unwrap();
    let chunk =
        |after: u64, through: u64, complete: bool, rows: Vec<FeedRow>, rejected: Vec<FeedRejection>| FeedChunk {
            owner: "cdc".into(),
            batch: "b1".into(),
            format: "ndjson".into(),
            received_at: t(2),
            origin: "feed b1 (cdc)".into(),
            after,
            through,
            complete,
            persons: vec![newcomer.clone()],
            rows,
            rejected,
        };
    assert_eq!(store.feed_batch("cdc", "b1").await.unwrap(), None, "no batch before its first chunk");

    // Lines 1–4: a new event, a resend, an id reused for other content, a refused row.
    let first = chunk(
        0,
        4,
        false,
        vec![row(1, fever(&newcomer.id, "f1", 2)), row(2, fever(&known, "old", 1)), row(3, fever(&known, "old", 5))],
        vec![refused(4, "t1")],
    );
    let FeedCommit::Committed(out) = store.commit_feed_chunk(first.clone()).await.unwrap() else {
        panic!("the first chunk of a new batch continues from mark 0")
    };
    assert!(matches!(out[0], Inserted::New { .. }), "{out:?}");
    assert_eq!(out[1..], [Inserted::Duplicate { same_content: true }, Inserted::Duplicate { same_content: false }]);
    assert!(store.person(&newcomer.id).await.unwrap().is_some(), "a person named by document is registered");
    assert_eq!(store.evidence_for(&newcomer.id).await.unwrap().len(), 1);
    assert_eq!(store.due_persons(t(100), 10).await.unwrap(), vec![known.clone(), newcomer.id.clone()], "queued");

    let batch = store.feed_batch("cdc", "b1").await.unwrap().unwrap();
    assert_eq!(
        (batch.committed_through, batch.rows, batch.accepted, batch.duplicates, batch.rejected),
        (4, 4, 1, 1, 2)
    );
    assert!(!batch.complete && batch.format == "ndjson" && batch.resolved == 0, "{batch:?}");
    assert_eq!(store.feed_batch("police", "b1").await.unwrap(), None, "batches belong to their owner");

    // The same chunk again (an upload that did not see the mark move) changes nothing.
    assert_eq!(store.commit_feed_chunk(first).await.unwrap(), FeedCommit::Moved { committed_through: 4 });
    assert_eq!(store.evidence_for(&newcomer.id).await.unwrap().len(), 1);

    let listed = store.feed_rejections("cdc", "b1", 0, 10).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 4], "by line");
    assert_eq!(listed[0].field.as_deref(), Some("id"));
    assert!(listed[0].error.contains("`old` was already recorded with different content"), "{:?}", listed[0]);
    let log = store.rejections(0, 10, Some("cdc")).await.unwrap();
    assert_eq!(log.len(), 2, "every rejected row is in the rejection log, as its owner's");
    assert_eq!(log.iter().map(|r| r.id).collect::<Vec<_>>(), listed.iter().map(|r| r.rejection_id).collect::<Vec<_>>());
    assert_eq!(log[1].origin, "feed b1 (cdc) line 4");
    assert_eq!(log[1].input, "input 4");
    assert_eq!(store.feed_rejections("cdc", "b1", 3, 10).await.unwrap().len(), 1, "paging by line");

    // The rest, with line 4 fixed: it resolves the rejected row.
    let FeedCommit::Committed(_) =
        store.commit_feed_chunk(chunk(4, 7, true, vec![row(6, fever(&known, "t1", 3))], vec![])).await.unwrap()
    else {
        panic!("the next chunk continues from the mark")
    };
    let batch = store.feed_batch("cdc", "b1").await.unwrap().unwrap();
    assert_eq!((batch.committed_through, batch.rows, batch.accepted, batch.resolved), (7, 5, 2, 1));
    assert!(batch.complete);
    let listed = store.feed_rejections("cdc", "b1", 0, 10).await.unwrap();
    assert_eq!(listed[1].resolved_by.as_deref(), Some("b1 line 6"));
    assert_eq!(listed[0].resolved_by, None);
    assert_eq!(
        store.commit_feed_chunk(chunk(3, 9, true, vec![], vec![])).await.unwrap(),
        FeedCommit::Moved { committed_through: 7 },
        "a chunk that does not continue from the mark is refused"
    );
}

async fn research_counts_are_distinct_persons_by_area_and_day(store: &impl Store) {
    let p = person(store, "p1").await;
    let q = person(store, "p2").await;
    let elsewhere =
        PersonRecord { id: pid("p3"), kind: PersonKind::Domestic, registered_at: t(0), residence_area: None };
    store.register_person(&elsewhere).await.unwrap();
    let r = elsewhere.id;
    store
        .save_codes(
            &[code(&p, Colour::Red, None), code(&q, Colour::Red, None), code(&r, Colour::Green, None)],
            &LogAppend::default(),
        )
        .await
        .unwrap();
    let sorted = |mut counts: Vec<ResearchCount>| {
        counts.sort_by(|a, b| (&a.area, &a.key).cmp(&(&b.area, &b.key)));
        counts.into_iter().map(|c| (c.area, c.key, c.persons)).collect::<Vec<_>>()
    };
    let cell = |area: &str, key: &str, persons| (area.to_string(), key.to_string(), persons);
    let codes = sorted(store.research_counts(ResearchMetric::CodesByColour, t(100), t(0)).await.unwrap());
    assert_eq!(
        codes,
        [cell("", "green", 1), cell("330106", "red", 2)],
        "current codes by area and colour, whatever the window (codes have no time)"
    );

    let test = |who: &PersonId, id: &str, at: i64| NewEvidence {
        person: who.clone(),
        id: eid(id),
        at: t(at),
        evidence: Evidence::Test { result: TestResult::Negative, sampled_at: t(at) },
        hub_line: None,
    };
    let tests = [test(&p, "t1", 1), test(&p, "t2", 2), test(&q, "t3", 2), test(&p, "t4", 30), test(&r, "t5", 40)];
    store.insert_evidence(&tests).await.unwrap();
    store.insert_evidence(&[fever(&q, "f1", 3)]).await.unwrap();
    let day = |hours: i64| ((t(hours).as_millis() + CST_OFFSET_MS) / 86_400_000).to_string();
    assert_ne!(day(2), day(30), "the story spans two days in China Standard Time");
    let tested = sorted(store.research_counts(ResearchMetric::TestedByDay, t(0), t(40)).await.unwrap());
    assert_eq!(
        tested,
        [cell("330106", &day(1), 2), cell("330106", &day(30), 1)],
        "persons tested per area and day, each once a day; other evidence and the end of the window left out"
    );

    let venue = VenueRecord {
        id: "v1".into(),
        name: "菜场".into(),
        category: VenueCategory::Supermarket,
        area: Some(AreaCode::parse("330106").unwrap()),
        registered_at: t(0),
        operator_key_hash: "op".into(),
    };
    store.register_venue(&venue).await.unwrap();
    let checkin = |who: &PersonId, at: i64| NewCheckin {
        person: who.clone(),
        venue: "v1".into(),
        at: t(at),
        method: CheckinMethod::GateCode,
        device: None,
        colour: Colour::Green,
        outcome: AccessOutcome::Allow,
    };
    store.record_checkins(&[checkin(&p, 1), checkin(&p, 2), checkin(&r, 2), checkin(&q, 30)]).await.unwrap();
    let visits = sorted(store.research_counts(ResearchMetric::CheckedInByDay, t(2), t(31)).await.unwrap());
    assert_eq!(
        visits,
        [cell("", &day(2), 1), cell("330106", &day(2), 1), cell("330106", &day(30), 1)],
        "persons checked in per residence area and day, from the start of the window"
    );
}

async fn the_status_counts_connections_within_the_pool(store: &impl Store) {
    // A read first, so that a lazily filled pool has at least one connection.
    store.log_size().await.unwrap();
    let status = store.status();
    assert!(status.max_connections >= 1, "{status:?}");
    assert!(status.open_connections >= 1 && status.open_connections <= status.max_connections, "{status:?}");
    assert!(status.idle_connections <= status.open_connections, "{status:?}");
    if let Some(bytes) = status.embedded_memory_bytes {
        assert!(bytes > 0, "an embedded database that has read something holds some memory");
    }
}
