//! Contact tracing from venue check-ins. For a case (a positive test, or a confirmed,
//! suspected or asymptomatic diagnosis, recorded by the health department), the persons
//! admitted to a venue within a window of the case's own admissions during the contagious
//! period are listed with how close in time they were. Nothing turns red from the list
//! itself. An officer whose jurisdiction covers the case confirms whom the investigation
//! bears out; the confirmation changes nothing until a provincial officer other than the
//! one who confirmed approves it. Only then do the persons become `close_contact`
//! evidence, submitted as the health department's, and the approval is logged. The path
//! is the same four eyes as a decision's: no one official turns anyone red by tracing.

use std::collections::BTreeMap;

use healthcode_domain::{
    AccessOutcome, DiagnosisStatus, Event, Evidence, PersonId, Role, TestResult, Timestamp, ValidationError,
};
use healthcode_log::{Entry, TraceApproval};
use healthcode_store::Account;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::admission::Source;
use crate::approvals::{another_officer, may_approve};
use crate::documents::Documents;
use crate::residents::covers;
use crate::secrets::new_id;
use crate::{AtPolicy, Governance, ServiceError};

pub(crate) const TRACE_KIND: &str = "trace";
const KIND: &str = TRACE_KIND;
/// An approved confirmation being carried out, by trace and place (the claim that makes
/// one approval of it the logged one).
const TRACE_APPLYING: &str = "trace_applying";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ApplyingTrace {
    /// The document's own id: the trace and the confirmation's place when approved.
    claim: String,
    trace_id: String,
    confirmation: TraceConfirmation,
    done: bool,
}
/// The longest contagious period one trace covers.
const MAX_PERIOD_DAYS: i64 = 28;
/// The check-ins read for one venue visit or one case.
const MAX_CHECKINS: usize = 10_000;

/// A person found near the case: the venue and the two times, nearest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub person: PersonId,
    pub venue: String,
    pub case_at: Timestamp,
    pub contact_at: Timestamp,
    pub gap_minutes: i64,
}

/// What a confirmation does with the case's visits besides confirming contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitsStep {
    /// Nothing.
    Unchanged,
    /// Publish them as venue exposures through the national hub.
    Publish,
    /// Withdraw the exposures published earlier, for this reason.
    Withdraw(String),
}

/// The longest reason a withdrawal of published visits may give (as a national retraction's).
const MAX_WITHDRAWAL_REASON: usize = crate::national::exchange::MAX_REASON;

/// One of the case's own admitted visits within the trace's period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseVisit {
    pub venue: String,
    pub at: Timestamp,
}

/// Some of a trace's contacts, confirmed by one officer; they become close contacts when
/// another approves. A confirmation may also publish the case's visits as venue
/// exposures through the national hub: visitors from other regions checked in with their
/// own region's app, and only their region can find them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceConfirmation {
    pub persons: Vec<PersonId>,
    /// Whether the case's visits are published as venue exposures when approved.
    #[serde(default)]
    pub publish_visits: bool,
    /// Why the exposures published earlier are withdrawn when approved (a case that was
    /// not one, a wrong time); `None`: they stand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraw_visits: Option<String>,
    pub proposed_by: String,
    pub proposed_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub approved_by: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub approved_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trace {
    pub id: String,
    pub case: PersonId,
    pub from: Timestamp,
    pub to: Timestamp,
    pub window_minutes: i64,
    pub traced_by: String,
    pub traced_at: Timestamp,
    pub contacts: Vec<Contact>,
    /// The case's admitted visits in the period, oldest first.
    #[serde(default)]
    pub visits: Vec<CaseVisit>,
    /// The persons who became close contacts (approved confirmations).
    pub confirmed: Vec<PersonId>,
    /// The confirmation waiting for approval, if any.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pending: Option<TraceConfirmation>,
    /// Every approved confirmation, oldest first.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub confirmations: Vec<TraceConfirmation>,
}

impl TraceConfirmation {
    /// Whether approving it may turn anyone red (contacts, or visits published to other
    /// regions): then the person traced must be a case. A withdrawal alone needs not.
    fn needs_a_case(&self) -> bool {
        !self.persons.is_empty() || self.publish_visits
    }
}

impl Trace {
    /// Whether an approved confirmation published the case's visits.
    pub fn visits_published(&self) -> bool {
        self.confirmations.iter().any(|c| c.publish_visits)
    }

    /// Whether an approved confirmation withdrew them.
    pub fn visits_withdrawn(&self) -> bool {
        self.confirmations.iter().any(|c| c.withdraw_visits.is_some())
    }

