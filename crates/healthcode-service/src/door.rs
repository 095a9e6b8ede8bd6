//! At the door: a person's current colour, the management measures for the venue's
//! category, and the check-in that records the attempt. A device learns the colour and
//! the masked name, nothing else.

use std::sync::Arc;

use healthcode_domain::{access_decision, AccessDecision, Colour, IdDocument, PersonId, PresentedBy, VenueCategory};
use healthcode_store::{
    CheckinMethod, DoorStore, EvidenceStore, NewCheckin, ResidentStore, VenueRecord, VisitElsewhere,
};
use healthcode_token::VerifyError;
use serde::Serialize;

use crate::tokens::{secs, SigningKeys};
use crate::{Alarms, Clock, Codes, Pseudonymiser, ServiceError, Tokens, Venues};

/// Family members who may check in with one scan besides the scanner: as many as one
/// proxy acts for.
pub const MAX_COMPANIONS: usize = crate::MAX_DEPENDANTS;

/// What a door is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoorDecision {
    #[serde(flatten)]
    pub decision: AccessDecision,
    pub colour: Colour,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub masked_name: Option<String>,
    pub venue: String,
    pub category: VenueCategory,
    /// The region that issued the code, when another region's (recognised under an
    /// agreement): its colour, judged by this region's measures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The venue's region, when another region's (a resident's app scanned a venue code
    /// of a region that recognises this region's codes): `venue` is its id there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub venue_region: Option<String>,
}

/// What a gate reads: a code, or an ID card for a person without a smartphone.
#[derive(Debug, Clone)]
pub enum Presented {
    Code(String),
    IdCard(IdDocument),
}

/// A gate's answer: a decision by the management measures, or a code refused before any
/// colour was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateAnswer {
    Decided(DoorDecision),
    Refused { reason: &'static str, message: String },
}

/// At doors and gates: a resident's scan of a venue's code, a device's reading of a code
/// or an ID card, the decision by the management measures and the check-in it records,
/// and the alarm when a venue's code is being passed around. Holds the signed codes
/// (verification, the person's current code), the venues, the evaluator (the colour of a
/// person never named), the stores of check-ins, persons and code ids, the alarms, the
/// key ring (the province's code), the clock, the pseudonymiser and each venue's recent
/// stale scans.
pub struct Doors {
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) venues: Arc<Venues>,
    pub(crate) codes: Arc<Codes>,
    pub(crate) door_store: Arc<dyn DoorStore>,
    pub(crate) evidence_store: Arc<dyn EvidenceStore>,
    pub(crate) resident_store: Arc<dyn ResidentStore>,
    pub(crate) alarms: Arc<Alarms>,
    pub(crate) keys: Arc<SigningKeys>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pseudonyms: Pseudonymiser,
    pub(crate) forwarded: ForwardedScans,
}

