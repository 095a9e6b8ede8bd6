//! The national exchange (互认, issue 15): the hub that publishes what regions submit, and
//! a region's side of it — submitting its own key-person records, following the hub's
//! log, and turning what other regions report into evidence its own rules judge.
//!
//! A region never pushes a colour into another: it shares evidence. The hub publishes
//! every record in its transparency log, so a region checks each batch it receives
//! against the hub's signed checkpoint (`healthcode_log::Follower`), and two regions that
//! compare checkpoints catch a hub that showed them different lists.

mod confirmation;
pub mod exchange;
mod exposures;
pub mod trust;
pub mod vouching;
mod withdrawal;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use healthcode_domain::{PersonId, Timestamp, ValidationError};
use healthcode_log::{
    Checkpoint, Entry, FollowError, Follower, Frontier, Hash, NationalAgreement, NationalRecord, NationalRegion,
    NationalTrustList, NoteVerifier,
};
use healthcode_store::{
    AdmittedRecord, EvidenceStore, FederationStore, NationalLink, NewRejection, ParkedRecord, QueuedSubmission,
};
use serde::{Deserialize, Serialize};

use crate::documents::Documents;
use crate::ingest::{RowOutcome, RowStatus};
use crate::{Alarms, AtPolicy, Clock, Evidence, ServiceError, Source, TransparencyLog};

pub use confirmation::{AgreementStanding, ProposedConfirmation};
pub use exchange::{KeyStatus, Submission, MAX_SUBMISSION_LINES};
pub use trust::{Agreement, ConfirmedAgreement, NationalTrust, TrustState, OTHER_REGIONS_KEYS_HOURS};

/// The part this deployment plays in the national exchange.
#[derive(Debug, Clone)]
pub enum Role {
    /// Not part of it: no national pseudonyms, nothing submitted or received.
    None,
    /// The national hub: regions submit records to it, it publishes them in its log.
    Hub,
    /// A region: `region` is its code (`33`); `hub` verifies the hub's checkpoints (its
    /// name is the hub log's origin).
    Region { region: String, hub: Box<NoteVerifier> },
}

/// Where a region stands in following the hub: the part of the hub's log it checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HubView {
    pub size: u64,
    /// The compact range of the checked tree (hex), largest subtree first.
    pub frontier: Vec<String>,
    /// The hub's last checkpoint this region verified (a signed note), to compare with
    /// other regions'.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub checkpoint: Option<String>,
    /// When this region last heard from the hub: pages say "national data as of …".
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub synced_at: Option<Timestamp>,
}

/// What one received batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Received {
    /// The hub's log size this region has checked now.
    pub size: u64,
    /// Records about persons known here, admitted as evidence.
    pub admitted: usize,
    /// Records about persons not known here, kept until they come.
    pub parked: usize,
    /// Other regions' risk levels, recorded as designations here.
    pub levels: usize,
    /// Persons whose codes changed colour.
    pub changed: usize,
    /// Records of other regions withdrawn here as evidence (retracted, their persons
    /// re-evaluated) because a newer trust list of their region no longer vouches for the
    /// key that signed them when the hub took them (a key revoked from its theft on).
    pub withdrawn: usize,
    /// Parked records dropped for the same reason.
    pub dropped: usize,
    /// Records such a key signed that this region cannot withdraw (retractions, risk
    /// levels): named in the `national_records_withdrawn` alarm for officials to act on.
    pub not_withdrawn: usize,
}

/// A hub's answer to a submission: one outcome per line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmissionReport {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    /// The hub's log size once the accepted records are in it.
    pub log_size: u64,
    pub rows: Vec<RowOutcome>,
}

/// What a comparison of the hub's checkpoints found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Comparison {
    /// The other region saw a log this region's view is consistent with.
    Consistent { theirs: u64, ours: u64 },
    /// The hub showed the two regions different logs; an alarm was raised.
    Equivocation { detail: String },
}

const VIEW: (&str, &str) = ("national_view", "hub");
/// The region code of the national code (path 3): the hub's own.
pub const NATIONAL_REGION: &str = "00";
const REGION: &str = "national_region";
const TRUST_LIST: &str = "national_trust_list";
const AGREEMENT: &str = "national_agreement";
const CONTACT: &str = "national_contact";
/// The latest published level of each area (the hub's list of every county's level).
const RISK_LEVEL: &str = "national_risk_level";
/// The most areas the hub's list of levels shows (China has about 2,800 counties).
pub const MAX_LISTED_LEVELS: usize = 20_000;

/// A region's root key as the hub published it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredRegion {
    region: String,
    root_key: String,
}

/// A region's latest signed trust list as the hub published it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredList {
    region: String,
    sequence: u64,
    signed_list: String,
    /// Where in the hub's log a region following it found the list (lists kept before
    /// this was, and the hub's own copy: `None`). A record signed by a key this list
    /// revokes and published after it was accepted by no honest hub, whatever its time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hub_index: Option<u64>,
    /// Where the region's first list is in the hub's log: every record of the region after
    /// it must be signed (`vouching`). `None` for lists kept before this was recorded
    /// (`hub_index` stands in for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_hub_index: Option<u64>,
}

/// When a region last spoke to the hub (a submission or its trust list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Contact {
    region: String,
    at: Timestamp,
}

/// One region as the hub's public page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionSummary {
    pub region: String,
    /// The trust-list root key (base64), as registered.
    pub root_key: String,
    /// The published trust list's sequence, if the region sent one.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub trust_list_sequence: Option<u64>,
    /// When the region last submitted records or its trust list here.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_contact: Option<Timestamp>,
}

/// What the hub publishes about the federation itself: regions and agreements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HubOverview {
    pub regions: Vec<RegionSummary>,
    pub agreements: Vec<Agreement>,
    pub log_size: u64,
}

/// An area's latest risk level as the hub published it (`GET /v1/hub/risk-levels`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublishedLevel {
    /// The division code (`410105`).
    pub area: String,
    pub level: healthcode_domain::RiskLevel,
    /// The region that designated it, and its record's id there.
    pub region: String,
    pub id: String,
    /// In force from (the designating region's time).
    pub since: Timestamp,
    /// When the hub published it.
    pub published_at: Timestamp,
}

impl PublishedLevel {
    fn of(record: &NationalRecord) -> Option<PublishedLevel> {
        Some(PublishedLevel {
            area: record.area.clone()?,
            level: healthcode_domain::RiskLevel::parse(record.level.as_deref()?)?,
            region: record.region.clone(),
            id: record.id.clone(),
            since: Timestamp::from_millis(record.since?),
            published_at: Timestamp::from_millis(record.at),
        })
    }
}

/// What publishing a trust list did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Published {
    Published,
    /// The hub already publishes this very list.
    Unchanged,
}
const RECORD: &str = "national_record";
const ALARM_FORKED: &str = "hub_forked";

/// Key-person records one region may have published in an hour before the hub raises an
/// alarm (`national_mass_submission`, in its public log): a region turning a crowd's codes
/// red everywhere (the Zhengzhou depositors, nationwide) is loud, whatever each receiving
/// region's rules then make of the records.
pub const MASS_SUBMISSION_ALARM: u64 = 1_000;

/// The origin under which the hub counts each region's key-person records by the hour,
/// beside the colour changes' counts.
const MASS_SUBMISSION_ORIGIN: &str = "hub:key_person_records";

