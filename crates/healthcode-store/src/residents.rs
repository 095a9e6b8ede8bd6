//! Records of what residents hold and do: their keys (stored only as hashes), the family
//! members they act for (proxies), who read their data and why, and their complaints.

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
pub struct ProxyLink {
    pub proxy: PersonId,
    pub dependant: PersonId,
    /// As the proxy stated it: `parent`, `child`, `spouse`, `relative`, `carer`.
    pub relation: String,
    pub created_at: Timestamp,
}

/// One read of a person's data by someone other than that person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct Access {
    pub id: i64,
    #[serde(flatten)]
    pub access: NewAccess,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    Open,
    /// Answered: the complaint's grounds were found and the answer says what was done
    /// (a corrected record arrives as new evidence; nobody sets a colour).
    Upheld,
    /// Answered: no ground was found, and the answer says why.
    Dismissed,
    /// Answered: passed to the department whose evidence is disputed.
    Referred,
}

impl ComplaintStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintStatus::Open => "open",
            ComplaintStatus::Upheld => "upheld",
            ComplaintStatus::Dismissed => "dismissed",
            ComplaintStatus::Referred => "referred",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        use ComplaintStatus::*;
        [Open, Upheld, Dismissed, Referred].into_iter().find(|s| s.as_str() == text)
    }
}

/// A resident's complaint about their code (申诉), and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub id: String,
    pub person: PersonId,
    /// `self` or `proxy:<person id>`.
    pub filed_by: String,
    pub filed_at: Timestamp,
    /// The person's residence area (normal form), routing the complaint to the handlers
    /// whose jurisdiction covers it; `None` when the person gave none.
    pub area: Option<String>,
    /// What it is about: `colour`, `evidence`, `decision`, `other`.
    pub subject: String,
    pub text: String,
    /// The colour and reasons when it was filed, so a handler sees what was disputed.
    pub colour_at_filing: String,
    pub reasons_at_filing: Vec<String>,
    pub status: ComplaintStatus,
    pub answer: Option<ComplaintAnswer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintAnswer {
    pub by: String,
    pub at: Timestamp,
    pub text: String,
}

/// Which complaints to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplaintQuery {
    pub person: Option<PersonId>,
    pub open_only: bool,
    /// Only complaints whose area starts with this prefix (normal form).
    pub area_prefix: Option<String>,
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
    "person_log",
    "person_profiles",
    "decisions",
    "feed_rejections",
    "rejections",
    "reevaluation_queue",
    "codes",
    "stays",
    "evidence",
    "persons",
];

/// A person's consent to one extended function: when given, and when taken back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub person: PersonId,
    pub purpose: String,
    pub granted_at: Timestamp,
    /// Set when withdrawn; granting again clears it.
    pub revoked_at: Option<Timestamp>,
}

impl Consent {
    pub fn in_force(&self) -> bool {
        self.revoked_at.is_none()
    }
}