impl Doors {
    /// What a door decides for an ID card no one ever named: the colour the rules give
    /// without evidence (green under the reference rules), nothing recorded.
    pub(crate) fn decide_for_unknown(&self, document: &IdDocument, venue: &VenueRecord) -> DoorDecision {
        let shared = self.codes.shared();
        let colour =
            shared.rules.evaluate(document.id_type().person_kind(), &[], &shared.areas, self.clock.now()).colour;
        DoorDecision {
            decision: access_decision(colour, venue.category, PresentedBy::IdCard),
            colour,
            masked_name: None,
            venue: venue.id.clone(),
            category: venue.category,
            issuer: None,
            venue_region: None,
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
        let (code, _, profile) = self.tokens.code_and_profile(person).await?;
        let by = match method {
            CheckinMethod::GateIdCard => PresentedBy::IdCard,
            CheckinMethod::Scan | CheckinMethod::GateCode => PresentedBy::Code,
        };
        let decision = access_decision(code.colour, venue.category, by);
        self.door_store
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
            issuer: None,
            venue_region: None,
        })
    }

    /// A resident scanned a venue's code: the venue code must be current (not a forwarded
    /// photo), then the door decides and the check-in is recorded.
    pub async fn check_in_by_scan(&self, person: &PersonId, venue_token: &str) -> Result<DoorDecision, ServiceError> {
        let mut decisions = self.check_in_together(std::slice::from_ref(person), venue_token).await?;
        decisions.pop().ok_or_else(|| ServiceError::Background("a check-in gave no decision".into()))
    }

    /// Companions (同行): one scan of the venue code checks in a person and the family
    /// members travelling with them, each decided by their own code. The caller has
    /// checked that the scanner may act for every one of them (their own key or a
    /// proxy's); the venue code is verified once, so one window covers the group.
    pub async fn check_in_together(
        &self,
        persons: &[PersonId],
        venue_token: &str,
    ) -> Result<Vec<DoorDecision>, ServiceError> {
        if persons.len() > MAX_COMPANIONS + 1 {
            return Err(healthcode_domain::ValidationError::field(
                "companions",
                format!("at most {MAX_COMPANIONS} companions check in with one scan"),
            )
            .into());
        }
        let claims = match self.tokens.verifier().verify_venue(venue_token, &self.tokens.verify_options()) {
            Ok(claims) => claims,
            Err(unknown @ VerifyError::UnknownKey(_)) => {
                return match self.tokens.verify_venue_elsewhere(venue_token)? {
                    Some((region, claims)) => self.visit_elsewhere(persons, &region, &claims).await,
                    None => Err(unknown.into()),
                };
            }
            Err(refused) => {
                if let VerifyError::Replayed { venue_id, .. } = &refused {
                    self.note_forwarded_scan(venue_id).await?;
                }
                return Err(refused.into());
            }
        };
        let venue = self.venues.venue(&claims.venue_id).await?;
        let mut decisions = Vec::with_capacity(persons.len());
        for person in persons {
            decisions.push(self.decide_at_door(person, &venue, CheckinMethod::Scan, None).await?);
        }
        Ok(decisions)
    }

    /// A resident's app scanned another region's venue code (verified with that region's
    /// keys, under an agreement by which it recognises this region's codes): each person's
    /// colour, this region's measures for the venue's category, and the visit kept here
    /// only. The venue's region learns nothing of it; its exposures, published through the
    /// hub after a trace, are matched against these visits (`national::exposures`).
    async fn visit_elsewhere(
        &self,
        persons: &[PersonId],
        region: &str,
        claims: &healthcode_token::VenueClaims,
    ) -> Result<Vec<DoorDecision>, ServiceError> {
        let category = VenueCategory::parse(&claims.category).map_err(|_| {
            healthcode_domain::ValidationError::field(
                "venue_code",
                format!(
                    "region {region}'s venue code names a category this region does not know (`{}`); show your code \
                     to the venue's staff instead",
                    claims.category
                ),
            )
        })?;
        let now = self.clock.now();
        let mut visits = Vec::with_capacity(persons.len());
        let mut decisions = Vec::with_capacity(persons.len());
        for person in persons {
            let (code, _, profile) = self.tokens.code_and_profile(person).await?;
            let decision = access_decision(code.colour, category, PresentedBy::Code);
            visits.push(VisitElsewhere {
                person: person.clone(),
                region: region.to_string(),
                venue: claims.venue_id.clone(),
                at: now,
                colour: code.colour,
                outcome: decision.outcome,
            });
            decisions.push(DoorDecision {
                decision,
                colour: code.colour,
                masked_name: profile.masked_name,
                venue: claims.venue_id.clone(),
                category,
                issuer: None,
                venue_region: Some(region.to_string()),
            });
        }
        self.door_store.record_visits_elsewhere(&visits).await?;
        Ok(decisions)
    }

    /// A device at a venue reads a code or an ID card. A code that fails verification is
    /// refused with its reason; a valid one decides by the colour it carries now.
    pub async fn gate_check(&self, device_key: &str, presented: Presented) -> Result<GateAnswer, ServiceError> {
        let (device, venue) = self.venues.device_for_key(device_key).await?;
        self.venues.admit_lookup(&device, &venue, matches!(presented, Presented::IdCard(_))).await?;
        let (person, method) = match presented {
            // A printed card names no colour: whose card it is, and whether it still counts,
            // are asked here, online.
            Presented::Code(token) if token.starts_with(healthcode_token::TokenKind::Card.prefix()) => {
                match self.tokens.card_holder(&token).await? {
                    Ok(person) => (person, CheckinMethod::GateCode),
                    Err(refused) => {
                        return Ok(GateAnswer::Refused { reason: refused.reason, message: refused.message })
                    }
                }
            }
            Presented::Code(token) => {
                let claims = match self.tokens.verify_claims(&token) {
                    Ok(claims) => claims,
                    Err(refused) => {
                        return Ok(GateAnswer::Refused { reason: refused.code(), message: refused.to_string() })
                    }
                };
                if claims.issuer != self.keys.ring().region() {
                    // A visitor's code from a region this one recognises: its colour, this
                    // region's measures. Nobody here holds it, so no check-in is recorded.
                    return Ok(GateAnswer::Decided(DoorDecision {
                        decision: access_decision(claims.colour, venue.category, PresentedBy::Code),
                        colour: claims.colour,
                        masked_name: Some(claims.display_name),
                        venue: venue.id.clone(),
                        category: venue.category,
                        issuer: Some(claims.issuer),
                        venue_region: None,
                    }));
                }
                match self.resident_store.person_by_code_id(&claims.code_id).await? {
                    Some(person) => (person, CheckinMethod::GateCode),
                    None => {
                        return Ok(GateAnswer::Refused {
                            reason: "unknown_code",
                            message: "the code is genuine but no person holds it here; refresh the code in the app"
                                .into(),
                        })
                    }
                }
            }
            Presented::IdCard(document) => {
                let id = self.pseudonyms.person_id(&document);
                if self.evidence_store.person(&id).await?.is_none() {
                    // No evidence can exist about a person never named (evidence registers
                    // its person): their code is what the rules give no evidence. A lookup
                    // registers nobody (a device typing ID numbers must not create persons)
                    // and so records no check-in.
                    return Ok(GateAnswer::Decided(self.decide_for_unknown(&document, &venue)));
                }
                (id, CheckinMethod::GateIdCard)
            }
        };
        Ok(GateAnswer::Decided(self.decide_at_door(&person, &venue, method, Some(&device.id)).await?))
    }
}