/// The national exchange. Holds the federation store (links, submissions waiting,
/// records parked), the rejection log (what a hub refuses), the evidence capability
/// (records become evidence), the log (a hub publishes in it), the documents (the hub's
/// index of records; a region's view of the hub), alarms and the clock.
pub struct National {
    pub(crate) federation: Arc<dyn FederationStore>,
    pub(crate) rejections: Arc<dyn EvidenceStore>,
    /// Residents' visits to other regions' venues, which those regions' exposures reach.
    pub(crate) door_store: Arc<dyn healthcode_store::DoorStore>,
    pub(crate) evidence: Arc<Evidence>,
    pub(crate) log: Arc<TransparencyLog>,
    pub(crate) documents: Documents,
    pub(crate) alarms: Arc<Alarms>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) role: Role,
    /// Other regions' keys and the agreements, for signed codes to read.
    pub(crate) trust: Arc<NationalTrust>,
    /// When `apply_retention` last did its work (ms; it runs at most once an hour).
    pub(crate) retention_ran_at: std::sync::atomic::AtomicI64,
}

/// How long a record about a person not known here is kept for them to come and claim it:
/// as long as check-ins (`CHECKIN_RETENTION_DAYS`), two incubation periods, past which no
/// rule of the reference set looks back. It is another region's data about someone who
/// never registered, registered under another document, or never came.
pub const PARKED_RETENTION_DAYS: i64 = crate::personal::CHECKIN_RETENTION_DAYS;

impl National {
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// Deletes parked records older than `PARKED_RETENTION_DAYS`, and applies the other
    /// regions' trust lists held here once more to what this region holds of theirs (see
    /// `withdrawal`). The scheduler's leader calls it; it does the work at most once an hour.
    pub async fn apply_retention(&self) -> Result<u64, ServiceError> {
        use std::sync::atomic::Ordering;
        let now = self.clock.now().as_millis();
        if now - self.retention_ran_at.load(Ordering::Relaxed) < 3_600_000 {
            return Ok(0);
        }
        self.retention_ran_at.store(now, Ordering::Relaxed);
        let before = self.clock.now().saturating_sub(healthcode_domain::Duration::days(PARKED_RETENTION_DAYS));
        let deleted = self.federation.delete_parked_before(before).await?;
        if deleted > 0 {
            tracing::info!(deleted, "national records nobody here claimed, past their retention, deleted");
        }
        if let Ok((own, _)) = self.follower() {
            self.withdraw_unvouched_again(&own).await?;
        }
        Ok(deleted)
    }

    fn region(&self) -> Result<(&str, &NoteVerifier), ServiceError> {
        match &self.role {
            Role::Region { region, hub } => Ok((region, hub)),
            _ => Err(ServiceError::Forbidden(
                "this deployment is not a region of the national exchange (start it with `--hub`)".into(),
            )),
        }
    }

    /// Who follows which log: a region follows the hub's (with the pinned hub key); the hub
    /// follows its own, as the issuer of the national code (path 3) for persons of regions
    /// without a code of their own, under the region code `NATIONAL_REGION`.
    fn follower(&self) -> Result<(String, NoteVerifier), ServiceError> {
        match &self.role {
            Role::Region { region, hub } => Ok((region.clone(), (**hub).clone())),
            Role::Hub => Ok((NATIONAL_REGION.to_string(), self.log.verifier())),
            Role::None => Err(ServiceError::Forbidden(
                "this deployment is not part of the national exchange (start it with `--hub-url`)".into(),
            )),
        }
    }

    /// At the hub: brings its own persons' codes (the national code, path 3) up to what was
    /// published since it last looked, through the same checks as a region's sync.
    pub async fn follow_own_log(&self) -> Result<Received, ServiceError> {
        self.hub_only()?;
        let mut total = Received::default();
        loop {
            let size = self.view().await?.size;
            let Some(next) = self.log.checkpoints(size, 1).await?.into_iter().next() else { break };
            let leaves: Vec<Vec<u8>> =
                self.log.entries(size, (next.size - size) as usize).await?.into_iter().map(|(_, leaf)| leaf).collect();
            let received = self.receive(&next.note, &leaves).await?;
            total = Received {
                size: received.size,
                admitted: total.admitted + received.admitted,
                parked: total.parked + received.parked,
                levels: total.levels + received.levels,
                changed: total.changed + received.changed,
                withdrawn: total.withdrawn + received.withdrawn,
                dropped: total.dropped + received.dropped,
                not_withdrawn: total.not_withdrawn + received.not_withdrawn,
            };
        }
        Ok(total)
    }