    /// Whether a confirmation may publish the case's visits (in a region that takes part
    /// in the national exchange): there are some, and they are not published yet.
    pub fn may_publish_visits(&self) -> bool {
        !self.visits.is_empty() && !self.visits_published()
    }

    /// Whether a confirmation may withdraw them: published, and not withdrawn yet.
    pub fn may_withdraw_visits(&self) -> bool {
        self.visits_published() && !self.visits_withdrawn()
    }
}

fn officer(by: &Account) -> Result<(), ServiceError> {
    match by.role {
        Role::LocalOffice | Role::ProvincialOffice => Ok(()),
        _ => Err(ServiceError::Forbidden("contact tracing is done by an epidemic office's health officers".into())),
    }
}

/// Whether this evidence makes its person a case: the latest of their diagnoses and
/// positive tests is a positive test, or a confirmed, suspected or asymptomatic diagnosis
/// (what the spec's R1 reads, whatever the active rule set calls it).
pub(crate) fn is_case(evidence: &[Event<Evidence>], now: Timestamp) -> bool {
    let latest =
        evidence.iter().filter(|e| e.at <= now).rev().find(|e| {
            matches!(e.body, Evidence::Diagnosis { .. } | Evidence::Test { result: TestResult::Positive, .. })
        });
    match latest.map(|e| &e.body) {
        Some(Evidence::Test { .. }) => true,
        Some(Evidence::Diagnosis { status }) => {
            matches!(status, DiagnosisStatus::Confirmed | DiagnosisStatus::Suspected | DiagnosisStatus::Asymptomatic)
        }
        _ => false,
    }
}

impl Governance {
    /// The checks every step of a trace repeats: an epidemic officer, whose jurisdiction
    /// covers the case, who is a case now.
    async fn check_case(&self, by: &Account, case: &PersonId) -> Result<(), ServiceError> {
        self.check_covers_case(by, case).await?;
        self.check_is_case(case).await
    }

    /// An epidemic officer whose jurisdiction covers the case: all a withdrawal of
    /// published visits needs (the case may have turned out not to be one).
    async fn check_covers_case(&self, by: &Account, case: &PersonId) -> Result<(), ServiceError> {
        officer(by)?;
        let record =
            self.evidence_store.person(case).await?.ok_or_else(|| ServiceError::UnknownPerson(case.clone()))?;
        if !covers(by, &record, self.keys.ring().region()) {
            return Err(ServiceError::Forbidden(
                "the case lives outside your jurisdiction; their own district's office traces them".into(),
            ));
        }
        Ok(())
    }

    async fn check_is_case(&self, case: &PersonId) -> Result<(), ServiceError> {
        if !is_case(&self.evidence_store.evidence_for(case).await?, self.clock.now()) {
            return Err(ValidationError::field(
                "case_person_id",
                "this person is not a case: no positive test, and no confirmed, suspected or asymptomatic diagnosis \
                 from the health department is on record",
            )
            .into());
        }
        Ok(())
    }

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
        self.check_case(by, &case).await?;
        let window = window_minutes * 60_000;
        let admitted = |outcome: AccessOutcome| outcome != AccessOutcome::Deny;
        let mut nearest: BTreeMap<PersonId, Contact> = BTreeMap::new();
        let mut visits = Vec::new();
        for visit in self.door_store.checkins_of_person(&case, from, to, MAX_CHECKINS).await? {
            let visit = visit.checkin;
            if !admitted(visit.outcome) {
                continue;
            }
            visits.push(CaseVisit { venue: visit.venue.clone(), at: visit.at });
            let around = (
                Timestamp::from_millis(visit.at.as_millis() - window),
                Timestamp::from_millis(visit.at.as_millis() + window + 1),
            );
            for other in self.door_store.checkins_at_venue(&visit.venue, around.0, around.1, MAX_CHECKINS).await? {
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
            visits,
            confirmed: Vec::new(),
            pending: None,
            confirmations: Vec::new(),
        };
        self.save_trace(&trace).await?;
        // The case's and each contact's check-ins were read: each of them sees it.
        let read: Vec<PersonId> =
            std::iter::once(trace.case.clone()).chain(trace.contacts.iter().map(|c| c.person.clone())).collect();
        self.accesses.record_staff(by, &read, &format!("contact tracing {}", trace.id), "check-ins").await?;
        Ok(trace)
    }

