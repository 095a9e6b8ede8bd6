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
