//! The exchange format between regions and the hub (`docs/FEDERATION.md`): the lines a
//! region submits, and how a record travels — from a region's evidence to a submission,
//! and from the hub's published record back to evidence in another region, where that
//! region's own rules judge it. Pure: no store, no clock.

use base64::Engine;
use healthcode_domain::{
    AreaCode, AreaRisk, DiagnosisStatus, EventId, Evidence, PersonId, RiskLevel, TestResult, Timestamp, ValidationError,
};
use healthcode_log::NationalRecord;
use healthcode_store::{AdmittedRecord, SignedOutside, Signer};
use healthcode_token::{KeyId, SigningKey, TrustList, TrustedKey};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The longest record id a region may use: the receiving region's event id
/// (`hc-nat-<region>-<id>`) must fit in 128 characters.
pub const MAX_RECORD_ID: usize = 100;
/// The longest id of a venue exposure: each person it reaches here gets an event id of its
/// own (`hc-nat-<region>-<id>~<24 hex digits>`), and its withdrawal's
/// (`hc-natrev-<region>-…`) must fit in 128 characters too.
pub const MAX_EXPOSURE_ID: usize = 80;
/// The longest venue id an exposure may name.
pub const MAX_VENUE_ID: usize = 64;
/// The longest window of one exposure: a trace's window reaches at most four hours either
/// side of the case's visit.
pub const MAX_EXPOSURE_HOURS: i64 = 8;
/// The longest reason a retraction may give.
pub const MAX_REASON: usize = 500;
/// The most lines one submission may hold (the hub signs a checkpoint after each, so a
/// region syncs in steps of at most this many records).
pub const MAX_SUBMISSION_LINES: usize = 10_000;

/// What a key person is, as the national list says (seed 004: cases, suspected cases,
/// asymptomatic infections, close contacts; seed 001: test results across regions), and
/// what ends it: a suspected case excluded, a case discharged, a contact cleared. Without
/// these, a region that used a record would keep a person red after the reporting region
/// cleared them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Confirmed,
    Suspected,
    Asymptomatic,
    CloseContact,
    PositiveTest,
    Excluded,
    Discharged,
    ContactCleared,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Confirmed => "confirmed",
            KeyStatus::Suspected => "suspected",
            KeyStatus::Asymptomatic => "asymptomatic",
            KeyStatus::CloseContact => "close_contact",
            KeyStatus::PositiveTest => "positive_test",
            KeyStatus::Excluded => "excluded",
            KeyStatus::Discharged => "discharged",
            KeyStatus::ContactCleared => "contact_cleared",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
    }
}

/// What a region signs its records under (`healthcode_token::sign_detached`).
pub const RECORD_CONTEXT: &str = "healthcode national record v1";

/// One line of a region's submission, as received (before any check).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Line {
    KeyPerson {
        id: String,
        person: String,
        status: KeyStatus,
        since: String,
        #[serde(default)]
        kid: Option<String>,
        #[serde(default)]
        signature: Option<String>,
    },
    TestResult {
        id: String,
        person: String,
        result: TestResult,
        since: String,
        #[serde(default)]
        kid: Option<String>,
        #[serde(default)]
        signature: Option<String>,
    },
    RiskLevel {
        id: String,
        area: String,
        level: RiskLevel,
        since: String,
        #[serde(default)]
        kid: Option<String>,
        #[serde(default)]
        signature: Option<String>,
    },
    Retraction {
        id: String,
        retracts: String,
        reason: String,
        #[serde(default)]
        person: Option<String>,
        #[serde(default)]
        kid: Option<String>,
        #[serde(default)]
        signature: Option<String>,
    },
    VenueExposure {
        id: String,
        venue: String,
        since: String,
        until: String,
        #[serde(default)]
        kid: Option<String>,
        #[serde(default)]
        signature: Option<String>,
    },
}

/// A region's signature on a line: the key (in its published trust list) and the
/// signature's base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub kid: KeyId,
    pub signature: [u8; 64],
}

/// A checked submission line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    KeyPerson {
        id: String,
        person: String,
        status: KeyStatus,
        since: Timestamp,
        signed: Option<Signed>,
    },
    /// A test the region chose to share (seed 001: 跨区域核酸检测报告核查), `since` its
    /// sampling.
    TestResult {
        id: String,
        person: String,
        result: TestResult,
        since: Timestamp,
        signed: Option<Signed>,
    },
    /// An area's risk level as the region designated it, in force from `since`: the
    /// national platform's list of every county's level (seed 004), filled by the regions.
    RiskLevel {
        id: String,
        area: AreaCode,
        level: RiskLevel,
        since: Timestamp,
        signed: Option<Signed>,
    },
    /// `person` is the withdrawn record's, which the region signs with the retraction (the
    /// hub checks it against the record).
    Retraction {
        id: String,
        retracts: String,
        reason: String,
        person: Option<String>,
        signed: Option<Signed>,
    },
    /// A case was at one of the region's venues: whoever checked in there from `since`
    /// until `until` may be a close contact. Published after two of the region's officers
    /// approved a trace; it names no person (visitors from other regions checked in with
    /// their own region's app, and their region matches its own check-ins).
    VenueExposure {
        id: String,
        venue: String,
        since: Timestamp,
        until: Timestamp,
        signed: Option<Signed>,
    },
}

