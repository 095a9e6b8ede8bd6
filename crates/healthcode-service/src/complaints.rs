//! Complaints (申诉): a resident, or a proxy for them, disputes their code — accepted once
//! (a second complaint about the same record joins the first), routed to the handlers of
//! the area the disputed record is about (else the residence), graded (urgent when a red
//! or yellow code blocks medical care or travel today) with a deadline, and answered by a
//! handler whose jurisdiction covers it. An answer never sets a colour: a wrong record is
//! retracted by the department that made it (`corrections`), and the code follows.

use healthcode_domain::{Colour, Duration, EventId, Evidence as Body, PersonId, Timestamp, ValidationError};
use healthcode_store::{
    Account, Complaint, ComplaintAnswer, ComplaintGrade, ComplaintQuery, ComplaintStatus, ComplaintStep,
};

use crate::residents::Reader;
use crate::secrets::new_id;
use crate::{Residents, ServiceError};

/// Open complaints one person may have at once: enough for every real dispute, too few
/// to flood the queue.
pub const MAX_OPEN_COMPLAINTS: usize = 5;
/// How long a handler has for an urgent complaint: the code blocks care or travel today.
pub const URGENT_COMPLAINT_HOURS: i64 = 4;
/// How long a handler has for any other complaint.
pub const NORMAL_COMPLAINT_HOURS: i64 = 72;
const SUBJECTS: &[&str] = &["colour", "evidence", "decision", "other"];
const BLOCKS: &[&str] = &["medical", "travel"];

/// What a resident writes when they complain.
#[derive(Debug, Clone, Default)]
pub struct ComplaintForm<'a> {
    pub subject: &'a str,
    pub text: &'a str,
    /// The id of the record they dispute (from their code's explanation), if any.
    pub event: Option<&'a str>,
    /// What the code blocks today: `medical` or `travel`.
    pub blocks: Option<&'a str>,
}

/// A complaint as filed: a new one, or the open one about the same record it joined.
#[derive(Debug, Clone)]
pub struct Filed {
    pub complaint: Complaint,
    pub joined: bool,
}

