#![doc = include_str!("../README.md")]

mod accounts;
mod checkpoints;
mod columns;
pub mod conformance;
mod feeds;
mod log;
mod records;
mod residents;

use async_trait::async_trait;
use healthcode_domain::{AccessOutcome, AreaCode, AreaRisk, Colour, Event, Evidence, PersonId, Timestamp};

pub use accounts::*;
pub use checkpoints::*;
pub use columns::EvidenceColumns;
pub use feeds::*;
pub use log::{LogAppend, LogLeaf, LogNode, StoredCheckpoint};
pub use records::*;
pub use residents::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the operation.
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// Data read back from the database could not be understood (e.g. edited by hand).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database schema is newer than this program knows.
    /// A log append found the log longer than expected: another writer appended first.
    /// Re-read the log's frontier and try again.
    #[error("the transparency log grew meanwhile (expected size {expected}, found {found})")]
    LogConflict { expected: u64, found: u64 },
    /// A code save found a person's stored code at another revision than the one it was
    /// evaluated from: another evaluation saved meanwhile. Nothing was saved; evaluate
    /// those persons again.
    #[error("{} persons' codes were saved by another evaluation meanwhile", persons.len())]
    CodeConflict { persons: Vec<PersonId> },
    #[error("database schema version {found} is newer than this program supports ({supported}); upgrade healthcode")]
    SchemaTooNew { found: i64, supported: i64 },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Storage for healthcode. Every method is one transaction.
