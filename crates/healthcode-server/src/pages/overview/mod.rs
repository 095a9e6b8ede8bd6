//! Pages for everyone: the front page and the public dashboard, with their charts.

pub(crate) mod charts;
pub(crate) mod dashboard;
pub(crate) mod home;
pub(crate) mod hub;
pub(crate) mod treemap;

use axum::routing::get;
use axum::Router;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::index))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/hub", get(hub::hub))
}
