//! Who may do what: roles, the departments that feed evidence, and which evidence each
//! department may submit (seed 001: health, police, telecom, customs, border, transport,
//! aviation and railway data meet on the provincial platform). Pure: the server asks.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{EvidenceKind, ValidationError};

macro_rules! words {
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

            pub fn parse(text: &str) -> Result<Self, ValidationError> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(ValidationError::new(format!(
                        "`{}` is not a {}; use one of {}",
                        other.chars().take(40).collect::<String>(),
                        stringify!($name).to_lowercase(),
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words!(
    /// What an account is for. Offices act within their jurisdiction (an area-code prefix).
    Role {
        DataSource = "data_source",
        VenueOperator = "venue_operator",
        VerifierDevice = "verifier_device",
        LocalOffice = "local_office",
        ProvincialOffice = "provincial_office",
        Auditor = "auditor",
        ComplaintHandler = "complaint_handler",
    }
);

words!(
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

impl Department {
    /// The evidence this department may submit. Nobody submits management decisions as
    /// events: they exist only through the two-approver decision workflow.
    pub fn may_submit(self, kind: EvidenceKind) -> bool {
        use EvidenceKind::*;
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
            Department::Customs | Department::Border => matches!(kind, Entry),
            Department::Police
            | Department::Telecom
            | Department::Transport
            | Department::Aviation
            | Department::Railway => matches!(kind, Stay),
        }
    }
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
        for &kind in EvidenceKind::ALL.iter().filter(|&&k| k != ManagementDecision) {
            assert!(Department::ALL.iter().any(|d| d.may_submit(kind)), "{kind}");
        }
    }

    #[test]
    fn roles_and_departments_round_trip() {
        for &r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert!(Department::parse("bank").unwrap_err().message.contains("health"));
        assert!(within("3301", "330106") && !within("3302", "330106"));
    }
}