    /// At the hub: registers the hub's own code-signing keys as those of
    /// `NATIONAL_REGION`, and publishes its trust list, so that regions can recognise the
    /// national code under an agreement. Changes nothing when they are published already.
    pub async fn publish_own_keys(&self, ring: &crate::KeyRing) -> Result<(), ServiceError> {
        self.hub_only()?;
        let root = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ring.root_public());
        let registered = self.documents.load::<StoredRegion>(REGION, NATIONAL_REGION).await?;
        if registered.is_none_or(|r| r.root_key != root) {
            self.register_region(NATIONAL_REGION, &root).await?;
        }
        match self.publish_trust_list(NATIONAL_REGION, &ring.signed_trust_list().to_json()).await {
            Ok(_) => Ok(()),
            // An older list than the published one: another hub server published first.
            Err(ServiceError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    // ---- the hub ----

    /// Takes a region's submission: every line is checked (format, the region's own
    /// records only, a retraction of a record the region submitted), the accepted ones
    /// published together in the log, the refused ones kept in the rejection log with
    /// their reason. `region` comes from the submitting account, never from the lines.
    pub async fn submit(&self, region: &str, owner: &str, lines: &[String]) -> Result<SubmissionReport, ServiceError> {
        if !matches!(self.role, Role::Hub) {
            return Err(ServiceError::Forbidden("only the national hub takes submissions".into()));
        }
        if lines.len() > MAX_SUBMISSION_LINES {
            return Err(ValidationError::new(format!(
                "{} lines in one submission; send at most {MAX_SUBMISSION_LINES} at a time",
                lines.len()
            ))
            .into());
        }
        let now = self.clock.now();
        self.note_contact(region, now).await?;
        let mut report = SubmissionReport::default();
        let mut entries = Vec::new();
        let mut claims = Vec::new();
        let mut rejections = Vec::new();
        // Once a region has published its keys, every record of it must carry its signature.
        let signer = self.published_trust(region).await?;
        // Records of this batch by id, so a retraction may follow its record in one batch.
        let mut batch: HashMap<String, NationalRecord> = HashMap::new();
        // Each area's newest level of this batch, for the published list.
        let mut levels: BTreeMap<String, PublishedLevel> = BTreeMap::new();
        for (i, line) in lines.iter().enumerate() {
            let row = i + 1;
            let outcome = match self.check_line(region, line, now, &batch, signer.as_ref()).await {
                Ok(Checked::New(record)) => {
                    let record = *record;
                    claims.push(Documents::claim(RECORD, &record_key(region, &record.id), now, &record)?);
                    if let Some(level) = PublishedLevel::of(&record) {
                        // By the area's normal form: 410100 and 410100000 are one area.
                        let area = healthcode_domain::AreaCode::parse(&level.area)
                            .map_or_else(|_| level.area.clone(), |a| a.normal().to_string());
                        if levels.get(&area).is_none_or(|held| held.since <= level.since) {
                            levels.insert(area, level);
                        }
                    }
                    entries.push(Entry::NationalRecord(record.clone()));
                    report.accepted += 1;
                    let id = record.id.clone();
                    batch.insert(id.clone(), record);
                    RowOutcome { row, status: RowStatus::Accepted, id: Some(id), field: None, error: None }
                }
                Ok(Checked::Duplicate(id)) => {
                    report.duplicates += 1;
                    RowOutcome { row, status: RowStatus::Duplicate, id: Some(id), field: None, error: None }
                }
                Err(e) => {
                    report.rejected += 1;
                    rejections.push(NewRejection {
                        received_at: now,
                        owner: Some(owner.to_string()),
                        origin: format!("national submission from region {region} line {row}"),
                        input: crate::redact::kept_input(line),
                        field: e.field.clone(),
                        reason: e.message.clone(),
                    });
                    RowOutcome { row, status: RowStatus::Rejected, id: None, field: e.field, error: Some(e.message) }
                }
            };
            report.rows.push(outcome);
        }
        if !rejections.is_empty() {
            self.rejections.record_rejections(&rejections).await?;
        }
        for (area, level) in levels {
            // The list keeps an area's newest level: one designated earlier, arriving late,
            // is published (it is in the log) but does not replace it.
            let held = self.documents.load::<PublishedLevel>(RISK_LEVEL, &area).await?;
            if held.is_none_or(|held| held.since <= level.since) {
                claims.push(Documents::write(RISK_LEVEL, &area, now, &level)?);
            }
        }
        if !entries.is_empty() {
            self.log.record_with(&entries, &claims).await?;
            // Records that may turn persons red elsewhere: about a person, or about everyone at a venue.
            let reaching = |r: &NationalRecord| r.kind == "key_person" || r.kind == "venue_exposure";
            let key_persons =
                entries.iter().filter(|e| matches!(e, Entry::NationalRecord(r) if reaching(r))).count() as u64;
            self.count_hourly(region, key_persons, now).await?;
            // A checkpoint after every submission: regions follow the hub in steps no
            // larger than one submission.
            self.log.sign_checkpoint().await?;
        }
        report.log_size = self.log.size().await?;
        Ok(report)
    }

    /// Adds a submission's key-person records to the region's hourly count, and raises the
    /// alarm the first time in the hour the count passes `MASS_SUBMISSION_ALARM`. The count
    /// is kept in the store with the colour changes' (origin `MASS_SUBMISSION_ORIGIN`): with
    /// several hub servers behind a balancer, a region spreading its records over them is
    /// counted whole, and alarmed once.
    async fn count_hourly(&self, region: &str, records: u64, now: Timestamp) -> Result<(), ServiceError> {
        let past = self.alarms.count_past(MASS_SUBMISSION_ORIGIN, region, records, now, MASS_SUBMISSION_ALARM).await?;
        if let Some(total) = past {
            let detail = format!(
                "region {region} published {total} key-person records and venue exposures within the hour (more than \
                 {MASS_SUBMISSION_ALARM}): every receiving region will judge them; check the epidemiological basis \
                 with region {region}"
            );
            self.alarms.raise("national_mass_submission", region, detail).await?;
        }
        Ok(())
    }

    async fn check_line(
        &self,
        region: &str,
        line: &str,
        now: Timestamp,
        batch: &HashMap<String, NationalRecord>,
        signer: Option<&healthcode_token::TrustList>,
    ) -> Result<Checked, ValidationError> {
        let submission = Submission::parse(line)?;
        let person = match &submission {
            Submission::KeyPerson { person, since, .. } | Submission::TestResult { person, since, .. } => {
                check_not_ahead(*since, now)?;
                person.clone()
            }
            Submission::RiskLevel { area, since, .. } => {
                if !area.normal().starts_with(region) {
                    return Err(ValidationError::field(
                        "area",
                        format!(
                            "region {region} publishes the levels of its own areas only (codes starting with \
                             {region}); {area} is another region's to designate"
                        ),
                    ));
                }
                check_level_time(*since, now)?;
                crate::places::valid_at("area", area, *since)?;
                String::new()
            }
            Submission::VenueExposure { since, .. } => {
                check_not_ahead(*since, now)?;
                String::new()
            }
            Submission::Retraction { id, retracts, .. } => {
                let target = match batch.get(retracts) {
                    Some(record) => Some(record.clone()),
                    None => self.stored_record(region, retracts).await?,
                };
                match target {
                    Some(t) if t.kind == "venue_exposure" && id.len() > exchange::MAX_EXPOSURE_ID => {
                        return Err(ValidationError::field(
                            "id",
                            format!(
                                "the retraction of a venue exposure has an id of at most {} characters (each \
                                 visitor it reaches gets an event id made of it)",
                                exchange::MAX_EXPOSURE_ID
                            ),
                        ))
                    }
                    // An exposure names no person, nor does its retraction.
                    Some(t) if ["key_person", "test_result", "venue_exposure"].contains(&t.kind.as_str()) => t.person,
                    Some(_) => {
                        return Err(ValidationError::field(
                            "retracts",
                            "only a key-person record, a test result or a venue exposure can be retracted; a risk \
                             level is replaced by designating the area's new level",
                        ))
                    }
                    None => {
                        return Err(ValidationError::field(
                            "retracts",
                            format!(
                            "region {region} submitted no record `{retracts}`; a region withdraws only its own records"
                        ),
                        ))
                    }
                }
            }
        };
        if let Submission::Retraction { person: Some(named), .. } = &submission {
            if named != &person {
                return Err(ValidationError::field("person", "the retracted record is about another person"));
            }
        }
        let record = submission.to_record(region, &person, now);
        if let Some(trust) = signer {
            exchange::verify_record(&record, trust).map_err(|e| ValidationError::field("signature", e))?;
        }
        let stored = match batch.get(submission.id()) {
            Some(r) => Some(r.clone()),
            None => self.stored_record(region, submission.id()).await?,
        };
        match stored {
            None => Ok(Checked::New(Box::new(record))),
            Some(old)
                if NationalRecord {
                    at: old.at,
                    kid: old.kid.clone(),
                    signature: old.signature.clone(),
                    ..record.clone()
                } == old =>
            {
                Ok(Checked::Duplicate(record.id))
            }
            Some(_) => Err(ValidationError::field(
                "id",
                format!("region {region} already submitted another record `{}`; give a new record a new id", record.id),
            )),
        }
    }

    /// The region's published trust list, checked against its registered root.
    async fn published_trust(&self, region: &str) -> Result<Option<healthcode_token::TrustList>, ServiceError> {
        let Some(root) = self.documents.load::<StoredRegion>(REGION, region).await? else { return Ok(None) };
        let Some(list) = self.documents.load::<StoredList>(TRUST_LIST, region).await? else { return Ok(None) };
        Ok(trust::open_list(region, &root.root_key, &list.signed_list).ok().map(|t| t.verifier.trust_list().clone()))
    }

    /// Signs this region's queued lines with its code-signing key before they go to the
    /// hub (`exchange::sign_line`). A line that cannot be signed goes as it is: the hub
    /// refuses it, with the reason, once the region's keys are published there.
    pub fn sign_lines(&self, lines: &[String], ring: &crate::KeyRing) -> Vec<String> {
        let (Ok((region, _)), Ok(key)) = (self.region(), ring.signing_key()) else { return lines.to_vec() };
        lines.iter().map(|l| exchange::sign_line(l, region, key).unwrap_or_else(|_| l.clone())).collect()
    }

    async fn stored_record(&self, region: &str, id: &str) -> Result<Option<NationalRecord>, ValidationError> {
        self.documents
            .load::<NationalRecord>(RECORD, &record_key(region, id))
            .await
            .map_err(|e| ValidationError::new(format!("the hub cannot read its records just now ({e}); send again")))
    }

    fn hub_only(&self) -> Result<(), ServiceError> {
        match self.role {
            Role::Hub => Ok(()),
            _ => Err(ServiceError::Forbidden("only the national hub registers regions and agreements".into())),
        }
    }

    /// Registers a region's trust-list root key (checked out of band by the operator), in
    /// the open: the entry is in the hub's log, and a later one for the same region is a
    /// visible change of key.
    pub async fn register_region(&self, region: &str, root_key: &str) -> Result<u64, ServiceError> {
        self.hub_only()?;
        check_region_code(region)?;
        let text = root_key.trim();
        let bytes = crate::secrets::unhex(text)
            .or_else(|| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).ok())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                ValidationError::field(
                    "root_key",
                    "the region's root key is 32 bytes, in hex as `healthcode keys root` prints it, or base64",
                )
            })?;
        let root_key_b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
        let now = self.clock.now();
        let stored = StoredRegion { region: region.into(), root_key: root_key_b64 };
        let entry = Entry::NationalRegion(NationalRegion {
            at: now.as_millis(),
            region: stored.region.clone(),
            root_key: stored.root_key.clone(),
        });
        let index = self.log.record_with(&[entry], &[Documents::write(REGION, region, now, &stored)?]).await?;
        self.log.sign_checkpoint().await?;
        Ok(index[0])
    }

    /// Publishes a region's signed trust list: it must open with the region's registered
    /// root key, name the region, and be newer than the one published.
    pub async fn publish_trust_list(&self, region: &str, signed_list: &str) -> Result<Published, ServiceError> {
        self.hub_only()?;
        let root = self.documents.load::<StoredRegion>(REGION, region).await?.ok_or_else(|| {
            ServiceError::Forbidden(format!(
                "region {region} has no registered root key at the hub; the hub's operator registers it first \
                 (`healthcode hub register-region {region} --root-key …`)"
            ))
        })?;
        let opened = trust::open_list(region, &root.root_key, signed_list)
            .map_err(|e| ValidationError::field("signed_list", e))?;
        if region != NATIONAL_REGION {
            self.note_contact(region, self.clock.now()).await?;
        }
        if let Some(last) = self.documents.load::<StoredList>(TRUST_LIST, region).await? {
            if last.sequence == opened.sequence && last.signed_list == signed_list {
                return Ok(Published::Unchanged);
            }
            if opened.sequence <= last.sequence {
                return Err(ServiceError::Conflict(format!(
                    "region {region}'s list {} is not newer than the published {}; sign a new list",
                    opened.sequence, last.sequence
                )));
            }
        }
        let now = self.clock.now();
        let stored = StoredList {
            region: region.into(),
            sequence: opened.sequence,
            signed_list: signed_list.to_string(),
            hub_index: None,
            first_hub_index: None,
        };
        let entry = Entry::NationalTrustList(NationalTrustList {
            at: now.as_millis(),
            region: region.into(),
            signed_list: signed_list.to_string(),
        });
        self.log.record_with(&[entry], &[Documents::write(TRUST_LIST, region, now, &stored)?]).await?;
        self.log.sign_checkpoint().await?;
        Ok(Published::Published)
    }

    /// Records an agreement: from `from` (until `until`), `receiving` accepts the codes
    /// `issuing` signs. Both must be registered.
    pub async fn agree(
        &self,
        receiving: &str,
        issuing: &str,
        from: Timestamp,
        until: Option<Timestamp>,
    ) -> Result<(), ServiceError> {
        self.hub_only()?;
        for region in [receiving, issuing] {
            if self.documents.load::<StoredRegion>(REGION, region).await?.is_none() {
                return Err(ValidationError::new(format!("region {region} is not registered at the hub")).into());
            }
        }
        let now = self.clock.now();
        let agreement =
            Agreement { receiving: receiving.into(), issuing: issuing.into(), path: "recognition".into(), from, until };
        let entry = Entry::NationalAgreement(NationalAgreement {
            at: now.as_millis(),
            receiving: receiving.into(),
            issuing: issuing.into(),
            path: agreement.path.clone(),
            from: from.as_millis(),
            until: until.map(Timestamp::as_millis),
        });
        let id = format!("{receiving}/{issuing}");
        self.log.record_with(&[entry], &[Documents::write(AGREEMENT, &id, now, &agreement)?]).await?;
        self.log.sign_checkpoint().await?;
        Ok(())
    }

    async fn note_contact(&self, region: &str, at: Timestamp) -> Result<(), ServiceError> {
        self.documents.save(CONTACT, region, at, &Contact { region: region.into(), at }).await
    }

    /// The hub's public page: every registered region (its root key, its published list,
    /// when it last spoke to the hub) and every agreement.
    pub async fn hub_overview(&self) -> Result<HubOverview, ServiceError> {
        self.hub_only()?;
        let lists: BTreeMap<String, u64> = self
            .documents
            .load_all::<StoredList>(TRUST_LIST)
            .await?
            .into_iter()
            .map(|l| (l.region, l.sequence))
            .collect();
        let contacts: BTreeMap<String, Timestamp> =
            self.documents.load_all::<Contact>(CONTACT).await?.into_iter().map(|c| (c.region, c.at)).collect();
        let mut regions: Vec<RegionSummary> = self
            .documents
            .load_all::<StoredRegion>(REGION)
            .await?
            .into_iter()
            .map(|r| RegionSummary {
                trust_list_sequence: lists.get(&r.region).copied(),
                last_contact: contacts.get(&r.region).copied(),
                region: r.region,
                root_key: r.root_key,
            })
            .collect();
        regions.sort_by(|a, b| a.region.cmp(&b.region));
        let mut agreements: Vec<Agreement> = self.documents.load_all(AGREEMENT).await?;
        agreements.sort_by(|a, b| (&a.receiving, &a.issuing).cmp(&(&b.receiving, &b.issuing)));
        Ok(HubOverview { regions, agreements, log_size: self.log.size().await? })
    }

    /// The hub's list of every area's latest risk level, by area code (public: levels are
    /// published to be read, and name no one).
    pub async fn risk_levels(&self) -> Result<Vec<PublishedLevel>, ServiceError> {
        self.hub_only()?;
        let mut levels: Vec<PublishedLevel> = self.documents.load_up_to(RISK_LEVEL, MAX_LISTED_LEVELS).await?;
        levels.sort_by(|a, b| a.area.cmp(&b.area));
        Ok(levels)
    }

    /// Rebuilds what this region recognises from the hub's published roots, lists and
    /// agreements (kept as documents): at start, and after each sync that brought some.
    pub async fn load_trust(&self) -> Result<Arc<TrustState>, ServiceError> {
        let roots: BTreeMap<String, String> = self
            .documents
            .load_all::<StoredRegion>(REGION)
            .await?
            .into_iter()
            .map(|r| (r.region, r.root_key))
            .collect();
        let confirmed = match self.role {
            Role::Region { .. } => Some(self.confirmed_agreements().await?),
            _ => None,
        };
        let mut state =
            TrustState { agreements: self.documents.load_all(AGREEMENT).await?, confirmed, ..TrustState::default() };
        for list in self.documents.load_all::<StoredList>(TRUST_LIST).await? {
            let Some(root) = roots.get(&list.region) else { continue };
            match trust::open_list(&list.region, root, &list.signed_list) {
                Ok(mut opened) => {
                    opened.hub_index = list.hub_index;
                    // A list kept before its first place was recorded: its own place stands in.
                    let first = list.first_hub_index.or(list.hub_index).unwrap_or(0);
                    state.vouching.first_lists.insert(list.region.clone(), first);
                    state.regions.insert(list.region.clone(), opened);
                }
                Err(e) => tracing::warn!(region = %list.region, error = %e, "a published trust list is not used"),
            }
        }
        self.trust.replace(state);
        Ok(self.trust.current())
    }

    /// Keeps this server's view of the national exchange in step with the store: when the
    /// region last heard from the hub (other regions' keys expire
    /// `OTHER_REGIONS_KEYS_HOURS` after it), and the lists and agreements whenever the
    /// leader's sync brought new hub entries, or another server approved a confirmation of
    /// an agreement (`confirmation.rs`). Every server's follower calls it: only the
    /// leader syncs, and the others would otherwise keep the lists they started with (a
    /// revoked key accepted on every server but one).
    pub async fn follow_hub(&self) -> Result<(), ServiceError> {
        if !matches!(self.role, Role::Region { .. }) {
            return Ok(());
        }
        let view = self.view().await?;
        if let Some(at) = view.synced_at {
            self.trust.set_synced_at(at);
        }
        if self.trust.loaded_size() != view.size {
            self.load_trust().await?;
            self.trust.set_loaded_size(view.size);
        } else {
            // A confirmation another server of this region approved (a few documents read
            // each tick; the lists are not opened again).
            let confirmed = Some(self.confirmed_agreements().await?);
            let current = self.trust.current();
            if current.confirmed != confirmed {
                self.trust.replace(TrustState { confirmed, ..(*current).clone() });
            }
        }
        Ok(())
    }

    /// What this region recognises now.
    pub fn trust(&self) -> Arc<TrustState> {
        self.trust.current()
    }

    /// When this region last heard from the hub, as this server knows it without a store
    /// read (`None` before it has heard, or at the hub).
    pub fn trust_synced_at(&self) -> Option<Timestamp> {
        self.trust.synced_at()
    }

    // ---- a region ----

    /// Up to `limit` of this region's records waiting to be submitted to the hub.
    pub async fn queued_submissions(&self, limit: usize) -> Result<Vec<QueuedSubmission>, ServiceError> {
        self.region()?;
        Ok(self.federation.queued_submissions(limit).await?)
    }

    /// Forgets submissions the hub answered (accepted, duplicate, or refused: a refused
    /// one is in the hub's rejection log with its reason, and sending it again would be
    /// refused again).
    pub async fn submitted(&self, seqs: &[i64]) -> Result<(), ServiceError> {
        Ok(self.federation.remove_submissions(seqs).await?)
    }

    /// This region's view of the hub: how far it checked the hub's log, and when.
    pub async fn view(&self) -> Result<HubView, ServiceError> {
        Ok(self.documents.load(VIEW.0, VIEW.1).await?.unwrap_or(HubView {
            size: 0,
            frontier: Vec::new(),
            checkpoint: None,
            synced_at: None,
        }))
    }

    /// Takes the next entries of the hub's log (`leaves`, from this region's size on) and
    /// the hub's signed checkpoint they must reach. Nothing is used unless they check out
    /// (signature, and the tree this region checked before extended by exactly these
    /// leaves); a hub whose history does not extend what this region saw raises an alarm.
    /// Records of other regions become evidence about the persons known here (judged by
    /// this region's rules), the others are parked until their person comes.
    pub async fn receive(&self, checkpoint_note: &str, leaves: &[Vec<u8>]) -> Result<Received, ServiceError> {
        let (region, hub) = self.follower()?;
        let (region, hub) = (region.as_str(), &hub);
        let checkpoint = Checkpoint::open(checkpoint_note, hub, hub.name()).map_err(|e| {
            ServiceError::HubUntrusted(format!("the hub's checkpoint does not verify with the pinned hub key: {e}"))
        })?;
        let mut view = self.view().await?;
        let follower = follower_of(&view)?;
        let next = match follower.extend(leaves, &checkpoint) {
            Ok(next) => next,
            Err(e @ FollowError::Incomplete { .. }) => return Err(ServiceError::HubUntrusted(e.to_string())),
            Err(e) => {
                let detail = format!("{e} (last verified checkpoint: {:?})", view.checkpoint);
                self.alarms.raise(ALARM_FORKED, region, detail.clone()).await?;
                return Err(ServiceError::HubUntrusted(detail));
            }
        };
        let mut received = Received { size: next.size(), ..Received::default() };
        let mut records: Vec<(u64, NationalRecord)> = Vec::new();
        let mut trust_changed = false;
        // Other regions' lists taken in this batch, in log order: what each no longer
        // vouches for is withdrawn (a list is judged by itself, so that a revocation in one
        // list is acted on even when a later one of the batch no longer names the key).
        let mut newer_lists: Vec<(u64, trust::RegionTrust)> = Vec::new();
        let now = self.clock.now();
        let mut refused = Vec::new();
        for (i, leaf) in leaves.iter().enumerate() {
            let index = follower.size() + i as u64;
            match Entry::from_leaf_bytes(leaf) {
                Ok(Entry::NationalRecord(r)) if r.region != region => records.push((index, r)),
                Ok(Entry::NationalRegion(r)) => {
                    // The first root a region is registered with is the one kept: a hub
                    // that registers another would open its own lists in the region's
                    // name, and sign its records (`vouching`).
                    let held = self.documents.load::<StoredRegion>(REGION, &r.region).await?;
                    match held {
                        Some(held) if held.root_key != r.root_key => {
                            let detail = format!(
                                "the hub registered region {} again with another root key (hub entry {index}); the \
                                 first root is kept, and the region's lists must open with it",
                                r.region
                            );
                            self.alarms.raise("hub_region_root_changed", region, detail.clone()).await?;
                            let reason = format!("{detail}; it was not used");
                            refused.push(hub_entry_refused(now, index, &r.root_key, Some("root_key"), reason));
                        }
                        Some(_) => {}
                        None => {
                            let stored = StoredRegion { region: r.region.clone(), root_key: r.root_key };
                            self.documents.save(REGION, &r.region, now, &stored).await?;
                            trust_changed = true;
                        }
                    }
                }
                Ok(Entry::NationalTrustList(l)) => {
                    // Checked here too, against the root the hub published (before it, in
                    // its log): a list that does not open is kept but never used.
                    let root = self.documents.load::<StoredRegion>(REGION, &l.region).await?;
                    let opens =
                        |list: &str| root.as_ref().and_then(|r| trust::open_list(&l.region, &r.root_key, list).ok());
                    let opened = opens(&l.signed_list);
                    let sequence = opened.as_ref().map_or(0, |t| t.sequence);
                    // Never back to an older list: that would undo a revocation. The same
                    // list again keeps the place it was first found at (a later place
                    // would let records published between the two pass as before it).
                    let held = self.documents.load::<StoredList>(TRUST_LIST, &l.region).await?;
                    if held.as_ref().is_some_and(|h| h.signed_list == l.signed_list) {
                        continue;
                    }
                    // The first list that opens is where the region's signatures begin.
                    let first_hub_index = held
                        .as_ref()
                        .and_then(|h| h.first_hub_index.or_else(|| opens(&h.signed_list).and(h.hub_index)))
                        .or_else(|| opened.is_some().then_some(index));
                    if let Some(held) = held.filter(|h| h.sequence >= sequence) {
                        let reason = format!(
                            "region {}'s trust list {sequence} is not newer than the {} held here; it was not used",
                            l.region, held.sequence
                        );
                        refused.push(hub_entry_refused(now, index, &l.signed_list, Some("signed_list"), reason));
                        continue;
                    }
                    let stored = StoredList {
                        region: l.region.clone(),
                        sequence,
                        signed_list: l.signed_list,
                        hub_index: Some(index),
                        first_hub_index,
                    };
                    self.documents.save(TRUST_LIST, &l.region, now, &stored).await?;
                    trust_changed = true;
                    // Only a list that opens with the root registered for its region, and
                    // names that region, speaks for its records; this region's own list
                    // has no records here to speak for.
                    if let Some(opened) = opened.filter(|o| o.region != region) {
                        newer_lists.push((index, opened));
                    }
                }
                Ok(Entry::NationalAgreement(a)) => {
                    let agreement = Agreement {
                        receiving: a.receiving.clone(),
                        issuing: a.issuing.clone(),
                        path: a.path,
                        from: Timestamp::from_millis(a.from),
                        until: a.until.map(Timestamp::from_millis),
                    };
                    let id = format!("{}/{}", a.receiving, a.issuing);
                    // The hub alone publishes agreements: every change to one of this
                    // region's is said aloud (an ended agreement turns that region's
                    // travellers over to this region's own measure).
                    let held = self.documents.load::<Agreement>(AGREEMENT, &id).await?;
                    if agreement.receiving == region && held.as_ref() != Some(&agreement) {
                        let until = agreement.until.map_or("no end".to_string(), |u| u.to_rfc3339());
                        let detail = format!(
                            "the hub published an agreement for this region to recognise region {}'s codes by {} \
                             from {} until {until} (hub entry {index}; held before: {})",
                            agreement.issuing,
                            agreement.path,
                            agreement.from.to_rfc3339(),
                            held.map_or("none".to_string(), |h| format!(
                                "from {} until {}",
                                h.from.to_rfc3339(),
                                h.until.map_or("no end".to_string(), |u| u.to_rfc3339())
                            )),
                        );
                        let detail = format!(
                            "{detail}; it counts here only within the window two of this region's provincial officers \
                             confirm (POST /v1/national/agreements/{}/confirmation)",
                            agreement.issuing
                        );
                        self.alarms.raise("national_agreement_changed", region, detail).await?;
                    }
                    self.documents.save(AGREEMENT, &id, now, &agreement).await?;
                    trust_changed = true;
                }
                // The hub's own entries (accounts in use, alarms), and this region's records.
                Ok(_) => {}
                // Checked (it is in the signed tree), but not an entry this version reads: kept
                // in the rejection log with the reason, and the sync goes on.
                Err(e) => refused.push(hub_entry_refused(
                    now,
                    index,
                    &String::from_utf8_lossy(leaf),
                    None,
                    format!("not a hub entry this region reads ({e}); it was not used"),
                )),
            }
        }
        if trust_changed {
            self.load_trust().await?;
        }
        // Before this batch's records are taken in: what is admitted below is checked
        // against the newest lists already, and is noted with its signer for later ones.
        let withdrawn = self.withdraw_unvouched(region, &newer_lists).await?;
        received.withdrawn = withdrawn.withdrawn;
        received.dropped = withdrawn.dropped;
        received.not_withdrawn = withdrawn.not_withdrawn;
        let ids: Vec<String> = {
            let mut ids: Vec<String> = records.iter().map(|(_, r)| r.person.clone()).collect();
            ids.sort();
            ids.dedup();
            ids
        };
        let known: BTreeMap<String, PersonId> = self
            .federation
            .persons_by_national_id(&ids)
            .await?
            .into_iter()
            .map(|l| (l.national_id, l.person))
            .collect();
        let mut rows = Vec::new();
        let mut designations = Vec::new();
        // What each row is, to note with its signer once it is in use here.
        let (mut row_records, mut designation_records) = (Vec::new(), Vec::new());
        let mut parked = Vec::new();
        let mut exposures = Vec::new();
        let trust = self.trust.current();
        let mut forged = 0;
        for (index, record) in &records {
            if let Err(unusable) = vouching::check(record, *index, &trust) {
                forged += usize::from(unusable.forged);
                refused.push(unused_record(now, *index, record, unusable.field, unusable.reason));
                continue;
            }
            if record.kind == "risk_level" {
                match exchange::designation_row(record) {
                    Some(row) => {
                        designations.push(row);
                        designation_records.push(exchange::admitted(record, *index, None));
                    }
                    None => refused.push(unused_record(
                        now,
                        *index,
                        record,
                        "level",
                        "a risk level without an area, a level this region knows or a time; it was not used".into(),
                    )),
                }
                continue;
            }
            if exposures::is_exposure(record) {
                exposures.push((*index, record.clone()));
                continue;
            }
            match known.get(&record.person) {
                Some(person) => match exchange::evidence_row(record, person) {
                    Some(row) => {
                        rows.push(row);
                        row_records.push(exchange::admitted(record, *index, Some(person)));
                    }
                    None => refused.push(unused_record(
                        now,
                        *index,
                        record,
                        "kind",
                        format!(
                            "a national record of kind `{}` (status {:?}) is not one this region reads; it was not used",
                            record.kind, record.status
                        ),
                    )),
                },
                None => parked.push(ParkedRecord {
                    national_id: record.person.clone(),
                    hub_index: *index,
                    entry: String::from_utf8_lossy(&leaves[(*index - follower.size()) as usize]).into_owned(),
                    parked_at: self.clock.now(),
                    signer: exchange::signer_of(record),
                }),
            }
        }
        let exposed = self.take_exposures(&exposures, now).await?;
        refused.extend(exposed.refused);
        for (row, record) in exposed.rows {
            rows.push(row);
            row_records.push(record);
        }
        if !refused.is_empty() {
            self.rejections.record_rejections(&refused).await?;
        }
        if forged > 0 {
            let detail = format!(
                "the hub published {forged} record(s) in a region's name that the region did not validly sign or \
                 could not have made (entries up to {}); they were not used: see the rejection log",
                next.size()
            );
            self.alarms.raise("hub_forged_record", region, detail).await?;
        }
        if !parked.is_empty() {
            self.federation.park_records(&parked).await?;
        }
        received.parked = parked.len();
        if !rows.is_empty() {
            let intake =
                self.evidence.ingest_hub_rows(rows.into_iter().zip(row_records).collect(), "national hub").await?;
            received.admitted = intake.admitted;
            received.changed = intake.changed;
            self.federation.note_admitted(&intake.in_use).await?;
        }
        if !designations.is_empty() {
            // Other regions' levels become designations here, in force from when their
            // region designated them; this region's rules judge the stays they touch.
            let texts: Vec<String> = designations.iter().map(|r| r.to_string()).collect();
            let numbers: Vec<usize> = (1..=texts.len()).collect();
            let report = self
                .evidence
                .ingest_from(Source::Trusted, &numbers, &texts, AtPolicy::Supplied, "national hub (risk levels)")
                .await?;
            received.levels = report.accepted + report.duplicates;
            received.changed += report.codes.changed as usize;
            self.federation.note_admitted(&in_use(&report, designation_records)).await?;
        }
        view.size = next.size();
        view.frontier = next.frontier().hashes().iter().map(hex).collect();
        view.checkpoint = Some(checkpoint_note.to_string());
        view.synced_at = Some(self.clock.now());
        self.documents.save(VIEW.0, VIEW.1, self.clock.now(), &view).await?;
        self.trust.set_synced_at(self.clock.now());
        Ok(received)
    }

    /// Notes that the hub answered and had nothing new (pages show "national data as of").
    pub async fn heard_from_hub(&self) -> Result<(), ServiceError> {
        let mut view = self.view().await?;
        view.synced_at = Some(self.clock.now());
        self.documents.save(VIEW.0, VIEW.1, self.clock.now(), &view).await?;
        self.trust.set_synced_at(self.clock.now());
        Ok(())
    }

    /// Compares the hub checkpoint another region verified with this region's: the same
    /// size must have the same root; sizes that differ need the hub's consistency proof
    /// between them (`proof`, from the smaller to the larger). A hub that showed the two
    /// regions histories that cannot both be true is caught, and an alarm raised with both
    /// signed checkpoints: the evidence that it equivocated.
    pub async fn compare(&self, theirs_note: &str, proof: &[Hash]) -> Result<Comparison, ServiceError> {
        let (region, hub) = self.region()?;
        let theirs = Checkpoint::open(theirs_note, hub, hub.name()).map_err(|e| {
            ServiceError::HubUntrusted(format!("the other region's checkpoint is not signed by the hub: {e}"))
        })?;
        let view = self.view().await?;
        let Some(ours_note) = view.checkpoint.clone() else {
            return Ok(Comparison::Consistent { theirs: theirs.size, ours: 0 });
        };
        let ours = Checkpoint::open(&ours_note, hub, hub.name())
            .map_err(|e| ServiceError::HubUntrusted(format!("this region's stored hub checkpoint: {e}")))?;
        let (old, new) = if theirs.size <= ours.size { (&theirs, &ours) } else { (&ours, &theirs) };
        let consistent = if old.size == new.size {
            old.root == new.root
        } else {
            old.size == 0 || healthcode_log::verify_consistency(old.size, new.size, &old.root, &new.root, proof).is_ok()
        };
        if consistent {
            return Ok(Comparison::Consistent { theirs: theirs.size, ours: ours.size });
        }
        let detail = format!(
            "the hub signed two histories that cannot both be true: this region's checkpoint\n{ours_note}\nand \
             another region's\n{theirs_note}"
        );
        self.alarms.raise("hub_equivocation", region, detail.clone()).await?;
        Ok(Comparison::Equivocation { detail })
    }
}