impl Submission {
    pub fn id(&self) -> &str {
        match self {
            Submission::KeyPerson { id, .. }
            | Submission::TestResult { id, .. }
            | Submission::RiskLevel { id, .. }
            | Submission::Retraction { id, .. }
            | Submission::VenueExposure { id, .. } => id,
        }
    }

    /// The person the line is about, if it names one (a retraction may leave it to the hub).
    pub fn person(&self) -> Option<&str> {
        match self {
            Submission::KeyPerson { person, .. } | Submission::TestResult { person, .. } => Some(person),
            Submission::Retraction { person, .. } => person.as_deref(),
            Submission::RiskLevel { .. } | Submission::VenueExposure { .. } => None,
        }
    }

    /// The same line without its signature.
    fn unsigned(self) -> Submission {
        match self {
            Submission::KeyPerson { id, person, status, since, .. } => {
                Submission::KeyPerson { id, person, status, since, signed: None }
            }
            Submission::TestResult { id, person, result, since, .. } => {
                Submission::TestResult { id, person, result, since, signed: None }
            }
            Submission::RiskLevel { id, area, level, since, .. } => {
                Submission::RiskLevel { id, area, level, since, signed: None }
            }
            Submission::Retraction { id, retracts, reason, person, .. } => {
                Submission::Retraction { id, retracts, reason, person, signed: None }
            }
            Submission::VenueExposure { id, venue, since, until, .. } => {
                Submission::VenueExposure { id, venue, since, until, signed: None }
            }
        }
    }

    /// Reads one line, refusing anything the format does not allow, with the field and
    /// how to fix it.
    pub fn parse(text: &str) -> Result<Submission, ValidationError> {
        let line: Line = serde_json::from_str(text).map_err(|e| {
            ValidationError::new(format!(
                "not a submission line ({e}); send one JSON object per line with `kind` `key_person` (`id`, \
                 `person`, `status`, `since`), `test_result` (`id`, `person`, `result`, `since`), `risk_level` \
                 (`id`, `area`, `level`, `since`), `venue_exposure` (`id`, `venue`, `since`, `until`) or `retraction` \
                 (`id`, `retracts`, `reason`)"
            ))
        })?;
        match line {
            Line::KeyPerson { id, person, status, since, kid, signature } => {
                check_record_id("id", &id)?;
                check_national_id(&person)?;
                let since = Timestamp::parse_field("since", &since)?;
                let signed = signed(kid, signature)?;
                Ok(Submission::KeyPerson { id, person, status, since, signed })
            }
            Line::TestResult { id, person, result, since, kid, signature } => {
                check_record_id("id", &id)?;
                check_national_id(&person)?;
                let since = Timestamp::parse_field("since", &since)?;
                let signed = signed(kid, signature)?;
                Ok(Submission::TestResult { id, person, result, since, signed })
            }
            Line::RiskLevel { id, area, level, since, kid, signature } => {
                check_record_id("id", &id)?;
                let area = AreaCode::parse(&area).map_err(|e| ValidationError::field("area", e.to_string()))?;
                let since = Timestamp::parse_field("since", &since)?;
                let signed = signed(kid, signature)?;
                Ok(Submission::RiskLevel { id, area, level, since, signed })
            }
            Line::Retraction { id, retracts, reason, person, kid, signature } => {
                if let Some(person) = &person {
                    check_national_id(person)?;
                }
                let signed = signed(kid, signature)?;
                check_record_id("id", &id)?;
                check_record_id("retracts", &retracts)?;
                let reason = reason.trim().to_string();
                if reason.is_empty() || reason.chars().count() > MAX_REASON {
                    return Err(ValidationError::field(
                        "reason",
                        format!("say why the record is withdrawn, in 1 to {MAX_REASON} characters"),
                    ));
                }
                Ok(Submission::Retraction { id, retracts, reason, person, signed })
            }
            Line::VenueExposure { id, venue, since, until, kid, signature } => {
                check_record_id("id", &id)?;
                if id.len() > MAX_EXPOSURE_ID {
                    return Err(ValidationError::field(
                        "id",
                        format!("a venue exposure's id is at most {MAX_EXPOSURE_ID} characters"),
                    ));
                }
                if venue.is_empty() || venue.len() > MAX_VENUE_ID || !venue.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(ValidationError::field(
                        "venue",
                        format!("the venue's id as its venue codes carry it: 1 to {MAX_VENUE_ID} printable ASCII characters"),
                    ));
                }
                let since = Timestamp::parse_field("since", &since)?;
                let until = Timestamp::parse_field("until", &until)?;
                check_exposure_window(since, until).map_err(|e| ValidationError::field("until", e))?;
                let signed = signed(kid, signature)?;
                Ok(Submission::VenueExposure { id, venue, since, until, signed })
            }
        }
    }

    pub fn signed(&self) -> Option<&Signed> {
        match self {
            Submission::KeyPerson { signed, .. }
            | Submission::TestResult { signed, .. }
            | Submission::RiskLevel { signed, .. }
            | Submission::Retraction { signed, .. }
            | Submission::VenueExposure { signed, .. } => signed.as_ref(),
        }
    }

    /// The record the hub publishes for this line from `region`, accepted at `at`.
    /// `person` is the national id (a retraction's is its record's, which the hub looks up;
    /// empty for a risk level).
    pub fn to_record(&self, region: &str, person: &str, at: Timestamp) -> NationalRecord {
        let mut record = NationalRecord {
            at: at.as_millis(),
            region: region.to_string(),
            id: self.id().to_string(),
            kind: String::new(),
            person: person.to_string(),
            status: None,
            since: None,
            retracts: None,
            reason: None,
            area: None,
            level: None,
            result: None,
            venue: None,
            until: None,
            kid: self.signed().map(|s| s.kid.to_string()),
            signature: self.signed().map(|s| base64::engine::general_purpose::STANDARD.encode(s.signature)),
        };
        match self {
            Submission::KeyPerson { status, since, .. } => {
                record.kind = "key_person".into();
                record.status = Some(status.as_str().into());
                record.since = Some(since.as_millis());
            }
            Submission::TestResult { result, since, .. } => {
                record.kind = "test_result".into();
                record.result = Some(result.as_str().into());
                record.since = Some(since.as_millis());
            }
            Submission::RiskLevel { area, level, since, .. } => {
                record.kind = "risk_level".into();
                record.person = String::new();
                record.area = Some(area.as_str().into());
                record.level = Some(level.as_str().into());
                record.since = Some(since.as_millis());
            }
            Submission::Retraction { retracts, reason, .. } => {
                record.kind = "retraction".into();
                record.retracts = Some(retracts.clone());
                record.reason = Some(reason.clone());
            }
            Submission::VenueExposure { venue, since, until, .. } => {
                record.kind = "venue_exposure".into();
                record.person = String::new();
                record.venue = Some(venue.clone());
                record.since = Some(since.as_millis());
                record.until = Some(until.as_millis());
            }
        }
        record
    }
}

