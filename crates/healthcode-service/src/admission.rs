//! Row admission, the one step every row of evidence passes whichever way it comes (a
//! single event, a batch, a feed's chunk): parsed, checked against what its source may
//! submit, its person resolved to a pseudonym, and — for a person named by `person_id` —
//! refused unless that person is registered.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use healthcode_domain::{parse_event, EventBody, IncomingEvent, PersonId, PersonKind, PersonRef, ValidationError};
use healthcode_store::{NewDesignation, NewEvidence};

use crate::{Evidence, ServiceError};

/// The ids of evidence the system records itself (`hc-dec-…`, `hc-trace-…`): feeds may
/// not use them, so an event's id tells which power recorded it.
pub(crate) const SYSTEM_ID_PREFIX: &str = "hc-";

/// Who decides an event's recording time `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtPolicy {
    /// The server's clock: an input that brings its own `at` is refused (production).
    ServerClock,
    /// The input's `at`, or the clock if it has none (scenarios, imports of history,
    /// the synthetic region).
    Supplied,
}

/// Who submits the rows, and so which events they may submit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The system itself: scenarios, the demo, imports of history, approved decisions.
    Trusted,
    /// A department's data feed: only the evidence that department may submit; never a
    /// management decision, never a designation.
    Department(healthcode_domain::Department),
}

/// One row of JSON text, or why it is not one.
pub(crate) fn parse_row(text: &str) -> Result<serde_json::Value, ValidationError> {
    serde_json::from_str(text)
        .map_err(|e| ValidationError::new(format!("the row is not valid JSON ({e}); send one JSON object per row")))
}

pub(crate) enum Admitted {
    Evidence(NewEvidence),
    Designation(NewDesignation),
}

/// The persons a set of admitted rows names: those named by identity document (registered
/// with the rows: a department's list may reach us before the person asks for a code), and
/// those named by `person_id` (who must be registered already).
#[derive(Debug, Default)]
pub(crate) struct NamedPersons {
    pub by_document: BTreeMap<PersonId, PersonKind>,
    pub by_id: BTreeSet<PersonId>,
}

impl NamedPersons {
    /// Notes the person a row of evidence names (`about`, resolved to its pseudonym);
    /// true if by `person_id`.
    pub fn note(&mut self, about: &PersonId, person: &PersonRef) -> bool {
        match person {
            PersonRef::Document(doc) => {
                self.by_document.insert(about.clone(), doc.id_type().person_kind());
                false
            }
            PersonRef::Id(_) => {
                self.by_id.insert(about.clone());
                true
            }
        }
    }
}

/// Why evidence about a person named by `person_id` who is not registered is refused.
pub(crate) fn unknown_person(id: &PersonId) -> ValidationError {
    ValidationError::field(
        "person_id",
        format!("no person is registered with person_id `{id}`; register the person first"),
    )
}

impl Evidence {
    /// Parses and checks one row, resolving a person named by document to their pseudonym
    /// (registering them if need be: evidence may arrive before the person registers).
    pub(crate) fn admit(
        &self,
        text: &str,
        policy: AtPolicy,
        now: healthcode_domain::Timestamp,
        source: Source,
    ) -> Result<(Admitted, Option<PersonRef>), ValidationError> {
        self.admit_value(&parse_row(text)?, policy, now, source)
    }

