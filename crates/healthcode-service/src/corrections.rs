//! Complaints that end in a fix: a handler asks the department whose record is disputed
//! to check it; the department sees its queue of such requests and either retracts the
//! record (a retraction through `/v1/events`, which is evidence and is logged) or
//! declines with a reason. When the retraction arrives the complaint follows by itself:
//! the step is recorded, the code is re-read, and if its colour changed the complaint
//! closes as upheld; otherwise it goes back to its handler. A complaint whose deadline
//! passes unhandled goes to the provincial office, with an alarm.

use healthcode_domain::{Department, EventId, Evidence as Body, PersonId, Role, Timestamp, ValidationError};
use healthcode_store::{
    Account, Complaint, ComplaintAnswer, ComplaintQuery, ComplaintStatus, CorrectionAnswer, CorrectionRequest,
};
use serde::Serialize;

use crate::complaints::{handles, step, text_field};
use crate::{Residents, ServiceError};

/// How many complaints one follow-up pass looks at; the next pass takes the rest.
const FOLLOW_UP_BATCH: usize = 500;

/// A correction request as the department reads it: the record to check and why, never
/// the resident's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrectionView {
    pub complaint_id: String,
    pub person_id: PersonId,
    pub event_id: EventId,
    #[serde(rename = "event_type")]
    pub kind: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub recorded_at: Option<Timestamp>,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub text: String,
    pub grade: &'static str,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub due_at: Option<Timestamp>,
}

/// What a follow-up pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    /// Complaints whose disputed record was retracted.
    pub retracted: usize,
    /// Of those, complaints closed because the code changed.
    pub closed: usize,
    /// Complaints whose deadline passed, sent to the provincial office.
    pub escalated: usize,
}

impl Residents {
    /// A handler asks `department` to check the record the complaint disputes.
    pub async fn request_correction(
        &self,
        handler: &Account,
        id: &str,
        department: &str,
        text: &str,
    ) -> Result<Complaint, ServiceError> {
        let department =
            Department::parse_named(department.trim()).map_err(|e| ValidationError::field("department", e.message))?;
        let text = text_field("text", text, 1000)?;
        let mut complaint = self.handled_complaint(handler, id).await?;
        let event = complaint.event.clone().ok_or_else(|| {
            ValidationError::field(
                "complaint",
                "the complaint names no record; ask the resident which record is wrong, or answer the complaint",
            )
        })?;
        if complaint.awaiting().is_some() {
            return Err(ServiceError::Conflict("a correction request for this complaint is already waiting".into()));
        }
        let record = self.evidence_store.evidence_for(&complaint.person).await?.into_iter().find(|e| e.id == event);
        let kind = record
            .map(|e| e.body.kind())
            .ok_or_else(|| ServiceError::Conflict(format!("the disputed record `{event}` is no longer stored")))?;
        if !department.may_submit(kind) {
            return Err(ValidationError::field(
                "department",
                format!("the {department} department does not make `{kind}` records; ask the one that does"),
            )
            .into());
        }
        let now = self.clock.now();
        complaint.steps.push(step(now, "correction_requested", &handler.username, department.as_str()));
        complaint.correction = Some(CorrectionRequest {
            department,
            event,
            requested_by: handler.username.clone(),
            requested_at: now,
            text,
            answer: None,
        });
        self.resident_store.save_complaint(&complaint).await?;
        self.accesses
            .record_staff(
                handler,
                std::slice::from_ref(&complaint.person),
                &format!("ask for a correction, complaint {id}"),
                "complaint",
            )
            .await?;
        Ok(complaint)
    }

    /// The correction requests waiting for the data source's department, oldest due
    /// first. Each listed person's access log records that the department saw them.
    pub async fn correction_queue(&self, source: &Account) -> Result<Vec<CorrectionView>, ServiceError> {
        let department = department_of(source)?;
        let query = ComplaintQuery { awaiting: Some(department), ..ComplaintQuery::default() };
        let list = self.resident_store.complaints(&query, 200).await?;
        let mut views = Vec::with_capacity(list.len());
        for c in &list {
            views.extend(self.correction_view(c).await?);
        }
        views.sort_by_key(|v| v.due_at);
        let persons: Vec<_> = views.iter().map(|v| v.person_id.clone()).collect();
        self.accesses.record_staff(source, &persons, "correction requests", "complaint").await?;
        Ok(views)
    }

    /// One correction request waiting for the data source's department (the one it acts
    /// on; it saw it, and the read was logged, in its queue).
    pub async fn waiting_correction(&self, source: &Account, id: &str) -> Result<CorrectionView, ServiceError> {
        let department = department_of(source)?;
        let complaint = self.resident_store.complaint(id).await?.filter(|c| c.awaiting() == Some(department));
        let view = match complaint {
            Some(c) => self.correction_view(&c).await?,
            None => None,
        };
        view.ok_or_else(|| {
            ValidationError::field("complaint", format!("no correction request `{id}` waits for you")).into()
        })
    }

    async fn correction_view(&self, c: &Complaint) -> Result<Option<CorrectionView>, ServiceError> {
        let Some(request) = &c.correction else { return Ok(None) };
        let record = self.evidence_store.evidence_for(&c.person).await?.into_iter().find(|e| e.id == request.event);
        Ok(Some(CorrectionView {
            complaint_id: c.id.clone(),
            person_id: c.person.clone(),
            event_id: request.event.clone(),
            kind: record.as_ref().map(|e| e.body.kind().to_string()).unwrap_or_default(),
            recorded_at: record.map(|e| e.at),
            requested_by: request.requested_by.clone(),
            requested_at: request.requested_at,
            text: request.text.clone(),
            grade: c.grade.as_str(),
            due_at: c.due_at,
        }))
    }

