//! The credit record for concealment (seed 001: 对故意隐瞒…的纳入信用记录): recorded only
//! as a decision — an office proposes it about a person in its jurisdiction with the legal
//! basis and the facts, and two provincial officers other than the proposer approve it.
//! The person sees it with its basis and may appeal within the window; it is in the
//! transparency log (never whom). It never changes a colour: no evidence is made of it.

use healthcode_domain::{Duration, PersonId, Role, Timestamp, ValidationError};
use healthcode_log::{CreditRecordApproval, Entry};
use healthcode_store::{Account, Approval};
use serde::{Deserialize, Serialize};

use crate::approvals::{another_officer, approvals_kept_changing, may_approve, APPROVAL_ATTEMPTS};
use crate::documents::Documents;
use crate::residents::covers;
use crate::secrets::new_id;
use crate::{Governance, ServiceError};

const CREDIT_DOCUMENTS: &str = "credit_record";
/// The claim a credit record's second approval writes with its log entry.
const CREDIT_MADE_ONCE: &str = "credit_record_made";
/// How long the person has to appeal once the record is made.
pub const CREDIT_APPEAL_DAYS: i64 = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CreditStatus {
    /// Waiting for two approvals; the person is not told yet and nothing is recorded.
    Proposed,
    Recorded,
}

/// A credit record, proposed or made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditRecord {
    pub id: String,
    pub person: PersonId,
    /// The law or regulation it rests on.
    pub basis: String,
    /// What was concealed, as the office established it.
    pub facts: String,
    pub proposed_by: String,
    pub proposed_at: Timestamp,
    pub approvals: Vec<Approval>,
    pub status: CreditStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<Timestamp>,
    /// Until when the person may appeal (set when recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal_until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<CreditAppeal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditAppeal {
    pub at: Timestamp,
    pub text: String,
}

fn checked(name: &str, text: &str, min: usize, max: usize) -> Result<String, ServiceError> {
    let text = text.trim();
    let n = text.chars().count();
    if n < min || n > max || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValidationError::field(name, format!("`{name}` is {min} to {max} characters of text")).into());
    }
    Ok(text.to_string())
}

impl Governance {
    /// An office proposes a credit record about a person living in its jurisdiction.
    pub async fn propose_credit_record(
        &self,
        by: &Account,
        person: &PersonId,
        basis: &str,
        facts: &str,
    ) -> Result<CreditRecord, ServiceError> {
        if !matches!(by.role, Role::LocalOffice | Role::ProvincialOffice) {
            return Err(ServiceError::Forbidden(
                "only a local or provincial epidemic office proposes credit records".into(),
            ));
        }
        let basis = checked("basis", basis, 4, 500)?;
        let facts = checked("facts", facts, 10, 1000)?;
        self.check_covers(by, person).await?;
        let record = CreditRecord {
            id: new_id("cr-"),
            person: person.clone(),
            basis,
            facts,
            proposed_by: by.username.clone(),
            proposed_at: self.clock.now(),
            approvals: Vec::new(),
            status: CreditStatus::Proposed,
            recorded_at: None,
            appeal_until: None,
            appeal: None,
        };
        self.documents.save(CREDIT_DOCUMENTS, &record.id, record.proposed_at, &record).await?;
        Ok(record)
    }

