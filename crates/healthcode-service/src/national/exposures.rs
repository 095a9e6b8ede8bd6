//! Venue exposures from other regions. A resident of this region checks in at another
//! region's venue with this region's app (`Doors::visit_elsewhere`); the visit stays here.
//! When the venue's region approves a trace through the venue (two of its officers), it
//! publishes the venue and a window around the case's visit, naming nobody. Here, every
//! resident admitted at that venue within the window becomes a close contact reported by
//! that region, judged by this region's rules; a retraction of the exposure withdraws
//! each of them. Nothing about who visited ever leaves this region.

use std::collections::{BTreeMap, BTreeSet};

use healthcode_domain::{AccessOutcome, PersonId, Timestamp};
use healthcode_log::NationalRecord;
use healthcode_store::{AdmittedRecord, NewRejection};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{exchange, unused_record, National};
use crate::ServiceError;

/// The exposures received, kept to find whom a retraction reaches.
const EXPOSURE: &str = "national_exposure";
/// The visits one exposure reads at most (a stadium's day).
const MAX_VISITS: usize = 100_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct HeldExposure {
    region: String,
    id: String,
    venue: String,
    since: Timestamp,
    until: Timestamp,
    /// Where it was in the hub's log: the same entry received again (a sync cut short)
    /// is matched again; the same record at another place (a hub replaying it) is not.
    hub_index: u64,
    /// Withdrawn by its region: never matched again.
    #[serde(default)]
    retracted: bool,
}

/// What a batch's exposures and their retractions become: evidence rows about this
/// region's visitors (each with the record it came from), and the records not used.
#[derive(Default)]
pub(super) struct ExposureIntake {
    pub rows: Vec<(serde_json::Value, AdmittedRecord)>,
    pub refused: Vec<NewRejection>,
}

/// Whether a published record is an exposure, or the retraction of one (which names no
/// person, as no other record's retraction does).
pub(super) fn is_exposure(record: &NationalRecord) -> bool {
    record.kind == "venue_exposure" || (record.kind == "retraction" && record.person.is_empty())
}

impl National {
    /// Matches other regions' exposures (checked: `vouching`) against this region's
    /// residents' visits, in log order, so that a retraction in the same batch finds its
    /// exposure.
    pub(super) async fn take_exposures(
        &self,
        records: &[(u64, NationalRecord)],
        now: Timestamp,
    ) -> Result<ExposureIntake, ServiceError> {
        let mut intake = ExposureIntake::default();
        // The visitors' event ids this batch makes: a retraction in the same batch finds them.
        let mut made: BTreeSet<String> = BTreeSet::new();
        for (index, record) in records {
            let taken = if record.kind == "venue_exposure" {
                self.take_exposure(*index, record, now, &mut intake.rows, &mut made).await?
            } else {
                self.take_exposure_retraction(*index, record, now, &mut intake.rows, &made).await?
            };
            if let Err((field, reason)) = taken {
                intake.refused.push(unused_record(now, *index, record, field, reason));
            }
        }
        Ok(intake)
    }

    /// An exposure: each admitted visitor in its window becomes a close contact (`rows`),
    /// unless this region used the record already (or its withdrawal came first).
    async fn take_exposure(
        &self,
        index: u64,
        record: &NationalRecord,
        now: Timestamp,
        rows: &mut Vec<(serde_json::Value, AdmittedRecord)>,
        made: &mut BTreeSet<String>,
    ) -> Result<Result<(), (&'static str, String)>, ServiceError> {
        let region = record.region.as_str();
        let (Some(venue), Some(since), Some(until)) = (&record.venue, record.since, record.until) else {
            return Ok(Err(("venue", "a venue exposure without a venue or a window; it was not used".into())));
        };
        let key = held_key(region, &record.id);
        if let Some(held) = self.documents.load::<HeldExposure>(EXPOSURE, &key).await? {
            if held.hub_index != index || held.retracted {
                let reason = format!(
                    "region {region}'s venue exposure `{}` was received at hub entry {}{}; published again, it was \
                     not used again",
                    record.id,
                    held.hub_index,
                    if held.retracted { " and withdrawn since" } else { "" }
                );
                return Ok(Err(("id", reason)));
            }
        }
        let held = HeldExposure {
            region: region.to_string(),
            id: record.id.clone(),
            venue: venue.clone(),
            since: Timestamp::from_millis(since),
            until: Timestamp::from_millis(until),
            hub_index: index,
            retracted: false,
        };
        self.documents.save(EXPOSURE, &key, now, &held).await?;
        for (person, at) in self.visitors(&held).await? {
            let (record_id, event_id) = visitor_ids(region, &record.id, &self.suffix(&held, &person));
            let row = json!({"id": event_id, "person_id": person.as_str(), "type": "close_contact",
                             "exposure_at": at.to_rfc3339()});
            made.insert(event_id);
            rows.push((row, admitted_as(record, index, record_id, &person)));
        }
        Ok(Ok(()))
    }