    /// The department finds its record right: the request is answered, and the complaint
    /// goes back to its handler.
    pub async fn decline_correction(&self, source: &Account, id: &str, text: &str) -> Result<Complaint, ServiceError> {
        let department = department_of(source)?;
        let text = text_field("text", text, 1000)?;
        let mut complaint =
            self.resident_store.complaint(id).await?.filter(|c| c.awaiting() == Some(department)).ok_or_else(|| {
                ValidationError::field("complaint", format!("no correction request `{id}` waits for you"))
            })?;
        let now = self.clock.now();
        if let Some(request) = complaint.correction.as_mut() {
            request.answer = Some(CorrectionAnswer {
                outcome: "declined".into(),
                by: source.username.clone(),
                at: now,
                text: text.clone(),
            });
        }
        complaint.steps.push(step(now, "correction_declined", &source.username, text));
        self.resident_store.save_complaint(&complaint).await?;
        Ok(complaint)
    }

    /// Follows up the complaints: those whose disputed record was retracted (closed when
    /// the code changed), and those whose deadline passed (escalated). Run by the
    /// scheduler, and after a batch of evidence that held retractions.
    pub async fn follow_up_complaints(&self) -> Result<FollowUp, ServiceError> {
        let mut done = FollowUp::default();
        let waiting = ComplaintQuery { awaiting_any: true, ..ComplaintQuery::default() };
        for complaint in self.resident_store.complaints(&waiting, FOLLOW_UP_BATCH).await? {
            if let Some(closed) = self.follow_up_retraction(complaint).await? {
                done.retracted += 1;
                done.closed += usize::from(closed);
            }
        }
        let due = ComplaintQuery { due_by: Some(self.clock.now()), ..ComplaintQuery::default() };
        for complaint in self.resident_store.complaints(&due, FOLLOW_UP_BATCH).await? {
            self.escalate(complaint).await?;
            done.escalated += 1;
        }
        Ok(done)
    }

    /// `None` if the disputed record is not retracted yet; else whether the complaint closed.
    async fn follow_up_retraction(&self, mut complaint: Complaint) -> Result<Option<bool>, ServiceError> {
        let Some(request) = complaint.correction.clone() else { return Ok(None) };
        let events = self.evidence_store.evidence_for(&complaint.person).await?;
        let retraction = events.iter().find_map(|e| match &e.body {
            Body::Retraction { retracts, reason } if *retracts == request.event => Some((e, reason)),
            _ => None,
        });
        let Some((retraction, reason)) = retraction else { return Ok(None) };
        let now = self.clock.now();
        let department = request.department.to_string();
        if let Some(r) = complaint.correction.as_mut() {
            r.answer = Some(CorrectionAnswer {
                outcome: "retracted".into(),
                by: department.clone(),
                at: retraction.at,
                text: reason.clone(),
            });
        }
        complaint.steps.push(step(retraction.at, "retracted", &department, format!("{}: {reason}", retraction.id)));
        let code = self.codes.current_code(&complaint.person).await?;
        let colour = code.colour.as_str();
        let closed = colour != complaint.colour_at_filing;
        if closed {
            complaint.steps.push(step(
                now,
                "colour_changed",
                "system",
                format!("{} → {colour}", complaint.colour_at_filing),
            ));
            complaint.status = ComplaintStatus::Upheld;
            complaint.answer = Some(ComplaintAnswer {
                by: request.requested_by.clone(),
                at: now,
                text: format!(
                    "The {department} department withdrew the disputed record ({reason}). Your code is now {colour}."
                ),
            });
            complaint.steps.push(step(now, "answered", &request.requested_by, ComplaintStatus::Upheld.as_str()));
        } else {
            let reasons: Vec<&str> = code.reasons.iter().map(|r| r.rule.as_str()).collect();
            complaint.steps.push(step(
                now,
                "colour_unchanged",
                "system",
                format!("{colour} ({}): the handler looks again", reasons.join(", ")),
            ));
        }
        self.resident_store.save_complaint(&complaint).await?;
        Ok(Some(closed))
    }

    async fn escalate(&self, mut complaint: Complaint) -> Result<(), ServiceError> {
        let now = self.clock.now();
        complaint.escalated_at = Some(now);
        complaint.steps.push(step(now, "escalated", "system", "provincial office"));
        self.resident_store.save_complaint(&complaint).await?;
        let region = self.keys.ring().region().to_string();
        let detail = format!(
            "complaint {} ({}) was due at {} and is still open; it is now the provincial office's",
            complaint.id,
            complaint.grade.as_str(),
            complaint.due_at.map(|t| t.to_string()).unwrap_or_default()
        );
        self.codes.alarms.raise("complaint_overdue", complaint.area.as_deref().unwrap_or(&region), detail).await
    }

    /// Whether the account may handle this complaint (its jurisdiction covers it).
    pub fn handles(&self, account: &Account, complaint: &Complaint) -> bool {
        handles(account, complaint, self.keys.ring().region())
    }
}

fn department_of(source: &Account) -> Result<Department, ServiceError> {
    match (source.role, source.department) {
        (Role::DataSource, Some(d)) => Ok(d),
        _ => Err(ServiceError::Forbidden("correction requests are read by the department's data source".into())),
    }
}