    /// An officer's confirmation of some of the trace's contacts, and perhaps of publishing
    /// the case's visits as venue exposures, or of withdrawing those published (`visits`).
    /// It changes no colour and publishes nothing: it waits for a provincial officer other
    /// than this one to approve it.
    pub async fn confirm_trace(
        &self,
        by: &Account,
        id: &str,
        persons: &[PersonId],
        visits: VisitsStep,
    ) -> Result<Trace, ServiceError> {
        let mut trace = self.load_trace(id).await?;
        self.check_covers_case(by, &trace.case).await?;
        if trace.pending.is_some() {
            return Err(ServiceError::Conflict(
                "a confirmation of this trace already waits for approval; it is approved (or not) first".into(),
            ));
        }
        let mut chosen: Vec<PersonId> = Vec::new();
        for person in persons {
            if !trace.contacts.iter().any(|c| &c.person == person) {
                return Err(ValidationError::field(
                    "persons",
                    format!("{person} is not on this trace's list of contacts"),
                )
                .into());
            }
            if !trace.confirmed.contains(person) && !chosen.contains(person) {
                chosen.push(person.clone());
            }
        }
        let publish_visits = visits == VisitsStep::Publish;
        let withdraw_visits = match visits {
            VisitsStep::Unchanged => None,
            VisitsStep::Publish => {
                if self.evidence.national_region.get().is_none() {
                    return Err(ValidationError::field(
                        "publish_visits",
                        "this region does not take part in the national exchange: there is no hub to publish the \
                         visits to",
                    )
                    .into());
                }
                if trace.visits.is_empty() {
                    return Err(ValidationError::field(
                        "publish_visits",
                        "the case has no admitted visit in this trace",
                    )
                    .into());
                }
                if trace.visits_published() {
                    return Err(
                        ValidationError::field("publish_visits", "this trace's visits are published already").into()
                    );
                }
                None
            }
            VisitsStep::Withdraw(reason) => {
                let reason = reason.trim().to_string();
                if !trace.may_withdraw_visits() {
                    return Err(ValidationError::field(
                        "withdraw_visits",
                        "only visits this trace published, and not withdrawn yet, can be withdrawn",
                    )
                    .into());
                }
                if reason.is_empty() || reason.chars().count() > MAX_WITHDRAWAL_REASON {
                    return Err(ValidationError::field(
                        "withdraw_visits",
                        format!("say why the visits are withdrawn, in 1 to {MAX_WITHDRAWAL_REASON} characters"),
                    )
                    .into());
                }
                Some(reason)
            }
        };
        if chosen.is_empty() && !publish_visits && withdraw_visits.is_none() {
            return Err(ValidationError::field(
                "persons",
                "name at least one contact from the list who is not confirmed yet, or publish the case's visits",
            )
            .into());
        }
        let confirmation = TraceConfirmation {
            persons: chosen,
            publish_visits,
            withdraw_visits,
            proposed_by: by.username.clone(),
            proposed_at: self.clock.now(),
            approved_by: None,
            approved_at: None,
        };
        if confirmation.needs_a_case() {
            self.check_is_case(&trace.case).await?;
        }
        trace.pending = Some(confirmation);
        self.save_trace(&trace).await?;
        Ok(trace)
    }

