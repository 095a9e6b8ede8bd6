//! Who may do what: roles, the departments that feed evidence, and which evidence each
//! department may submit (seed 001: health, police, telecom, customs, border, transport,
//! aviation and railway data meet on the provincial platform). Pure: the server asks.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{EvidenceKind, ValidationError};

text_enum!(
    /// What an account is for. Offices act within their jurisdiction (an area-code prefix).
    Role {
        DataSource = "data_source",
        VenueOperator = "venue_operator",
        VerifierDevice = "verifier_device",
        LocalOffice = "local_office",
        ProvincialOffice = "provincial_office",
        Auditor = "auditor",
        ComplaintHandler = "complaint_handler",
        // An outside system (a transport-card or citizen-card operator, a car park, an
        // access-control vendor) registered for one extended function, with a scope.
        ThirdParty = "third_party",
        // Another province's deployment, at the national hub: submits its own records
        // (its jurisdiction is its province code).
        Region = "region",
        // An employer or a transport operator bringing a group here (复工专列): checks a
        // roster of members who showed their codes, and learns their colours here.
        GroupOrganiser = "group_organiser",
    }
);

text_enum!(
    /// The extended functions a resident may switch on, one by one, and off again (seed
    /// 000: voluntary). Each lets outside systems of that kind read what their scope says.
    ExtendedFunction {
        CitizenCard = "citizen_card",
        TransportCard = "transport_card",
        Parking = "parking",
        AccessControl = "access_control",
    }
);

impl ExtendedFunction {
    /// As `parse`, with a message listing the functions.
    pub fn parse_named(text: &str) -> Result<Self, ValidationError> {
        Self::parse(text).ok_or_else(|| unknown(text, "extended function", &Self::choices()))
    }
}

text_enum!(
    /// A department that submits evidence as a data source.
    Department {
        Health = "health",
        Police = "police",
        Telecom = "telecom",
        Customs = "customs",
        Border = "border",
        Transport = "transport",
        Aviation = "aviation",
        Railway = "railway",
        Community = "community",
    }
);

impl Role {
    /// As `parse`, with a message listing the roles.
    pub fn parse_named(text: &str) -> Result<Self, ValidationError> {
        Self::parse(text).ok_or_else(|| unknown(text, "role", &Self::choices()))
    }
}

impl Department {
    /// As `parse`, with a message listing the departments.
    pub fn parse_named(text: &str) -> Result<Self, ValidationError> {
        Self::parse(text).ok_or_else(|| unknown(text, "department", &Self::choices()))
    }

    /// The evidence this department may submit. Nobody submits management decisions as
    /// events: they exist only through the two-approver decision workflow. Every
    /// department may send retractions, each of a record of a kind it may submit (checked
    /// against the record when the retraction arrives).
    pub fn may_submit(self, kind: EvidenceKind) -> bool {
        use EvidenceKind::*;
        if kind == Retraction {
            return true;
        }
        // Declarations are residents' own (`/v1/persons/{id}/declarations`), never a feed's.
        if kind == Declaration {
            return false;
        }
        match self {
            Department::Health => matches!(
                kind,
                Fever
                    | FeverResolved
                    | Test
                    | Diagnosis
                    | CloseContact
                    | ContactCleared
                    | QuarantineOrder
                    | QuarantineRelease
            ),
            Department::Community => matches!(kind, Fever | FeverResolved | QuarantineOrder | QuarantineRelease),
            Department::Customs => matches!(kind, Entry),
            // Border and police checkpoints (省界检查站) also see travellers arrive from
            // another province, with or without a code this one recognises.
            Department::Border => matches!(kind, Entry | Arrival),
            Department::Police => matches!(kind, Stay | Arrival),
            Department::Telecom | Department::Transport | Department::Aviation | Department::Railway => {
                matches!(kind, Stay)
            }
        }
    }
}

fn unknown(text: &str, what: &str, choices: &str) -> ValidationError {
    ValidationError::new(format!(
        "`{}` is not a {what}; use one of {choices}",
        text.chars().take(40).collect::<String>()
    ))
}

/// Whether an office with `jurisdiction` (an area code's normal form, e.g. `3301`) may act
/// on `area` (normal form): the area lies inside it.
pub fn within(jurisdiction: &str, area: &str) -> bool {
    area.starts_with(jurisdiction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departments_submit_only_their_own_evidence() {
        use EvidenceKind::*;
        assert!(Department::Telecom.may_submit(Stay));
        assert!(!Department::Telecom.may_submit(Diagnosis), "telecom may submit stays, not diagnoses");
        assert!(Department::Health.may_submit(Diagnosis));
        assert!(Department::Border.may_submit(Entry) && !Department::Border.may_submit(Test));
        for &d in Department::ALL {
            assert!(!d.may_submit(ManagementDecision), "{d} may not submit a management decision as an event");
        }
        // Every kind but decisions has at least one department that may submit it.
        for &kind in EvidenceKind::ALL.iter().filter(|&&k| k != ManagementDecision && k != Declaration) {
            assert!(Department::ALL.iter().any(|d| d.may_submit(kind)), "{kind}");
        }
    }

    #[test]
    fn roles_and_departments_round_trip() {
        for &r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert!(Department::parse_named("bank").unwrap_err().message.contains("health"));
        assert!(within("3301", "330106") && !within("3302", "330106"));
    }
}