fn signed(kid: Option<String>, signature: Option<String>) -> Result<Option<Signed>, ValidationError> {
    match (kid, signature) {
        (None, None) => Ok(None),
        (Some(kid), Some(signature)) => {
            let kid = kid
                .parse::<KeyId>()
                .map_err(|_| ValidationError::field("kid", "the id of one of the region's code-signing keys"))?;
            let signature = base64::engine::general_purpose::STANDARD
                .decode(&signature)
                .ok()
                .and_then(|b| <[u8; 64]>::try_from(b).ok())
                .ok_or_else(|| ValidationError::field("signature", "an Ed25519 signature: 64 bytes, base64"))?;
            Ok(Some(Signed { kid, signature }))
        }
        _ => Err(ValidationError::field("signature", "give both `kid` and `signature`, or neither")),
    }
}

/// Signs a submission line as `region` with its code-signing key: the line with `kid` and
/// `signature` added. The signature covers the record the hub will publish (but its `at`).
pub fn sign_line(line: &str, region: &str, key: &SigningKey) -> Result<String, ValidationError> {
    let submission = Submission::parse(line)?;
    // A level and an exposure name no person, nor does the retraction of an exposure.
    let person = submission.person().unwrap_or_default().to_string();
    let unsigned = submission.unsigned();
    let payload = unsigned.to_record(region, &person, Timestamp::from_millis(0)).signed_payload();
    let signature = healthcode_token::sign_detached(key, RECORD_CONTEXT, &payload);
    let mut value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| ValidationError::new(format!("not JSON: {e}")))?;
    value["kid"] = key.key_id().to_string().into();
    value["signature"] = base64::engine::general_purpose::STANDARD.encode(signature).into();
    Ok(value.to_string())
}

/// Whether a published record carries its region's valid signature, by a key of `trust`
/// (the region's list) in service when the hub accepted it.
pub fn verify_record(record: &NationalRecord, trust: &TrustList) -> Result<(), String> {
    let (Some(kid), Some(signature)) = (&record.kid, &record.signature) else {
        return Err(format!("region {} published a trust list, but this record is not signed", record.region));
    };
    let kid = kid.parse::<KeyId>().map_err(|_| format!("`{kid}` is not a key id"))?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .ok_or("the signature is not 64 bytes of base64")?;
    healthcode_token::verify_detached(
        trust,
        kid,
        RECORD_CONTEXT,
        &record.signed_payload(),
        &signature,
        record.at.div_euclid(1000),
    )
    .map_err(|e| format!("region {}'s signature does not hold: {e}", record.region))
}

