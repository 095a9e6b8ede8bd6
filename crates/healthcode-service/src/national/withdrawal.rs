//! A region's key stolen (issue 15, failure modes): when that region publishes a trust list
//! that no longer vouches for some of what the key signed — revoked from the time it was
//! stolen, by the hub's time, which the thief cannot choose — this region withdraws what it
//! took in of it before the list reached it. Evidence is retracted through the retraction
//! path (logged in each person's log, their codes re-evaluated and the changes logged),
//! parked records are dropped, and an alarm in the log says how many, for auditors.
//!
//! Only a list that opens with the root key registered at the hub for its region, names
//! that region and is newer than the one held acts here (`National::receive`), and it acts
//! on that region's records only: a region cannot withdraw another's records, and an older
//! list replayed cannot bring a key back (nor undo a withdrawal: a retraction is final).

use std::collections::{BTreeMap, BTreeSet};

use healthcode_domain::{EventId, Evidence, PersonId};
use healthcode_store::AdmittedRecord;

use super::exchange;
use super::trust::RegionTrust;
use super::National;
use crate::ingest::RowStatus;
use crate::{AtPolicy, ServiceError, Source};

/// What applying trust lists withdrew.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Withdrawn {
    pub withdrawn: usize,
    pub dropped: usize,
    pub not_withdrawn: usize,
}

impl std::ops::AddAssign for Withdrawn {
    fn add_assign(&mut self, other: Withdrawn) {
        self.withdrawn += other.withdrawn;
        self.dropped += other.dropped;
        self.not_withdrawn += other.not_withdrawn;
    }
}

/// The kinds of record that are evidence a retraction here withdraws. A retraction cannot
/// be retracted (its record would come back only if its region submits it again) and a
/// risk level is replaced only by the area's next level: those are named in the alarm.
const WITHDRAWABLE: [&str; 3] = ["key_person", "test_result", "venue_exposure"];

/// The most records an alarm names one by one (the count is always whole).
const NAMED_IN_ALARM: usize = 20;

/// Records looked up, withdrawn and forgotten at a time.
const PAGE: usize = 10_000;

impl National {
    /// Applies other regions' lists (with where each was found in the hub's log) to what
    /// this region holds of theirs: each list by itself, in order.
    pub(crate) async fn withdraw_unvouched(
        &self,
        own_region: &str,
        lists: &[(u64, RegionTrust)],
    ) -> Result<Withdrawn, ServiceError> {
        let mut total = Withdrawn::default();
        for (index, list) in lists {
            if list.region == own_region {
                continue;
            }
            total += self.withdraw_for(own_region, Some(*index), list).await?;
        }
        Ok(total)
    }

    /// Applies the lists held now once more (hourly, with retention): a record taken in
    /// from parking by another server while a list was being applied escapes that pass.
    pub(crate) async fn withdraw_unvouched_again(&self, own_region: &str) -> Result<Withdrawn, ServiceError> {
        let state = self.trust.current();
        let mut total = Withdrawn::default();
        for list in state.regions.values().filter(|l| l.region != own_region) {
            total += self.withdraw_for(own_region, list.hub_index, list).await?;
        }
        Ok(total)
    }

