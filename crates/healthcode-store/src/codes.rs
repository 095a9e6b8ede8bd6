//! Codes: the rules' verdict for each person (derived, always recomputable), the
//! re-evaluation queue, what showing a code reads, and the hourly counts of colour
//! changes by origin that the alarms compare.

use async_trait::async_trait;
use healthcode_domain::{AreaCode, Colour, EventId, PersonId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::*;

/// The rules' verdict for one person, as last evaluated. Derived data: it can always be
/// recomputed from the evidence, the designations and the rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeState {
    pub person: PersonId,
    pub colour: Colour,
    /// Rule ids that hold, sorted.
    pub reasons: Vec<String>,
    /// For each reason, the ids of the events that make it hold.
    pub evidence: Vec<ReasonEvidence>,
    /// When the code took its current colour.
    pub since: Timestamp,
    pub evaluated_at: Timestamp,
    pub rules_version: String,
    /// When the passing of time alone can next change the result, if ever.
    pub next_change: Option<Timestamp>,
    /// Grows by one with every save of the person's code: a save carries the revision it
    /// makes (the stored one plus one, 1 for a first code) and is refused if the stored
    /// revision is not the one before it (another evaluation saved meanwhile).
    #[serde(default)]
    pub revision: i64,
}

/// A page of a bulk re-evaluation (a province-wide designation): persons in person order,
/// taken by one server at a time (`CodeStore::claim_page`) and removed once their codes
/// are saved (`finish_page`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkPage {
    pub id: i64,
    pub persons: Vec<PersonId>,
}

/// The part of a `CodeState` that dating a colour change needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSummary {
    pub person: PersonId,
    pub colour: Colour,
    pub since: Timestamp,
    pub evaluated_at: Timestamp,
    pub next_change: Option<Timestamp>,
    pub revision: i64,
}

