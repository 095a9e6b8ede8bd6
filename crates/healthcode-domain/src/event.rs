//! Evidence and area-designation events, and the parser that admits them from untrusted
//! JSON. See `shared/spec/REFERENCE-RULES.md` for the meaning of each field.

mod parse;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AreaCode, IdDocument, PersonId, Timestamp, ValidationError};

pub use parse::{parse_event, AREA_RISK_FIELDS, ENVELOPE_FIELDS};

/// The id a data source gives an event. Ingesting the same id twice stores it once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct EventId(String);

impl EventId {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let ok = !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(EventId(text.to_string()))
        } else {
            Err(ValidationError::field(
                "id",
                "field `id`: expected 1 to 128 printable ASCII characters without spaces (the source's own record id)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EventId {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        EventId::parse(&s)
    }
}

impl From<EventId> for String {
    fn from(e: EventId) -> String {
        e.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted spellings, for error messages.
            pub fn choices() -> String {
                [$(concat!("`", $text, "`")),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // Written out rather than derived: utoipa's derive does not read a `rename` whose
        // text comes from a macro, and would name the variants instead of their texts.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

text_enum!(
    /// The type of a person's evidence event; the `type` field of its JSON.
    EvidenceKind {
        Fever = "fever",
        FeverResolved = "fever_resolved",
        Test = "test",
        Diagnosis = "diagnosis",
        CloseContact = "close_contact",
        ContactCleared = "contact_cleared",
        Entry = "entry",
        Stay = "stay",
        QuarantineOrder = "quarantine_order",
        QuarantineRelease = "quarantine_release",
        ManagementDecision = "management_decision",
        Retraction = "retraction",
        Declaration = "declaration",
        Arrival = "arrival",
    }
);

text_enum!(TestResult { Positive = "positive", Negative = "negative" });
text_enum!(DiagnosisStatus {
    Confirmed = "confirmed",
    Suspected = "suspected",
    Asymptomatic = "asymptomatic",
    Excluded = "excluded",
    Discharged = "discharged",
});
text_enum!(
    /// What a traveller from another region showed on arrival (互认, seed 004): a code this
    /// region recognises under an agreement, a valid code of a region it has no agreement
    /// with, or no code at all. The receiving region's rules decide what each means (the
    /// Shandong measure: 14 days of quarantine without a recognised code).
    HomeCode {
        Recognised = "recognised",
        NoAgreement = "no_agreement",
        NotShown = "none",
    }
);
text_enum!(QuarantineMode { Centralized = "centralized", Home = "home" });
text_enum!(DecisionColour { Red = "red", Yellow = "yellow" });
text_enum!(RiskLevel { Low = "low", Medium = "medium", High = "high" });
text_enum!(
    /// What a resident declares about themself (健康申报).
    DeclaredItem {
        Fever = "fever",
        Cough = "cough",
        SoreThroat = "sore_throat",
        Breathlessness = "breathlessness",
        ContactWithCase = "contact_with_case",
    }
);

/// One piece of evidence about one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Evidence {
    Fever {
        onset_at: Timestamp,
    },
    FeverResolved,
    Test {
        result: TestResult,
        sampled_at: Timestamp,
    },
    Diagnosis {
        status: DiagnosisStatus,
    },
    CloseContact {
        exposure_at: Timestamp,
    },
    ContactCleared,
    Entry {
        country: String,
        entered_at: Timestamp,
    },
    Stay {
        area: AreaCode,
        from: Timestamp,
        to: Option<Timestamp>,
    },
    QuarantineOrder {
        mode: QuarantineMode,
        days: u32,
    },
    QuarantineRelease {
        mode: QuarantineMode,
    },
    ManagementDecision {
        color: DecisionColour,
        until: Timestamp,
        basis: String,
        approvers: Vec<String>,
    },
    /// The source withdraws one of its earlier records about the same person (a test
    /// filed under the wrong person, a contact list with a wrong name). The record stays
    /// stored; from this event's `at` on, the rules no longer see it.
    Retraction {
        retracts: EventId,
        reason: String,
    },
    /// A resident's own declaration (健康申报) of a symptom or a contact, since when: the
    /// declarer is the source, and the rules judge it like any other evidence.
    Declaration {
        item: DeclaredItem,
        since: Timestamp,
    },
    /// A traveller's arrival from another region (来浙申报, 转码): where from, when, and
    /// what home code they showed, as the receiving region checked it.
    Arrival {
        origin: AreaCode,
        home_code: HomeCode,
        arrived_at: Timestamp,
    },
}

impl Evidence {
    pub fn kind(&self) -> EvidenceKind {
        match self {
            Evidence::Fever { .. } => EvidenceKind::Fever,
            Evidence::FeverResolved => EvidenceKind::FeverResolved,
            Evidence::Test { .. } => EvidenceKind::Test,
            Evidence::Diagnosis { .. } => EvidenceKind::Diagnosis,
            Evidence::CloseContact { .. } => EvidenceKind::CloseContact,
            Evidence::ContactCleared => EvidenceKind::ContactCleared,
            Evidence::Entry { .. } => EvidenceKind::Entry,
            Evidence::Stay { .. } => EvidenceKind::Stay,
            Evidence::QuarantineOrder { .. } => EvidenceKind::QuarantineOrder,
            Evidence::QuarantineRelease { .. } => EvidenceKind::QuarantineRelease,
            Evidence::ManagementDecision { .. } => EvidenceKind::ManagementDecision,
            Evidence::Retraction { .. } => EvidenceKind::Retraction,
            Evidence::Declaration { .. } => EvidenceKind::Declaration,
            Evidence::Arrival { .. } => EvidenceKind::Arrival,
        }
    }
}

/// Whether each of `events` is withdrawn by a retraction among them (rules ignore those).
/// A retraction counts only for a record of the same person recorded before it; a
/// retraction of a retraction counts for nothing (a department re-sends the record
/// instead). Returns `None` when nothing is retracted, the common case, so callers pay
/// nothing for it.
pub fn retracted(events: &[Event<Evidence>]) -> Option<Vec<bool>> {
    let mut mask: Option<Vec<bool>> = None;
    for (at, e) in events.iter().enumerate() {
        let Evidence::Retraction { retracts, .. } = &e.body else { continue };
        // Events are in time order: the record retracted comes before its retraction.
        if let Some(target) =
            events[..at].iter().position(|t| &t.id == retracts && t.body.kind() != EvidenceKind::Retraction)
        {
            mask.get_or_insert_with(|| vec![false; events.len()])[target] = true;
        }
    }
    mask
}

/// Distinct approvers of a management decision: names compared without surrounding
/// spaces and without regard to case, so that "Li" and " li" count once.
pub fn distinct_approvers(approvers: &[String]) -> usize {
    let mut seen: Vec<String> = approvers.iter().map(|a| a.trim().to_lowercase()).filter(|a| !a.is_empty()).collect();
    seen.sort();
    seen.dedup();
    seen.len()
}

/// A global designation of an area's risk level (`area_risk`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaRisk {
    pub area: AreaCode,
    pub level: RiskLevel,
    #[serde(default)]
    pub escalate_to_red: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventBody {
    Evidence(Evidence),
    AreaRisk(AreaRisk),
}

/// Who a person event is about, as a source names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRef {
    Id(PersonId),
    Document(IdDocument),
}

/// An event as parsed from input, before the service has given it its place.
/// `id` and `person` are optional here: the ingestion path decides whether it needs them.
/// `at` is the input's own `at` if it had one (`at_supplied`), else the parser's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingEvent {
    pub id: Option<EventId>,
    pub at: Timestamp,
    pub at_supplied: bool,
    pub person: Option<PersonRef>,
    pub body: EventBody,
}

/// An event as recorded: its id, when the system recorded it (`at`) and the order in
/// which it was ingested (`seq`), which breaks ties between equal `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event<T> {
    pub id: EventId,
    pub at: Timestamp,
    pub seq: i64,
    pub body: T,
}

impl<T> Event<T> {
    /// The order in which the rules see events: by `at`, then by ingestion.
    pub fn order_key(&self) -> (Timestamp, i64) {
        (self.at, self.seq)
    }
}