    /// A retraction naming no person: of an exposure this region holds, whose close
    /// contacts (stored, or `made` in this batch) it withdraws; the exposure is never used
    /// again.
    async fn take_exposure_retraction(
        &self,
        index: u64,
        record: &NationalRecord,
        now: Timestamp,
        rows: &mut Vec<(serde_json::Value, AdmittedRecord)>,
        made: &BTreeSet<String>,
    ) -> Result<Result<(), (&'static str, String)>, ServiceError> {
        let region = record.region.as_str();
        let retracts = record.retracts.as_deref().unwrap_or_default();
        let key = held_key(region, retracts);
        let Some(held) = self.documents.load::<HeldExposure>(EXPOSURE, &key).await? else {
            let reason = format!(
                "a retraction naming no person, of no venue exposure `{retracts}` of region {region} received here; \
                 it was not used"
            );
            return Ok(Err(("retracts", reason)));
        };
        // The hub's check, repeated: each visitor's retraction id is made of this one.
        if record.id.len() > exchange::MAX_EXPOSURE_ID {
            let reason = format!(
                "the retraction of a venue exposure has an id of at most {} characters",
                exchange::MAX_EXPOSURE_ID
            );
            return Ok(Err(("id", reason)));
        }
        self.documents.save(EXPOSURE, &key, now, &HeldExposure { retracted: true, ..held.clone() }).await?;
        let reason = format!("region {region}: {}", record.reason.as_deref().unwrap_or_default());
        // Only the visitors it reached: a visit recorded since it came is no close contact to withdraw.
        let visitors = self.visitors(&held).await?;
        let persons: Vec<PersonId> = visitors.iter().map(|(p, _)| p.clone()).collect();
        let stored: BTreeSet<String> = self
            .rejections
            .evidence_for_many(&persons)
            .await?
            .into_iter()
            .flat_map(|(_, events)| events.into_iter().map(|e| e.id.as_str().to_string()))
            .collect();
        for (person, _) in visitors {
            let suffix = self.suffix(&held, &person);
            let (_, withdrawn) = visitor_ids(region, &held.id, &suffix);
            if !stored.contains(&withdrawn) && !made.contains(&withdrawn) {
                continue;
            }
            let (record_id, event_id) = visitor_ids(region, &record.id, &suffix);
            let row = json!({"id": event_id, "person_id": person.as_str(), "type": "retraction",
                             "retracts": withdrawn, "reason": reason});
            rows.push((row, admitted_as(record, index, record_id, &person)));
        }
        Ok(Ok(()))
    }

    /// Each resident admitted at the exposure's venue within its window, at their first
    /// visit in it (a denied visitor did not go in).
    async fn visitors(&self, held: &HeldExposure) -> Result<Vec<(PersonId, Timestamp)>, ServiceError> {
        let to = Timestamp::from_millis(held.until.as_millis() + 1);
        let visits = self.door_store.visits_elsewhere_at(&held.region, &held.venue, held.since, to, MAX_VISITS).await?;
        let mut first: BTreeMap<PersonId, Timestamp> = BTreeMap::new();
        for visit in visits.into_iter().filter(|v| v.outcome != AccessOutcome::Deny) {
            first.entry(visit.person).or_insert(visit.at);
        }
        Ok(first.into_iter().collect())
    }

    /// The keyed part of a visitor's event id for one exposure: stable, naming nobody.
    fn suffix(&self, held: &HeldExposure, person: &PersonId) -> String {
        let of = format!("venue exposure {}/{}", held.region, held.id);
        let id = self.evidence.pseudonyms.event_id("x", &of, person);
        id.trim_start_matches("x-").to_string()
    }
}

/// A visitor's record id for one of `region`'s records (the id the admitted record is
/// noted under) and the event id it is stored under here.
fn visitor_ids(region: &str, record_id: &str, suffix: &str) -> (String, String) {
    let record_id = exchange::exposure_event_record(record_id, suffix);
    let event_id = exchange::local_event_id(region, &record_id);
    (record_id, event_id)
}

fn held_key(region: &str, id: &str) -> String {
    format!("{region}/{id}")
}

/// The record in use here about one visitor, under the visitor's own record id (so that a
/// revoked key's withdrawal finds each visitor's evidence by it).
fn admitted_as(record: &NationalRecord, index: u64, record_id: String, person: &PersonId) -> AdmittedRecord {
    AdmittedRecord { record_id, ..exchange::admitted(record, index, Some(person)) }
}