impl From<&CodeState> for CodeSummary {
    fn from(c: &CodeState) -> Self {
        CodeSummary {
            person: c.person.clone(),
            colour: c.colour,
            since: c.since,
            evaluated_at: c.evaluated_at,
            next_change: c.next_change,
            revision: c.revision,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonEvidence {
    pub rule: String,
    pub events: Vec<EventId>,
}

/// Persons whose code turned red, orange or yellow within one hour, by what made it so
/// (`origin`: `decision`, `trace`, `designation`, `national:<region>:<event type>`,
/// `feed:<event type>`) and by their
/// residence city (`area`: the first four digits, or the region for persons without
/// one). The alarms compare an hour with the week before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColourChangeCount {
    /// Hours since the Unix epoch.
    pub hour: i64,
    pub origin: String,
    pub area: String,
    pub persons: u64,
}

/// A person's record, stored code and profile, as a door or a signed code needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCard {
    pub record: crate::PersonRecord,
    pub code: Option<crate::CodeState>,
    pub profile: Option<PersonProfile>,
}

/// Codes (derived from evidence, the rules and time), the re-evaluation queue, and the
/// counts of colour changes the alarms read.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Puts on the queue, due at `due`, every person with a stay whose area's normal form
    /// starts with `area_prefix` and that ended after `ended_after` (or has not ended).
    /// Returns how many persons were queued.
    async fn queue_persons_with_stays_under(
        &self,
        area_prefix: &str,
        ended_after: Timestamp,
        due: Timestamp,
    ) -> StoreResult<u64>;
    /// Splits the persons `queue_persons_with_stays_under` would queue into pages of at
    /// most `page` persons, in person order, each due at `due`: a bulk re-evaluation's
    /// work, which servers share a page at a time (`claim_page`) at the price of one write
    /// per page instead of one per person and claim. Returns how many persons.
    async fn page_persons_with_stays_under(
        &self,
        area_prefix: &str,
        ended_after: Timestamp,
        due: Timestamp,
        page: usize,
    ) -> StoreResult<u64>;
    /// Takes the earliest page due by `now` that no one holds (or whose hold ended by
    /// `now`) and holds it until `until`: a server that dies leaves its page to the others
    /// when the hold ends.
    async fn claim_page(&self, now: Timestamp, until: Timestamp) -> StoreResult<Option<BulkPage>>;
    /// Removes a page once every person on it has a saved code (or is queued again).
    async fn finish_page(&self, id: i64) -> StoreResult<()>;
    /// Persons on pages not yet finished.
    async fn paged_persons(&self) -> StoreResult<u64>;
    /// Puts every person who has any evidence on the queue, due at `due` (a rule-set
    /// change: a person without evidence is green under any rule set).
    async fn queue_persons_with_evidence(&self, due: Timestamp) -> StoreResult<u64>;
    /// Puts on the queue, due at `due`, every person whose stored code was computed under
    /// a rule-set version other than `version` (after a restart with other rules).
    async fn queue_codes_of_other_versions(&self, version: &str, due: Timestamp) -> StoreResult<u64>;
    /// Puts these persons on the queue, due at `due`.
    async fn queue_persons(&self, persons: &[PersonId], due: Timestamp) -> StoreResult<()>;
    /// Up to `limit` queued persons due at or before `now`, earliest first (whether or not
    /// another server has claimed them).
    async fn due_persons(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<PersonId>>;
    /// Takes up to `limit` queued persons due at or before `now` that no one else has
    /// claimed (or whose claim ended by `now`), earliest first, and claims them until
    /// `until`: of several servers draining one queue, each evaluates its own share, and
    /// the share of a server that dies returns to the queue when its claim ends. Saving a
    /// person's code (`save_codes`) ends the claim.
    async fn claim_due_persons(&self, now: Timestamp, limit: usize, until: Timestamp) -> StoreResult<Vec<PersonId>>;
    /// Claims, until `until`, the queue entries of these persons that are due by `now` and
    /// not claimed by another: what an evaluation of them (not from `claim_due_persons`)
    /// does before it reads them, so that its save may replace those entries.
    async fn claim_persons(&self, persons: &[PersonId], now: Timestamp, until: Timestamp) -> StoreResult<()>;
    async fn queue_len(&self) -> StoreResult<u64>;
    /// Saves code states and updates the queue from their `next_change` (see `Store`), and
    /// appends the log entries that record their colour changes, in one transaction.
    async fn save_codes(&self, codes: &[CodeState], log: &LogAppend) -> StoreResult<()>;
    /// `save_codes` in two steps, for a writer that makes the log entries only once its
    /// codes are written: the codes are saved and the queue updated in a transaction left
    /// open, which `StagedCodes::commit` ends with the log append, both or neither (a
    /// staged save dropped uncommitted keeps nothing). Saves of different persons stage side
    /// by side; only their log appends wait for each other. A code at another revision is
    /// refused (`CodeConflict`) here, or at the commit by backends with one writer, which
    /// stage nothing and save it all then.
    async fn stage_codes<'a>(&'a self, codes: &'a [CodeState]) -> StoreResult<Box<dyn StagedCodes + 'a>> {
        Ok(Box::new(SavedAtCommit { store: self, codes }))
    }
    /// How many saves a bulk re-evaluation keeps in flight: one where the backend stages
    /// nothing (a second would only wait for the one writer, and hold a chunk's memory).
    fn saves_at_once(&self) -> usize {
        1
    }
    async fn code(&self, person: &PersonId) -> StoreResult<Option<CodeState>>;
    /// What showing a person's code needs, read together: the person's record, their
    /// stored code and their profile. `None` if no such person. Backends whose reads are
    /// costly round trips override this with one.
    async fn code_card(&self, person: &PersonId) -> StoreResult<Option<CodeCard>>;
    /// `code_card`, and the resident key `key_hash` (whose it is, how it was given), read
    /// together: a resident's app refreshing its code costs one trip to the store.
    async fn code_card_with_key(
        &self,
        person: &PersonId,
        key_hash: &str,
    ) -> StoreResult<(Option<CodeCard>, Option<crate::ResidentKey>)>;
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
}

/// Codes written, their log entries not yet (`CodeStore::stage_codes`).
#[async_trait]
pub trait StagedCodes: Send {
    /// Appends the log entries and commits them with the codes; on an error nothing of
    /// either is kept.
    async fn commit(self: Box<Self>, log: &LogAppend) -> StoreResult<()>;
}

/// What a backend that stages nothing returns: the whole save happens at the commit.
struct SavedAtCommit<'a, S: ?Sized> {
    store: &'a S,
    codes: &'a [CodeState],
}

#[async_trait]
impl<S: CodeStore + ?Sized> StagedCodes for SavedAtCommit<'_, S> {
    async fn commit(self: Box<Self>, log: &LogAppend) -> StoreResult<()> {
        self.store.save_codes(self.codes, log).await
    }
}
