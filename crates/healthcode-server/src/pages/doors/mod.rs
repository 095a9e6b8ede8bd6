//! Venues and their doors on the pages: registering a venue, its operator's page and
//! full-screen venue code, a resident's check-in by scanning, and the officials' list of
//! checkpoint devices to approve.

pub(crate) mod devices;
pub(crate) mod venue;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/venues/new", get(venue::register_form).post(venue::register))
        .route("/venues/{venue_id}", get(venue::venue))
        .route("/venues/{venue_id}/key", post(venue::save_key))
        .route("/venues/{venue_id}/display", get(venue::display))
        .route("/scan", get(venue::scan_form).post(venue::scan))
        .route("/staff/devices", get(devices::list))
        .route("/staff/devices/{device_id}/approve", post(devices::approve))
}
