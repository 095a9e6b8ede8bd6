//! Alarms: what auditors are told, in the store and in the transparency log — raised by
//! the governance paths (decision bursts, an approver's share, rules the operator
//! imposed), by doors (forwarded venue codes, gate lookups) and by the colour changes
//! themselves.
//!
//! Colour bursts count colour changes by what caused them. Every code turned red, orange or
//! yellow is counted by its origin (a decision, an approved trace, a designation, or a
//! department's feed by event type) and the person's residence city, per hour. When an
//! hour's count of one origin in one city is both large and many times that origin's and
//! city's hourly average over the week before, an alarm goes to auditors and into the
//! transparency log, once per hour. Decisions keep their own alarms (`decision_burst`,
//! by the proposing office's jurisdiction), so they are not counted twice here.

use std::sync::Arc;

use healthcode_domain::Timestamp;
use healthcode_log::{Alarm as AlarmEntry, Entry};
use healthcode_store::{Alarm, CodeStore, ColourChangeCount, GovernanceStore, NewAlarm};

use crate::{Clock, ServiceError, TransparencyLog};

/// Persons turned red, orange or yellow by one origin in one city within an hour that
/// raise an alarm when they are also `BURST_TIMES_BASELINE` times the past week's hourly
/// average.
pub const COLOUR_BURST_MIN_PERSONS: u64 = 20;
const BURST_TIMES_BASELINE: f64 = 10.0;
const WEEK_HOURS: i64 = 7 * 24;

/// Raises and lists alarms. Holds only the alarm store, the hourly colour-change counts,
/// the log and the clock.
pub struct Alarms {
    store: Arc<dyn GovernanceStore>,
    counts: Arc<dyn CodeStore>,
    log: Arc<TransparencyLog>,
    clock: Arc<dyn Clock>,
}

/// An account younger than this that approves (a decision, a designation, a rule change,
/// a trace, a credit record, a device, an agreement, a counter key's declaration) raises
/// `fresh_approver`: an insider who can make accounts makes the second approver that way,
/// the night before.
pub const FRESH_APPROVER_HOURS: i64 = 24;

impl Alarms {
    /// Says aloud an approval by an account made less than `FRESH_APPROVER_HOURS` ago
    /// (`region`: where an account without a jurisdiction answers).
    pub(crate) async fn if_fresh_approver(
        &self,
        by: &healthcode_store::Account,
        what: &str,
        region: &str,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now().as_millis();
        let age_ms = |since: Timestamp| now.saturating_sub(since.as_millis());
        let fresh = |since: Timestamp| age_ms(since) < FRESH_APPROVER_HOURS * 3_600_000;
        let hours = |since: Timestamp| age_ms(since) as f64 / 3_600_000.0;
        // A new account, or a new API key for an older one (the operator mints keys on the
        // machine: a key minted overnight for a real officer approves as them).
        let detail = if fresh(by.created_at) {
            format!(
                "{} approved a {what} {:.1} hours after the account was created ({}; fewer than \
                 {FRESH_APPROVER_HOURS}): check who asked for the account and why",
                by.username,
                hours(by.created_at),
                by.created_at.to_rfc3339(),
            )
        } else if let Some(issued) = by.acting_with_key_issued_at.filter(|issued| fresh(*issued)) {
            format!(
                "{} approved a {what} with an API key issued {:.1} hours before ({}; fewer than \
                 {FRESH_APPROVER_HOURS}), for an account made {}: check who asked for the key and why",
                by.username,
                hours(issued),
                issued.to_rfc3339(),
                by.created_at.to_rfc3339(),
            )
        } else {
            return Ok(());
        };
        self.raise("fresh_approver", by.jurisdiction.as_deref().unwrap_or(region), detail).await
    }

    pub(crate) fn new(
        store: Arc<dyn GovernanceStore>,
        counts: Arc<dyn CodeStore>,
        log: Arc<TransparencyLog>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Alarms { store, counts, log, clock }
    }