/// How far before the hub takes it a risk level may say it took effect: a region's
/// levels reach the hub within seconds of their designation, or after an outage of the
/// hub; older than this, a level would reach back over stays its region never designated.
pub const LEVEL_BACKDATING_HOURS: i64 = 24;

/// A level takes effect when it is designated: not days before the hub hears of it (a
/// region reaching back over past travellers), nor later than a clock's drift ahead.
/// A record dated in the future would outlast what clears it (a contact released before
/// the date it names does not count): refused.
fn check_not_ahead(since: Timestamp, now: Timestamp) -> Result<(), ValidationError> {
    if since > crate::clock::latest_allowed(now) {
        return Err(ValidationError::field(
            "since",
            format!(
                "a record cannot be dated after it is submitted (more than {} minutes ahead)",
                crate::clock::CLOCK_DRIFT_MINUTES
            ),
        ));
    }
    Ok(())
}

fn check_level_time(since: Timestamp, now: Timestamp) -> Result<(), ValidationError> {
    let earliest = now.saturating_sub(healthcode_domain::Duration::hours(LEVEL_BACKDATING_HOURS));
    let latest = crate::clock::latest_allowed(now);
    if since < earliest || since > latest {
        return Err(ValidationError::field(
            "since",
            format!(
                "a risk level takes effect when it is designated: `since` must lie within the {LEVEL_BACKDATING_HOURS} \
                 hours before the hub receives it (designate the area again to publish its level now)"
            ),
        ));
    }
    Ok(())
}

