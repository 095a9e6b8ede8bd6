//! Residents as callers: the key a resident is given at registration (or, when lost, at a
//! service counter), the family members they act for (家庭代管), and who may read a
//! person's data. Every read by anyone but the person goes into the person's access log
//! with who, role and purpose, and the person can list it (PIPL art. 24).

use healthcode_domain::{within, IdDocument, PersonId, Timestamp, ValidationError};
use healthcode_store::{Access, Account, NewAccess, PersonRecord, ProxyLink, ResidentKey};
use serde::Serialize;

use crate::secrets::{key_hash, new_key};
use std::sync::{Arc, RwLock};

use healthcode_domain::{AreaCode, PersonKind};
use healthcode_store::{DoorStore, EvidenceStore, GovernanceStore, PersonProfile, ResidentStore};

use crate::accesses::Accesses;
use crate::documents::Documents;
use crate::tokens::SigningKeys;
use crate::{Accounts, Clock, Codes, Pseudonymiser, Registration, ServiceError, TransparencyLog};

/// The prefix of a resident's key; staff keys are `hcs_` (sessions) and `hck_` (API keys).
pub const RESIDENT_KEY_PREFIX: &str = "hcr_";
/// A family is small: more dependants than this is not a family, and a cap keeps one key
/// from collecting many persons' codes.
pub const MAX_DEPENDANTS: usize = 8;
/// How many persons may act for one dependant.
pub const MAX_PROXIES: usize = 4;
const RELATIONS: &[&str] = &["parent", "child", "spouse", "sibling", "grandparent", "grandchild", "relative", "carer"];

/// How long a resident key, once looked up, is trusted without asking the store again.
/// A key replaced at a counter stops at once on the server that replaced it, and on the
/// others within this time (a lookup is one indexed read, so a few seconds cost little).
pub const RESIDENT_KEY_CACHE_SECS: u64 = 5;
const RESIDENT_KEY_CACHE_MAX: usize = 200_000;

/// Whose a resident key is, and the officials who have seen it (and so could act with
/// it): the one who gave it at a service counter, or those who had seen the key that
/// gave the claim code it was claimed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    pub person: PersonId,
    pub seen_by: Vec<String>,
}

/// The label of a key officials have seen names them: `counter:<username>[,<username>…]`
/// (usernames hold no commas).
const COUNTER_KEY_LABEL: &str = "counter:";

fn seen_label(officials: &[String]) -> String {
    format!("{COUNTER_KEY_LABEL}{}", officials.join(","))
}

impl KeyHolder {
    pub(crate) fn of(key: &ResidentKey) -> Self {
        let seen_by = match key.label.strip_prefix(COUNTER_KEY_LABEL) {
            Some(officials) => officials.split(',').filter(|o| !o.is_empty()).map(str::to_string).collect(),
            None => Vec::new(),
        };
        KeyHolder { person: key.person.clone(), seen_by }
    }
}

/// The officials who have seen the key a resident acted with: the one who gave it at a
/// service counter and, for a proxy, the one whose counter key agreed to the link. Empty
/// for a key only its holder ever saw. What such a key declares waits for another
/// official (`Residents::declare`): an official alone must not be able to declare a stay
/// that turns someone's code red.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenBy(pub Vec<String>);

impl SeenBy {
    pub fn nobody(&self) -> bool {
        self.0.is_empty()
    }
}

/// Recently seen resident keys (hash → holder): a resident's app refreshes its code
/// every few minutes, and each refresh would otherwise cost a store read for the key.
pub(crate) struct ResidentKeyCache {
    seen: std::sync::Mutex<std::collections::HashMap<String, (KeyHolder, std::time::Instant)>>,
    /// 0 turns the cache off (to measure without it).
    seconds: std::sync::atomic::AtomicU64,
}

impl Default for ResidentKeyCache {
    fn default() -> Self {
        ResidentKeyCache { seen: Default::default(), seconds: RESIDENT_KEY_CACHE_SECS.into() }
    }
}

impl ResidentKeyCache {
    fn fresh(&self, at: &std::time::Instant) -> bool {
        at.elapsed().as_secs() < self.seconds.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn get(&self, hash: &str) -> Option<KeyHolder> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(hash).filter(|(_, at)| self.fresh(at)).map(|(p, _)| p.clone())
    }

