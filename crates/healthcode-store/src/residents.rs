//! Records of what residents hold and do: their keys (stored only as hashes), the family
//! members they act for (proxies), who read their data and why, and their complaints.

use crate::*;
use async_trait::async_trait;
use healthcode_domain::{PersonId, Timestamp};
use serde::{Deserialize, Serialize};

/// A resident's bearer key, given once at registration or at a service counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentKey {
    pub key_hash: String,
    pub person: PersonId,
    /// How it was given: `registration`, `counter:<office>`, `demo`.
    pub label: String,
    pub created_at: Timestamp,
}

/// `proxy` acts for `dependant` (家庭代管): sees their code and history and files
/// complaints for them. Either of the two may end it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProxyLink {
    pub proxy: PersonId,
    pub dependant: PersonId,
    /// As the proxy stated it: `parent`, `child`, `spouse`, `relative`, `carer`.
    pub relation: String,
    pub created_at: Timestamp,
    /// The official who gave, at a service counter, the dependant's key that agreed to this
    /// link: they have seen that key, so what the proxy declares waits for another official.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreed_with_counter_key_of: Option<String>,
}

/// One read of a person's data by someone other than that person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAccess {
    pub person: PersonId,
    pub at: Timestamp,
    /// Who read: an account's username, `proxy:<person id>`, `venue:<id>/device:<id>`.
    pub actor: String,
    /// The reader's role (`proxy`, `local_office`, `verifier_device` …).
    pub role: String,
    /// Why, as the reader stated it or as the route implies.
    pub purpose: String,
    /// What was read: `code`, `log`, `checkins` …
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Access {
    pub id: i64,
    #[serde(flatten)]
    pub access: NewAccess,
}

/// A person's sealed details and the data key that opens them, wrapped by a master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPersonalData {
    pub person: PersonId,
    pub wrapped_key: Vec<u8>,
    pub sealed: Vec<u8>,
    pub updated_at: Timestamp,
}

/// What a destruction removed: rows per table, in a stable order.
pub type DestroyedRows = Vec<(String, u64)>;

/// The tables holding data about persons, emptied when the epidemic is declared over.
/// The transparency log stays: it holds salted commitments, never a person id, and with
/// the persons gone nobody can tie a commitment to anyone. Documents of kind `trace`
/// (contact lists) and `claim_code` go too; rule and designation proposals stay, and so do feed batches'
/// counters (their rejected rows, which name events and persons, go).
pub const PERSONAL_TABLES: &[&str] = &[
    "personal_data",
    "consents",
    "resident_keys",
    "proxies",
    "accesses",
    "complaints",
    "checkins",
    "visits_elsewhere",
    "person_log",
    "person_profiles",
    "decisions",
    "feed_rejections",
    "rejections",
    "bulk_pages",
    "reevaluation_queue",
    "codes",
    "stays",
    "evidence",
    "persons",
];

/// Where one person's rows are, table by column, in the order an erasure deletes them
/// (rows that refer to the person before the person). The rejection log and the
/// documents of printed cards and claim codes are searched as text besides
/// (`erase_person`): they name the person inside their bodies. Decisions and
/// contact traces that named the person are official records of others' acts and stay.
pub const PERSON_ROWS: &[(&str, &str)] = &[
    ("personal_data", "person_id"),
    ("consents", "person_id"),
    ("resident_keys", "person_id"),
    ("proxies", "proxy_id"),
    ("proxies", "dependant_id"),
    ("accesses", "person_id"),
    ("complaints", "person_id"),
    ("checkins", "person_id"),
    ("visits_elsewhere", "person_id"),
    ("person_log", "person_id"),
    ("person_profiles", "person_id"),
    ("reevaluation_queue", "person_id"),
    ("codes", "person_id"),
    ("stays", "person_id"),
    ("evidence", "person_id"),
    ("persons", "id"),
];

/// A person's consent to one extended function: when given, and when taken back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub person: PersonId,
    pub purpose: String,
    pub granted_at: Timestamp,
    /// Set when withdrawn; granting again clears it.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub revoked_at: Option<Timestamp>,
}