    /// One approval; the second distinct one makes the record, tells the person (it is
    /// theirs to read) and logs it. The second approval and its log entry are one write,
    /// claimed (two second approvals at once log one); a first approval is saved over the
    /// record as it was read, and read again if another landed in between.
    pub async fn approve_credit_record(&self, by: &Account, id: &str) -> Result<CreditRecord, ServiceError> {
        may_approve(by, "credit record")?;
        self.alarms.if_fresh_approver(by, "credit record", self.keys.ring().region()).await?;
        for _ in 0..APPROVAL_ATTEMPTS {
            let (mut record, seen) = self
                .documents
                .load_seen::<CreditRecord>(CREDIT_DOCUMENTS, id)
                .await?
                .ok_or_else(|| ValidationError::field("record", format!("no credit record `{id}`")))?;
            if record.status != CreditStatus::Proposed {
                return Err(ServiceError::Conflict("this credit record is already made".into()));
            }
            another_officer(by, "credit record", &record.proposed_by, &record.approvals)?;
            self.check_covers(by, &record.person).await?;
            let now = self.clock.now();
            record.approvals.push(Approval { by: by.username.clone(), at: now });
            if record.approvals.len() < 2 {
                if self.documents.replace(CREDIT_DOCUMENTS, id, record.proposed_at, &record, &seen).await? {
                    return Ok(record);
                }
                continue;
            }
            record.status = CreditStatus::Recorded;
            record.recorded_at = Some(now);
            record.appeal_until = Some(now.saturating_add(Duration::days(CREDIT_APPEAL_DAYS)));
            let entry = Entry::CreditRecordApproval(CreditRecordApproval {
                at: now.as_millis(),
                record_id: record.id.clone(),
                basis: record.basis.clone(),
                proposed_by: record.proposed_by.clone(),
                approvers: record.approvals.iter().map(|a| a.by.clone()).collect(),
            });
            let saved = Documents::write(CREDIT_DOCUMENTS, id, record.proposed_at, &record)?;
            let once = Documents::claim(CREDIT_MADE_ONCE, id, now, &now)?;
            return match self.log.record_with(&[entry], &[saved, once]).await {
                Ok(_) => Ok(record),
                Err(ServiceError::Conflict(_)) => Err(ServiceError::Conflict(
                    "another officer's approval made this credit record a moment earlier; it is logged once".into(),
                )),
                Err(e) => Err(e),
            };
        }
        Err(approvals_kept_changing("credit record"))
    }

    /// The records made about a person (not the proposals): what they and those who may
    /// read their data see.
    pub async fn credit_records_of(&self, person: &PersonId) -> Result<Vec<CreditRecord>, ServiceError> {
        let all: Vec<CreditRecord> = self.documents.load_all(CREDIT_DOCUMENTS).await?;
        Ok(all.into_iter().filter(|r| &r.person == person && r.status == CreditStatus::Recorded).collect())
    }

    /// The person appeals a record within its window, once.
    pub async fn appeal_credit_record(
        &self,
        person: &PersonId,
        id: &str,
        text: &str,
    ) -> Result<CreditRecord, ServiceError> {
        let text = checked("text", text, 5, 2000)?;
        let mut record = self.credit_record(id).await?;
        if &record.person != person || record.status != CreditStatus::Recorded {
            return Err(ValidationError::field("record", format!("no credit record `{id}` of yours")).into());
        }
        let now = self.clock.now();
        if record.appeal.is_some() {
            return Err(ServiceError::Conflict("this record was appealed already".into()));
        }
        if record.appeal_until.is_some_and(|until| now > until) {
            return Err(ServiceError::Conflict(format!(
                "the {CREDIT_APPEAL_DAYS}-day window to appeal this record has closed; complain instead"
            )));
        }
        record.appeal = Some(CreditAppeal { at: now, text });
        self.documents.save(CREDIT_DOCUMENTS, id, record.proposed_at, &record).await?;
        Ok(record)
    }

    async fn credit_record(&self, id: &str) -> Result<CreditRecord, ServiceError> {
        self.documents
            .load::<CreditRecord>(CREDIT_DOCUMENTS, id)
            .await?
            .ok_or_else(|| ValidationError::field("record", format!("no credit record `{id}`")).into())
    }

    async fn check_covers(&self, by: &Account, person: &PersonId) -> Result<(), ServiceError> {
        let record =
            self.evidence_store.person(person).await?.ok_or_else(|| ServiceError::UnknownPerson(person.clone()))?;
        if !covers(by, &record, self.keys.ring().region()) {
            return Err(ServiceError::Forbidden(
                "this person lives outside your jurisdiction; their own district's office decides about them".into(),
            ));
        }
        Ok(())
    }
}