    pub(crate) fn put(&self, hash: String, person: KeyHolder) {
        if self.seconds.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= RESIDENT_KEY_CACHE_MAX {
            seen.retain(|_, (_, at)| self.fresh(at));
            if seen.len() >= RESIDENT_KEY_CACHE_MAX {
                seen.clear();
            }
        }
        seen.insert(hash, (person, std::time::Instant::now()));
    }

    /// Forgets every key of a person (replaced), or every key (`None`: data destroyed).
    pub(crate) fn forget(&self, person: Option<&PersonId>) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match person {
            Some(person) => seen.retain(|_, (holder, _)| &holder.person != person),
            None => seen.clear(),
        }
    }
}

/// The version of the collection notice (收集告知) registrations accept now; it changes
/// with the notice, and each person's consent records the version they accepted.
pub const COLLECTION_NOTICE_VERSION: &str = "2026.1";

/// Under this age a child's data is processed with a guardian's consent (PIPL art. 31).
pub const GUARDIAN_CONSENT_UNDER_YEARS: u32 = 14;

/// How long a claim code a family member gives stays valid.
pub const CLAIM_CODE_DAYS: i64 = 7;
const CLAIM_CODE_PREFIX: &str = "hcc_";
const CLAIM_CODE_KIND: &str = "claim_code";

/// What a registration gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A new person, and their key (shown once).
    Created { key: String },
    /// A person someone else registered, claimed with a claim code: their key.
    Claimed { key: String },
    /// The person holds a key already: none is given.
    AlreadyRegistered,
    /// The person is known (a family member or a department registered them) and holds
    /// no key: a claim code or a community service point gives it, not a registration.
    ClaimRequired,
}

impl Registered {
    pub fn key(&self) -> Option<&str> {
        match self {
            Registered::Created { key } | Registered::Claimed { key } => Some(key),
            _ => None,
        }
    }
}

/// A one-time code a proxy gives the person they act for, to claim their own key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimCode {
    pub claim_code: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, serde::Deserialize, Serialize)]
struct StoredClaimCode {
    person: PersonId,
    issued_by: PersonId,
    expires_at: Timestamp,
    used_at: Option<Timestamp>,
    /// The officials who had seen the key (or link) the code was given with: the key it
    /// gives is theirs to have seen too, or a claim code would launder a counter key.
    #[serde(default)]
    seen_by: Vec<String>,
}

/// Who is reading a person's data, once allowed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// The person themselves, and who else has seen the key they used.
    Person(PersonId, SeenBy),
    /// A resident who acts for the person, and who else has seen the key or the link.
    Proxy(PersonId, SeenBy),
    /// Staff with a stated purpose.
    Staff { account: Account, purpose: String },
}

impl Reader {
    /// How a resident who acted is recorded: `self`, or `proxy:<their id>`; `None` for
    /// staff, who act in their own name.
    pub fn resident_label(&self) -> Option<String> {
        match self {
            Reader::Person(..) => Some("self".to_string()),
            Reader::Proxy(proxy, _) => Some(format!("proxy:{proxy}")),
            Reader::Staff { .. } => None,
        }
    }

    /// Whether this reader may see the person's live code (token and QR): the person and
    /// their proxies, never staff, who could otherwise show someone else's code.
    pub fn may_hold_code(&self) -> bool {
        !matches!(self, Reader::Staff { .. })
    }

    /// The officials who have seen the key (and link) this resident acted with.
    pub fn seen_by(&self) -> &[String] {
        match self {
            Reader::Person(_, seen) | Reader::Proxy(_, seen) => &seen.0,
            Reader::Staff { .. } => &[],
        }
    }
}

/// The family around a resident: whom they act for and who acts for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Family {
    pub dependants: Vec<ProxyLink>,
    pub proxies: Vec<ProxyLink>,
}

fn check_relation(relation: &str) -> Result<String, ServiceError> {
    let relation = relation.trim();
    if RELATIONS.contains(&relation) {
        Ok(relation.to_string())
    } else {
        Err(ValidationError::field("relation", format!("`relation` is one of {}", RELATIONS.join(", "))).into())
    }
}

