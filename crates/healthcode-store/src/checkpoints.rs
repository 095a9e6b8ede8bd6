//! Records of the places where codes are checked: what a checkpoint may know of a person
//! (a code id and a masked name), venues, their devices, and check-ins.

use healthcode_domain::{AccessOutcome, AreaCode, Colour, PersonId, Timestamp, VenueCategory};
use serde::{Deserialize, Serialize};

/// What a signed code carries about a person besides its colour. The code id is not the
/// person id (which departments use to submit evidence): a verifier that reads a code
/// learns nothing it could use against the rest of the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonProfile {
    pub person: PersonId,
    pub code_id: String,
    /// The name as a checkpoint shows it (张*丰); the full name is not kept.
    pub masked_name: Option<String>,
}

/// A person's record, stored code and profile, as a door or a signed code needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCard {
    pub record: crate::PersonRecord,
    pub code: Option<crate::CodeState>,
    pub profile: Option<PersonProfile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueRecord {
    pub id: String,
    pub name: String,
    pub category: VenueCategory,
    pub area: Option<AreaCode>,
    pub registered_at: Timestamp,
    /// SHA-256 (hex) of the operator's key; the key itself is shown once, at registration.
    #[serde(skip_serializing)]
    pub operator_key_hash: String,
}

/// A checkpoint device (数字哨兵, a gate) bound to one venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub id: String,
    pub venue: String,
    pub label: String,
    #[serde(skip_serializing)]
    pub key_hash: String,
    pub registered_at: Timestamp,
    /// The provincial officer who approved the device: until then it looks nobody up.
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckinMethod {
    /// The resident scanned the venue's code with their phone.
    Scan,
    /// A device read the resident's code.
    GateCode,
    /// A device read an ID card (no smartphone).
    GateIdCard,
}

impl CheckinMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckinMethod::Scan => "scan",
            CheckinMethod::GateCode => "gate_code",
            CheckinMethod::GateIdCard => "gate_id_card",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [CheckinMethod::Scan, CheckinMethod::GateCode, CheckinMethod::GateIdCard]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

pub fn outcome_str(outcome: AccessOutcome) -> &'static str {
    match outcome {
        AccessOutcome::Allow => "allow",
        AccessOutcome::AllowWithMask => "allow_with_mask",
        AccessOutcome::Deny => "deny",
    }
}

pub fn parse_outcome(text: &str) -> Option<AccessOutcome> {
    [AccessOutcome::Allow, AccessOutcome::AllowWithMask, AccessOutcome::Deny]
        .into_iter()
        .find(|o| outcome_str(*o) == text)
}

/// A person at a venue at a time, with the colour they showed and the door's decision
/// (a denied attempt is a check-in too: it is what contact tracing and audits ask about).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCheckin {
    pub person: PersonId,
    pub venue: String,
    pub at: Timestamp,
    pub method: CheckinMethod,
    pub device: Option<String>,
    pub colour: Colour,
    pub outcome: AccessOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkin {
    pub id: i64,
    #[serde(flatten)]
    pub checkin: NewCheckin,
}
