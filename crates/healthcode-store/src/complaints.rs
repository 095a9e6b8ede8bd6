//! Complaints (申诉) as records: what a resident disputes, how urgent it is and by when it
//! is due, the correction asked of the department that made the disputed record, and
//! every step, which the resident reads. Stored whole as JSON; the columns beside it
//! (`status`, `area`, `awaiting`, `due_at`, `escalated`) are what queues are read by.

use healthcode_domain::{Department, EventId, PersonId, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// How fast a complaint must be handled (分级负责).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintGrade {
    /// A red or yellow code blocks medical care or travel today.
    Urgent,
    #[default]
    Normal,
}

impl ComplaintGrade {
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintGrade::Urgent => "urgent",
            ComplaintGrade::Normal => "normal",
        }
    }
}

/// A resident's complaint about their code (申诉), and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Complaint {
    pub id: String,
    pub person: PersonId,
    /// `self` or `proxy:<person id>`.
    pub filed_by: String,
    pub filed_at: Timestamp,
    /// The area (normal form) whose handlers receive the complaint: the disputed stay's
    /// area, else the person's residence; `None` when neither is known (the provincial
    /// office's handlers then).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub area: Option<String>,
    /// What it is about: `colour`, `evidence`, `decision`, `other`.
    pub subject: String,
    pub text: String,
    /// The colour and reasons when it was filed, so a handler sees what was disputed.
    pub colour_at_filing: String,
    pub reasons_at_filing: Vec<String>,
    pub status: ComplaintStatus,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub answer: Option<ComplaintAnswer>,
    /// The record the resident disputes, if they named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventId>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub grade: ComplaintGrade,
    /// What the code blocks today, as the resident said: `medical` or `travel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<String>,
    /// By when it must be handled (from the grade); `None` in complaints filed before
    /// complaints had deadlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    /// When its deadline passed unhandled and it went to the provincial office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<Timestamp>,
    /// The correction asked of the department that made the disputed record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<CorrectionRequest>,
    /// What happened, in order: what the resident reads.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub steps: Vec<ComplaintStep>,
    /// Files the resident added (a test report); their bytes are kept sealed apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
}

/// What a complaint lists of an attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentRef {
    pub id: String,
    pub content_type: String,
    pub size: usize,
    pub added_at: Timestamp,
}

impl Complaint {
    /// The department a correction request waits for, if one does.
    pub fn awaiting(&self) -> Option<Department> {
        match &self.correction {
            Some(c) if c.answer.is_none() && self.status == ComplaintStatus::Open => Some(c.department),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintAnswer {
    pub by: String,
    pub at: Timestamp,
    pub text: String,
}

/// A handler asks the department whose record is disputed to check it, and to retract or
/// correct it if it is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrectionRequest {
    pub department: Department,
    pub event: EventId,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub text: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub answer: Option<CorrectionAnswer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrectionAnswer {
    /// `retracted` (by the retraction named) or `declined` (the record stands).
    pub outcome: String,
    pub by: String,
    pub at: Timestamp,
    pub text: String,
}

/// One step of a complaint, as its resident reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintStep {
    pub at: Timestamp,
    /// `filed`, `joined`, `correction_requested`, `retracted`, `correction_declined`,
    /// `colour_changed`, `escalated`, `answered`.
    pub what: String,
    /// Who took it: an account, `resident`, or `system`.
    pub by: String,
    pub detail: String,
}

/// Which complaints to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplaintQuery {
    pub person: Option<PersonId>,
    pub open_only: bool,
    /// Only complaints whose area starts with this prefix (normal form).
    pub area_prefix: Option<String>,
    /// Only open complaints whose correction request waits for this department.
    pub awaiting: Option<Department>,
    /// Only open complaints waiting for any department (with `awaiting` unset).
    pub awaiting_any: bool,
    /// Only open complaints not yet escalated whose deadline is at or before this time.
    pub due_by: Option<Timestamp>,
    /// Only escalated complaints.
    pub escalated_only: bool,
}

/// Complaints by where they stand, for the dashboard (counts only, nobody's data).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintCounts {
    pub open: u64,
    /// Open, with a correction request waiting for a department.
    pub awaiting_department: u64,
    /// Open, past their deadline and sent to the provincial office.
    pub escalated: u64,
}

/// The counting query, the same on both backends (booleans as 0/1 columns in SQLite,
/// `escalated` compared as a boolean in PostgreSQL: each backend gives its own test).
pub fn complaint_counts_sql(escalated_is_true: &str) -> String {
    format!(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN awaiting IS NOT NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN {escalated_is_true} THEN 1 ELSE 0 END), 0) FROM complaints WHERE status = 'open'"
    )
}