pub(crate) fn check_purpose(purpose: Option<&str>) -> Result<String, ServiceError> {
    let purpose = purpose.map(str::trim).unwrap_or_default();
    let length = purpose.chars().count();
    if !(4..=200).contains(&length) {
        return Err(ValidationError::field(
            "purpose",
            "staff state why they read a person's data (`purpose`, 4 to 200 characters, e.g. `complaint c-12`); \
             the person sees it",
        )
        .into());
    }
    Ok(purpose.to_string())
}

/// Whether a staff account's jurisdiction covers a person (by residence area). A person
/// with no residence area is covered by the accounts whose jurisdiction is the whole
/// region (`region`, normal form): the provincial offices.
pub(crate) fn covers(account: &Account, person: &PersonRecord, region: &str) -> bool {
    match (&account.jurisdiction, &person.residence_area) {
        (None, _) => true,
        (Some(j), Some(area)) => within(j, area.normal()),
        (Some(j), None) => within(j, region),
    }
}

/// Residents and their data: registration, resident keys and claim codes, family
/// proxies, readers' rights and the access log's reads, sealed personal details and
/// their destruction, complaints, consents and third parties. Holds the stores of
/// residents' data, persons (and their areas), check-ins (a person's own, and retention)
/// and documents (retention), the clock, the pseudonymiser, documents, the log, the
/// evaluator (a registration computes the code; a complaint shows it), accounts (a third
/// party gets one), the access log, the key ring, the vault and the resident key cache.
pub struct Residents {
    pub(crate) resident_store: Arc<dyn ResidentStore>,
    /// Records the hub kept for a visitor become evidence when they register.
    pub(crate) evidence: Arc<crate::Evidence>,
    pub(crate) evidence_store: Arc<dyn EvidenceStore>,
    pub(crate) door_store: Arc<dyn DoorStore>,
    pub(crate) governance_store: Arc<dyn GovernanceStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pseudonyms: Pseudonymiser,
    pub(crate) documents: Documents,
    pub(crate) log: Arc<TransparencyLog>,
    pub(crate) codes: Arc<Codes>,
    pub(crate) accounts: Arc<Accounts>,
    pub(crate) accesses: Arc<Accesses>,
    pub(crate) keys: Arc<SigningKeys>,
    /// The master keys that wrap each person's data key; held outside the database.
    pub(crate) vault: RwLock<Arc<healthcode_vault::Keyring>>,
    /// When retention last ran (milliseconds), so that it runs at most hourly.
    pub(crate) retention_ran_at: std::sync::atomic::AtomicI64,
    pub(crate) resident_keys: Arc<ResidentKeyCache>,
    /// An office giving many keys at its counter within the hour is said aloud.
    pub(crate) alarms: Arc<crate::Alarms>,
}

/// Keys one office may give at its counter within an hour before an alarm: each one is a
/// person's whole power over their code (declarations included), given on papers the
/// system cannot check, and every earlier key of that person stops working.
pub const COUNTER_KEYS_ALARM: u64 = 30;

/// The hourly counts of counter keys, kept with the colour changes' counts per office.
const COUNTER_KEYS_ORIGIN: &str = "counter:keys";

impl Residents {
    /// The code id a person's signed codes carry: a keyed hash of the person id, so it is
    /// stable (a code card can be printed) but says nothing about the person id.
    pub fn code_id_for(&self, person: &PersonId) -> String {
        self.pseudonyms.code_id(person)
    }

    /// Puts a read by anyone but the person into the person's access log (a page or an
    /// API answer that shows a person's data to staff or a proxy).
    pub async fn record_access(&self, person: &PersonId, reader: &Reader, what: &str) -> Result<(), ServiceError> {
        self.accesses.record(person, reader, what).await
    }

    /// The person's colour changes in the log, each with its inclusion proof in a
    /// checkpoint of the log as it is now.
    pub async fn person_log(&self, person: &PersonId) -> Result<crate::PersonLog, ServiceError> {
        if self.evidence_store.person(person).await?.is_none() {
            return Err(ServiceError::UnknownPerson(person.clone()));
        }
        self.log.person_log(person).await
    }

