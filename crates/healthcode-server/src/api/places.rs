//! The division list, for clients' own pickers and for reading codes: public data, no key.
//! `GET /v1/places?q=西湖` searches by name (or code prefix); `GET /v1/places/{code}` says
//! what a code is (name, English form, level, retired or not, successors) and lists the
//! current divisions one level below; `GET /v1/places` lists the provinces.

use axum::extract::{Path, State};
use axum::Json;
use healthcode_domain::{AreaCode, ValidationError};
use healthcode_places::{Division, Divisions};
use serde_json::{json, Value};

use crate::api::extract::QueryParams;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

const MOST_RESULTS: usize = 100;

/// A record as JSON with its area's name beside its code (`area_name`, `area_name_en`),
/// as explanations carry them.
pub(crate) fn with_area_name(record: impl serde::Serialize) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or_default();
    healthcode_service::name_the_area(&mut value);
    value
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search)).routes(routes!(one))
}

fn summary(d: &Division) -> Value {
    json!({"code": d.written(), "name": d.name, "name_en": d.en, "full_name": d.full_name(),
           "full_name_en": d.full_name_en(), "level": d.level()})
}

/// `?q=` words or digits (`&limit=`, at most 100): current divisions, best first; without
/// `q`, the provinces.
#[utoipa::path(
    get,
    path = "/v1/places",
    tag = "places",
    params(("q" = Option<String>, Query, description = "a name (中文 or pinyin) or a code"), ("limit" = Option<u64>, Query, description = "at most this many (1–50)")),
    responses((status = 200, description = "`{places, editions}`: matching administrative divisions", body = Object))
)]
async fn search(State(_): State<AppState>, query: QueryParams) -> Result<Json<Value>, ApiError> {
    let list = Divisions::embedded();
    let limit = match query.get("limit") {
        Some(text) => text.parse::<usize>().ok().filter(|n| (1..=MOST_RESULTS).contains(n)).ok_or_else(|| {
            ApiError::InvalidInput(ValidationError::field("limit", format!("a number from 1 to {MOST_RESULTS}")))
        })?,
        None => 20,
    };
    let found: Vec<Value> = match query.get("q").map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => list.search(q, limit).into_iter().map(summary).collect(),
        None => list.children("").into_iter().map(summary).collect(),
    };
    Ok(Json(json!({"places": found, "editions": list.editions().iter().map(|e| e.year).collect::<Vec<_>>()})))
}

/// What a code is, and the divisions under it. An unknown code is 404 with the nearest
/// valid codes.
#[utoipa::path(
    get,
    path = "/v1/places/{code}",
    tag = "places",
    params(("code" = String, Path, description = "a division code, 2 to 12 digits")),
    responses((status = 200, description = "`{place, children}`", body = Object))
)]
async fn one(State(_): State<AppState>, Path(code): Path<String>) -> Result<Json<Value>, ApiError> {
    let list = Divisions::embedded();
    let area = AreaCode::parse(&code).map_err(|m| ApiError::InvalidInput(ValidationError::field("code", m)))?;
    let place = list.place(&area);
    if !place.listed && place.name == place.code {
        let suggestions = list.suggest(area.normal(), 5).into_iter().map(summary).collect();
        return Err(ApiError::UnknownPlace { code, suggestions });
    }
    let children: Vec<Value> = list.children(area.normal()).into_iter().map(summary).collect();
    Ok(Json(json!({"place": place, "children": children})))
}