    async fn withdraw_for(
        &self,
        own_region: &str,
        list_index: Option<u64>,
        list: &RegionTrust,
    ) -> Result<Withdrawn, ServiceError> {
        let region = list.region.as_str();
        let mut done = Withdrawn::default();
        let mut because = Vec::new();
        // Named in the alarm: what cannot be withdrawn here (the first of them).
        let mut stranded = Vec::new();
        for key in &list.verifier.trust_list().keys {
            // A key the list no longer names (pruned once its codes expired) says nothing of
            // what it signed: only what the list says of a key it names withdraws anything.
            let outside = exchange::signed_outside(region, key);
            let why = exchange::untrusted_because(key);
            let before = done;
            // In pages, each forgotten (or unparked) once handled, so that the next query
            // starts after it: a key that signed millions of records is withdrawn in steps.
            loop {
                let page = self.federation.admitted_signed_outside(&outside, PAGE).await?;
                let full = page.len() == PAGE;
                if page.is_empty() {
                    break;
                }
                let (evidence, kept): (Vec<_>, Vec<_>) =
                    page.into_iter().partition(|r| r.person.is_some() && WITHDRAWABLE.contains(&r.kind.as_str()));
                done.withdrawn += self.withdraw_evidence(region, list.sequence, &why, &evidence).await?;
                done.not_withdrawn += kept.len();
                let forget: Vec<String> = evidence.iter().chain(&kept).map(|r| r.record_id.clone()).collect();
                self.federation.forget_admitted(region, &forget).await?;
                stranded.extend(
                    kept.iter()
                        .take(NAMED_IN_ALARM.saturating_sub(stranded.len()))
                        .map(|r| format!("{} `{}` (hub entry {})", r.kind, r.record_id, r.hub_index)),
                );
                if !full {
                    break;
                }
            }
            loop {
                let page = self.federation.parked_signed_outside(&outside, PAGE).await?;
                let full = page.len() == PAGE;
                let mut by_person: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
                for p in &page {
                    by_person.entry(p.national_id.as_str()).or_default().push(p.hub_index);
                }
                for (national_id, indices) in by_person {
                    self.federation.unpark_records(national_id, &indices).await?;
                }
                done.dropped += page.len();
                if !full {
                    break;
                }
            }
            if done != before {
                because.push(why);
            }
        }
        if done == Withdrawn::default() {
            return Ok(done);
        }

        tracing::warn!(
            region,
            sequence = list.sequence,
            withdrawn = done.withdrawn,
            dropped = done.dropped,
            not_withdrawn = done.not_withdrawn,
            "another region's trust list no longer vouches for records held here"
        );
        let at = list_index.map_or_else(String::new, |i| format!(" (hub entry {i})"));
        let mut detail = format!(
            "region {region}'s trust list {}{at} no longer vouches for what some of its keys signed ({}): {} of its \
             records withdrawn here as evidence (retracted, their persons re-evaluated), {} parked record(s) dropped",
            list.sequence,
            because.join("; "),
            done.withdrawn,
            done.dropped,
        );
        if done.not_withdrawn > 0 {
            detail.push_str(&format!(
                "; {} record(s) it signed cannot be withdrawn here: {}{} — a retraction stays (region {region} submits \
                 the record it withdrew again, under a new id) and a risk level stays until region {region} designates \
                 the area again",
                done.not_withdrawn,
                stranded.join(", "),
                if done.not_withdrawn > stranded.len() { ", …" } else { "" },
            ));
        }
        self.alarms.raise("national_records_withdrawn", own_region, detail).await?;
        Ok(done)
    }

    /// Retracts the records of `region` (evidence about persons here) that are still in
    /// force, through the retraction path; returns how many it retracted.
    async fn withdraw_evidence(
        &self,
        region: &str,
        sequence: u64,
        why: &str,
        records: &[AdmittedRecord],
    ) -> Result<usize, ServiceError> {
        let rows = self.withdrawal_rows(region, sequence, why, records).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let texts: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        let numbers: Vec<usize> = (1..=texts.len()).collect();
        let by = format!("region {region} (trust list {sequence})");
        let origin = format!("national hub: region {region}'s trust list {sequence}");
        let report = self
            .evidence
            .ingest_owned(Source::Trusted, Some(&by), &numbers, &texts, AtPolicy::ServerClock, &origin)
            .await?;
        if report.rejected > 0 {
            tracing::warn!(region, rejected = report.rejected, "withdrawals refused; see the rejection log");
        }
        Ok(report.rows.iter().filter(|r| r.status == RowStatus::Accepted).count())
    }

    /// The retractions of the records still in force here: a record already withdrawn (by
    /// its region's own retraction, or an earlier pass) or no longer stored (its person
    /// erased) needs none.
    async fn withdrawal_rows(
        &self,
        region: &str,
        sequence: u64,
        why: &str,
        records: &[AdmittedRecord],
    ) -> Result<Vec<serde_json::Value>, ServiceError> {
        let persons: Vec<PersonId> =
            records.iter().filter_map(|r| r.person.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        if persons.is_empty() {
            return Ok(Vec::new());
        }
        let histories: BTreeMap<PersonId, Vec<healthcode_domain::Event<Evidence>>> =
            self.rejections.evidence_for_many(&persons).await?.into_iter().collect();
        let mut rows = Vec::new();
        for record in records {
            let Some(person) = &record.person else { continue };
            let Ok(local) = EventId::parse(&exchange::local_event_id(region, &record.record_id)) else { continue };
            let history = histories.get(person).map(Vec::as_slice).unwrap_or_default();
            let stored = history.iter().any(|e| e.id == local);
            let retracted =
                history.iter().any(|e| matches!(&e.body, Evidence::Retraction { retracts, .. } if *retracts == local));
            if stored && !retracted {
                let reason = format!("region {region} no longer vouches for it (trust list {sequence}): {why}");
                rows.push(exchange::withdrawal_row(region, &record.record_id, person, &reason));
            }
        }
        Ok(rows)
    }
}