pub(crate) fn text_field(name: &str, text: &str, max: usize) -> Result<String, ServiceError> {
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

pub(crate) fn step(at: Timestamp, what: &str, by: &str, detail: impl Into<String>) -> ComplaintStep {
    ComplaintStep { at, what: what.into(), by: by.into(), detail: detail.into() }
}

/// Whether a handler's jurisdiction covers the complaint's area (the region's, when it
/// has none).
pub(crate) fn handles(account: &Account, complaint: &Complaint, region: &str) -> bool {
    match &account.jurisdiction {
        None => true,
        Some(j) => healthcode_domain::within(j, complaint.area.as_deref().unwrap_or(region)),
    }
}

impl Residents {
    /// Files a complaint for `person`, by the person or a proxy, with the code as it is now.
    pub async fn file_complaint(
        &self,
        person: &PersonId,
        by: &Reader,
        form: &ComplaintForm<'_>,
    ) -> Result<Filed, ServiceError> {
        let filed_by = by
            .resident_label()
            .ok_or_else(|| ServiceError::Forbidden("a complaint is filed by the person or their proxy".into()))?;
        let subject = form.subject.trim();
        if !SUBJECTS.contains(&subject) {
            return Err(
                ValidationError::field("subject", format!("`subject` is one of {}", SUBJECTS.join(", "))).into()
            );
        }
        let text = text_field("text", form.text, 2000)?;
        let blocks = match form.blocks.map(str::trim).filter(|b| !b.is_empty()) {
            None => None,
            Some(b) if BLOCKS.contains(&b) => Some(b.to_string()),
            Some(_) => {
                return Err(ValidationError::field("blocks", "`blocks` is medical or travel (or absent)").into());
            }
        };
        let record =
            self.evidence_store.person(person).await?.ok_or_else(|| ServiceError::UnknownPerson(person.clone()))?;
        let disputed = match form.event.map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(id) => Some(self.disputed_record(person, id).await?),
        };
        let now = self.clock.now();
        let code = self.codes.current_code(person).await?;
        let grade = if blocks.is_some() && code.colour != Colour::Green {
            ComplaintGrade::Urgent
        } else {
            ComplaintGrade::Normal
        };
        let due_at = now.saturating_add(Duration::hours(match grade {
            ComplaintGrade::Urgent => URGENT_COMPLAINT_HOURS,
            ComplaintGrade::Normal => NORMAL_COMPLAINT_HOURS,
        }));
        let by_word = if filed_by == "self" { "resident" } else { filed_by.as_str() };

        let open = ComplaintQuery { person: Some(person.clone()), open_only: true, ..ComplaintQuery::default() };
        let open = self.resident_store.complaints(&open, MAX_OPEN_COMPLAINTS).await?;
        // Accepted once: a complaint about a record already disputed joins that complaint.
        if let Some((event, _)) = &disputed {
            if let Some(mut first) = open.iter().find(|c| c.event.as_ref() == Some(event)).cloned() {
                first.steps.push(step(now, "joined", by_word, text));
                if grade == ComplaintGrade::Urgent && first.grade != ComplaintGrade::Urgent {
                    first.grade = ComplaintGrade::Urgent;
                    first.blocks = blocks;
                    first.due_at = Some(first.due_at.map_or(due_at, |d| d.min(due_at)));
                    first.steps.push(step(now, "graded", "system", grade.as_str()));
                }
                self.resident_store.save_complaint(&first).await?;
                return Ok(Filed { complaint: first, joined: true });
            }
        }
        if open.len() >= MAX_OPEN_COMPLAINTS {
            return Err(ServiceError::Conflict(format!(
                "{MAX_OPEN_COMPLAINTS} complaints are already open for this person; wait for their answers"
            )));
        }
        // Routed to the handlers of the area the record is about, else the residence.
        let area = match &disputed {
            Some((_, Body::Stay { area, .. })) => Some(area.normal().to_string()),
            _ => record.residence_area.map(|a| a.normal().to_string()),
        };
        let complaint = Complaint {
            id: new_id("c"),
            person: person.clone(),
            filed_by: filed_by.clone(),
            filed_at: now,
            area,
            subject: subject.to_string(),
            text,
            colour_at_filing: code.colour.as_str().to_string(),
            reasons_at_filing: code.reasons.iter().map(|r| r.rule.clone()).collect(),
            status: ComplaintStatus::Open,
            answer: None,
            event: disputed.map(|(id, _)| id),
            grade,
            blocks,
            due_at: Some(due_at),
            escalated_at: None,
            correction: None,
            steps: vec![step(now, "filed", by_word, grade.as_str())],
            attachments: Vec::new(),
        };
        self.resident_store.save_complaint(&complaint).await?;
        Ok(Filed { complaint, joined: false })
    }

    /// The record a complaint disputes: one of the person's own, and not a retraction.
    async fn disputed_record(&self, person: &PersonId, id: &str) -> Result<(EventId, Body), ServiceError> {
        let unknown = || {
            ValidationError::field(
                "event_id",
                format!("`{id}` is not one of your records; pick one from your code's explanation"),
            )
        };
        let id = EventId::parse(id).map_err(|_| unknown())?;
        let events = self.evidence_store.evidence_for(person).await?;
        match events.into_iter().find(|e| e.id == id) {
            Some(e) if !matches!(e.body, Body::Retraction { .. }) => Ok((e.id, e.body)),
            _ => Err(unknown().into()),
        }
    }

    pub async fn complaints_of(&self, person: &PersonId) -> Result<Vec<Complaint>, ServiceError> {
        let query = ComplaintQuery { person: Some(person.clone()), ..ComplaintQuery::default() };
        Ok(self.resident_store.complaints(&query, 100).await?)
    }

    /// The complaints within the account's jurisdiction, newest first (`escalated_only`:
    /// those whose deadline passed unhandled). Each listed person's access log records
    /// that this account saw their complaint.
    pub async fn complaint_queue(
        &self,
        account: &Account,
        open_only: bool,
        escalated_only: bool,
    ) -> Result<Vec<Complaint>, ServiceError> {
        let query = ComplaintQuery {
            open_only,
            escalated_only,
            area_prefix: account.jurisdiction.clone(),
            ..ComplaintQuery::default()
        };
        let list = self.resident_store.complaints(&query, 200).await?;
        let persons: Vec<_> = list.iter().map(|c| c.person.clone()).collect();
        self.accesses.record_staff(account, &persons, "complaint queue", "complaint").await?;
        Ok(list)
    }

    /// An open complaint the handler's jurisdiction covers.
    pub(crate) async fn handled_complaint(&self, handler: &Account, id: &str) -> Result<Complaint, ServiceError> {
        let complaint = self
            .resident_store
            .complaint(id)
            .await?
            .ok_or_else(|| ValidationError::field("complaint", format!("no complaint `{id}`")))?;
        if !handles(handler, &complaint, self.keys.ring().region()) {
            return Err(ServiceError::Forbidden("this complaint is outside your jurisdiction".into()));
        }
        if handler.role == healthcode_domain::Role::ProvincialOffice && complaint.escalated_at.is_none() {
            return Err(ServiceError::Forbidden(
                "the handlers of its area answer a complaint; the provincial office takes it over once it is past its \
                 deadline"
                    .into(),
            ));
        }
        if complaint.status != ComplaintStatus::Open {
            return Err(ServiceError::Conflict("this complaint has already been answered".into()));
        }
        Ok(complaint)
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
        let mut complaint = self.handled_complaint(handler, id).await?;
        let now = self.clock.now();
        complaint.status = status;
        complaint.steps.push(step(now, "answered", &handler.username, status.as_str()));
        complaint.answer = Some(ComplaintAnswer { by: handler.username.clone(), at: now, text });
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
