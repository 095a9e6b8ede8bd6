//! Explanations: a colour with the rules that hold, in words, and the evidence behind
//! each rule (kinds and dates, never another person's data).

use healthcode_domain::{Colour, Event, EventId, Evidence, PersonId, PersonKind, RuleColour, Timestamp};
use healthcode_rules::Text;
use serde::Serialize;

use healthcode_store::CodeState;

use crate::{Codes, ServiceError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    pub person_id: PersonId,
    pub kind: PersonKind,
    pub colour: Colour,
    /// The time the explanation is for ("as known at").
    pub at: Timestamp,
    /// Since when the stored code has this colour (absent for a past time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    pub reasons: Vec<ReasonExplained>,
    /// When the passing of time alone next changes the code, if ever.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_change: Option<Timestamp>,
    pub rules: RulesUsed,
    /// Records about the person that their source withdrew (as known at `at`): the rules
    /// no longer see them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retracted: Vec<RetractedRecord>,
}

/// A record its source withdrew, and when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetractedRecord {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: String,
    pub recorded_at: Timestamp,
    /// The retraction's own id.
    pub retraction: EventId,
    pub retracted_at: Timestamp,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RulesUsed {
    pub name: String,
    pub version: String,
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReasonExplained {
    pub rule: String,
    pub colour: RuleColour,
    pub title: Text,
    pub evidence: Vec<EvidenceSummary>,
}

/// One event behind a reason: its kind, when it was recorded, and its own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceSummary {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: String,
    pub recorded_at: Timestamp,
    /// The record's own fields, those of its `type` (a test's `result`, a stay's `area` with
    /// its `area_name` …), as its source sent them: free-form, one shape per event type.
    pub details: serde_json::Value,
    /// The region that reported it through the national hub (`41`), for a record from
    /// another region: "red: close contact, reported by region 41".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_by_region: Option<String>,
}

impl Codes {
    /// The person's code now, kept current: if the stored code is out of date (its next
    /// change has come and the scheduler has not run yet) it is re-evaluated and saved.
    pub async fn current_code(&self, person: &PersonId) -> Result<Explanation, ServiceError> {
        let stored = self.current_state(person).await?;
        let mut explanation = self.explain_at(person, self.clock.now()).await?;
        explanation.since = Some(stored.since);
        Ok(explanation)
    }

    /// The stored code, re-evaluated first if its next change has come or it was computed
    /// under other rules: what a door or a signed code needs, without an explanation.
    pub async fn current_state(&self, person: &PersonId) -> Result<CodeState, ServiceError> {
        let now = self.clock.now();
        let stored = self.code_store.code(person).await?;
        let stale =
            |c: &CodeState| c.next_change.is_some_and(|t| t <= now) || c.rules_version != self.rules().version();
        match stored {
            Some(code) if !stale(&code) => Ok(code),
            _ => {
                self.refresh_persons(std::slice::from_ref(person)).await?;
                self.code_store.code(person).await?.ok_or_else(|| ServiceError::UnknownPerson(person.clone()))
            }
        }
    }

    /// Whether a stored code must be evaluated again before it is shown: its next change
    /// has come, or it was computed under other rules.
    pub(crate) fn is_stale(&self, code: &CodeState) -> bool {
        self.is_stale_at(code.next_change, &code.rules_version)
    }

    /// `is_stale` for a code known by its next change and rule-set version.
    pub(crate) fn is_stale_at(&self, next_change: Option<Timestamp>, rules_version: &str) -> bool {
        next_change.is_some_and(|t| t <= self.clock.now()) || rules_version != self.rules().version()
    }

    /// The person's code as it was known at `at` (a pure evaluation; nothing is saved).
    pub async fn explain_at(&self, person: &PersonId, at: Timestamp) -> Result<Explanation, ServiceError> {
        let record =
            self.evidence_store.person(person).await?.ok_or_else(|| ServiceError::UnknownPerson(person.clone()))?;
        let events = self.evidence_store.evidence_for(person).await?;
        let shared = self.shared();
        let evaluation = shared.rules.evaluate(record.kind, &events, &shared.areas, at);
        let reasons = evaluation
            .reasons
            .iter()
            .map(|r| ReasonExplained {
                rule: r.rule.to_string(),
                colour: r.colour,
                title: shared.rules.rule(r.rule).map(|info| info.title.clone()).unwrap_or_default(),
                evidence: r.evidence.iter().filter_map(|id| summarise(id, &events, &shared.designations)).collect(),
            })
            .collect();
        Ok(Explanation {
            person_id: person.clone(),
            kind: record.kind,
            colour: evaluation.colour,
            at,
            since: None,
            reasons,
            next_change: evaluation.next_change,
            rules: RulesUsed {
                name: shared.rules.name().to_string(),
                version: shared.rules.version().to_string(),
                digest: shared.rules.digest().to_string(),
            },
            retracted: retracted_records(&events, at),
        })
    }
}

fn retracted_records(events: &[Event<Evidence>], at: Timestamp) -> Vec<RetractedRecord> {
    let visible = &events[..events.partition_point(|e| e.at <= at)];
    let Some(withdrawn) = healthcode_domain::retracted(visible) else { return Vec::new() };
    visible
        .iter()
        .filter_map(|r| match &r.body {
            Evidence::Retraction { retracts, reason } => Some((r, retracts, reason)),
            _ => None,
        })
        .filter_map(|(r, retracts, reason)| {
            // The record this retraction withdrew (the first retraction of it is the one
            // that counts; a later one names a record already gone).
            let (index, target) = visible.iter().enumerate().find(|(_, e)| &e.id == retracts)?;
            let first = visible
                .iter()
                .find(|e| matches!(&e.body, Evidence::Retraction { retracts: t, .. } if t == retracts))?;
            (withdrawn[index] && first.id == r.id).then(|| RetractedRecord {
                id: target.id.clone(),
                kind: target.body.kind().to_string(),
                recorded_at: target.at,
                retraction: r.id.clone(),
                retracted_at: r.at,
                reason: reason.clone(),
            })
        })
        .collect()
}

fn summarise(
    id: &EventId,
    events: &[Event<Evidence>],
    designations: &[Event<healthcode_domain::AreaRisk>],
) -> Option<EvidenceSummary> {
    if let Some(e) = events.iter().find(|e| &e.id == id) {
        let mut details = serde_json::to_value(&e.body).unwrap_or_default();
        let kind = details.as_object_mut().and_then(|o| o.remove("type")).and_then(|t| t.as_str().map(String::from));
        if let Some(o) = details.as_object_mut() {
            // Who approved a decision is for auditors; the person sees its basis and term.
            o.remove("approvers");
        }
        crate::places::name_the_area(&mut details);
        let reported_by_region = crate::national::exchange::region_of_event(id.as_str()).map(str::to_string);
        return Some(EvidenceSummary {
            id: id.clone(),
            kind: kind.unwrap_or_default(),
            recorded_at: e.at,
            details,
            reported_by_region,
        });
    }
    designations.iter().find(|d| &d.id == id).map(|d| {
        let mut details = serde_json::to_value(&d.body).unwrap_or_default();
        crate::places::name_the_area(&mut details);
        EvidenceSummary {
            id: id.clone(),
            kind: "area_risk".to_string(),
            recorded_at: d.at,
            details,
            // Another region's level of its own area, through the national hub.
            reported_by_region: crate::national::exchange::region_of_event(id.as_str()).map(str::to_string),
        }
    })
}
