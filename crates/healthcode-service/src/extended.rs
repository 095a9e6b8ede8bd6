//! Extended functions (seed 000: citizen card, transport card, parking, access control),
//! each switched on by the resident alone and off again at any time, and the outside
//! systems registered to use one: a scope (the fields they may read), a purpose, the
//! data-sharing agreement they signed, and an expiry. A revocation takes effect on the
//! next request: every request reads the registration.

use healthcode_domain::{ExtendedFunction, IdDocument, PersonId, Role, Timestamp, ValidationError};
use healthcode_store::{Account, Consent, PersonProfile};
use serde::{Deserialize, Serialize};

use crate::residents::Reader;
use crate::{NewAccount, Residents, ServiceError};

const KIND: &str = "third_party";

/// The fields a third party may be given; never more than a checkpoint sees.
pub const THIRD_PARTY_FIELDS: &[&str] = &["colour", "masked_name"];

/// An outside system's registration, kept beside its account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThirdParty {
    pub username: String,
    pub function: ExtendedFunction,
    pub fields: Vec<String>,
    pub purpose: String,
    /// The data-sharing agreement's reference.
    pub agreement: String,
    pub expires_at: Timestamp,
    pub registered_by: String,
    pub registered_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub revoked_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub revoked_by: Option<String>,
}

/// What registering one takes.
#[derive(Debug, Clone)]
pub struct NewThirdParty {
    pub username: String,
    pub function: ExtendedFunction,
    pub fields: Vec<String>,
    pub purpose: String,
    pub agreement: String,
    pub expires_at: Timestamp,
}

/// What a third party learns of one person: only its scope's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThirdPartyAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_name: Option<String>,
}

fn text(name: &str, value: &str, min: usize) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.chars().count() < min || value.chars().count() > 200 {
        return Err(ValidationError::field(name, format!("`{name}` is {min} to 200 characters")).into());
    }
    Ok(value.to_string())
}

impl Residents {
    /// The person's consents, in force or withdrawn.
    pub async fn consents(&self, person: &PersonId) -> Result<Vec<Consent>, ServiceError> {
        Ok(self.resident_store.consents(person).await?)
    }

    /// Switches an extended function on or off: by the person or a proxy, never by staff.
    pub async fn set_consent(
        &self,
        person: &PersonId,
        by: &Reader,
        function: ExtendedFunction,
        granted: bool,
    ) -> Result<Consent, ServiceError> {
        if matches!(by, Reader::Staff { .. }) {
            return Err(ServiceError::Forbidden("only the person, or someone who acts for them, consents".into()));
        }
        let now = self.clock.now();
        let existing = self.resident_store.consents(person).await?.into_iter().find(|c| c.purpose == function.as_str());
        let consent = match (granted, existing) {
            (true, _) => {
                Consent { person: person.clone(), purpose: function.as_str().into(), granted_at: now, revoked_at: None }
            }
            (false, Some(c)) if c.in_force() => Consent { revoked_at: Some(now), ..c },
            (false, Some(c)) => c,
            (false, None) => return Err(ServiceError::Conflict(format!("{function} was never switched on"))),
        };
        self.resident_store.save_consent(&consent).await?;
        Ok(consent)
    }

