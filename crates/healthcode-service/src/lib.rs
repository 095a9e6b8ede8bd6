#![doc = include_str!("../README.md")]

mod clock;
mod error;
mod explain;
mod ingest;
mod pseudonym;
mod refresh;
mod service;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ServiceError;
pub use explain::{EvidenceSummary, Explanation, ReasonExplained, RulesUsed};
pub use ingest::{AtPolicy, IngestReport, RowOutcome, RowStatus};
pub use pseudonym::Pseudonymiser;
pub use refresh::RefreshReport;
pub use service::{HealthService, Registration};