    /// A provincial officer other than the one who confirmed approves the confirmation:
    /// its persons become close contacts, exposed when they were at the venue, and the
    /// approval is logged.
    pub async fn approve_trace(&self, by: &Account, id: &str) -> Result<Trace, ServiceError> {
        may_approve(by, "contact-tracing confirmation")?;
        self.alarms.if_fresh_approver(by, "contact-tracing confirmation", self.keys.ring().region()).await?;
        let mut trace = self.load_trace(id).await?;
        let Some(mut pending) = trace.pending.take() else {
            return Err(ServiceError::Conflict("no confirmation of this trace waits for approval".into()));
        };
        another_officer(by, "contact-tracing confirmation", &pending.proposed_by, &[])?;
        self.check_covers_case(by, &trace.case).await?;
        if pending.needs_a_case() {
            self.check_is_case(&trace.case).await?;
        }
        let now = self.clock.now();
        // Checked as their ingestion will check them, before anything is logged.
        for row in self.contact_rows(&trace, &pending)? {
            self.evidence.admit(&row, AtPolicy::ServerClock, now, Source::Trusted)?;
        }
        // The approver reads the persons' check-ins to approve, whatever comes of it.
        self.accesses
            .record_staff(by, &pending.persons, &format!("approve contact tracing {}", trace.id), "check-ins")
            .await?;
        pending.approved_by = Some(by.username.clone());
        pending.approved_at = Some(now);
        let approval = Entry::TraceApproval(TraceApproval {
            at: now.as_millis(),
            trace_id: trace.id.clone(),
            persons: pending.persons.len() as u64,
            proposed_by: pending.proposed_by.clone(),
            approved_by: by.username.clone(),
            visits_published: pending.publish_visits.then_some(trace.visits.len() as u64),
            visits_withdrawn: pending.withdraw_visits.as_ref().map(|_| trace.visits.len() as u64),
            withdrawn_because: pending.withdraw_visits.clone(),
        });
        // The approval is logged with the intent to carry it out, claimed by the trace and
        // the confirmation's place: of two approvals at once, one is logged and carried out.
        let claim = format!("{}/{}", trace.id, trace.confirmations.len());
        let applying =
            ApplyingTrace { claim: claim.clone(), trace_id: trace.id.clone(), confirmation: pending, done: false };
        let intent = Documents::claim(TRACE_APPLYING, &claim, now, &applying)?;
        if let Err(e) = self.log.record_with(&[approval], &[intent]).await {
            return Err(match e {
                ServiceError::Conflict(_) => ServiceError::Conflict(
                    "another officer approved this confirmation a moment earlier; it is recorded and logged once, and \
                     this request changed nothing"
                        .into(),
                ),
                other => other,
            });
        }
        crate::faults::crash_point("trace.approval_logged");
        let carried_out = self.carry_out_trace(&claim, &applying.trace_id, &applying.confirmation, now).await;
        if carried_out.is_err() {
            self.unfinished_decisions.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        carried_out
    }

    /// The `close_contact` rows an approved confirmation becomes (ids stable per trace and
    /// person, so that storing them again adds nothing).
    fn contact_rows(&self, trace: &Trace, confirmation: &TraceConfirmation) -> Result<Vec<String>, ServiceError> {
        confirmation
            .persons
            .iter()
            .map(|person| {
                let contact = trace.contacts.iter().find(|c| &c.person == person).ok_or_else(|| {
                    ServiceError::Background(format!("{person} of a pending confirmation is not on the trace's list"))
                })?;
                Ok(json!({"id": self.pseudonyms.event_id("hc-trace", &trace.id, person), "person_id": person,
                          "type": "close_contact", "exposure_at": contact.contact_at.to_string()})
                .to_string())
            })
            .collect()
    }

    /// Stores an approved confirmation's close contacts, records the approver's read of
    /// them, moves the confirmation to the trace's approved ones, and notes that it is done.
    async fn carry_out_trace(
        &self,
        claim: &str,
        trace_id: &str,
        confirmation: &TraceConfirmation,
        approved_at: Timestamp,
    ) -> Result<Trace, ServiceError> {
        let mut trace = self.load_trace(trace_id).await?;
        let approver = confirmation.approved_by.clone().unwrap_or_default();
        let rows = self.contact_rows(&trace, confirmation)?;
        let numbers: Vec<usize> = (1..=rows.len()).collect();
        let origin = format!("trace {} confirmed by {} and approved by {approver}", trace.id, confirmation.proposed_by);
        if !rows.is_empty() {
            let report =
                self.evidence.ingest_from(Source::Trusted, &numbers, &rows, AtPolicy::ServerClock, &origin).await?;
            if report.rejected > 0 {
                return Err(ServiceError::Background(format!("{} confirmed contacts were refused", report.rejected)));
            }
        }
        // Queued again if this is carried out again after a crash: the hub takes the same
        // line twice as a duplicate.
        if confirmation.publish_visits {
            let lines = self.exposure_lines(&trace);
            self.evidence.federation.queue_submissions(&lines).await?;
        }
        if let Some(reason) = &confirmation.withdraw_visits {
            let lines = self.exposure_withdrawal_lines(&trace, reason);
            self.evidence.federation.queue_submissions(&lines).await?;
        }
        // The same confirmation, whole (two made within one millisecond are told apart by
        // what they confirm).
        let already = trace.confirmations.contains(confirmation);
        if !already {
            trace.confirmed.extend(confirmation.persons.iter().cloned());
            trace.confirmations.push(confirmation.clone());
            let proposed = TraceConfirmation { approved_by: None, approved_at: None, ..confirmation.clone() };
            if trace.pending.as_ref() == Some(&proposed) {
                trace.pending = None;
            }
            self.save_trace(&trace).await?;
        }
        let done = ApplyingTrace {
            claim: claim.to_string(),
            trace_id: trace_id.to_string(),
            confirmation: confirmation.clone(),
            done: true,
        };
        self.documents.save(TRACE_APPLYING, claim, approved_at, &done).await?;
        Ok(trace)
    }

    /// Confirmations approved and logged but not carried out to the end: carried out now
    /// (those approved after `settled_before` are left to the request that may still be
    /// carrying them out). Called with the decisions' sweep.
    pub(crate) async fn finish_interrupted_traces(
        &self,
        settled_before: Timestamp,
    ) -> Result<(usize, bool), ServiceError> {
        let (mut finished, mut pending) = (0, false);
        for ApplyingTrace { claim, trace_id, confirmation, done } in self.documents.load_all(TRACE_APPLYING).await? {
            let Some(approved_at) = confirmation.approved_at.filter(|_| !done) else { continue };
            if approved_at > settled_before {
                pending = true;
                continue;
            }
            tracing::warn!(trace = %trace_id, "finishing a trace approval that was interrupted");
            self.carry_out_trace(&claim, &trace_id, &confirmation, approved_at).await?;
            finished += 1;
        }
        Ok((finished, pending))
    }

    /// A trace, for an officer (the contact list is personal data: the reading officer
    /// must be one who traces). An officer other than the one who traced reads it into
    /// the case's and the contacts' access logs.
    pub async fn trace(&self, by: &Account, id: &str) -> Result<Option<Trace>, ServiceError> {
        officer(by)?;
        let Some(trace) = self.documents.load::<Trace>(KIND, id).await? else { return Ok(None) };
        if trace.traced_by != by.username {
            let read: Vec<PersonId> =
                std::iter::once(trace.case.clone()).chain(trace.contacts.iter().map(|c| c.person.clone())).collect();
            self.accesses.record_staff(by, &read, &format!("read contact tracing {}", trace.id), "check-ins").await?;
        }
        Ok(Some(trace))
    }

    async fn load_trace(&self, id: &str) -> Result<Trace, ServiceError> {
        self.documents
            .load(KIND, id)
            .await?
            .ok_or_else(|| ValidationError::field("trace", format!("no trace `{id}`")).into())
    }

    async fn save_trace(&self, trace: &Trace) -> Result<(), ServiceError> {
        self.documents.save(KIND, &trace.id, trace.traced_at, trace).await
    }
}

impl Governance {
    /// The id of the exposure a trace's `index`th visit becomes: stable per trace and
    /// visit (carried out again, it is the same record), keyed so that the hub and other
    /// regions cannot join one case's visits into an itinerary by their ids.
    fn exposure_id(&self, trace: &Trace, index: usize) -> String {
        self.pseudonyms.event_id("exp", &format!("venue exposure {}/{index}", trace.id), &trace.case)
    }