    /// As `admit`, for a row already read into JSON (a CSV row).
    pub(crate) fn admit_value(
        &self,
        value: &serde_json::Value,
        policy: AtPolicy,
        now: healthcode_domain::Timestamp,
        source: Source,
    ) -> Result<(Admitted, Option<PersonRef>), ValidationError> {
        let IncomingEvent { id, at, at_supplied, person, body } = parse_event(value, now)?;
        if at_supplied && policy == AtPolicy::ServerClock {
            return Err(ValidationError::field(
                "at",
                "field `at` is set by the server when it accepts an event; remove it (occurrence times such as \
                 `sampled_at` belong in the event's own fields)",
            ));
        }
        if let Source::Department(department) = source {
            permitted(department, &body)?;
            if let EventBody::Evidence(evidence) = &body {
                not_ahead(evidence, at)?;
            }
        }
        let id = id.ok_or_else(|| ValidationError::missing("id"))?;
        if matches!(source, Source::Department(_)) && id.as_str().starts_with(SYSTEM_ID_PREFIX) {
            return Err(ValidationError::field(
                "id",
                format!("ids starting with `{SYSTEM_ID_PREFIX}` are the system's own (decisions, approved traces); give your record its own id"),
            ));
        }
        match &body {
            EventBody::AreaRisk(risk) => {
                crate::places::valid_at("area", &risk.area, at)?;
            }
            EventBody::Evidence(healthcode_domain::Evidence::Stay { area, from, .. }) => {
                crate::places::valid_at("area", area, *from)?;
            }
            EventBody::Evidence(_) => {}
        }
        match body {
            EventBody::AreaRisk(risk) => {
                Ok((Admitted::Designation(NewDesignation { id, at, risk, hub_line: None }), None))
            }
            EventBody::Evidence(evidence) => {
                let person = person.ok_or_else(|| {
                    ValidationError::new("evidence is about a person: give `person_id`, or `id_type` and `id_number`")
                })?;
                let person_id = match &person {
                    PersonRef::Id(id) => id.clone(),
                    PersonRef::Document(doc) => self.pseudonyms.person_id(doc),
                };
                Ok((
                    Admitted::Evidence(NewEvidence { person: person_id, id, at, evidence, hub_line: None }),
                    Some(person),
                ))
            }
        }
    }

    /// Which of these persons are registered.
    pub(crate) async fn registered(&self, persons: &[PersonId]) -> Result<HashSet<PersonId>, ServiceError> {
        if persons.is_empty() {
            return Ok(HashSet::new());
        }
        Ok(self.store.persons(persons).await?.into_iter().map(|p| p.id).collect())
    }
}

/// Whether a department may submit this event.
fn permitted(department: healthcode_domain::Department, body: &EventBody) -> Result<(), ValidationError> {
    match body {
        EventBody::Evidence(e) if department.may_submit(e.kind()) => Ok(()),
        EventBody::Evidence(healthcode_domain::Evidence::ManagementDecision { .. }) => Err(ValidationError::field(
            "type",
            "management decisions are not events a source can submit: an office proposes one at /v1/decisions and \
             two provincial officers approve it",
        )),
        EventBody::Evidence(e) => Err(ValidationError::field(
            "type",
            format!("the {department} department is not authorised to submit `{}` events", e.kind()),
        )),
        EventBody::AreaRisk(_) => Err(ValidationError::field(
            "type",
            "area designations are made by the provincial office at /v1/designations, not by data feeds",
        )),
    }
}

/// Refuses a department's record of something that has not happened yet: a test sampled,
/// an exposure, an entry, a fever or a stay that begins in the future. Dated ahead, a
/// negative test would clear a person for good, an entry would turn them red on a day
/// the sender chose.
fn not_ahead(evidence: &healthcode_domain::Evidence, now: healthcode_domain::Timestamp) -> Result<(), ValidationError> {
    use healthcode_domain::Evidence as E;
    let (field, at) = match evidence {
        E::Test { sampled_at, .. } => ("sampled_at", *sampled_at),
        E::CloseContact { exposure_at } => ("exposure_at", *exposure_at),
        E::Entry { entered_at, .. } => ("entered_at", *entered_at),
        E::Fever { onset_at } => ("onset_at", *onset_at),
        E::Stay { from, .. } => ("from", *from),
        _ => return Ok(()),
    };
    if at > crate::clock::latest_allowed(now) {
        return Err(ValidationError::field(
            field,
            format!("`{field}` is after the record is received ({now}): a department reports what has happened"),
        ));
    }
    Ok(())
}