/// Refuses a record signed by a key that the region's list (found at hub entry
/// `list_index`) revokes, when the record comes after that list in the hub's log. An
/// honest hub checks each record against the list it published, at its own time, so it
/// never publishes such a record after the revocation; one that does chose the record's
/// time itself — a backdating by the hub, or by a thief the hub works with.
pub fn check_published_before_revocation(
    record: &NationalRecord,
    index: u64,
    list: &TrustList,
    list_index: Option<u64>,
) -> Result<(), String> {
    let (Some(list_index), Some(kid)) = (list_index, &record.kid) else { return Ok(()) };
    let revoked = kid.parse::<KeyId>().ok().and_then(|kid| list.find(kid)).is_some_and(|key| key.revoked);
    if revoked && index > list_index {
        return Err(format!(
            "signed by key {kid}, which region {} revoked in its trust list at hub entry {list_index}, and published \
             after that list at entry {index}: a hub holding the list refuses such a record, so the time the hub gave \
             it cannot be believed",
            record.region
        ));
    }
    Ok(())
}

/// Who vouches for a published record: its region, the key that signed it and the hub's
/// time of acceptance (the time the signature is judged at).
pub fn signer_of(record: &NationalRecord) -> Signer {
    Signer { region: record.region.clone(), kid: record.kid.clone(), hub_at: Timestamp::from_millis(record.at) }
}

/// A published record in use here (evidence about `person`, or a designation: `None`),
/// noted with its signer.
pub fn admitted(record: &NationalRecord, hub_index: u64, person: Option<&PersonId>) -> AdmittedRecord {
    AdmittedRecord {
        record_id: record.id.clone(),
        kind: record.kind.clone(),
        person: person.cloned(),
        hub_index,
        signer: signer_of(record),
    }
}

/// The records of `region` signed by `key` that its list no longer vouches for: accepted
/// by the hub before the key's service began, or from its end on — its retirement, or the
/// time from which it is revoked (all of them, for a key revoked without a time). The
/// same judgement as `TrustedKey::check_dated_at` at the hub's time in seconds.
pub fn signed_outside(region: &str, key: &TrustedKey) -> SignedOutside {
    let ms = |secs: i64| Timestamp::from_millis(secs.saturating_mul(1000));
    let revoked_from = key.revoked.then(|| key.revoked_from.unwrap_or(i64::MIN));
    let until = match (key.not_after, revoked_from) {
        (Some(retired), Some(revoked)) => Some(retired.min(revoked)),
        (retired, revoked) => retired.or(revoked),
    };
    SignedOutside {
        region: region.to_string(),
        kid: key.kid.to_string(),
        from: ms(key.not_before),
        until: until.map(ms),
    }
}

/// Why a key's list no longer vouches for some of what it signed, for a reason and an alarm.
pub fn untrusted_because(key: &TrustedKey) -> String {
    let time = |secs: i64| Timestamp::from_millis(secs.saturating_mul(1000));
    match (key.revoked, key.revoked_from) {
        (true, Some(since)) => format!("key {} is revoked from {} on (compromised)", key.kid, time(since)),
        (true, None) => format!("key {} is revoked: nothing it signed counts", key.kid),
        (false, _) => match key.not_after {
            Some(end) => {
                format!("key {} serves only from {} until before {}", key.kid, time(key.not_before), time(end))
            }
            None => format!("key {} serves only from {}", key.kid, time(key.not_before)),
        },
    }
}

/// The event id of this region's retraction of another region's record that its region no
/// longer vouches for: stable (withdrawing twice stores it once), in the system's namespace,
/// and apart from `hc-nat-<region>-` (which any record id of that region may follow).
pub fn withdrawal_event_id(region: &str, record_id: &str) -> String {
    format!("hc-natrev-{region}-{record_id}")
}

/// The retraction row (JSON, as `Evidence::ingest` reads it) withdrawing a record in use
/// here about `person`, saying `why`.
pub fn withdrawal_row(region: &str, record_id: &str, person: &PersonId, why: &str) -> serde_json::Value {
    json!({
        "id": withdrawal_event_id(region, record_id),
        "person_id": person.as_str(),
        "type": "retraction",
        "retracts": local_event_id(region, record_id),
        "reason": why,
    })
}

fn check_record_id(field: &str, id: &str) -> Result<(), ValidationError> {
    let ok = !id.is_empty() && id.len() <= MAX_RECORD_ID && id.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(ValidationError::field(
            field,
            format!("a record id is 1 to {MAX_RECORD_ID} printable ASCII characters without spaces"),
        ))
    }
}

/// Whether `id` is a national pseudonym: `n` and 32 lower-case hex digits.
pub fn check_national_id(id: &str) -> Result<(), ValidationError> {
    let ok = id.len() == 33
        && id.starts_with('n')
        && id[1..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::field(
            "person",
            "a national pseudonym is `n` and 32 lower-case hex digits, computed from the document with the \
             national key (never the ID number itself)",
        ))
    }
}