/// The records whose rows were taken in (stored now, or before: a duplicate), to note with
/// their signers; `records` is parallel to the rows of `report`.
fn in_use(report: &crate::IngestReport, records: Vec<AdmittedRecord>) -> Vec<AdmittedRecord> {
    report.rows.iter().zip(records).filter(|(row, _)| row.status != RowStatus::Rejected).map(|(_, r)| r).collect()
}

/// A published record this region does not use, for its rejection log: the hub entry it
/// came in, the field at fault and why.
fn unused_record(now: Timestamp, index: u64, record: &NationalRecord, field: &str, reason: String) -> NewRejection {
    hub_entry_refused(now, index, &serde_json::to_string(record).unwrap_or_default(), Some(field), reason)
}

/// A hub entry this region did not use, for its rejection log: the entry's text (masked
/// as every kept input is), the field at fault and why.
fn hub_entry_refused(now: Timestamp, index: u64, input: &str, field: Option<&str>, reason: String) -> NewRejection {
    NewRejection {
        received_at: now,
        owner: None,
        origin: format!("national hub entry {index}"),
        input: crate::redact::kept_input(input),
        field: field.map(Into::into),
        reason,
    }
}

fn check_region_code(region: &str) -> Result<(), ValidationError> {
    if region.len() == 2 && region.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ValidationError::field("region", "a region is its province's two-digit code (`41` for Henan)"))
    }
}

