//! Printed cards that last (for people without a phone): a signed card that names its
//! holder's card id and masked name, never a colour. A gate that reads one asks the
//! issuer, online, whose card it is, whether it was revoked, and the holder's colour now.
//! The holder (or a proxy) prints and revokes theirs; a service counter prints one for a
//! person in front of it, as that official's act in the person's access log.

use healthcode_domain::{IdDocument, PersonId, Timestamp};
use healthcode_store::Account;
use healthcode_token::{issue_card, CardClaims, CARD_LIFETIME_SECS};
use serde::{Deserialize, Serialize};

use crate::residents::Reader;
use crate::secrets::new_id;
use crate::tokens::{from_secs, secs};
use crate::{ServiceError, Tokens};

/// What the issuer keeps of a card: whose it is and whether it still counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardRecord {
    pub card_id: String,
    pub person: PersonId,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// `self`, `proxy:<person id>` or `counter:<official>`.
    pub issued_by: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub revoked_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub revoked_by: Option<String>,
}

/// A card as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedCard {
    pub card_id: String,
    /// `HP1:…`, for the QR code on the card.
    pub token: String,
    pub masked_name: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Why a presented card does not open a door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRefused {
    pub reason: &'static str,
    pub message: String,
}

const CARD_DOCUMENTS: &str = "card";

impl Tokens {
    /// Prints a card for `person`, by the person or a proxy (`by`).
    pub async fn issue_card(&self, person: &PersonId, by: &Reader) -> Result<IssuedCard, ServiceError> {
        let issued_by = by.resident_label().ok_or_else(|| {
            ServiceError::Forbidden("a card is printed by its holder, a proxy, or at a counter".into())
        })?;
        self.sign_card(person, issued_by).await
    }

    /// Prints a card at a service counter for the person in front of the official, whose
    /// papers were checked: an office whose jurisdiction covers the person.
    pub async fn issue_card_at_counter(
        &self,
        office: &Account,
        document: &IdDocument,
    ) -> Result<(PersonId, IssuedCard), ServiceError> {
        let person = self.residents.person_at_counter(office, document).await?;
        let card = self.sign_card(&person, format!("counter:{}", office.username)).await?;
        let reader = Reader::Staff { account: office.clone(), purpose: "print a card at a service counter".into() };
        self.accesses.record(&person, &reader, "card").await?;
        Ok((person, card))
    }

    async fn sign_card(&self, person: &PersonId, issued_by: String) -> Result<IssuedCard, ServiceError> {
        let profile = self.residents.profile(person).await?;
        let ring = self.key_ring();
        let key = ring.signing_key().map_err(|e| ServiceError::Keys(e.to_string()))?;
        let now = self.clock.now();
        let claims = CardClaims {
            issuer: ring.region().to_string(),
            card_id: new_id("card-"),
            display_name: profile.masked_name.unwrap_or_default(),
            issued_at: secs(now),
            expires_at: secs(now) + CARD_LIFETIME_SECS,
        };
        let record = CardRecord {
            card_id: claims.card_id.clone(),
            person: person.clone(),
            issued_at: from_secs(claims.issued_at),
            expires_at: from_secs(claims.expires_at),
            issued_by,
            revoked_at: None,
            revoked_by: None,
        };
        self.residents.documents.save(CARD_DOCUMENTS, &record.card_id, now, &record).await?;
        Ok(IssuedCard {
            token: issue_card(key, &claims),
            card_id: claims.card_id,
            masked_name: claims.display_name,
            issued_at: record.issued_at,
            expires_at: record.expires_at,
        })
    }

    /// Revokes one of `person`'s cards (lost, or no longer wanted): no door opens to it
    /// again. By the holder, a proxy, or a counter (`by` names who, for the record).
    pub async fn revoke_card(&self, person: &PersonId, card_id: &str, by: &str) -> Result<CardRecord, ServiceError> {
        let mut record = self
            .residents
            .documents
            .load::<CardRecord>(CARD_DOCUMENTS, card_id)
            .await?
            .filter(|c| &c.person == person)
            .ok_or_else(|| {
                healthcode_domain::ValidationError::field("card_id", format!("no card `{card_id}` of yours"))
            })?;
        if record.revoked_at.is_some() {
            return Err(ServiceError::Conflict("this card is already revoked".into()));
        }
        let now = self.clock.now();
        record.revoked_at = Some(now);
        record.revoked_by = Some(by.to_string());
        self.residents.documents.save(CARD_DOCUMENTS, card_id, now, &record).await?;
        Ok(record)
    }

    /// A counter official revokes a card of the person whose papers they checked.
    pub async fn revoke_card_at_counter(
        &self,
        office: &Account,
        document: &IdDocument,
        card_id: &str,
    ) -> Result<CardRecord, ServiceError> {
        let person = self.residents.person_at_counter(office, document).await?;
        let record = self.revoke_card(&person, card_id, &format!("counter:{}", office.username)).await?;
        let reader = Reader::Staff { account: office.clone(), purpose: "revoke a card at a service counter".into() };
        self.accesses.record(&person, &reader, "card").await?;
        Ok(record)
    }

    /// Whose card this is, if it is genuine, unexpired and not revoked.
    pub(crate) async fn card_holder(&self, token: &str) -> Result<Result<PersonId, CardRefused>, ServiceError> {
        let claims = match self.verifier().verify_card(token, &self.verify_options()) {
            Ok(claims) => claims,
            Err(refused) => return Ok(Err(CardRefused { reason: refused.code(), message: refused.to_string() })),
        };
        let record = self.residents.documents.load::<CardRecord>(CARD_DOCUMENTS, &claims.card_id).await?;
        Ok(match record {
            None => Err(CardRefused {
                reason: "unknown_card",
                message: "the card is genuine but no longer on record here; print a new one".into(),
            }),
            Some(record) if record.revoked_at.is_some() => Err(CardRefused {
                reason: "revoked_card",
                message: "this card was revoked by its holder or a counter; ask for the new one".into(),
            }),
            Some(record) => Ok(record.person),
        })
    }
}
