//! At the door: a person's current colour, the management measures for the venue's
//! category, and the check-in that records the attempt. A device learns the colour and
//! the masked name, nothing else.

use healthcode_domain::{access_decision, AccessDecision, Colour, PersonId, PresentedBy, VenueCategory};
use healthcode_store::{CheckinMethod, NewCheckin, VenueRecord};
use serde::Serialize;

use crate::{HealthService, ServiceError};

/// What a door is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoorDecision {
    #[serde(flatten)]
    pub decision: AccessDecision,
    pub colour: Colour,
    pub masked_name: Option<String>,
    pub venue: String,
    pub category: VenueCategory,
}

impl HealthService {
    /// The code id a person's signed codes carry: a keyed hash of the person id, so it is
    /// stable (a code card can be printed) but says nothing about the person id.
    pub fn code_id_for(&self, person: &PersonId) -> String {
        self.pseudonyms.code_id(person)
    }

    /// What a door decides for an ID card no one ever named: the colour the rules give
    /// without evidence (green under the reference rules), nothing recorded.
    pub(crate) fn decide_for_unknown(
        &self,
        document: &healthcode_domain::IdDocument,
        venue: &VenueRecord,
    ) -> DoorDecision {
        let shared = self.codes.shared();
        let colour =
            shared.rules.evaluate(document.id_type().person_kind(), &[], &shared.areas, self.clock.now()).colour;
        DoorDecision {
            decision: access_decision(colour, venue.category, PresentedBy::IdCard),
            colour,
            masked_name: None,
            venue: venue.id.clone(),
            category: venue.category,
        }
    }

    /// Decides whether a person may enter a venue now and records the attempt.
    pub async fn decide_at_door(
        &self,
        person: &PersonId,
        venue: &VenueRecord,
        method: CheckinMethod,
        device: Option<&str>,
    ) -> Result<DoorDecision, ServiceError> {
        let (code, _, profile) = self.code_and_profile(person).await?;
        let by = match method {
            CheckinMethod::GateIdCard => PresentedBy::IdCard,
            CheckinMethod::Scan | CheckinMethod::GateCode => PresentedBy::Code,
        };
        let decision = access_decision(code.colour, venue.category, by);
        self.store
            .record_checkins(&[NewCheckin {
                person: person.clone(),
                venue: venue.id.clone(),
                at: self.clock.now(),
                method,
                device: device.map(String::from),
                colour: code.colour,
                outcome: decision.outcome,
            }])
            .await?;
        Ok(DoorDecision {
            decision,
            colour: code.colour,
            masked_name: profile.masked_name,
            venue: venue.id.clone(),
            category: venue.category,
        })
    }
}