enum Checked {
    New(Box<NationalRecord>),
    Duplicate(String),
}

/// What a batch of other regions' records brought in (`Evidence::ingest_hub_rows`).
#[derive(Default)]
pub(crate) struct HubIntake {
    /// Rows stored now or before.
    pub admitted: usize,
    /// Codes whose colour changed.
    pub changed: usize,
    /// The records of the rows taken in, to note with their signers.
    pub in_use: Vec<AdmittedRecord>,
}

fn record_key(region: &str, id: &str) -> String {
    format!("{region}/{id}")
}

fn hex(hash: &Hash) -> String {
    crate::secrets::hex(hash)
}

fn follower_of(view: &HubView) -> Result<Follower, ServiceError> {
    let corrupt = || ServiceError::Background("this region's stored view of the hub cannot be read".into());
    let hashes = view
        .frontier
        .iter()
        .map(|h| crate::secrets::unhex(h).and_then(|b| <[u8; 32]>::try_from(b).ok()).ok_or_else(corrupt))
        .collect::<Result<Vec<Hash>, _>>()?;
    Frontier::from_compact(view.size, hashes).map(Follower::resume).ok_or_else(corrupt)
}

impl Evidence {
    /// Ingests the system's own rows about registered persons (records from the hub).
    pub(crate) async fn ingest_rows(
        &self,
        rows: &[serde_json::Value],
        origin: &str,
    ) -> Result<crate::IngestReport, ServiceError> {
        let texts: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        let numbers: Vec<usize> = (1..=texts.len()).collect();
        self.ingest_from(Source::Trusted, &numbers, &texts, AtPolicy::ServerClock, origin).await
    }

