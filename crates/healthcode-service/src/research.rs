//! Research export: counts of persons by area and day (or colour), never per-person rows,
//! released with differential privacy (discrete Laplace noise, scale Δ/ε) and cells whose
//! noisy count is below `k` withheld; every release spends from one privacy budget whose
//! ledger is kept in the store.

use std::sync::Arc;

use healthcode_domain::{Colour, Timestamp, ValidationError};
use healthcode_store::{ResearchMetric, ResidentStore, CST_OFFSET_MS};
use healthcode_vault::research::{release, Cell, PrivacyBudget, Query};
use serde::Serialize;

use crate::documents::Documents;
use crate::{Clock, ServiceError};

const LEDGER_KIND: &str = "privacy_budget";
const LEDGER_ID: &str = "research";
const DAY_MS: i64 = 86_400_000;
/// The most days one release may cover: the sensitivity (and so the noise) grows with it.
pub const MAX_RESEARCH_DAYS: i64 = 92;

/// What is asked: a metric over `[from, to)`, the ε this release spends, the threshold
/// `k`, and the total ε of the budget (used only when the ledger is first created).
#[derive(Debug, Clone, PartialEq)]
pub struct ResearchRequest {
    pub metric: ResearchMetric,
    pub from: Timestamp,
    pub to: Timestamp,
    pub epsilon: f64,
    pub k: u64,
    pub total_epsilon: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportCell {
    pub area: String,
    /// `YYYY-MM-DD` (China Standard Time) or a colour.
    pub key: String,
    pub count: u64,
}

/// A release: the cells, what was withheld, and the mechanism and budget, stated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResearchExport {
    pub label: String,
    pub cells: Vec<ExportCell>,
    pub suppressed: usize,
    pub mechanism: &'static str,
    pub epsilon: f64,
    pub sensitivity: u64,
    pub k: u64,
    pub budget_total: f64,
    pub budget_remaining: f64,
}

fn metric_name(metric: ResearchMetric) -> &'static str {
    match metric {
        ResearchMetric::CodesByColour => "persons by current code colour and residence area",
        ResearchMetric::TestedByDay => "persons tested, by residence area and day",
        ResearchMetric::CheckedInByDay => "persons who checked in anywhere, by residence area and day",
    }
}

/// A day number as `YYYY-MM-DD`.
fn day_text(day: i64) -> String {
    let t = Timestamp::from_millis(day * DAY_MS);
    t.to_rfc3339().chars().take(10).collect()
}

/// Research releases: aggregate counts with differential-privacy noise, small cells
/// suppressed, against a privacy budget kept in the documents. Holds only the residents'
/// store (its research counts), the documents and the clock.
pub struct Research {
    pub(crate) resident_store: Arc<dyn ResidentStore>,
    pub(crate) documents: Documents,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Research {
    /// One release (`k` at least 2, at most `MAX_RESEARCH_DAYS` days), its epsilon spent
    /// from the budget.
    pub async fn export(&self, request: &ResearchRequest) -> Result<ResearchExport, ServiceError> {
        if request.k < 2 {
            return Err(ValidationError::field("k", "the threshold k is at least 2").into());
        }
        let (first_day, last_day) = (
            (request.from.as_millis() + CST_OFFSET_MS).div_euclid(DAY_MS),
            (request.to.as_millis() - 1 + CST_OFFSET_MS).div_euclid(DAY_MS),
        );
        let days = last_day - first_day + 1;
        let daily = request.metric != ResearchMetric::CodesByColour;
        if daily && !(1..=MAX_RESEARCH_DAYS).contains(&days) {
            return Err(ValidationError::field("to", format!("a release covers 1 to {MAX_RESEARCH_DAYS} days")).into());
        }
        // One person is in one area: at most one cell a day (daily metrics), one cell in all (colours).
        let sensitivity = if daily { days as u64 } else { 1 };
        let counts = self.resident_store.research_counts(request.metric, request.from, request.to).await?;
        // The full grid, zeros included: the noise must hide which cells are empty.
        let mut areas: Vec<String> = self
            .resident_store
            .research_counts(ResearchMetric::CodesByColour, request.from, request.to)
            .await?
            .into_iter()
            .map(|c| c.area)
            .chain(counts.iter().map(|c| c.area.clone()))
            .collect();
        areas.sort();
        areas.dedup();
        let keys: Vec<String> = if daily {
            (first_day..=last_day).map(|d| d.to_string()).collect()
        } else {
            [Colour::Red, Colour::Orange, Colour::Yellow, Colour::Green]
                .iter()
                .map(|c| c.as_str().to_string())
                .collect()
        };
        let mut grid = Vec::with_capacity(areas.len() * keys.len());
        for area in &areas {
            for key in &keys {
                let count = counts.iter().find(|c| &c.area == area && &c.key == key).map_or(0, |c| c.persons);
                grid.push(Cell { dims: (area.clone(), key.clone()), count });
            }
        }
        let label = format!("{}, {} to {}", metric_name(request.metric), day_text(first_day), day_text(last_day));
        let mut budget: PrivacyBudget = match self.documents.load(LEDGER_KIND, LEDGER_ID).await? {
            Some(budget) => budget,
            None => PrivacyBudget::new("healthcode research", request.total_epsilon)
                .map_err(|e| ValidationError::field("budget", e.to_string()))?,
        };
        let query =
            Query { label: label.clone(), epsilon: request.epsilon, sensitivity, k: request.k, at: self.clock.now() };
        let released = release(grid, &query, &mut rand::rngs::OsRng, &mut budget)
            .map_err(|e| ServiceError::Conflict(e.to_string()))?;
        self.documents.save(LEDGER_KIND, LEDGER_ID, self.clock.now(), &budget).await?;
        let cells = released
            .cells
            .into_iter()
            .map(|c| {
                let (area, key) = c.dims;
                let key = if daily { key.parse().map(day_text).unwrap_or(key) } else { key };
                ExportCell { area: if area.is_empty() { "unknown".into() } else { area }, key, count: c.count }
            })
            .collect();
        Ok(ResearchExport {
            label,
            cells,
            suppressed: released.suppressed,
            mechanism: released.mechanism,
            epsilon: released.epsilon,
            sensitivity: released.sensitivity,
            k: request.k,
            budget_total: budget.total(),
            budget_remaining: budget.remaining(),
        })
    }
}
