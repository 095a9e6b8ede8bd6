#![doc = include_str!("../README.md")]

// `event` first: its `text_enum!` names the other modules' enumerations too.
#[macro_use]
mod event;
mod access;
mod area;
mod colour;
mod error;
mod person;
mod time;
mod venue;

pub use access::{within, Department, ExtendedFunction, Role};
pub use area::AreaCode;
pub use colour::{Colour, RuleColour};
pub use error::ValidationError;
pub use event::{
    distinct_approvers, parse_event, retracted, AreaRisk, DecisionColour, DeclaredItem, DiagnosisStatus, Event,
    EventBody, EventId, Evidence, EvidenceKind, HomeCode, IncomingEvent, PersonRef, QuarantineMode, RiskLevel,
    TestResult, AREA_RISK_FIELDS, ENVELOPE_FIELDS,
};
pub use person::{resident_id_check_char, IdDocument, IdType, PersonId, PersonKind};
pub use time::{Duration, Timestamp};
pub use venue::{
    access_decision, check_name, mask_name, AccessDecision, AccessOutcome, AccessReason, PresentedBy, VenueCategory,
};