/// The submission line for a piece of this region's evidence, if it is about a key person
/// (or withdraws such a record), or is a negative test and the region shares its tests
/// (`shares_tests`): what other regions need to judge that person by their own rules.
/// Everything else (stays, fevers, quarantine orders) stays in the region. A positive test
/// is a key-person record whether or not the region shares its tests.
pub fn submission_for(
    id: &EventId,
    at: Timestamp,
    evidence: &Evidence,
    national_id: &str,
    shares_tests: bool,
) -> Option<String> {
    let key_person = |status: KeyStatus, since: Timestamp| {
        json!({"kind": "key_person", "id": id.as_str(), "person": national_id, "status": status.as_str(),
               "since": since.to_rfc3339()})
    };
    let line = match evidence {
        Evidence::Diagnosis { status } => {
            let status = match status {
                DiagnosisStatus::Confirmed => KeyStatus::Confirmed,
                DiagnosisStatus::Suspected => KeyStatus::Suspected,
                DiagnosisStatus::Asymptomatic => KeyStatus::Asymptomatic,
                DiagnosisStatus::Excluded => KeyStatus::Excluded,
                DiagnosisStatus::Discharged => KeyStatus::Discharged,
            };
            // A diagnosis carries no time of its own: since it was recorded.
            key_person(status, at)
        }
        Evidence::CloseContact { exposure_at } => key_person(KeyStatus::CloseContact, *exposure_at),
        // Clearing carries no time of its own either.
        Evidence::ContactCleared => key_person(KeyStatus::ContactCleared, at),
        Evidence::Test { result: TestResult::Positive, sampled_at } => key_person(KeyStatus::PositiveTest, *sampled_at),
        Evidence::Test { result: TestResult::Negative, sampled_at } if shares_tests => {
            json!({"kind": "test_result", "id": id.as_str(), "person": national_id, "result": "negative",
                   "since": sampled_at.to_rfc3339()})
        }
        Evidence::Retraction { retracts, reason } => {
            json!({"kind": "retraction", "id": id.as_str(), "retracts": retracts.as_str(), "reason": reason,
                   "person": national_id})
        }
        _ => return None,
    };
    Some(line.to_string())
}

/// The submission line for a designation this region made of one of its own areas
/// (`region` its code), in force from `at`; `None` for an area of another region (a
/// province's measure about elsewhere is its own, not that region's level). Whether the
/// area was to turn its visitors red (`escalate_to_red`) is the designating region's
/// measure and does not travel: the receiving region's rules judge the level.
pub fn risk_level_for(id: &EventId, at: Timestamp, risk: &AreaRisk, region: &str) -> Option<String> {
    if !risk.area.normal().starts_with(region) || region.is_empty() {
        return None;
    }
    let line = json!({"kind": "risk_level", "id": id.as_str(), "area": risk.area.as_str(),
                      "level": risk.level.as_str(), "since": at.to_rfc3339()});
    Some(line.to_string())
}

/// The event id a record from another region gets here: stable (a record received twice
/// is stored once) and in the system's own namespace (no feed can forge or withdraw it).
pub fn local_event_id(region: &str, record_id: &str) -> String {
    format!("hc-nat-{region}-{record_id}")
}

/// The region a national record's local event id names, if it is one.
pub fn region_of_event(event_id: &str) -> Option<&str> {
    event_id.strip_prefix("hc-nat-")?.split('-').next().filter(|r| !r.is_empty())
}

/// The evidence row (JSON, as `Evidence::ingest` reads it) that a record published by the
/// hub becomes about a person of this region; `None` for a record this region does not
/// use as evidence.
pub fn evidence_row(record: &NationalRecord, person: &PersonId) -> Option<serde_json::Value> {
    let id = local_event_id(&record.region, &record.id);
    let since = record.since.map(Timestamp::from_millis);
    match record.kind.as_str() {
        "key_person" => {
            let status = KeyStatus::parse(record.status.as_deref()?)?;
            let since = since.unwrap_or(Timestamp::from_millis(record.at));
            Some(match status {
                KeyStatus::Confirmed
                | KeyStatus::Suspected
                | KeyStatus::Asymptomatic
                | KeyStatus::Excluded
                | KeyStatus::Discharged => {
                    json!({"id": id, "person_id": person.as_str(), "type": "diagnosis", "status": status.as_str()})
                }
                KeyStatus::ContactCleared => json!({"id": id, "person_id": person.as_str(), "type": "contact_cleared"}),
                KeyStatus::CloseContact => json!({"id": id, "person_id": person.as_str(), "type": "close_contact",
                                                   "exposure_at": since.to_rfc3339()}),
                KeyStatus::PositiveTest => json!({"id": id, "person_id": person.as_str(), "type": "test",
                                                   "result": "positive", "sampled_at": since.to_rfc3339()}),
            })
        }
        "test_result" => {
            let result = TestResult::parse(record.result.as_deref()?)?;
            Some(json!({"id": id, "person_id": person.as_str(), "type": "test", "result": result.as_str(),
                        "sampled_at": since?.to_rfc3339()}))
        }
        "retraction" => Some(json!({
            "id": id,
            "person_id": person.as_str(),
            "type": "retraction",
            "retracts": local_event_id(&record.region, record.retracts.as_deref()?),
            "reason": format!("region {}: {}", record.region, record.reason.as_deref().unwrap_or_default()),
        })),
        _ => None,
    }
}

