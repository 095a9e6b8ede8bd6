//! A visitor's conversion (转码, path 2 of seed 004) and declaration (来浙申报): someone
//! from another region registers here, shows their home code or declares where they come
//! from and where they stayed, and receives this region's code, computed by this region's
//! rules from the national data about them and what they declared.
//!
//! The home code's colour is shown back, never copied: a region shares evidence, not
//! colours (seed 004), so a home code turned red without epidemiological evidence (the
//! Zhengzhou case) does not follow its holder, and a red with evidence follows it because
//! the home region's key-person record reached this region through the hub. What the home
//! code does decide is recorded as evidence, an `arrival`, which says whether this region
//! recognises the code (an agreement in force) or not: the receiving region's rules judge
//! it (the Shandong measure is a rule, `no_recognised_code` in the rules' tests).
//!
//! Only a valid home code records an arrival here. A visitor without one declares stays
//! like any resident; the measure for travellers who show no code is taken at the
//! checkpoint that sees them arrive (a border or police feed's `arrival` with
//! `home_code: none`), because a self-service page that recorded "showed no code" for any
//! ID number typed into it would let a stranger put a visitor under quarantine.

use std::sync::Arc;

use healthcode_domain::{AreaCode, Colour, HomeCode, PersonId, Timestamp, ValidationError};
use healthcode_store::PersonRecord;
use serde_json::json;

use crate::secrets::new_id;
use crate::{
    AtPolicy, Clock, Declaration, DeclaredStay, Evidence, Registered, Registration, Residents, ServiceError, Source,
    Tokens,
};

/// What a visitor gives to convert.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub registration: Registration,
    /// Where the visitor comes from: the area of their home or last stay before arriving.
    pub origin: AreaCode,
    /// The home region's code as the visitor's app shows it (`HC1:…`); absent for a visitor
    /// who declares only.
    pub home_code: Option<String>,
    /// Where they stayed in the past days, as they declare it.
    pub stays: Vec<DeclaredStay>,
}

/// The home code, as this region read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeCodeSeen {
    /// The region that issued it (`41`, or `00` for the national code).
    pub issuer: String,
    /// Its colour, shown back to the visitor beside this region's own; never copied.
    pub colour: Colour,
    pub masked_name: String,
    pub expires_at: Timestamp,
    /// What it counts for here: recognised under an agreement, or not.
    pub shown: HomeCode,
}

/// A conversion's outcome: the visitor, their resident key (shown once) and the home code.
#[derive(Debug, Clone)]
pub struct Converted {
    pub person: PersonRecord,
    pub resident_key: String,
    pub home: Option<HomeCodeSeen>,
}

/// Conversions: registration, the home code's check, and the arrival and stays recorded.
pub struct Conversions {
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) residents: Arc<Residents>,
    pub(crate) evidence: Arc<Evidence>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Conversions {
    /// Converts a visitor: checks everything first (the home code, the origin, the stays),
    /// then registers them (a new person only: knowing an ID number is not holding it),
    /// records the arrival and the declared stays, and brings their code up to date.
    pub async fn convert(&self, conversion: Conversion) -> Result<Converted, ServiceError> {
        let region = self.tokens.key_ring().region().to_string();
        if conversion.origin.normal().starts_with(region.as_str()) {
            return Err(ValidationError::field(
                "origin",
                format!(
                    "`{}` lies in this region ({region}): conversion is for visitors from other regions; residents \
                     register (POST /v1/persons)",
                    conversion.origin
                ),
            )
            .into());
        }
        let home = match &conversion.home_code {
            Some(token) => Some(self.read_home_code(token, &region, conversion.registration.name.as_deref())?),
            None => None,
        };
        // Every record is checked before anyone is registered, so that a refused
        // conversion leaves nothing behind.
        let id = self.residents.pseudonyms.person_id(&conversion.registration.document);
        let mut rows = Vec::new();
        if let Some(home) = &home {
            rows.push(self.arrival_row(&id, &conversion.origin, home.shown)?);
        }
        if !conversion.stays.is_empty() {
            let declaration = Declaration { items: Vec::new(), since: None, stays: conversion.stays };
            rows.extend(self.evidence.check_declaration(&id, "self", &declaration)?);
        }

        let (person, registered) = self.residents.register_resident(conversion.registration, None).await?;
        let resident_key =
            match registered {
                Registered::Created { key } => key,
                Registered::AlreadyRegistered => {
                    return Err(ServiceError::Conflict(
                        "this ID is already registered here: open your code with the resident key you were given (it \
                     already holds the national data about you); a lost key is replaced at a community service point"
                            .into(),
                    ))
                }
                Registered::ClaimRequired | Registered::Claimed { .. } => return Err(ServiceError::Conflict(
                    "this ID is already known here (a family member or a department named it): take your papers to a \
                     community service point for your key"
                        .into(),
                )),
            };
        if !rows.is_empty() {
            let numbers: Vec<usize> = (1..=rows.len()).collect();
            let report = self
                .evidence
                .ingest_owned(Source::Trusted, None, &numbers, &rows, AtPolicy::ServerClock, "conversion (self)")
                .await?;
            if report.rejected > 0 {
                // Checked above: only a store refusing what admission took gets here.
                return Err(ServiceError::Background(format!(
                    "{} of the conversion's {} records were refused after they were checked",
                    report.rejected,
                    rows.len()
                )));
            }
        }
        Ok(Converted { person, resident_key, home })
    }

    /// A home code verified offline, as any verifier here would (the national trust list),
    /// whether or not an agreement recognises its region; refused when it is not genuine,
    /// has expired, is this region's own, or names someone else.
    fn read_home_code(&self, token: &str, region: &str, name: Option<&str>) -> Result<HomeCodeSeen, ServiceError> {
        let (claims, recognised) = self.tokens.verify_shown(
            token,
            "home_code",
            "the home code",
            "show a current code from your home region's app, or convert without it by declaring where you come from",
        )?;
        if claims.issuer == region {
            return Err(ValidationError::field(
                "home_code",
                "this is a code of this region: it needs no conversion; open it with your resident key",
            )
            .into());
        }
        let Some(name) = name else {
            return Err(ValidationError::field(
                "name",
                "give your name as on your papers with a home code: it is checked against the code's masked name",
            )
            .into());
        };
        crate::tokens::check_masked_name(&claims, name)?;
        let shown = if recognised { HomeCode::Recognised } else { HomeCode::NoAgreement };
        Ok(HomeCodeSeen {
            issuer: claims.issuer,
            colour: claims.colour,
            masked_name: claims.display_name,
            expires_at: Timestamp::from_millis(claims.expires_at.saturating_mul(1000)),
            shown,
        })
    }

    /// The arrival, as evidence from this system (`hc-conv-…`: no feed can forge or
    /// withdraw it) that the rules in force judge; checked as admission will check it.
    fn arrival_row(&self, person: &PersonId, origin: &AreaCode, shown: HomeCode) -> Result<String, ServiceError> {
        let row = json!({"id": new_id("hc-conv-"), "person_id": person.as_str(), "type": "arrival",
                         "origin": origin.as_str(), "home_code": shown.as_str(), "source": "conversion"})
        .to_string();
        self.evidence.admit(&row, AtPolicy::ServerClock, self.clock.now(), Source::Trusted)?;
        Ok(row)
    }
}