///
/// Implementations must keep these promises (the `conformance` module checks them):
/// - an event id is stored once across evidence and designations; a second insert with
///   the same id reports `Inserted::Duplicate` and changes nothing;
/// - evidence under a stored id is the same content if it names the same person and
///   says the same (its `at`, when it was received, may differ: a resend);
/// - `seq` grows with every stored event, in the order of the slice given to an insert;
/// - inserting evidence puts its person on the re-evaluation queue, due at the event's
///   `at` (or earlier if already queued earlier), in the same transaction;
/// - `save_codes` sets each person's queue entry to the code's `next_change`, or removes
///   it when there is none; it saves nothing (`CodeConflict`) if a code's `revision` is
///   not one more than the stored one (none stored: 0).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Registers a person, or leaves an existing one unchanged. Returns true if created.
    async fn register_person(&self, person: &PersonRecord) -> StoreResult<bool>;
    /// Registers many persons in one transaction (bulk loads), leaving existing ones
    /// unchanged. Returns how many were created.
    async fn register_persons(&self, persons: &[PersonRecord]) -> StoreResult<u64>;
    async fn person(&self, id: &PersonId) -> StoreResult<Option<PersonRecord>>;
    /// Sets a person's area of residence if none is recorded (a person first known from a
    /// department's list gives theirs when they register); true if it was set.
    async fn fill_residence_area(&self, id: &PersonId, area: &AreaCode) -> StoreResult<bool>;
    async fn persons(&self, ids: &[PersonId]) -> StoreResult<Vec<PersonRecord>>;
    async fn person_count(&self) -> StoreResult<u64>;

    /// Stores evidence for registered persons, one outcome per input in order.
    async fn insert_evidence(&self, batch: &[NewEvidence]) -> StoreResult<Vec<Inserted>>;
    /// A person's evidence, sorted by `(at, seq)`.
    async fn evidence_for(&self, person: &PersonId) -> StoreResult<Vec<Event<Evidence>>>;
    /// Evidence for many persons at once, for bulk evaluation: every requested person
    /// appears once in the result (with an empty list if they have no evidence).
    async fn evidence_for_many(&self, persons: &[PersonId]) -> StoreResult<Vec<(PersonId, Vec<Event<Evidence>>)>>;

    /// Stores designations, each marked not yet applied.
    async fn insert_designations(&self, batch: &[NewDesignation]) -> StoreResult<Vec<Inserted>>;
    /// Every designation ever recorded, sorted by `(at, seq)`.
    async fn designations(&self) -> StoreResult<Vec<Event<AreaRisk>>>;
    /// Designations whose persons have not been re-evaluated yet (e.g. after a crash).
    async fn unapplied_designations(&self) -> StoreResult<Vec<Event<AreaRisk>>>;
    async fn mark_designations_applied(&self, seqs: &[i64]) -> StoreResult<()>;

    /// The persons with a stay whose area's normal form starts with `area_prefix` and that
    /// ended after `ended_after` (or has not ended), in id order.
    async fn persons_with_stays_under(&self, area_prefix: &str, ended_after: Timestamp) -> StoreResult<Vec<PersonId>>;

    /// Puts on the queue, due at `due`, every person with a stay whose area's normal form
    /// starts with `area_prefix` and that ended after `ended_after` (or has not ended).
    /// Returns how many persons were queued.
    async fn queue_persons_with_stays_under(
        &self,
        area_prefix: &str,
        ended_after: Timestamp,
        due: Timestamp,
    ) -> StoreResult<u64>;
    /// Puts every person who has any evidence on the queue, due at `due` (a rule-set
    /// change: a person without evidence is green under any rule set).
    async fn queue_persons_with_evidence(&self, due: Timestamp) -> StoreResult<u64>;
    /// Puts on the queue, due at `due`, every person whose stored code was computed under
    /// a rule-set version other than `version` (after a restart with other rules).
    async fn queue_codes_of_other_versions(&self, version: &str, due: Timestamp) -> StoreResult<u64>;
    /// Puts these persons on the queue, due at `due`.
    async fn queue_persons(&self, persons: &[PersonId], due: Timestamp) -> StoreResult<()>;
    /// Up to `limit` queued persons due at or before `now`, earliest first.
    async fn due_persons(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<PersonId>>;
    async fn queue_len(&self) -> StoreResult<u64>;

    /// Saves code states and updates the queue from their `next_change` (see above), and
    /// appends the log entries that record their colour changes, in one transaction.
    async fn save_codes(&self, codes: &[CodeState], log: &LogAppend) -> StoreResult<()>;
    async fn code(&self, person: &PersonId) -> StoreResult<Option<CodeState>>;
    /// What showing a person's code needs, read together: the person's record, their
    /// stored code and their profile. `None` if no such person. Backends whose reads are
    /// costly round trips override this with one.
    async fn code_card(&self, person: &PersonId) -> StoreResult<Option<CodeCard>> {
        let Some(record) = self.person(person).await? else { return Ok(None) };
        Ok(Some(CodeCard { record, code: self.code(person).await?, profile: self.profile(person).await? }))
    }
    /// `code_card`, and whose resident key `key_hash` is, read together: a resident's app
    /// refreshing its code costs one trip to the store. Backends override it with one.
    async fn code_card_with_key(
        &self,
        person: &PersonId,
        key_hash: &str,
    ) -> StoreResult<(Option<CodeCard>, Option<PersonId>)> {
        let owner = self.resident_key(key_hash).await?.map(|k| k.person);
        Ok((self.code_card(person).await?, owner))
    }
    async fn codes(&self, persons: &[PersonId]) -> StoreResult<Vec<CodeState>>;
    /// The colour and timing of stored codes without their reasons: what re-evaluation
    /// needs to date a change, read cheaply in bulk.
    async fn code_summaries(&self, persons: &[PersonId]) -> StoreResult<Vec<CodeSummary>>;
    async fn colour_counts(&self) -> StoreResult<Vec<(Colour, u64)>>;
    /// Codes by the holder's area of residence and colour (`None`: no area registered),
    /// in no particular order: the officials' dashboard ranks the areas.
    async fn colour_counts_by_area(&self) -> StoreResult<Vec<(Option<AreaCode>, Colour, u64)>>;
    /// Up to `limit` codes of one colour, in person id order (for samples and lists).
    async fn codes_with_colour(&self, colour: Colour, limit: usize) -> StoreResult<Vec<CodeState>>;

    async fn record_rejections(&self, batch: &[NewRejection]) -> StoreResult<()>;
    /// Rejections with id greater than `after`, oldest first; only `owner`'s if given.
    async fn rejections(&self, after: i64, limit: usize, owner: Option<&str>) -> StoreResult<Vec<Rejection>>;

    /// Adds to the hourly counts of colour changes (summing rows with the same hour,
    /// origin and area).
    async fn add_colour_changes(&self, counts: &[ColourChangeCount]) -> StoreResult<()>;
    /// The counts of one origin and area with `from_hour <= hour < to_hour`, by hour.
    async fn colour_changes(
        &self,
        origin: &str,
        area: &str,
        from_hour: i64,
        to_hour: i64,
    ) -> StoreResult<Vec<ColourChangeCount>>;
    /// Marks an hour's count of an origin and area as alarmed; true only for the call that
    /// marked it (one alarm per hour, however many servers see the burst).
    async fn mark_colour_burst(&self, origin: &str, area: &str, hour: i64) -> StoreResult<bool>;

    // Bulk feeds.

    /// Commits one chunk of a feed batch in one transaction: registers its persons, stores
    /// its evidence (as `insert_evidence`, queue included), logs its rejected rows (and
    /// conflicting duplicates) in the rejection log and the batch's list, marks earlier
    /// rejections of the owner resolved by an accepted row with their event id, and moves
    /// the batch's mark and counters — unless the batch's mark is not `chunk.after`.
    /// Taken by value: a chunk is thousands of rows, handed to the database thread whole.
    async fn commit_feed_chunk(&self, chunk: FeedChunk) -> StoreResult<FeedCommit>;
    async fn feed_batch(&self, owner: &str, batch: &str) -> StoreResult<Option<FeedBatch>>;
    /// A batch's rejected rows with a line above `after_line`, in line order, at most `limit`.
    async fn feed_rejections(
        &self,
        owner: &str,
        batch: &str,
        after_line: u64,
        limit: usize,
    ) -> StoreResult<Vec<FeedRejectedRow>>;

    // The transparency log.

    /// Appends entries that record no code (approvals, alarms).
    async fn append_log(&self, log: &LogAppend) -> StoreResult<()>;
    async fn log_size(&self) -> StoreResult<u64>;
    /// The stored node hashes among `ids` (`(level, index)`); missing ones are left out.
    async fn log_nodes(&self, ids: &[(u8, u64)]) -> StoreResult<Vec<LogNode>>;
    /// Up to `limit` leaves from index `from` on, in order: `(index, data)`.
    async fn log_leaves(&self, from: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>>;
    /// The indices of a person's entries, in order.
    async fn log_indices_of(&self, person: &PersonId) -> StoreResult<Vec<u64>>;
    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()>;
    /// Checkpoints with a size above `after_size`, smallest first, at most `limit`.
    async fn checkpoints(&self, after_size: u64, limit: usize) -> StoreResult<Vec<StoredCheckpoint>>;
    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>>;

    // Accounts, credentials, decisions, alarms.

    /// Creates an account; false (and nothing changed) if the username is taken.
    async fn create_account(&self, account: &Account) -> StoreResult<bool>;
    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>>;
    async fn save_credential(&self, credential: &Credential) -> StoreResult<()>;
    /// The credential with this hash and its account, if both exist.
    async fn credential(&self, key_hash: &str) -> StoreResult<Option<(Credential, Account)>>;
    async fn delete_credential(&self, key_hash: &str) -> StoreResult<()>;
    /// Creates or replaces a decision.
    async fn save_decision(&self, decision: &Decision) -> StoreResult<()>;
    async fn decision(&self, id: &str) -> StoreResult<Option<Decision>>;
    /// Up to `limit` decisions, newest first.
    async fn decisions(&self, limit: usize) -> StoreResult<Vec<Decision>>;
    async fn record_alarm(&self, alarm: &NewAlarm) -> StoreResult<i64>;
    /// Alarms with id above `after`, oldest first.
    async fn alarms(&self, after: i64, limit: usize) -> StoreResult<Vec<Alarm>>;

    /// Creates or replaces a record kept whole as JSON (e.g. `kind` = `rule_proposal`).
    async fn put_document(&self, kind: &str, id: &str, at: Timestamp, body: &str) -> StoreResult<()>;
    async fn document(&self, kind: &str, id: &str) -> StoreResult<Option<String>>;
    /// Up to `limit` records of a kind, newest first.
    async fn documents(&self, kind: &str, limit: usize) -> StoreResult<Vec<String>>;

    // Residents: keys, proxies, the access log, complaints.

    async fn save_resident_key(&self, key: &ResidentKey) -> StoreResult<()>;
    async fn resident_key(&self, key_hash: &str) -> StoreResult<Option<ResidentKey>>;
    /// Whether the person holds a key: a registration that finds them holding one gives none.
    async fn has_resident_key(&self, person: &PersonId) -> StoreResult<bool>;
    /// Saves the key only if its person holds none yet, atomically (two registrations at
    /// once cannot both claim a person); true if saved.
    async fn claim_resident_key(&self, key: &ResidentKey) -> StoreResult<bool>;
    /// Removes every key of a person (a replacement key was given at a counter).
    async fn delete_resident_keys(&self, person: &PersonId) -> StoreResult<u64>;
    /// Records a proxy link; false if it already existed (left unchanged).
    async fn save_proxy(&self, link: &ProxyLink) -> StoreResult<bool>;
    /// Ends a proxy link; false if there was none.
    async fn end_proxy(&self, proxy: &PersonId, dependant: &PersonId) -> StoreResult<bool>;
    /// Every link in which the person is the proxy or the dependant, oldest first.
    async fn proxy_links(&self, person: &PersonId) -> StoreResult<Vec<ProxyLink>>;
    async fn record_accesses(&self, accesses: &[NewAccess]) -> StoreResult<()>;
    /// A person's access log, newest first, at most `limit`.
    async fn accesses(&self, person: &PersonId, limit: usize) -> StoreResult<Vec<Access>>;
    /// Creates or replaces a complaint.
    async fn save_complaint(&self, complaint: &Complaint) -> StoreResult<()>;
    async fn complaint(&self, id: &str) -> StoreResult<Option<Complaint>>;
    /// Complaints matching the query, newest first, at most `limit`.
    async fn complaints(&self, query: &ComplaintQuery, limit: usize) -> StoreResult<Vec<Complaint>>;

    /// Distinct persons per cell of a research aggregate; for the daily metrics, only
    /// records with `from <= at < to`.
    async fn research_counts(
        &self,
        metric: ResearchMetric,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ResearchCount>>;

    /// Deletes documents of a kind saved before `before` (retention); returns how many.
    async fn delete_documents_before(&self, kind: &str, before: Timestamp) -> StoreResult<u64>;
    /// Deletes check-ins older than `before` (the retention policy); returns how many.
    async fn delete_checkins_before(&self, before: Timestamp) -> StoreResult<u64>;
    /// Records a consent as given (`revoked_at` none) or withdrawn.
    async fn save_consent(&self, consent: &Consent) -> StoreResult<()>;
    /// A person's consents, in force or withdrawn, by purpose.
    async fn consents(&self, person: &PersonId) -> StoreResult<Vec<Consent>>;

    // Personal data at rest, and its destruction.

    /// Creates or replaces a person's sealed details.
    async fn save_personal_data(&self, data: &SealedPersonalData) -> StoreResult<()>;
    async fn personal_data(&self, person: &PersonId) -> StoreResult<Option<SealedPersonalData>>;
    /// Up to `limit` persons' sealed data with a person id above `after`, in id order
    /// (rewrapping data keys after a master-key rotation).
    async fn personal_data_after(&self, after: Option<&PersonId>, limit: usize)
        -> StoreResult<Vec<SealedPersonalData>>;
    /// Deletes every row of `PERSONAL_TABLES` and the contact lists (documents of kind
    /// `trace`) in one transaction; then gives the space back so that no deleted bytes
    /// stay in the files. Returns the rows removed per table.
    async fn destroy_personal_data(&self) -> StoreResult<DestroyedRows>;

    // Checkpoints: profiles, venues, devices, check-ins.

    /// Creates or replaces a person's profile; a profile without a masked name keeps the
    /// one already stored.
    async fn save_profile(&self, profile: &PersonProfile) -> StoreResult<()>;
    async fn profile(&self, person: &PersonId) -> StoreResult<Option<PersonProfile>>;
    async fn person_by_code_id(&self, code_id: &str) -> StoreResult<Option<PersonId>>;

    async fn register_venue(&self, venue: &VenueRecord) -> StoreResult<()>;
    async fn venue(&self, id: &str) -> StoreResult<Option<VenueRecord>>;
    async fn venue_by_operator_key(&self, key_hash: &str) -> StoreResult<Option<VenueRecord>>;
    /// Up to `limit` venues, newest first.
    async fn venues(&self, limit: usize) -> StoreResult<Vec<VenueRecord>>;

    async fn register_device(&self, device: &DeviceRecord) -> StoreResult<()>;
    async fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<DeviceRecord>>;
    async fn device(&self, id: &str) -> StoreResult<Option<DeviceRecord>>;
    /// Up to `limit` devices, newest first.
    async fn devices(&self, limit: usize) -> StoreResult<Vec<DeviceRecord>>;
    /// Records who approved a device; false (and nothing changed) if it is approved
    /// already or there is no such device.
    async fn approve_device(&self, id: &str, by: &str, at: Timestamp) -> StoreResult<bool>;

    async fn record_checkins(&self, batch: &[NewCheckin]) -> StoreResult<()>;
    /// Check-ins at a venue with `from <= at < to`, oldest first, at most `limit`.
    async fn checkins_at_venue(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>>;
    /// A person's check-ins with `from <= at < to`, oldest first, at most `limit`.
    async fn checkins_of_person(
        &self,
        person: &PersonId,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>>;
    /// How many check-ins at a venue with `from <= at < to` had each outcome.
    async fn checkin_counts(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<(AccessOutcome, u64)>>;
}