/// The submission line publishing one of a traced case's visits to a venue of this region:
/// the venue and the window around the visit, no person.
pub fn venue_exposure_line(id: &str, venue: &str, since: Timestamp, until: Timestamp) -> String {
    json!({"kind": "venue_exposure", "id": id, "venue": venue, "since": since.to_rfc3339(),
           "until": until.to_rfc3339()})
    .to_string()
}

/// Whether an exposure's window is one a trace can give: it ends after it starts, at most
/// `MAX_EXPOSURE_HOURS` later. The hub checks it, and every receiving region again.
pub fn check_exposure_window(since: Timestamp, until: Timestamp) -> Result<(), String> {
    let length = until.as_millis().saturating_sub(since.as_millis());
    if length <= 0 || length > MAX_EXPOSURE_HOURS * 3_600_000 {
        return Err(format!(
            "a venue exposure's window ends after it starts, at most {MAX_EXPOSURE_HOURS} hours later"
        ));
    }
    Ok(())
}

/// The submission line withdrawing one of this region's exposures (`<id>-r`), saying why.
pub fn exposure_retraction_line(exposure_id: &str, reason: &str) -> String {
    json!({"kind": "retraction", "id": format!("{exposure_id}-r"), "retracts": exposure_id, "reason": reason})
        .to_string()
}

/// The event id a venue exposure of `region` (`record_id`) gives one of this region's
/// visitors it reaches: the record's own local id and a keyed suffix for the person
/// (`Pseudonymiser::event_id`), so that each visitor's evidence, and its withdrawal, has an
/// id of its own that names nobody.
pub fn exposure_event_record(record_id: &str, person_suffix: &str) -> String {
    format!("{record_id}~{person_suffix}")
}