    /// Ingests rows made of other regions' records, each with what it is: records first,
    /// then retractions, so that a retraction finds a record of the same batch stored (a
    /// retraction is checked against stored records only). Returns what was taken in.
    pub(crate) async fn ingest_hub_rows(
        &self,
        rows: Vec<(serde_json::Value, AdmittedRecord)>,
        origin: &str,
    ) -> Result<HubIntake, ServiceError> {
        let (retractions, records): (Vec<_>, Vec<_>) =
            rows.into_iter().partition(|(row, _)| row.get("type").and_then(|t| t.as_str()) == Some("retraction"));
        let mut intake = HubIntake::default();
        for part in [records, retractions] {
            if part.is_empty() {
                continue;
            }
            let (rows, admitted): (Vec<_>, Vec<_>) = part.into_iter().unzip();
            // Boxed: ingesting may link national pseudonyms, which admits parked rows here
            // again (though never with links: these rows name persons by id).
            let report = Box::pin(self.ingest_rows(&rows, origin)).await?;
            intake.admitted += report.accepted + report.duplicates;
            intake.changed += report.codes.changed as usize;
            intake.in_use.extend(in_use(&report, admitted));
        }
        Ok(intake)
    }

    /// Records the national pseudonyms of persons just named by document, and admits the
    /// records the hub published about them before they were known here, checked again
    /// against the trust lists held now (`vouching`): what no longer holds, or is not a
    /// record this region reads, goes to the rejection log. Every parked record of these
    /// persons is then unparked: in use, or kept in the rejection log with its reason.
    pub(crate) async fn link_national(&self, links: Vec<NationalLink>) -> Result<(), ServiceError> {
        if links.is_empty() {
            return Ok(());
        }
        self.federation.link_national_ids(&links).await?;
        let ids: Vec<String> = links.iter().map(|l| l.national_id.clone()).collect();
        let parked = self.federation.parked_records(&ids).await?;
        if parked.is_empty() {
            return Ok(());
        }
        let persons: BTreeMap<&str, &PersonId> = links.iter().map(|l| (l.national_id.as_str(), &l.person)).collect();
        let trust = self.national_trust.current();
        let now = self.clock.now();
        let mut rows = Vec::new();
        let mut refused = Vec::new();
        let mut admitted: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for p in &parked {
            let Some(person) = persons.get(p.national_id.as_str()) else { continue };
            admitted.entry(p.national_id.clone()).or_default().push(p.hub_index);
            let record = match Entry::from_leaf_bytes(p.entry.as_bytes()) {
                Ok(Entry::NationalRecord(record)) => record,
                _ => {
                    refused.push(NewRejection {
                        received_at: now,
                        owner: None,
                        origin: format!("national hub entry {} (kept until its person came)", p.hub_index),
                        input: crate::redact::kept_input(&p.entry),
                        field: None,
                        reason: "a kept hub entry that is not a record this region reads; it was not used".into(),
                    });
                    continue;
                }
            };
            if let Err(unusable) = vouching::check(&record, p.hub_index, &trust) {
                refused.push(unused_record(now, p.hub_index, &record, unusable.field, unusable.reason));
                continue;
            }
            match exchange::evidence_row(&record, person) {
                Some(row) => rows.push((row, exchange::admitted(&record, p.hub_index, Some(person)))),
                None => refused.push(unused_record(
                    now,
                    p.hub_index,
                    &record,
                    "kind",
                    format!(
                        "a national record of kind `{}` is not one this region reads; it was not used",
                        record.kind
                    ),
                )),
            }
        }
        if !refused.is_empty() {
            self.store.record_rejections(&refused).await?;
        }
        let intake = self.ingest_hub_rows(rows, "national hub (records kept until the person came)").await?;
        // Noted before they are unparked: a revocation between the two finds them in one
        // place or the other.
        self.federation.note_admitted(&intake.in_use).await?;
        for (national_id, indices) in admitted {
            self.federation.unpark_records(&national_id, &indices).await?;
        }
        Ok(())
    }