    /// Registers a resident, or finds them if already registered; their code is computed
    /// at once (from any evidence recorded before they registered). Only a registration
    /// that creates the person records their name and phone: whoever knows an ID number
    /// must not be able to rename its holder, or give a person known from a department's
    /// list a name of their choosing.
    pub async fn register(&self, registration: Registration) -> Result<(PersonRecord, bool), ServiceError> {
        let id = self.pseudonyms.person_id(&registration.document);
        let kind = registration.document.id_type().person_kind_asked(registration.international)?;
        crate::places::current_if_given("residence_area", registration.residence_area.as_ref())?;
        let registered = self.register_pseudonymous(id.clone(), kind, registration.residence_area).await?;
        if registered.1 {
            self.set_own_details(&id, registration.name, registration.phone).await?;
        }
        // A visitor from another region: what the hub published about them becomes
        // evidence here now, judged by this region's rules.
        if let Some(national_id) = self.pseudonyms.national_id(&registration.document) {
            let link = healthcode_store::NationalLink { national_id, person: id.clone() };
            self.evidence.link_national(vec![link]).await?;
        }
        Ok(registered)
    }

    /// The person's own name and phone: sealed, and the masked name for checkpoints.
    pub(crate) async fn set_own_details(
        &self,
        id: &PersonId,
        name: Option<String>,
        phone: Option<String>,
    ) -> Result<(), ServiceError> {
        let masked_name = name.as_deref().map(healthcode_domain::mask_name);
        let details = crate::PersonalDetails { name, phone };
        self.save_personal_details(id, &details).await?;
        let profile = PersonProfile { code_id: self.pseudonyms.code_id(id), person: id.clone(), masked_name };
        self.resident_store.save_profile(&profile).await?;
        Ok(())
    }

    /// Registers persons of an import (a synthetic region, a history) without evaluating
    /// them: their evidence, when it is ingested, queues them; call `refresh_persons` for
    /// those who have none. Existing persons are left as they are; returns how many were new.
    pub async fn import_persons(&self, persons: &[PersonRecord]) -> Result<u64, ServiceError> {
        Ok(self.evidence_store.register_persons(persons).await?)
    }

    /// Registers a person under an id chosen by the caller (scenarios, synthetic data).
    pub async fn register_pseudonymous(
        &self,
        id: PersonId,
        kind: PersonKind,
        residence_area: Option<AreaCode>,
    ) -> Result<(PersonRecord, bool), ServiceError> {
        let record = PersonRecord { id: id.clone(), kind, registered_at: self.clock.now(), residence_area };
        let created = self.evidence_store.register_person(&record).await?;
        let stored = self.evidence_store.person(&id).await?.ok_or_else(|| ServiceError::UnknownPerson(id.clone()))?;
        if created {
            self.codes.refresh_persons(std::slice::from_ref(&id)).await?;
        }
        Ok((stored, created))
    }

    /// The person's profile, created (with their code id) if they have none yet: persons
    /// named only in a department's list have no profile until they first need a code.
    pub async fn profile(&self, person: &PersonId) -> Result<PersonProfile, ServiceError> {
        if let Some(profile) = self.resident_store.profile(person).await? {
            return Ok(profile);
        }
        if self.evidence_store.person(person).await?.is_none() {
            return Err(ServiceError::UnknownPerson(person.clone()));
        }
        let profile =
            PersonProfile { person: person.clone(), code_id: self.pseudonyms.code_id(person), masked_name: None };
        self.resident_store.save_profile(&profile).await?;
        Ok(profile)
    }
}

impl Residents {
    /// How long resident keys are trusted from memory (`RESIDENT_KEY_CACHE_SECS` unless
    /// set; 0: always ask the store).
    pub fn set_resident_key_cache_seconds(&self, seconds: u64) {
        self.resident_keys.seconds.store(seconds, std::sync::atomic::Ordering::Relaxed);
        self.resident_keys.forget(None);
    }

    /// A new key for a resident, shown once.
    pub async fn issue_resident_key(&self, person: &PersonId, label: &str) -> Result<String, ServiceError> {
        let (key, hash) = new_key(RESIDENT_KEY_PREFIX);
        let record = ResidentKey {
            key_hash: hash,
            person: person.clone(),
            label: label.to_string(),
            created_at: self.clock.now(),
        };
        self.resident_store.save_resident_key(&record).await?;
        Ok(key)
    }

    /// The person a resident key belongs to.
    pub async fn resident(&self, key: &str) -> Result<PersonId, ServiceError> {
        Ok(self.key_holder(key).await?.person)
    }

