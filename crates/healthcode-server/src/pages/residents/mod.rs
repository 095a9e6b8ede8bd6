//! Residents on the pages: the collection notice and registration, signing in on a
//! device (and the demo's sample residents), family members one acts for, one's rights
//! over one's data (access log, complaints, extended functions), and the officials'
//! complaints queue.

pub(crate) mod complaint_view;
pub(crate) mod complaints;
pub(crate) mod corrections;
pub(crate) mod counter;
pub(crate) mod declare;
pub(crate) mod family;
pub(crate) mod knowledge;
pub(crate) mod register;
pub(crate) mod rights;
pub(crate) mod signin;
pub(crate) mod visit;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(signin::signin_form).post(signin::signin))
        .route("/signout", post(signin::signout))
        .route("/me", get(signin::me))
        .route("/demo", get(signin::demo))
        .route("/demo/signin", post(signin::demo_signin))
        .route("/family", post(family::add))
        .route("/family/end", post(family::end))
        .route("/family/claim-code", post(family::claim_code))
        .route("/notice", get(register::notice_page))
        .route("/help", get(knowledge::help))
        .route("/register", get(register::register_form).post(register::register))
        .route("/visit", get(visit::form).post(visit::convert))
        .route("/persons/{person_id}/accesses", get(rights::accesses))
        .route("/persons/{person_id}/consents", post(rights::set_consent))
        .route("/persons/{person_id}/erasure", post(rights::erase))
        .route("/persons/{person_id}/credit-records/{record_id}/appeal", post(rights::appeal_credit))
        .route("/persons/{person_id}/declare", get(declare::form).post(declare::declare))
        .route("/persons/{person_id}/complaints", get(rights::complaints).post(rights::file))
        .route("/staff/complaints", get(complaints::queue))
        .route("/staff/complaints/{complaint_id}/answer", post(complaints::answer))
        .route("/staff/complaints/{complaint_id}/correction", post(complaints::request_correction))
        .route("/staff/knowledge", post(complaints::add_knowledge))
        .route("/staff/corrections", get(corrections::queue))
        .route("/staff/counter", get(counter::form).post(counter::act))
        .route("/staff/corrections/{complaint_id}/retract", post(corrections::retract))
        .route("/staff/corrections/{complaint_id}/decline", post(corrections::decline))
}
