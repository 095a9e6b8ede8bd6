//! Contact tracing from venue check-ins. For a confirmed case, the persons admitted to a
//! venue within a window of the case's own admissions during the contagious period are
//! listed with how close in time they were. Nothing turns red from the list itself: a
//! health officer confirms whom it names, and only the confirmation becomes `close_contact`
//! evidence, submitted as the health department's.

use std::collections::BTreeMap;

use healthcode_domain::{AccessOutcome, Department, PersonId, Role, Timestamp, ValidationError};
use healthcode_store::Account;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::ingest::Source;
use crate::secrets::new_id;
use crate::{AtPolicy, HealthService, ServiceError};

pub(crate) const TRACE_KIND: &str = "trace";
const KIND: &str = TRACE_KIND;
/// The longest contagious period one trace covers.
const MAX_PERIOD_DAYS: i64 = 28;
/// The check-ins read for one venue visit or one case.
const MAX_CHECKINS: usize = 10_000;

/// A person found near the case: the venue and the two times, nearest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub person: PersonId,
    pub venue: String,
    pub case_at: Timestamp,
    pub contact_at: Timestamp,
    pub gap_minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub id: String,
    pub case: PersonId,
    pub from: Timestamp,
    pub to: Timestamp,
    pub window_minutes: i64,
    pub traced_by: String,
    pub traced_at: Timestamp,
    pub contacts: Vec<Contact>,
    pub confirmed: Vec<PersonId>,
    pub confirmed_by: Option<String>,
}

fn officer(by: &Account) -> Result<(), ServiceError> {
    match by.role {
        Role::LocalOffice | Role::ProvincialOffice => Ok(()),
        _ => Err(ServiceError::Forbidden("contact tracing is done by an epidemic office's health officers".into())),
    }
}

impl HealthService {
    pub async fn trace_contacts(
        &self,
        by: &Account,
        case: PersonId,
        from: Timestamp,
        to: Timestamp,
        window_minutes: i64,
    ) -> Result<Trace, ServiceError> {
        officer(by)?;
        if !(1..=240).contains(&window_minutes) {
            return Err(ValidationError::field("window_minutes", "a window of 1 to 240 minutes").into());
        }
        if to <= from || to.as_millis() - from.as_millis() > MAX_PERIOD_DAYS * 86_400_000 {
            return Err(ValidationError::field(
                "to",
                format!("the period ends after it starts, within {MAX_PERIOD_DAYS} days"),
            )
            .into());
        }
        if self.store.person(&case).await?.is_none() {
            return Err(ServiceError::UnknownPerson(case));
        }
        let window = window_minutes * 60_000;
        let admitted = |outcome: AccessOutcome| outcome != AccessOutcome::Deny;
        let mut nearest: BTreeMap<PersonId, Contact> = BTreeMap::new();
        for visit in self.store.checkins_of_person(&case, from, to, MAX_CHECKINS).await? {
            let visit = visit.checkin;
            if !admitted(visit.outcome) {
                continue;
            }
            let around = (
                Timestamp::from_millis(visit.at.as_millis() - window),
                Timestamp::from_millis(visit.at.as_millis() + window + 1),
            );
            for other in self.store.checkins_at_venue(&visit.venue, around.0, around.1, MAX_CHECKINS).await? {
                let other = other.checkin;
                if other.person == case || !admitted(other.outcome) {
                    continue;
                }
                let gap_minutes = (other.at.as_millis() - visit.at.as_millis()).abs() / 60_000;
                let contact = Contact {
                    person: other.person.clone(),
                    venue: visit.venue.clone(),
                    case_at: visit.at,
                    contact_at: other.at,
                    gap_minutes,
                };
                nearest
                    .entry(other.person)
                    .and_modify(|c| {
                        if gap_minutes < c.gap_minutes {
                            *c = contact.clone();
                        }
                    })
                    .or_insert(contact);
            }
        }
        let mut contacts: Vec<Contact> = nearest.into_values().collect();
        contacts.sort_by_key(|c| (c.gap_minutes, c.contact_at));
        let trace = Trace {
            id: new_id("trace"),
            case,
            from,
            to,
            window_minutes,
            traced_by: by.username.clone(),
            traced_at: self.clock.now(),
            contacts,
            confirmed: Vec::new(),
            confirmed_by: None,
        };
        self.save_trace(&trace).await?;
        // The case's and each contact's check-ins were read: each of them sees it.
        let read: Vec<PersonId> =
            std::iter::once(trace.case.clone()).chain(trace.contacts.iter().map(|c| c.person.clone())).collect();
        self.record_staff_accesses(by, &read, &format!("contact tracing {}", trace.id), "check-ins").await?;
        Ok(trace)
    }

    /// The officer's confirmation: the persons named (from the trace's list) become close
    /// contacts, exposed when they were at the venue.
    pub async fn confirm_trace(&self, by: &Account, id: &str, persons: &[PersonId]) -> Result<Trace, ServiceError> {
        officer(by)?;
        let mut trace: Trace = self
            .load_document(KIND, id)
            .await?
            .ok_or_else(|| ValidationError::field("trace", format!("no trace `{id}`")))?;
        let mut rows = Vec::new();
        for person in persons {
            let contact = trace.contacts.iter().find(|c| &c.person == person).ok_or_else(|| {
                ValidationError::field("persons", format!("{person} is not on this trace's list of contacts"))
            })?;
            rows.push(
                json!({"id": format!("{}-{}", trace.id, person), "person_id": person, "type": "close_contact",
                       "exposure_at": contact.contact_at.to_string()})
                .to_string(),
            );
        }
        let numbers: Vec<usize> = (1..=rows.len()).collect();
        let origin = format!("trace {} confirmed by {}", trace.id, by.username);
        let report = self
            .ingest_from(Source::Department(Department::Health), &numbers, &rows, AtPolicy::ServerClock, &origin)
            .await?;
        if report.rejected > 0 {
            return Err(ServiceError::Background(format!("{} confirmed contacts were refused", report.rejected)));
        }
        trace.confirmed.extend(persons.iter().cloned());
        trace.confirmed_by = Some(by.username.clone());
        self.save_trace(&trace).await?;
        Ok(trace)
    }

    /// A trace, for an officer (the contact list is personal data: the reading officer
    /// must be one who traces).
    pub async fn trace(&self, by: &Account, id: &str) -> Result<Option<Trace>, ServiceError> {
        officer(by)?;
        self.load_document(KIND, id).await
    }

    async fn save_trace(&self, trace: &Trace) -> Result<(), ServiceError> {
        self.save_document(KIND, &trace.id, trace.traced_at, trace).await
    }
}