    /// Whose a resident key is, and whether an official gave it at a counter.
    pub async fn key_holder(&self, key: &str) -> Result<KeyHolder, ServiceError> {
        let hash = key_hash(key);
        if let Some(holder) = self.resident_keys.get(&hash) {
            return Ok(holder);
        }
        match self.resident_store.resident_key(&hash).await? {
            Some(k) => {
                let holder = KeyHolder::of(&k);
                self.resident_keys.put(hash, holder.clone());
                Ok(holder)
            }
            None => Err(ServiceError::Unauthorised(
                "unknown resident key; a lost key is replaced at a community service point".into(),
            )),
        }
    }

    /// Registration. A key is given to whoever proves the identity, never to whoever
    /// first types an ID number the system already knows: a person this registration
    /// creates gets their key; a person registered earlier by someone else (a family
    /// member acting for them, a department's list) gets one only with a claim code from
    /// the family member who registered them (`issue_claim_code`), or at a community
    /// service point (`replace_resident_key`); a person who holds a key gets none.
    pub async fn register_resident(
        &self,
        registration: Registration,
        claim_code: Option<&str>,
    ) -> Result<(PersonRecord, Registered), ServiceError> {
        let id = self.pseudonyms.person_id(&registration.document);
        if let Some(code) = claim_code {
            return self.claim(registration, code).await;
        }
        if self.evidence_store.person(&id).await?.is_some() {
            let person =
                self.evidence_store.person(&id).await?.ok_or_else(|| ServiceError::UnknownPerson(id.clone()))?;
            let held = self.resident_store.has_resident_key(&id).await?;
            return Ok((person, if held { Registered::AlreadyRegistered } else { Registered::ClaimRequired }));
        }
        let accepted_notice = registration.accepted_notice;
        let (person, created) = self.register(registration).await?;
        if !created {
            // Someone registered the same person a moment before: theirs is the key.
            return Ok((person, Registered::AlreadyRegistered));
        }
        if accepted_notice {
            self.record_consent(&person.id, &format!("collection_notice:{COLLECTION_NOTICE_VERSION}")).await?;
        }
        match self.give_first_key(&person.id, "registration").await? {
            Some(key) => Ok((person, Registered::Created { key })),
            None => Ok((person, Registered::AlreadyRegistered)),
        }
    }

    /// Saves a new key for a person who holds none, atomically (two registrations at once
    /// cannot both claim a person); `None` if they hold one already.
    async fn give_first_key(&self, person: &PersonId, label: &str) -> Result<Option<String>, ServiceError> {
        let (key, hash) = new_key(RESIDENT_KEY_PREFIX);
        let record =
            ResidentKey { key_hash: hash, person: person.clone(), label: label.into(), created_at: self.clock.now() };
        Ok(self.resident_store.claim_resident_key(&record).await?.then_some(key))
    }

    /// A family member who acts for a person not holding a key of their own yet gives
    /// them a one-time claim code (valid `CLAIM_CODE_DAYS` days): registering with it and
    /// the person's ID number gives the person their key. The proxy link stays until
    /// either side ends it.
    pub async fn issue_claim_code(&self, by: &Reader, person: &PersonId) -> Result<ClaimCode, ServiceError> {
        // A proxy's reader of the person (`reader_for_resident`), which carries who has
        // seen their key and link; the link is checked again here all the same.
        let not_proxy =
            || ServiceError::Forbidden("a claim code is given by a family member who acts for the person".into());
        let Reader::Proxy(by, seen) = by else { return Err(not_proxy()) };
        let acts_for =
            self.resident_store.proxy_links(by).await?.iter().any(|l| &l.proxy == by && &l.dependant == person);
        if !acts_for {
            return Err(not_proxy());
        }
        if self.resident_store.has_resident_key(person).await? {
            return Err(ServiceError::Conflict("this person holds a key of their own already".into()));
        }
        let (code, hash) = new_key(CLAIM_CODE_PREFIX);
        let now = self.clock.now();
        let stored = StoredClaimCode {
            person: person.clone(),
            issued_by: by.clone(),
            expires_at: now.saturating_add(healthcode_domain::Duration::days(CLAIM_CODE_DAYS)),
            used_at: None,
            seen_by: seen.0.clone(),
        };
        self.documents.save(CLAIM_CODE_KIND, &hash, now, &stored).await?;
        Ok(ClaimCode { claim_code: code, expires_at: stored.expires_at })
    }

