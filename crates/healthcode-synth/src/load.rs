//! A synthetic region loaded straight into a store, for the benchmarks and for trying
//! the system on a province's numbers (`healthcode generate`). This bypasses the service
//! on purpose: a synthetic region is nobody's evidence, so it is neither logged nor
//! evaluated here; the service computes the codes afterwards (its catch-up, or a bench's
//! own re-evaluation).

use std::time::Instant;

use healthcode_domain::{AccessOutcome, Colour, Duration, PersonKind, Timestamp, VenueCategory};
use healthcode_store::{CheckinMethod, NewCheckin, NewEvidence, PersonRecord, Store, StoreError, VenueRecord};

use crate::rng::Rng;
use crate::{generate, person_id, ConfigError, RegionConfig, StoreRecord};

/// Records per store call.
const BATCH: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "this store holds {persons} persons and is not a synthetic region (one that `healthcode generate` or a \
         benchmark made): a benchmark designates every area and re-evaluates everyone, unapproved and unlogged; \
         point it at an empty directory or database, or at a copy made for the purpose"
    )]
    NotSynthetic { persons: u64 },
}

/// The document that marks a store as a synthetic region.
const SYNTHETIC: (&str, &str) = ("synthetic_region", "region");

/// Makes sure a store is one the benchmarks may write into: a synthetic region made by
/// them (marked so when it was empty), never a province's store. Call it before loading
/// or designating anything.
pub async fn claim_synthetic(store: &dyn Store) -> Result<(), LoadError> {
    if store.document(SYNTHETIC.0, SYNTHETIC.1).await?.is_some() {
        return Ok(());
    }
    let persons = store.person_count().await?;
    if persons > 0 {
        return Err(LoadError::NotSynthetic { persons });
    }
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let now = Timestamp::from_millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX));
    let body = r#"{"made_by":"healthcode synthetic region"}"#;
    store.put_document(SYNTHETIC.0, SYNTHETIC.1, now, body).await?;
    Ok(())
}

/// Whether the store already holds at least `persons` persons (a region loaded before:
/// the benches reuse it).
pub async fn holds(store: &dyn Store, persons: u64) -> Result<bool, LoadError> {
    Ok(store.person_count().await? >= persons)
}

/// Loads the region (persons with their areas, their evidence, the designations); returns
/// how many events. `progress(persons, events)` is called every million persons.
pub async fn region(
    store: &dyn Store,
    config: &RegionConfig,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, LoadError> {
    let mut persons: Vec<PersonRecord> = Vec::with_capacity(BATCH);
    let mut batch: Vec<NewEvidence> = Vec::with_capacity(BATCH);
    let mut designations = Vec::new();
    let mut events = 0u64;
    let mut loaded_persons = 0u64;
    for record in generate(config)? {
        match StoreRecord::from(record) {
            // Persons come before their evidence in the stream, so a batch of evidence is
            // stored only after its persons' batch.
            StoreRecord::Person(p) => {
                persons.push(p);
                loaded_persons += 1;
                if loaded_persons.is_multiple_of(1_000_000) {
                    progress(loaded_persons, events);
                }
            }
            StoreRecord::Evidence(e) => batch.push(e),
            StoreRecord::Designation(d) => designations.push(d),
        }
        if batch.len() == BATCH || persons.len() == BATCH {
            store.register_persons(&persons).await?;
            persons.clear();
            events += batch.len() as u64;
            store.insert_evidence(&batch).await?;
            batch.clear();
        }
    }
    store.register_persons(&persons).await?;
    events += batch.len() as u64;
    store.insert_evidence(&batch).await?;
    store.insert_designations(&designations).await?;
    store.refresh_statistics().await?;
    Ok(events)
}

/// Registers the region's first `count` persons (`p00000000`…, without areas or
/// evidence) unless the store holds that many already; returns whether it did.
pub async fn persons(store: &dyn Store, count: u64, registered_at: Timestamp) -> Result<bool, LoadError> {
    if holds(store, count).await? {
        return Ok(false);
    }
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..count {
        batch.push(PersonRecord { id: person_id(i), kind: PersonKind::Domestic, registered_at, residence_area: None });
        if batch.len() == BATCH {
            store.register_persons(&batch).await?;
            batch.clear();
        }
    }
    store.register_persons(&batch).await?;
    Ok(true)
}

/// The month synthetic check-ins fall in: the 28 days before 2020-06-29.
pub fn check_in_month() -> (Timestamp, Timestamp) {
    let end = Timestamp::from_millis(1_593_360_000_000); // 2020-06-29T00:00:00+08:00
    (Timestamp::from_millis(end.as_millis() - Duration::days(28).as_millis()), end)
}

/// What `checkins` loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckinsLoaded {
    /// The venues were there already (venue `v0` exists): nothing was loaded.
    AlreadyThere,
    Loaded,
}

/// Venues `v0…` and `checkins` check-ins of random persons among the first `persons` at
/// random venues over the month (`check_in_month`), registering the persons that are
/// missing; skipped when the venues are there already. `progress(loaded, per_second)` is
/// called every million check-ins.
pub async fn checkins(
    store: &dyn Store,
    persons: u64,
    venues: u64,
    checkins: u64,
    mut progress: impl FnMut(u64, f64),
) -> Result<CheckinsLoaded, LoadError> {
    if store.venue("v0").await?.is_some() {
        return Ok(CheckinsLoaded::AlreadyThere);
    }
    let (start, end) = check_in_month();
    let month = end.as_millis() - start.as_millis();
    let mut rng = Rng::derive(7, crate::rng::stream::CHECKIN, 0);
    let started = Instant::now();
    self::persons(store, persons, start).await?;
    for v in 0..venues {
        let venue = VenueRecord {
            id: format!("v{v}"),
            name: format!("venue {v}"),
            category: VenueCategory::General,
            area: None,
            registered_at: start,
            operator_key_hash: format!("bench-{v}"),
        };
        store.register_venue(&venue).await?;
    }
    let mut loaded = 0u64;
    let mut rows = Vec::with_capacity(BATCH);
    while loaded < checkins {
        rows.clear();
        for _ in 0..BATCH.min((checkins - loaded) as usize) {
            rows.push(NewCheckin {
                person: person_id(rng.below(persons)),
                venue: format!("v{}", rng.below(venues)),
                at: Timestamp::from_millis(start.as_millis() + rng.below(month as u64) as i64),
                method: CheckinMethod::Scan,
                device: None,
                colour: Colour::Green,
                outcome: AccessOutcome::Allow,
            });
        }
        store.record_checkins(&rows).await?;
        loaded += rows.len() as u64;
        if loaded % 1_000_000 < BATCH as u64 {
            progress(loaded, loaded as f64 / started.elapsed().as_secs_f64());
        }
    }
    Ok(CheckinsLoaded::Loaded)
}

/// Reads every one of the first `persons` persons' evidence, ten thousand at a time;
/// returns how many events. The benches time it as their baseline: the store's own
/// reading speed, against which an evaluation is measured.
pub async fn read_all_evidence(store: &dyn Store, persons: u64) -> Result<usize, LoadError> {
    let ids: Vec<_> = (0..persons).map(person_id).collect();
    let mut read = 0usize;
    for chunk in ids.chunks(BATCH) {
        read += store.evidence_for_many(chunk).await?.iter().map(|(_, e)| e.len()).sum::<usize>();
    }
    Ok(read)
}