    /// Registers an outside system for one extended function; returns its API key, shown once.
    pub async fn register_third_party(
        &self,
        by: &Account,
        new: NewThirdParty,
    ) -> Result<(ThirdParty, String), ServiceError> {
        if by.role != Role::ProvincialOffice {
            return Err(ServiceError::Forbidden("third parties are registered by the provincial office".into()));
        }
        if new.fields.is_empty() || new.fields.iter().any(|f| !THIRD_PARTY_FIELDS.contains(&f.as_str())) {
            return Err(ValidationError::field(
                "fields",
                format!("`fields` is a non-empty list of {}", THIRD_PARTY_FIELDS.join(", ")),
            )
            .into());
        }
        if new.expires_at <= self.clock.now() {
            return Err(ValidationError::field("expires_at", "the registration must expire in the future").into());
        }
        let registration = ThirdParty {
            username: new.username.trim().to_string(),
            function: new.function,
            fields: new.fields,
            purpose: text("purpose", &new.purpose, 5)?,
            agreement: text("agreement", &new.agreement, 3)?,
            expires_at: new.expires_at,
            registered_by: by.username.clone(),
            registered_at: self.clock.now(),
            revoked_at: None,
            revoked_by: None,
        };
        let account = NewAccount {
            username: registration.username.clone(),
            password: None,
            role: Role::ThirdParty,
            jurisdiction: None,
            department: None,
        };
        self.accounts.create(account).await?;
        self.documents.save(KIND, &registration.username, self.clock.now(), &registration).await?;
        let key = self.accounts.issue_api_key(&registration.username, "third party").await?;
        Ok((registration, key))
    }

    pub async fn third_parties(&self) -> Result<Vec<ThirdParty>, ServiceError> {
        self.documents.load_all(KIND).await
    }

    /// Ends a registration at once.
    pub async fn revoke_third_party(&self, by: &Account, username: &str) -> Result<ThirdParty, ServiceError> {
        if by.role != Role::ProvincialOffice {
            return Err(ServiceError::Forbidden("third parties are revoked by the provincial office".into()));
        }
        let mut registration: ThirdParty = self
            .documents
            .load(KIND, username)
            .await?
            .ok_or_else(|| ValidationError::field("username", format!("no third party `{username}`")))?;
        if registration.revoked_at.is_none() {
            registration.revoked_at = Some(self.clock.now());
            registration.revoked_by = Some(by.username.clone());
            self.documents.save(KIND, username, self.clock.now(), &registration).await?;
        }
        Ok(registration)
    }

    /// A third party asks about a card holder: answered only while its registration is in
    /// force, only if the person switched its function on, and only with its fields. The
    /// read goes into the person's access log.
    pub async fn third_party_check(
        &self,
        account: &Account,
        document: &IdDocument,
    ) -> Result<ThirdPartyAnswer, ServiceError> {
        let registration: ThirdParty = self
            .documents
            .load(KIND, &account.username)
            .await?
            .ok_or_else(|| ServiceError::Forbidden("this account is not a registered third party".into()))?;
        if let Some(at) = registration.revoked_at {
            return Err(ServiceError::Forbidden(format!("this registration was revoked at {at}")));
        }
        if registration.expires_at <= self.clock.now() {
            return Err(ServiceError::Forbidden(format!(
                "this registration expired at {}; the provincial office renews it",
                registration.expires_at
            )));
        }
        let person = self.pseudonyms.person_id(document);
        if self.evidence_store.person(&person).await?.is_none() {
            return Err(ServiceError::UnknownPerson(person));
        }
        let function = registration.function;
        let consented =
            self.resident_store.consents(&person).await?.iter().any(|c| c.purpose == function.as_str() && c.in_force());
        if !consented {
            return Err(ServiceError::Forbidden(format!(
                "the card holder has not switched on {function}; they can in their health-code app"
            )));
        }
        let wants = |field: &str| registration.fields.iter().any(|f| f == field);
        let colour = if wants("colour") {
            Some(self.codes.current_code(&person).await?.colour.as_str().to_string())
        } else {
            None
        };
        let masked_name = if wants("masked_name") {
            let PersonProfile { masked_name, .. } = self.profile(&person).await?;
            masked_name
        } else {
            None
        };
        let reader = Reader::Staff {
            account: account.clone(),
            purpose: format!("{function}: {} (agreement {})", registration.purpose, registration.agreement),
        };
        self.accesses.record(&person, &reader, &registration.fields.join(", ")).await?;
        Ok(ThirdPartyAnswer { colour, masked_name })
    }
}