/// Stale scans of one venue's code within this many seconds …
const FORWARDED_WINDOW_SECS: i64 = 600;
/// … that raise an alarm: a picture of the code is being passed around (the Zhengzhou
/// remote scans).
pub const FORWARDED_SCANS_ALARM: usize = 20;

/// Recent stale scans per venue, kept by each server for its own alarms.
#[derive(Default)]
pub(crate) struct ForwardedScans(std::sync::Mutex<std::collections::HashMap<String, Vec<i64>>>);

impl Doors {
    /// Counts a scan of an expired venue code; raises `forwarded_venue_code` once when a
    /// venue collects `FORWARDED_SCANS_ALARM` of them within ten minutes.
    async fn note_forwarded_scan(&self, venue_id: &str) -> Result<(), ServiceError> {
        let now = secs(self.clock.now());
        let count = {
            let mut scans = self.forwarded.0.lock().unwrap_or_else(|p| p.into_inner());
            let times = scans.entry(venue_id.to_string()).or_default();
            times.retain(|&t| t > now - FORWARDED_WINDOW_SECS);
            times.push(now);
            times.len()
        };
        if count == FORWARDED_SCANS_ALARM {
            let area = match self.door_store.venue(venue_id).await? {
                Some(venue) => venue.area.map(|a| a.normal().to_string()),
                None => None,
            };
            let detail = format!(
                "{count} scans of venue {venue_id}'s code after its window within {} minutes: a picture of the code is \
                 being passed around (remote check-ins)",
                FORWARDED_WINDOW_SECS / 60
            );
            self.alarms
                .raise("forwarded_venue_code", area.as_deref().unwrap_or(self.keys.ring().region()), detail)
                .await?;
        }
        Ok(())
    }
}
