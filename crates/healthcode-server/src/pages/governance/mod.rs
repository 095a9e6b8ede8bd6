//! Governance on the officials' pages: rule changes, area designations, management
//! decisions, contact tracing, declarations made with counter keys and alarms. Each action is the JSON API's service call
//! behind the same policy check; every change waits for another official's approval.

pub(crate) mod alarms;
pub(crate) mod decisions;
pub(crate) mod declarations;
pub(crate) mod designations;
pub(crate) mod rules;
pub(crate) mod traces;

use axum::routing::{get, post};
use axum::Router;

use crate::pages::accounts::officials::{approve_on_list, proposal_list};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/rules", get(rules::list))
        .route("/staff/rules/new", get(rules::new_form).post(rules::propose))
        .route("/staff/rules/{proposal_id}", get(rules::detail))
        .route("/staff/rules/{proposal_id}/approve", post(rules::approve))
        .route("/staff/designations", get(proposal_list::<designations::Designations>).post(designations::designate))
        .route("/staff/designations/{proposal_id}/approve", post(approve_on_list::<designations::Designations>))
        .route("/staff/decisions", get(proposal_list::<decisions::Decisions>).post(decisions::propose))
        .route("/staff/decisions/{decision_id}/approve", post(approve_on_list::<decisions::Decisions>))
        .route("/staff/alarms", get(alarms::list))
        .route("/staff/declarations", get(declarations::list))
        .route("/staff/declarations/{declaration_id}", get(declarations::open))
        .route("/staff/declarations/{declaration_id}/confirm", post(declarations::confirm))
        .route("/staff/declarations/{declaration_id}/refuse", post(declarations::refuse))
        .route("/staff/traces", get(traces::page).post(traces::trace))
        .route("/staff/traces/{trace_id}", get(traces::show))
        .route("/staff/traces/{trace_id}/confirm", post(traces::confirm))
        .route("/staff/traces/{trace_id}/approve", post(traces::approve))
}