/// The designation row (JSON, as `Evidence::ingest` reads it, with its own `at`) that a
/// risk level published by the hub becomes here, in force from when the region that
/// designated it said. The receiving region's rules judge the stays it touches.
pub fn designation_row(record: &NationalRecord) -> Option<serde_json::Value> {
    if record.kind != "risk_level" {
        return None;
    }
    let since = Timestamp::from_millis(record.since?);
    Some(json!({"id": local_event_id(&record.region, &record.id), "type": "area_risk", "area": record.area.as_deref()?,
                "level": RiskLevel::parse(record.level.as_deref()?)?.as_str(), "at": since.to_rfc3339()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: &str = "n0123456789abcdef0123456789abcdef";

    /// A venue exposure's line on 1 May 2022, from and until times of day (`HH:MM[:SS]`).
    fn exposure(id: &str, venue: &str, since: &str, until: &str) -> String {
        let at = |time: &str| {
            let time = if time.len() == 5 { format!("{time}:00") } else { time.to_string() };
            format!("2022-05-01T{time}+08:00")
        };
        venue_exposure_line(id, venue, Timestamp::parse(&at(since)).unwrap(), Timestamp::parse(&at(until)).unwrap())
    }

    #[test]
    fn a_line_is_read_strictly_with_the_field_that_is_wrong() {
        let ok = format!(
            r#"{{"kind":"key_person","id":"41-1","person":"{N}","status":"close_contact","since":"2022-05-01T08:00:00+08:00"}}"#
        );
        assert!(matches!(Submission::parse(&ok), Ok(Submission::KeyPerson { status: KeyStatus::CloseContact, .. })));
        let cases = [
            (ok.replace("close_contact", "red"), None),
            (ok.replace(N, "110101199003078888"), Some("person")),
            (ok.replace("2022-05-01T08:00:00+08:00", "yesterday"), Some("since")),
            (ok.replace("41-1", "has space"), Some("id")),
            (ok.replace("}", r#","colour":"red"}"#), None),
            (r#"{"kind":"retraction","id":"r","retracts":"41-1","reason":"  "}"#.to_string(), Some("reason")),
            (r#"{"kind":"colour","id":"x"}"#.to_string(), None),
            (exposure("41-t-v0", "v1", "08:00", "08:00"), Some("until")),
            (exposure("41-t-v0", "v1", "08:00", "07:00"), Some("until")),
            (exposure("41-t-v0", "v1", "00:00", "08:00:01"), Some("until")),
            (exposure(&"x".repeat(MAX_EXPOSURE_ID + 1), "v1", "07:00", "08:00"), Some("id")),
            (exposure("41-t-v0", "a venue", "07:00", "08:00"), Some("venue")),
            (exposure("41-t-v0", "", "07:00", "08:00"), Some("venue")),
        ];
        assert!(matches!(
            Submission::parse(&exposure("41-t-v0", "v1", "00:00", "08:00")),
            Ok(Submission::VenueExposure { .. })
        ));
        for (line, field) in cases {
            let e = Submission::parse(&line).expect_err(&line);
            assert_eq!(e.field.as_deref(), field, "{line}: {e:?}");
        }
    }

    #[test]
    fn a_close_contact_travels_to_evidence_another_region_judges_and_its_retraction_follows() {
        let person = PersonId::parse("p0123456789abcdef0123456789abcdef").unwrap();
        let id = EventId::parse("cc-7").unwrap();
        let exposure = Timestamp::parse("2022-05-01T08:00:00+08:00").unwrap();
        let line = submission_for(&id, exposure, &Evidence::CloseContact { exposure_at: exposure }, N, false).unwrap();
        let submission = Submission::parse(&line).unwrap();
        let record = submission.to_record("41", N, Timestamp::from_millis(1));
        let row = evidence_row(&record, &person).unwrap();
        assert_eq!(row["id"], "hc-nat-41-cc-7");
        assert_eq!(row["type"], "close_contact");
        assert_eq!(row["exposure_at"], exposure.to_rfc3339());
        assert_eq!(region_of_event("hc-nat-41-cc-7"), Some("41"));

        let retraction = Evidence::Retraction { retracts: id.clone(), reason: "wrong person".into() };
        let line = submission_for(&EventId::parse("r-1").unwrap(), exposure, &retraction, N, false).unwrap();
        let record = Submission::parse(&line).unwrap().to_record("41", N, Timestamp::from_millis(2));
        let row = evidence_row(&record, &person).unwrap();
        assert_eq!(row["retracts"], "hc-nat-41-cc-7");
        assert!(row["reason"].as_str().unwrap().contains("wrong person"));

        let stay =
            Evidence::Stay { area: healthcode_domain::AreaCode::parse("330106").unwrap(), from: exposure, to: None };
        assert_eq!(submission_for(&id, exposure, &stay, N, true), None, "movements stay in the region");
    }

    #[test]
    fn a_negative_test_travels_only_from_a_region_that_shares_its_tests_and_a_positive_one_always() {
        let person = PersonId::parse("p0123456789abcdef0123456789abcdef").unwrap();
        let id = EventId::parse("t-1").unwrap();
        let sampled = Timestamp::parse("2022-05-02T08:00:00+08:00").unwrap();
        let negative = Evidence::Test { result: TestResult::Negative, sampled_at: sampled };
        assert_eq!(submission_for(&id, sampled, &negative, N, false), None);
        let line = submission_for(&id, sampled, &negative, N, true).unwrap();
        let record = Submission::parse(&line).unwrap().to_record("41", N, Timestamp::from_millis(3));
        assert_eq!((record.kind.as_str(), record.result.as_deref()), ("test_result", Some("negative")));
        let row = evidence_row(&record, &person).unwrap();
        assert_eq!((row["type"].as_str(), row["result"].as_str()), (Some("test"), Some("negative")));
        assert_eq!(row["sampled_at"], sampled.to_rfc3339());

        let positive = Evidence::Test { result: TestResult::Positive, sampled_at: sampled };
        let line = submission_for(&id, sampled, &positive, N, false).unwrap();
        assert!(matches!(Submission::parse(&line), Ok(Submission::KeyPerson { status: KeyStatus::PositiveTest, .. })));
    }

    #[test]
    fn what_a_key_signed_outside_its_trusted_times_is_what_its_signature_check_refuses() {
        let stolen = SigningKey::from_seed([9; 32]);
        let mut key = TrustedKey::of(&stolen, 1_000);
        let mut keys = vec![key.clone()];
        key.not_after = Some(3_000);
        keys.push(key.clone());
        key.revoked = true;
        keys.push(key.clone());
        key.revoked_from = Some(2_000);
        keys.push(key.clone());
        key.revoked_from = Some(5_000);
        keys.push(key);
        for key in &keys {
            let outside = signed_outside("41", key);
            assert_eq!((outside.region.as_str(), outside.kid.clone()), ("41", key.kid.to_string()));
            for at_ms in [0, 999_999, 1_000_000, 1_999_999, 2_000_000, 2_999_999, 3_000_000, 6_000_000] {
                let at = Timestamp::from_millis(at_ms);
                let found = at < outside.from || outside.until.is_some_and(|until| at >= until);
                let refused = key.check_dated_at(at_ms.div_euclid(1000)).is_err();
                assert_eq!(found, refused, "{key:?} at {at_ms}");
            }
        }
        assert!(untrusted_because(&keys[3]).contains("compromised"), "{}", untrusted_because(&keys[3]));
    }

    #[test]
    fn a_record_signed_by_a_revoked_key_is_refused_when_it_comes_after_the_revocation_in_the_hubs_log() {
        let key = SigningKey::from_seed([9; 32]);
        let line = format!(
            r#"{{"kind":"key_person","id":"41-9","person":"{N}","status":"close_contact","since":"2022-05-01T08:00:00+08:00"}}"#
        );
        let signed = Submission::parse(&sign_line(&line, "41", &key).unwrap()).unwrap();
        // Dated by the hub before the compromise: its signature holds by time alone.
        let record = signed.to_record("41", N, Timestamp::from_millis(1_500_000));
        let mut revoked = TrustedKey::of(&key, 1_000);
        revoked.revoked = true;
        revoked.revoked_from = Some(2_000);
        let list = TrustList { region: "41".into(), sequence: 2, issued_at: 2_500, keys: vec![revoked] };
        assert_eq!(verify_record(&record, &list), Ok(()));
        assert_eq!(check_published_before_revocation(&record, 10, &list, Some(11)), Ok(()), "before the list");
        assert_eq!(check_published_before_revocation(&record, 12, &list, None), Ok(()), "list's place unknown");
        let refused = check_published_before_revocation(&record, 12, &list, Some(11)).unwrap_err();
        assert!(refused.contains("cannot be believed"), "{refused}");
        // A key the list does not revoke: its place does not matter.
        let trusted = TrustList { keys: vec![TrustedKey::of(&key, 1_000)], ..list };
        assert_eq!(check_published_before_revocation(&record, 12, &trusted, Some(11)), Ok(()));
    }

    #[test]
    fn a_region_publishes_the_levels_of_its_own_areas_only_and_they_become_designations_elsewhere() {
        let id = EventId::parse("des-1").unwrap();
        let at = Timestamp::parse("2022-05-02T08:00:00+08:00").unwrap();
        let risk = |area: &str| AreaRisk {
            area: AreaCode::parse(area).unwrap(),
            level: RiskLevel::High,
            escalate_to_red: true,
        };
        assert_eq!(risk_level_for(&id, at, &risk("330106"), "41"), None, "Zhejiang's area is not Henan's to publish");
        let line = risk_level_for(&id, at, &risk("410105"), "41").unwrap();
        assert!(!line.contains("escalate"), "{line}");
        let record = Submission::parse(&line).unwrap().to_record("41", "", Timestamp::from_millis(4));
        assert_eq!(record.person, "");
        assert!(!serde_json::to_string(&record).unwrap().contains("person"), "an area's record names nobody");
        let row = designation_row(&record).unwrap();
        assert_eq!(row["id"], "hc-nat-41-des-1");
        assert_eq!(
            (row["type"].as_str(), row["area"].as_str(), row["level"].as_str()),
            (Some("area_risk"), Some("410105"), Some("high"))
        );
        assert_eq!(row["at"], at.to_rfc3339());
        assert_eq!(evidence_row(&record, &PersonId::parse("p0123456789abcdef0123456789abcdef").unwrap()), None);
    }
}

/// The documented exchange format and the parser agree: every example parses, every
/// required field is required, nothing else is allowed, and the statuses are the same.
#[cfg(test)]
mod schema {
    use super::*;

    const SCHEMA: &str = include_str!("../../../../docs/federation/submission.schema.json");

    fn schema() -> serde_json::Value {
        serde_json::from_str(SCHEMA).unwrap()
    }

    #[test]
    fn every_example_of_the_schema_is_accepted_and_every_required_field_is_required() {
        let schema = schema();
        let examples = schema["examples"].as_array().unwrap();
        for example in examples {
            Submission::parse(&example.to_string()).unwrap();
            let kind = example["kind"].as_str().unwrap();
            let branch =
                schema["oneOf"].as_array().unwrap().iter().find(|b| b["properties"]["kind"]["const"] == kind).unwrap();
            for field in branch["required"].as_array().unwrap() {
                let mut without = example.clone();
                without.as_object_mut().unwrap().remove(field.as_str().unwrap());
                assert!(Submission::parse(&without.to_string()).is_err(), "{field} is required");
            }
            let mut extra = example.clone();
            extra.as_object_mut().unwrap().insert("colour".into(), "red".into());
            assert!(Submission::parse(&extra.to_string()).is_err(), "no other field is allowed");
            // The optional fields are the signature's (and a retraction's person): each one
            // the schema lists is one the parser reads (a wrong value is refused).
            let required: Vec<&str> =
                branch["required"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
            for field in branch["properties"].as_object().unwrap().keys() {
                if required.contains(&field.as_str()) {
                    continue;
                }
                assert!(["kid", "signature", "person"].contains(&field.as_str()), "{field}");
                let mut wrong = example.clone();
                wrong.as_object_mut().unwrap().insert(field.clone(), "?".into());
                assert!(Submission::parse(&wrong.to_string()).is_err(), "{field} is read");
            }
        }
    }

    #[test]
    fn the_schema_lists_the_statuses_the_parser_knows() {
        let schema = schema();
        let statuses: Vec<String> = schema["oneOf"][0]["properties"]["status"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        let known = [
            KeyStatus::Confirmed,
            KeyStatus::Suspected,
            KeyStatus::Asymptomatic,
            KeyStatus::CloseContact,
            KeyStatus::PositiveTest,
            KeyStatus::Excluded,
            KeyStatus::Discharged,
            KeyStatus::ContactCleared,
        ];
        assert_eq!(statuses, known.map(|s| s.as_str().to_string()));
        for status in statuses {
            assert!(KeyStatus::parse(&status).is_some());
        }
    }
}