    /// Alarms with an id above `after`, oldest first.
    pub async fn list(&self, after: i64, limit: usize) -> Result<Vec<Alarm>, ServiceError> {
        Ok(self.store.alarms(after, limit).await?)
    }

    /// Records an alarm for auditors, in the store and in the transparency log.
    pub async fn raise(&self, kind: &str, jurisdiction: &str, detail: String) -> Result<(), ServiceError> {
        let now = self.clock.now();
        tracing::warn!(kind, jurisdiction, %detail, "alarm");
        let index = self
            .log
            .record(&[Entry::Alarm(AlarmEntry {
                at: now.as_millis(),
                kind: kind.to_string(),
                jurisdiction: jurisdiction.to_string(),
                detail: detail.clone(),
            })])
            .await?;
        self.store
            .record_alarm(&NewAlarm {
                at: now,
                kind: kind.to_string(),
                jurisdiction: jurisdiction.to_string(),
                detail,
                log_index: index.first().copied(),
            })
            .await?;
        Ok(())
    }

    /// Adds a chunk's colour changes to the hourly counts and raises the alarms they call for.
    pub(crate) async fn count_colour_changes(
        &self,
        counts: &[ColourChangeCount],
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        if counts.is_empty() {
            return Ok(());
        }
        self.counts.add_colour_changes(counts).await?;
        let hour = now.as_millis().div_euclid(3_600_000);
        for c in counts.iter().filter(|c| c.origin != "decision" && c.hour == hour) {
            let history = self.counts.colour_changes(&c.origin, &c.area, hour - WEEK_HOURS, hour + 1).await?;
            let this_hour: u64 = history.iter().filter(|h| h.hour == hour).map(|h| h.persons).sum();
            let week_before: u64 = history.iter().filter(|h| h.hour < hour).map(|h| h.persons).sum();
            let baseline = week_before as f64 / (WEEK_HOURS - 1) as f64;
            let burst = this_hour >= COLOUR_BURST_MIN_PERSONS && this_hour as f64 > BURST_TIMES_BASELINE * baseline;
            if burst && self.counts.mark_colour_burst(&c.origin, &c.area, hour).await? {
                let detail = format!(
                    "{this_hour} persons living in {} turned red, orange or yellow by {} within the hour; the past \
                     week's hourly average is {baseline:.1}",
                    c.area,
                    describe(&c.origin)
                );
                self.raise("colour_burst", &c.area, detail).await?;
            }
        }
        Ok(())
    }
}

impl Alarms {
    /// Adds `n` to the hour's count of `origin` in `area` (in the store, so every server
    /// adds to the same count) and says whether this call is the one that took the count
    /// past `threshold`: `Some(total)` once per hour, however many servers count.
    pub(crate) async fn count_past(
        &self,
        origin: &str,
        area: &str,
        n: u64,
        now: Timestamp,
        threshold: u64,
    ) -> Result<Option<u64>, ServiceError> {
        if n == 0 {
            return Ok(None);
        }
        let hour = now.as_millis().div_euclid(3_600_000);
        let count = ColourChangeCount { hour, origin: origin.to_string(), area: area.to_string(), persons: n };
        self.counts.add_colour_changes(&[count]).await?;
        let total: u64 =
            self.counts.colour_changes(origin, area, hour, hour + 1).await?.iter().map(|c| c.persons).sum();
        let first = total > threshold && self.counts.mark_colour_burst(origin, area, hour).await?;
        Ok(first.then_some(total))
    }
}

fn describe(origin: &str) -> String {
    match origin {
        "trace" => "approved contact tracing".to_string(),
        "designation" => "area designations".to_string(),
        "declaration" => "residents' own declarations (or their proxies')".to_string(),
        other => match (other.strip_prefix("feed:"), other.strip_prefix("national:")) {
            (Some(kind), _) => format!("departments' `{kind}` reports"),
            (_, Some(from)) => match from.split_once(':') {
                Some((region, kind)) => format!("region {region}'s `{kind}` records through the national hub"),
                None => other.to_string(),
            },
            _ => other.to_string(),
        },
    }
}