    /// Registration with a claim code: the person's key, if the code was given for the
    /// person of this ID number, is unused and unexpired, and they hold no key yet.
    async fn claim(&self, registration: Registration, code: &str) -> Result<(PersonRecord, Registered), ServiceError> {
        let id = self.pseudonyms.person_id(&registration.document);
        let invalid = || {
            ServiceError::Forbidden(
                "this claim code is not valid for this ID number (unknown, used or expired); ask the family member \
                 who registered you for a new one, or claim your code at a community service point"
                    .into(),
            )
        };
        let hash = key_hash(code.trim());
        let mut stored: StoredClaimCode = self.documents.load(CLAIM_CODE_KIND, &hash).await?.ok_or_else(invalid)?;
        if stored.person != id || stored.used_at.is_some() || stored.expires_at <= self.clock.now() {
            return Err(invalid());
        }
        let mut person = self.evidence_store.person(&id).await?.ok_or_else(invalid)?;
        let label = if stored.seen_by.is_empty() { "claim code".to_string() } else { seen_label(&stored.seen_by) };
        let Some(key) = self.give_first_key(&id, &label).await? else {
            return Ok((person, Registered::AlreadyRegistered));
        };
        stored.used_at = Some(self.clock.now());
        self.documents.save(CLAIM_CODE_KIND, &hash, self.clock.now(), &stored).await?;
        // The person themself: their area (if none was recorded) and their own details.
        if let (None, Some(area)) = (&person.residence_area, &registration.residence_area) {
            if self.evidence_store.fill_residence_area(&id, area).await? {
                person.residence_area = Some(area.clone());
            }
        }
        if registration.name.is_some() || registration.phone.is_some() {
            self.set_own_details(&id, registration.name, registration.phone).await?;
        }
        Ok((person, Registered::Claimed { key }))
    }

    /// A key given at a service counter by an office whose jurisdiction covers the person,
    /// after checking their papers: the first key of a person someone else registered, or
    /// the replacement of a lost one (every earlier key stops working). The area of
    /// residence on the papers is recorded if none is and the office covers it.
    pub async fn replace_resident_key(
        &self,
        office: &Account,
        document: &IdDocument,
        residence_area: Option<healthcode_domain::AreaCode>,
    ) -> Result<(PersonRecord, String), ServiceError> {
        crate::places::current_if_given("residence_area", residence_area.as_ref())?;
        let id = self.pseudonyms.person_id(document);
        let mut person = match self.evidence_store.person(&id).await? {
            Some(person) => person,
            // Someone never registered, in front of the counter with their papers: the
            // official registers them, in their district only.
            None => {
                let area = residence_area.clone().ok_or_else(|| {
                    ValidationError::field(
                        "residence_area",
                        "this person is not registered yet: give their area of residence to register them here",
                    )
                })?;
                let record = PersonRecord {
                    id: id.clone(),
                    kind: document.id_type().person_kind(),
                    registered_at: self.clock.now(),
                    residence_area: Some(area),
                };
                if !covers(office, &record, self.keys.ring().region()) {
                    return Err(ServiceError::Forbidden(
                        "this person lives outside your jurisdiction; their own district's counter registers them"
                            .into(),
                    ));
                }
                let registration = Registration {
                    document: document.clone(),
                    residence_area: record.residence_area.clone(),
                    name: None,
                    phone: None,
                    international: false,
                    accepted_notice: false,
                };
                self.register(registration).await?;
                self.accesses
                    .record(
                        &id,
                        &Reader::Staff { account: office.clone(), purpose: "register at a service counter".into() },
                        "registration",
                    )
                    .await?;
                record
            }
        };
        if !covers(office, &person, self.keys.ring().region()) {
            return Err(ServiceError::Forbidden(
                "this person lives outside your jurisdiction; their own district's office replaces their key".into(),
            ));
        }
        if let (None, Some(area)) = (&person.residence_area, residence_area) {
            let with_area = PersonRecord { residence_area: Some(area.clone()), ..person.clone() };
            if !covers(office, &with_area, self.keys.ring().region()) {
                return Err(ServiceError::Forbidden(format!(
                    "{} is outside your jurisdiction; the person's own district's office records it",
                    area.as_str()
                )));
            }
            if self.evidence_store.fill_residence_area(&id, &area).await? {
                person.residence_area = Some(area);
            }
        }
        self.resident_store.delete_resident_keys(&id).await?;
        self.resident_keys.forget(Some(&id));
        let key = self.issue_resident_key(&id, &seen_label(std::slice::from_ref(&office.username))).await?;
        self.accesses
            .record(
                &id,
                &Reader::Staff { account: office.clone(), purpose: "give a key at a service counter".into() },
                "key",
            )
            .await?;
        let now = self.clock.now();
        let past = self.alarms.count_past(COUNTER_KEYS_ORIGIN, &office.username, 1, now, COUNTER_KEYS_ALARM).await?;
        if let Some(total) = past {
            let detail = format!(
                "{} gave {total} resident keys at a service counter within the hour (more than {COUNTER_KEYS_ALARM}): \
                 each replaces the person's own keys and lets its holder declare for them; check the counter's \
                 records of papers seen",
                office.username
            );
            let area = office.jurisdiction.clone().unwrap_or_else(|| self.keys.ring().region().to_string());
            self.alarms.raise("counter_keys", &area, detail).await?;
        }
        Ok((person, key))
    }