    /// Gives this region's key-person evidence (and retractions of it) the line it sends
    /// to the hub: the store queues it in the transaction that stores the record, if the
    /// record is new (`NewEvidence::hub_line`). `links` are pseudonyms named with these
    /// records and perhaps not stored yet.
    pub(crate) async fn attach_hub_lines<E: std::borrow::BorrowMut<healthcode_store::NewEvidence>>(
        &self,
        records: &mut [E],
        links: &[NationalLink],
    ) -> Result<(), ServiceError> {
        if records.is_empty() || !self.pseudonyms.takes_part_nationally() {
            return Ok(());
        }
        let evidence: Vec<&healthcode_store::NewEvidence> = records.iter().map(|e| e.borrow()).collect();
        // A feed of stays or fevers sends nothing: no pseudonym is looked up for it.
        if !evidence.iter().any(|e| may_travel(&e.evidence)) {
            return Ok(());
        }
        let shares_tests = self.shares_tests.load(std::sync::atomic::Ordering::Relaxed);
        let mut persons: Vec<PersonId> = evidence.iter().map(|e| e.person.clone()).collect();
        persons.sort();
        persons.dedup();
        let mut national: BTreeMap<PersonId, String> =
            self.federation.national_ids_of(&persons).await?.into_iter().map(|l| (l.person, l.national_id)).collect();
        national.extend(links.iter().map(|l| (l.person.clone(), l.national_id.clone())));
        let travels = |e: &healthcode_store::NewEvidence, national_id: &str| {
            exchange::submission_for(&e.id, e.at, &e.evidence, national_id, shares_tests)
        };
        // Records first: a retraction in the same batch may withdraw one of them.
        let mut travelling: std::collections::BTreeSet<&healthcode_domain::EventId> = Default::default();
        let mut lines = Vec::with_capacity(evidence.len());
        for e in &evidence {
            let line = match national.get(&e.person) {
                Some(national_id) if !e.id.as_str().starts_with(crate::admission::SYSTEM_ID_PREFIX) => {
                    if matches!(e.evidence, healthcode_domain::Evidence::Retraction { .. }) {
                        None
                    } else {
                        travels(e, national_id)
                    }
                }
                _ => None,
            };
            if line.is_some() {
                travelling.insert(&e.id);
            }
            lines.push(line);
        }
        // A retraction travels only if the record it withdraws did.
        let mut retraction_lines = Vec::new();
        for (i, e) in evidence.iter().enumerate() {
            let healthcode_domain::Evidence::Retraction { retracts, .. } = &e.evidence else { continue };
            let Some(national_id) = national.get(&e.person) else { continue };
            if e.id.as_str().starts_with(crate::admission::SYSTEM_ID_PREFIX) {
                continue;
            }
            let travelled = travelling.contains(retracts)
                || self.store.evidence_for(&e.person).await?.iter().any(|r| {
                    &r.id == retracts
                        && exchange::submission_for(&r.id, r.at, &r.body, national_id, shares_tests).is_some()
                });
            if travelled {
                retraction_lines.push((i, travels(e, national_id)));
            }
        }
        for (i, line) in retraction_lines {
            lines[i] = line;
        }
        for (e, line) in records.iter_mut().zip(lines) {
            e.borrow_mut().hub_line = line;
        }
        Ok(())
    }

    /// Gives the levels this region gives its own areas the line each sends to the hub's
    /// national list, queued as evidence's is (`attach_hub_lines`). The system's own
    /// designations, such as other regions' levels received from the hub, never travel back.
    pub(crate) fn attach_level_lines(&self, designations: &mut [healthcode_store::NewDesignation]) {
        let Some(region) = self.national_region.get() else { return };
        for d in designations {
            if !d.id.as_str().starts_with(crate::admission::SYSTEM_ID_PREFIX) {
                d.hub_line = exchange::risk_level_for(&d.id, d.at, &d.risk, region);
            }
        }
    }
}

/// Whether a piece of evidence is of a kind that may go to the hub (`exchange::submission_for`
/// decides for each, by its content and the region's choices).
fn may_travel(evidence: &healthcode_domain::Evidence) -> bool {
    use healthcode_domain::Evidence as E;
    matches!(
        evidence,
        E::Diagnosis { .. } | E::CloseContact { .. } | E::ContactCleared | E::Test { .. } | E::Retraction { .. }
    )
}
