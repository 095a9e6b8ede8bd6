//! Codes on the pages: a person's code, history and printable card, the card that lasts; verifying a code by
//! pasting it, uploading a picture or with the camera.

pub(crate) mod camera;
pub(crate) mod code;
pub(crate) mod lasting;
pub(crate) mod verify;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/persons/{person_id}", get(code::code))
        .route("/persons/{person_id}/history", get(code::history))
        .route("/persons/{person_id}/card", get(code::card))
        .route("/persons/{person_id}/cards/print", post(lasting::print))
        .route("/persons/{person_id}/cards/revoke", post(lasting::revoke))
        .route("/verify", get(verify::form).post(verify::verify))
        .route(
            "/verify/upload",
            post(verify::upload).layer(axum::extract::DefaultBodyLimit::max(verify::MAX_UPLOAD_BYTES)),
        )
        .route("/verify/camera", get(camera::page))
        .route("/assets/{name}", get(camera::asset))
}
