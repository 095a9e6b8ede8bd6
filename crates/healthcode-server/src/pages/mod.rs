//! Server-rendered pages, one module per role: residents, venues, verifiers and officials
//! (`staff`: sign-in and the session check; `rule_changes`, `officials`: their work).
//! zh-CN by default, English by a switch (`?lang=en`, remembered in a cookie), a large-text
//! mode, no scripts and no external assets (the CSP forbids both; the camera page alone
//! may load scripts from this server). `layout` holds what
//! every page shares: escaping, the frame, the language, the CSRF check of form posts.

mod alarms;
mod camera;
mod charts;
mod complaints;
mod dashboard;
mod decisions;
mod designations;
mod devices;
mod extract;
mod family;
mod home;
mod layout;
mod markup;
mod resident;
mod rights;
mod rule_changes;
mod signin;
mod staff;
mod tracing;
mod venue;
mod verifier;

use axum::routing::{get, post};

use axum::Router;
pub(crate) use dashboard::FiguresCache;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::index))
        .route("/signin", get(signin::signin_form).post(signin::signin))
        .route("/signout", post(signin::signout))
        .route("/me", get(signin::me))
        .route("/demo", get(signin::demo))
        .route("/demo/signin", post(signin::demo_signin))
        .route("/family", post(family::add))
        .route("/family/end", post(family::end))
        .route("/family/claim-code", post(family::claim_code))
        .route("/notice", get(resident::notice_page))
        .route("/register", get(resident::register_form).post(resident::register))
        .route("/persons/{person_id}", get(resident::code))
        .route("/persons/{person_id}/history", get(resident::history))
        .route("/persons/{person_id}/card", get(resident::card))
        .route("/persons/{person_id}/accesses", get(rights::accesses))
        .route("/persons/{person_id}/consents", post(rights::set_consent))
        .route("/persons/{person_id}/complaints", get(rights::complaints).post(rights::file))
        .route("/venues/new", get(venue::register_form).post(venue::register))
        .route("/venues/{venue_id}", get(venue::venue))
        .route("/venues/{venue_id}/key", post(venue::save_key))
        .route("/venues/{venue_id}/display", get(venue::display))
        .route("/scan", get(venue::scan_form).post(venue::scan))
        .route("/verify", get(verifier::form).post(verifier::verify))
        .route(
            "/verify/upload",
            post(verifier::upload).layer(axum::extract::DefaultBodyLimit::max(verifier::MAX_UPLOAD_BYTES)),
        )
        .route("/verify/camera", get(camera::page))
        .route("/assets/{name}", get(camera::asset))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/staff", get(staff::home))
        .route("/staff/login", get(staff::login_form).post(staff::login))
        .route("/staff/logout", post(staff::logout))
        .route("/staff/rules", get(rule_changes::list))
        .route("/staff/rules/new", get(rule_changes::new_form).post(rule_changes::propose))
        .route("/staff/rules/{proposal_id}", get(rule_changes::detail))
        .route("/staff/rules/{proposal_id}/approve", post(rule_changes::approve))
        .route("/staff/designations", get(designations::list).post(designations::designate))
        .route("/staff/designations/{proposal_id}/approve", post(designations::approve))
        .route("/staff/decisions", get(decisions::list).post(decisions::propose))
        .route("/staff/decisions/{decision_id}/approve", post(decisions::approve))
        .route("/staff/alarms", get(alarms::list))
        .route("/staff/complaints", get(complaints::queue))
        .route("/staff/traces", get(tracing::page).post(tracing::trace))
        .route("/staff/traces/{trace_id}", get(tracing::show))
        .route("/staff/traces/{trace_id}/confirm", post(tracing::confirm))
        .route("/staff/traces/{trace_id}/approve", post(tracing::approve))
        .route("/staff/complaints/{complaint_id}/answer", post(complaints::answer))
        .route("/staff/devices", get(devices::list))
        .route("/staff/devices/{device_id}/approve", post(devices::approve))
}