    /// The person whose papers an official checked at a service counter: registered, and
    /// living inside the office's jurisdiction.
    pub(crate) async fn person_at_counter(
        &self,
        office: &Account,
        document: &IdDocument,
    ) -> Result<PersonId, ServiceError> {
        let id = self.pseudonyms.person_id(document);
        let person = self.evidence_store.person(&id).await?.ok_or_else(|| ServiceError::UnknownPerson(id.clone()))?;
        if !covers(office, &person, self.keys.ring().region()) {
            return Err(ServiceError::Forbidden(
                "this person lives outside your jurisdiction; their own district's counter serves them".into(),
            ));
        }
        Ok(id)
    }

    /// Records a consent given now (a notice accepted, a guardian's consent).
    async fn record_consent(&self, person: &PersonId, purpose: &str) -> Result<(), ServiceError> {
        let consent = healthcode_store::Consent {
            person: person.clone(),
            purpose: purpose.to_string(),
            granted_at: self.clock.now(),
            revoked_at: None,
        };
        Ok(self.resident_store.save_consent(&consent).await?)
    }

    /// A resident reading `person`'s data: the person or a proxy of theirs.
    pub async fn reader_for_resident(&self, key: &str, person: &PersonId) -> Result<Reader, ServiceError> {
        let KeyHolder { person: caller, seen_by } = self.key_holder(key).await?;
        let mut seen = SeenBy(seen_by);
        if &caller == person {
            return Ok(Reader::Person(caller, seen));
        }
        let links = self.resident_store.proxy_links(&caller).await?;
        match links.into_iter().find(|l| l.proxy == caller && &l.dependant == person) {
            Some(link) => {
                for official in link.agreed_with_counter_key_of.iter().flat_map(|o| o.split(',')) {
                    if !seen.0.iter().any(|o| o == official) {
                        seen.0.push(official.to_string());
                    }
                }
                Ok(Reader::Proxy(caller, seen))
            }
            None => Err(ServiceError::Forbidden("this key belongs to someone who does not act for this person".into())),
        }
    }

    /// A staff reader of a person, checked against the jurisdiction, with a purpose (the
    /// role was checked by the caller against the server's policy table).
    pub async fn reader_for_staff(
        &self,
        account: Account,
        person: &PersonId,
        purpose: Option<&str>,
    ) -> Result<Reader, ServiceError> {
        let purpose = check_purpose(purpose)?;
        let record =
            self.evidence_store.person(person).await?.ok_or_else(|| ServiceError::UnknownPerson(person.clone()))?;
        if !covers(&account, &record, self.keys.ring().region()) {
            return Err(ServiceError::Forbidden("this person lives outside your jurisdiction".into()));
        }
        Ok(Reader::Staff { account, purpose })
    }

