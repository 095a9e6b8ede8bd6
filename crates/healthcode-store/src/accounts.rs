//! Records of who acts: staff and system accounts, their credentials (sessions and API
//! keys, stored only as hashes), management decisions awaiting or past approval, alarms.

use healthcode_domain::{DecisionColour, Department, PersonId, Role, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    /// Argon2 PHC string; `None` for a system account that only uses API keys.
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub role: Role,
    /// The area-code prefix (normal form) an office acts within; `None`: the whole region.
    pub jurisdiction: Option<String>,
    /// The department a data source speaks for.
    pub department: Option<Department>,
    pub created_at: Timestamp,
    pub disabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Session,
    ApiKey,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::ApiKey => "api_key",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [CredentialKind::Session, CredentialKind::ApiKey].into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub key_hash: String,
    pub account: String,
    pub kind: CredentialKind,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    /// Waiting for its second approval.
    Proposed,
    /// Approved twice and turned into evidence about each person named.
    Applied,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub by: String,
    pub at: Timestamp,
}

/// A management decision (R5/Y3): persons named, a colour, a legal basis and a term. It
/// changes nothing until two distinct provincial officers other than its proposer approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub id: String,
    pub proposed_by: String,
    pub proposed_at: Timestamp,
    pub colour: DecisionColour,
    pub until: Timestamp,
    pub basis: String,
    pub persons: Vec<PersonId>,
    pub approvals: Vec<Approval>,
    pub status: DecisionStatus,
    /// The proposing office's jurisdiction (area-code prefix); `None`: the whole region.
    #[serde(default)]
    pub jurisdiction: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAlarm {
    pub at: Timestamp,
    pub kind: String,
    pub jurisdiction: String,
    pub detail: String,
    /// Where the alarm is in the transparency log.
    pub log_index: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    pub id: i64,
    #[serde(flatten)]
    pub alarm: NewAlarm,
}