impl Consent {
    pub fn in_force(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// What a research aggregate counts: distinct persons, by residence area and one more
/// dimension. Never a per-person row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResearchMetric {
    /// Current codes, by area and colour.
    CodesByColour,
    /// Persons with a test recorded, by area and day (China Standard Time).
    TestedByDay,
    /// Persons with at least one check-in, by residence area and day.
    CheckedInByDay,
}

impl ResearchMetric {
    /// The query both backends run: columns area, key, persons. `?1` and `?2` are the
    /// window (`from <= at < to`, milliseconds) and `?3` the offset of China Standard
    /// Time, bound only for a metric that `counts_by_day` (PostgreSQL writes them `$1`…).
    pub fn sql(self) -> &'static str {
        match self {
            ResearchMetric::CodesByColour => {
                "SELECT coalesce(p.residence_area, ''), c.colour, count(*) FROM codes c JOIN persons p ON p.id = c.person_id
                 GROUP BY 1, 2"
            }
            ResearchMetric::TestedByDay => {
                "SELECT coalesce(p.residence_area, ''), CAST((e.at + ?3) / 86400000 AS TEXT), count(DISTINCT e.person_id)
                 FROM evidence e JOIN persons p ON p.id = e.person_id
                 WHERE e.kind = 'test' AND e.at >= ?1 AND e.at < ?2 GROUP BY 1, 2"
            }
            ResearchMetric::CheckedInByDay => {
                "SELECT coalesce(p.residence_area, ''), CAST((c.at + ?3) / 86400000 AS TEXT), count(DISTINCT c.person_id)
                 FROM checkins c JOIN persons p ON p.id = c.person_id
                 WHERE c.at >= ?1 AND c.at < ?2 GROUP BY 1, 2"
            }
        }
    }

    /// The daily metrics count within a window (and bind it); the current codes have none.
    pub fn counts_by_day(self) -> bool {
        !matches!(self, ResearchMetric::CodesByColour)
    }
}

/// One aggregate cell as the store counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResearchCount {
    /// The residence area as stored; empty for persons who gave none.
    pub area: String,
    /// The colour, or the day as days since 1970-01-01 in China Standard Time.
    pub key: String,
    pub persons: u64,
}

/// The day number (China Standard Time) of a time in milliseconds, as research counts use it.
pub const CST_OFFSET_MS: i64 = 8 * 3_600_000;

/// What a signed code carries about a person besides its colour. The code id is not the
/// person id (which departments use to submit evidence): a verifier that reads a code
/// learns nothing it could use against the rest of the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonProfile {
    pub person: PersonId,
    pub code_id: String,
    /// The name as a checkpoint shows it (张*丰); the full name is not kept.
    pub masked_name: Option<String>,
}

/// Residents and their data: keys, proxies, the access log, complaints, consents, sealed
/// personal data and its destruction, the profile a checkpoint sees, research counts.
#[async_trait]
pub trait ResidentStore: Send + Sync {
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
    /// Erases one person (PIPL art. 47): every row of `PERSON_ROWS` about them and every
    /// rejected input that names them, in one transaction, leaving no copy of the bytes
    /// where the backend can help it (SQLite: secure delete and a truncated write-ahead
    /// log). Returns the rows removed per table.
    async fn erase_person(&self, person: &PersonId) -> StoreResult<DestroyedRows>;
    /// How many complaints are open, wait for a department, and passed their deadline.
    async fn complaint_counts(&self) -> StoreResult<ComplaintCounts>;
    /// Distinct persons per cell of a research aggregate; for the daily metrics, only
    /// records with `from <= at < to`.
    async fn research_counts(
        &self,
        metric: ResearchMetric,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ResearchCount>>;
    /// Records a consent as given (`revoked_at` none) or withdrawn.
    async fn save_consent(&self, consent: &Consent) -> StoreResult<()>;
    /// A person's consents, in force or withdrawn, by purpose.
    async fn consents(&self, person: &PersonId) -> StoreResult<Vec<Consent>>;
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
    /// Creates or replaces a person's profile; a profile without a masked name keeps the
    /// one already stored.
    async fn save_profile(&self, profile: &PersonProfile) -> StoreResult<()>;
    async fn profile(&self, person: &PersonId) -> StoreResult<Option<PersonProfile>>;
    async fn person_by_code_id(&self, code_id: &str) -> StoreResult<Option<PersonId>>;
}
