//! Governance over HTTP: rules, area designations, management decisions, contact
//! tracing, credit records and alarms. Every change here is a proposal that another official approves,
//! and every approval is in the transparency log.

mod alarms;
mod credit_records;
mod decisions;
mod designations;
mod notices;
mod rules;
mod traces;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(rules::routes())
        .merge(designations::routes())
        .merge(decisions::routes())
        .merge(traces::routes())
        .merge(alarms::routes())
        .merge(credit_records::routes())
        .merge(notices::routes())
}
