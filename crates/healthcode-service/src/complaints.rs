//! Complaints (申诉): a resident, or a proxy for them, disputes their code; a complaint
//! handler whose jurisdiction covers the person answers. An answer never sets a colour:
//! when a complaint is upheld, the department whose record was wrong corrects it, and the
//! corrected evidence changes the code like any other.

use healthcode_domain::ValidationError;
use healthcode_store::{Account, Complaint, ComplaintAnswer, ComplaintQuery, ComplaintStatus};

use crate::residents::{covers, Reader};
use crate::secrets::new_id;
use crate::{Residents, ServiceError};

/// Open complaints one person may have at once: enough for every real dispute, too few
/// to flood the queue.
pub const MAX_OPEN_COMPLAINTS: usize = 5;
const SUBJECTS: &[&str] = &["colour", "evidence", "decision", "other"];

fn text_field(name: &str, text: &str, max: usize) -> Result<String, ServiceError> {
    let text = text.trim();
    let n = text.chars().count();
    if n < 5 || n > max {
        return Err(ValidationError::field(name, format!("`{name}` is 5 to {max} characters")).into());
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValidationError::field(name, format!("`{name}` contains control characters")).into());
    }
    Ok(text.to_string())
}

impl Residents {
    /// Files a complaint for `person`, by the person or a proxy, with the code as it is now.
    pub async fn file_complaint(
        &self,
        person: &healthcode_domain::PersonId,
        by: &Reader,
        subject: &str,
        text: &str,
    ) -> Result<Complaint, ServiceError> {
        let filed_by = match by {
            Reader::Person(_) => "self".to_string(),
            Reader::Proxy(proxy) => format!("proxy:{proxy}"),
            Reader::Staff { .. } => {
                return Err(ServiceError::Forbidden("a complaint is filed by the person or their proxy".into()))
            }
        };
        let subject = subject.trim();
        if !SUBJECTS.contains(&subject) {
            return Err(
                ValidationError::field("subject", format!("`subject` is one of {}", SUBJECTS.join(", "))).into()
            );
        }
        let text = text_field("text", text, 2000)?;
        let record =
            self.evidence_store.person(person).await?.ok_or_else(|| ServiceError::UnknownPerson(person.clone()))?;
        let open = ComplaintQuery { person: Some(person.clone()), open_only: true, area_prefix: None };
        if self.resident_store.complaints(&open, MAX_OPEN_COMPLAINTS).await?.len() >= MAX_OPEN_COMPLAINTS {
            return Err(ServiceError::Conflict(format!(
                "{MAX_OPEN_COMPLAINTS} complaints are already open for this person; wait for their answers"
            )));
        }
        let code = self.codes.current_code(person).await?;
        let complaint = Complaint {
            id: new_id("c"),
            person: person.clone(),
            filed_by,
            filed_at: self.clock.now(),
            area: record.residence_area.map(|a| a.normal().to_string()),
            subject: subject.to_string(),
            text,
            colour_at_filing: code.colour.as_str().to_string(),
            reasons_at_filing: code.reasons.iter().map(|r| r.rule.clone()).collect(),
            status: ComplaintStatus::Open,
            answer: None,
        };
        self.resident_store.save_complaint(&complaint).await?;
        Ok(complaint)
    }

    pub async fn complaints_of(&self, person: &healthcode_domain::PersonId) -> Result<Vec<Complaint>, ServiceError> {
        let query = ComplaintQuery { person: Some(person.clone()), ..ComplaintQuery::default() };
        Ok(self.resident_store.complaints(&query, 100).await?)
    }

    /// The complaints within the account's jurisdiction, newest first. Each listed
    /// person's access log records that this account saw their complaint.
    pub async fn complaint_queue(&self, account: &Account, open_only: bool) -> Result<Vec<Complaint>, ServiceError> {
        let query = ComplaintQuery { person: None, open_only, area_prefix: account.jurisdiction.clone() };
        let list = self.resident_store.complaints(&query, 200).await?;
        let persons: Vec<_> = list.iter().map(|c| c.person.clone()).collect();
        self.accesses.record_staff(account, &persons, "complaint queue", "complaint").await?;
        Ok(list)
    }

    /// Answers an open complaint: upheld, dismissed or referred, with a text the person reads.
    pub async fn answer_complaint(
        &self,
        handler: &Account,
        id: &str,
        status: &str,
        text: &str,
    ) -> Result<Complaint, ServiceError> {
        let status = match ComplaintStatus::parse(status.trim()) {
            Some(s) if s != ComplaintStatus::Open => s,
            _ => return Err(ValidationError::field("status", "`status` is one of upheld, dismissed, referred").into()),
        };
        let text = text_field("text", text, 2000)?;
        let mut complaint = self
            .resident_store
            .complaint(id)
            .await?
            .ok_or_else(|| ValidationError::field("complaint", format!("no complaint `{id}`")))?;
        let person = self.evidence_store.person(&complaint.person).await?;
        if !person.as_ref().is_some_and(|p| covers(handler, p, self.keys.ring().region())) {
            return Err(ServiceError::Forbidden("this complaint is outside your jurisdiction".into()));
        }
        if complaint.status != ComplaintStatus::Open {
            return Err(ServiceError::Conflict("this complaint has already been answered".into()));
        }
        complaint.status = status;
        complaint.answer = Some(ComplaintAnswer { by: handler.username.clone(), at: self.clock.now(), text });
        self.resident_store.save_complaint(&complaint).await?;
        self.accesses
            .record_staff(
                handler,
                std::slice::from_ref(&complaint.person),
                &format!("answer complaint {id}"),
                "complaint",
            )
            .await?;
        Ok(complaint)
    }
}
