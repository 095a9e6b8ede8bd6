use healthcode_domain::{AreaCode, AreaRisk, Colour, EventId, Evidence, PersonId, PersonKind, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    pub id: PersonId,
    pub kind: PersonKind,
    pub registered_at: Timestamp,
    pub residence_area: Option<AreaCode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvidence {
    pub person: PersonId,
    pub id: EventId,
    pub at: Timestamp,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDesignation {
    pub id: EventId,
    pub at: Timestamp,
    pub risk: AreaRisk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New {
        seq: i64,
    },
    /// The id was already stored. `same_content` tells a harmless resend from a
    /// conflicting record that reuses an id (which the service reports as rejected).
    Duplicate {
        same_content: bool,
    },
}

/// The rules' verdict for one person, as last evaluated. Derived data: it can always be
/// recomputed from the evidence, the designations and the rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeState {
    pub person: PersonId,
    pub colour: Colour,
    /// Rule ids that hold, sorted.
    pub reasons: Vec<String>,
    /// For each reason, the ids of the events that make it hold.
    pub evidence: Vec<ReasonEvidence>,
    /// When the code took its current colour.
    pub since: Timestamp,
    pub evaluated_at: Timestamp,
    pub rules_version: String,
    /// When the passing of time alone can next change the result, if ever.
    pub next_change: Option<Timestamp>,
    /// Grows by one with every save of the person's code: a save carries the revision it
    /// makes (the stored one plus one, 1 for a first code) and is refused if the stored
    /// revision is not the one before it (another evaluation saved meanwhile).
    #[serde(default)]
    pub revision: i64,
}

/// The part of a `CodeState` that dating a colour change needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSummary {
    pub person: PersonId,
    pub colour: Colour,
    pub since: Timestamp,
    pub evaluated_at: Timestamp,
    pub next_change: Option<Timestamp>,
    pub revision: i64,
}

impl From<&CodeState> for CodeSummary {
    fn from(c: &CodeState) -> Self {
        CodeSummary {
            person: c.person.clone(),
            colour: c.colour,
            since: c.since,
            evaluated_at: c.evaluated_at,
            next_change: c.next_change,
            revision: c.revision,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonEvidence {
    pub rule: String,
    pub events: Vec<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRejection {
    pub received_at: Timestamp,
    /// The account that submitted the input (a data source reads its own rejections
    /// only); `None` for the system's own (scenarios, imports).
    pub owner: Option<String>,
    /// Where the input came from, e.g. `api`, `batch row 17`, `scenario fever-negative-test`.
    pub origin: String,
    /// The input as received (JSON text, or the raw line if it was not JSON).
    pub input: String,
    pub field: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub id: i64,
    pub received_at: Timestamp,
    pub owner: Option<String>,
    pub origin: String,
    pub input: String,
    pub field: Option<String>,
    pub reason: String,
}

/// What a research aggregate counts: distinct persons, by residence area and one more
/// dimension. Never a per-person row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResearchMetric {
    /// Current codes, by area and colour.
    CodesByColour,
    /// Persons with a test recorded, by area and day (China Standard Time).
    TestedByDay,
    /// Persons with at least one check-in, by residence area and day.
    CheckedInByDay,
}

/// One aggregate cell as the store counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResearchCount {
    /// The residence area as stored; empty for persons who gave none.
    pub area: String,
    /// The colour, or the day as days since 1970-01-01 in China Standard Time.
    pub key: String,
    pub persons: u64,
}

/// The day number (China Standard Time) of a time in milliseconds, as research counts use it.
pub const CST_OFFSET_MS: i64 = 8 * 3_600_000;

/// Persons whose code turned red, orange or yellow within one hour, by what made it so
/// (`origin`: `decision`, `trace`, `designation`, `feed:<event type>`) and by their
/// residence city (`area`: the first four digits, or the region for persons without
/// one). The alarms compare an hour with the week before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColourChangeCount {
    /// Hours since the Unix epoch.
    pub hour: i64,
    pub origin: String,
    pub area: String,
    pub persons: u64,
}
