//! Alarms that count colour changes by what caused them. Every code turned red, orange or
//! yellow is counted by its origin (a decision, an approved trace, a designation, or a
//! department's feed by event type) and the person's residence city, per hour. When an
//! hour's count of one origin in one city is both large and many times that origin's and
//! city's hourly average over the week before, an alarm goes to auditors and into the
//! transparency log, once per hour. Decisions keep their own alarms (`decision_burst`,
//! by the proposing office's jurisdiction), so they are not counted twice here.

use healthcode_domain::Timestamp;
use healthcode_store::ColourChangeCount;

use crate::{HealthService, ServiceError};

/// Persons turned red, orange or yellow by one origin in one city within an hour that
/// raise an alarm when they are also `BURST_TIMES_BASELINE` times the past week's hourly
/// average.
pub const COLOUR_BURST_MIN_PERSONS: u64 = 20;
const BURST_TIMES_BASELINE: f64 = 10.0;
const WEEK_HOURS: i64 = 7 * 24;

impl HealthService {
    /// Adds a chunk's colour changes to the hourly counts and raises the alarms they call for.
    pub(crate) async fn count_colour_changes(
        &self,
        counts: &[ColourChangeCount],
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        if counts.is_empty() {
            return Ok(());
        }
        self.store.add_colour_changes(counts).await?;
        let hour = now.as_millis().div_euclid(3_600_000);
        for c in counts.iter().filter(|c| c.origin != "decision" && c.hour == hour) {
            let history = self.store.colour_changes(&c.origin, &c.area, hour - WEEK_HOURS, hour + 1).await?;
            let this_hour: u64 = history.iter().filter(|h| h.hour == hour).map(|h| h.persons).sum();
            let week_before: u64 = history.iter().filter(|h| h.hour < hour).map(|h| h.persons).sum();
            let baseline = week_before as f64 / (WEEK_HOURS - 1) as f64;
            let burst = this_hour >= COLOUR_BURST_MIN_PERSONS && this_hour as f64 > BURST_TIMES_BASELINE * baseline;
            if burst && self.store.mark_colour_burst(&c.origin, &c.area, hour).await? {
                let detail = format!(
                    "{this_hour} persons living in {} turned red, orange or yellow by {} within the hour; the past \
                     week's hourly average is {baseline:.1}",
                    c.area,
                    describe(&c.origin)
                );
                self.raise_alarm("colour_burst", &c.area, detail).await?;
            }
        }
        Ok(())
    }
}

fn describe(origin: &str) -> String {
    match origin {
        "trace" => "approved contact tracing".to_string(),
        "designation" => "area designations".to_string(),
        other => match other.strip_prefix("feed:") {
            Some(kind) => format!("departments' `{kind}` reports"),
            None => other.to_string(),
        },
    }
}