    /// The person's access log, newest first: staff and proxies' reads, and the venues and
    /// gates that checked their code (from their check-ins of the past 28 days).
    pub async fn accesses(&self, person: &PersonId) -> Result<Vec<NewAccess>, ServiceError> {
        let mut list: Vec<NewAccess> =
            self.resident_store.accesses(person, 500).await?.into_iter().map(|Access { access, .. }| access).collect();
        let now = self.clock.now();
        let from = now.saturating_sub(healthcode_domain::Duration::days(28));
        let checkins =
            self.door_store.checkins_of_person(person, from, Timestamp::from_millis(now.as_millis() + 1), 500).await?;
        for c in checkins.into_iter().map(|c| c.checkin) {
            let actor = match &c.device {
                Some(device) => format!("venue:{}/device:{device}", c.venue),
                None => format!("venue:{}", c.venue),
            };
            list.push(NewAccess {
                person: person.clone(),
                at: c.at,
                actor,
                role: "venue".into(),
                purpose: "entry check (colour and masked name)".into(),
                what: "colour".into(),
            });
        }
        list.sort_by_key(|a| std::cmp::Reverse(a.at));
        Ok(list)
    }

    pub async fn family(&self, person: &PersonId) -> Result<Family, ServiceError> {
        let links = self.resident_store.proxy_links(person).await?;
        let (dependants, proxies) = links.into_iter().partition(|l| &l.proxy == person);
        Ok(Family { dependants, proxies })
    }

    /// Starts acting for a family member. A person not yet registered is registered by
    /// the proxy (an elderly parent without a phone). An already registered person must
    /// agree, which they show by their own key (`dependant_key`).
    pub async fn add_dependant(
        &self,
        proxy: &PersonId,
        registration: Registration,
        relation: &str,
        dependant_key: Option<&str>,
    ) -> Result<(PersonRecord, bool), ServiceError> {
        let relation = check_relation(relation)?;
        let dependant = self.pseudonyms.person_id(&registration.document);
        if &dependant == proxy {
            return Err(ValidationError::field("id_number", "you cannot act for yourself").into());
        }
        let mine = self.family(proxy).await?;
        if mine.dependants.len() >= MAX_DEPENDANTS {
            return Err(ServiceError::Conflict(format!(
                "you already act for {MAX_DEPENDANTS} persons, the most one resident may; end one first"
            )));
        }
        let existing = self.evidence_store.person(&dependant).await?;
        // A key an official gave at a counter agrees to the link in that official's sight:
        // the link remembers it, or the official could act as the person's proxy.
        let mut agreed_with_counter_key_of = None;
        if existing.is_some() {
            let holder = match dependant_key {
                Some(key) => self.key_holder(key).await.ok().filter(|holder| holder.person == dependant),
                None => None,
            };
            let agreed = holder.is_some();
            agreed_with_counter_key_of =
                holder.filter(|holder| !holder.seen_by.is_empty()).map(|h| h.seen_by.join(","));
            if !agreed {
                return Err(ServiceError::Conflict(
                    "this person is already registered; they agree to your acting for them by giving you their \
                     resident key (send it as `dependant_key`), or at a community service point"
                        .into(),
                ));
            }
            if self.family(&dependant).await?.proxies.len() >= MAX_PROXIES {
                return Err(ServiceError::Conflict(format!(
                    "{MAX_PROXIES} persons already act for this person; one of them must stop first"
                )));
            }
        }
        let minor =
            registration.document.age_at(self.clock.now()).is_some_and(|age| age < GUARDIAN_CONSENT_UNDER_YEARS);
        let (record, created) = match existing {
            Some(record) => (record, false),
            None => self.register(registration).await?,
        };
        // A family member registering a child gives the guardian's consent: who and when.
        if created && minor {
            self.record_consent(&record.id, &format!("guardian_consent:{proxy}")).await?;
        }
        let link = ProxyLink {
            proxy: proxy.clone(),
            dependant: dependant.clone(),
            relation,
            created_at: self.clock.now(),
            agreed_with_counter_key_of,
        };
        self.resident_store.save_proxy(&link).await?;
        Ok((record, created))
    }

    /// Ends a proxy link; either the proxy or the dependant may.
    pub async fn end_proxy(&self, by: &PersonId, proxy: &PersonId, dependant: &PersonId) -> Result<(), ServiceError> {
        if by != proxy && by != dependant {
            return Err(ServiceError::Forbidden("only the proxy or the person they act for can end it".into()));
        }
        if !self.resident_store.end_proxy(proxy, dependant).await? {
            return Err(ServiceError::Conflict("there is no such proxy link".into()));
        }
        Ok(())
    }
}