    /// The venue exposures a trace's case's visits become: each visit's venue, from
    /// `window` before the visit to `window` after it (the same window the trace used for
    /// contacts here).
    fn exposure_lines(&self, trace: &Trace) -> Vec<String> {
        let window = trace.window_minutes * 60_000;
        trace
            .visits
            .iter()
            .enumerate()
            .map(|(i, visit)| {
                crate::national::exchange::venue_exposure_line(
                    &self.exposure_id(trace, i),
                    &visit.venue,
                    Timestamp::from_millis(visit.at.as_millis() - window),
                    Timestamp::from_millis(visit.at.as_millis() + window),
                )
            })
            .collect()
    }

    /// The retractions of a trace's published exposures, saying why.
    fn exposure_withdrawal_lines(&self, trace: &Trace, reason: &str) -> Vec<String> {
        (0..trace.visits.len())
            .map(|i| crate::national::exchange::exposure_retraction_line(&self.exposure_id(trace, i), reason))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use healthcode_domain::{Event, EventId, Evidence, TestResult, Timestamp};

    use super::is_case;

    fn event(at: i64, body: Evidence) -> Event<Evidence> {
        Event { id: EventId::parse(&format!("e{at}")).unwrap(), at: Timestamp::from_millis(at), seq: at, body }
    }

    #[test]
    fn a_case_is_the_latest_of_diagnoses_and_positive_tests() {
        use healthcode_domain::DiagnosisStatus::*;
        let positive = Evidence::Test { result: TestResult::Positive, sampled_at: Timestamp::from_millis(0) };
        let negative = Evidence::Test { result: TestResult::Negative, sampled_at: Timestamp::from_millis(0) };
        let now = Timestamp::from_millis(100);
        assert!(!is_case(&[], now));
        assert!(is_case(&[event(1, positive.clone())], now));
        assert!(!is_case(&[event(1, negative.clone())], now), "a negative test is no case");
        assert!(is_case(&[event(1, positive.clone()), event(2, negative)], now), "negatives never clear");
        assert!(!is_case(&[event(1, positive.clone()), event(2, Evidence::Diagnosis { status: Excluded })], now));
        assert!(is_case(&[event(1, Evidence::Diagnosis { status: Asymptomatic })], now));
        assert!(!is_case(&[event(200, positive)], now), "not yet recorded at now");
    }
}
