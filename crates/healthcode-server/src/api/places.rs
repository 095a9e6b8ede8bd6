//! The division list, for clients' own pickers and for reading codes: public data, no key.
//! `GET /v1/places?q=西湖` searches by name (or code prefix); `GET /v1/places/{code}` says
//! what a code is (name, English form, level, retired or not, successors) and lists the
//! current divisions one level below; `GET /v1/places` lists the provinces.

use axum::extract::{Path, State};
use axum::Json;
use healthcode_domain::{AreaCode, ValidationError};
use healthcode_places::{Division, Divisions, Level, Place};
use healthcode_service::DesignationProposal;
use healthcode_store::VenueRecord;
use serde::Serialize;

use crate::api::extract::QueryParams;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

const MOST_RESULTS: usize = 100;

/// An area's names, as explanations carry them beside its code: the full name and its
/// English form (the code itself when the list does not know it).
fn area_names(area: &AreaCode) -> (String, String) {
    let place = Divisions::embedded().place(area);
    (place.name, place.name_en)
}

/// A venue with its area's name beside its code.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct NamedVenue {
    #[serde(flatten)]
    venue: VenueRecord,
    /// The area's full name (浙江省杭州市西湖区), when the venue has an area.
    #[serde(skip_serializing_if = "Option::is_none")]
    area_name: Option<String>,
    /// Its English form, when the venue has an area.
    #[serde(skip_serializing_if = "Option::is_none")]
    area_name_en: Option<String>,
}

impl From<VenueRecord> for NamedVenue {
    fn from(venue: VenueRecord) -> Self {
        let (area_name, area_name_en) = venue.area.as_ref().map(area_names).unzip();
        NamedVenue { venue, area_name, area_name_en }
    }
}

/// A designation proposal with its area's name beside its code.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct NamedProposal {
    #[serde(flatten)]
    proposal: DesignationProposal,
    /// The area's full name (浙江省杭州市西湖区).
    area_name: String,
    /// Its English form.
    area_name_en: String,
}

impl From<DesignationProposal> for NamedProposal {
    fn from(proposal: DesignationProposal) -> Self {
        let (area_name, area_name_en) = area_names(&proposal.area);
        NamedProposal { proposal, area_name, area_name_en }
    }
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search)).routes(routes!(one))
}

/// A division, as lists name it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PlaceSummary {
    /// The code as written (6, 9 or 12 digits).
    code: String,
    name: String,
    name_en: String,
    /// Every level's name (浙江省杭州市西湖区).
    full_name: String,
    full_name_en: String,
    level: Level,
}

fn summary(d: &Division) -> PlaceSummary {
    PlaceSummary {
        code: d.written(),
        name: d.name.clone(),
        name_en: d.en.clone(),
        full_name: d.full_name().to_string(),
        full_name_en: d.full_name_en().to_string(),
        level: d.level(),
    }
}

/// Divisions found, and the editions of the list they come from.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Places {
    places: Vec<PlaceSummary>,
    /// The years of the list's editions.
    editions: Vec<u16>,
}

/// What a code is, and the current divisions one level below it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PlaceAnswer {
    place: Place,
    children: Vec<PlaceSummary>,
}

/// `?q=` words or digits (`&limit=`, at most 100): current divisions, best first; without
/// `q`, the provinces.
#[utoipa::path(
    get,
    path = "/v1/places",
    tag = "places",
    params(("q" = Option<String>, Query, description = "a name (中文 or pinyin) or a code"), ("limit" = Option<u64>, Query, description = "at most this many (1–50)")),
    responses((status = 200, description = "`{places, editions}`: matching administrative divisions", body = Places))
)]
async fn search(State(_): State<AppState>, query: QueryParams) -> Result<Json<Places>, ApiError> {
    let list = Divisions::embedded();
    let limit = match query.get("limit") {
        Some(text) => text.parse::<usize>().ok().filter(|n| (1..=MOST_RESULTS).contains(n)).ok_or_else(|| {
            ApiError::InvalidInput(ValidationError::field("limit", format!("a number from 1 to {MOST_RESULTS}")))
        })?,
        None => 20,
    };
    let found: Vec<PlaceSummary> = match query.get("q").map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => list.search(q, limit).into_iter().map(summary).collect(),
        None => list.children("").into_iter().map(summary).collect(),
    };
    Ok(Json(Places { places: found, editions: list.editions().iter().map(|e| e.year).collect() }))
}

/// What a code is, and the divisions under it. An unknown code is 404 with the nearest
/// valid codes.
#[utoipa::path(
    get,
    path = "/v1/places/{code}",
    tag = "places",
    params(("code" = String, Path, description = "a division code, 2 to 12 digits")),
    responses((status = 200, description = "`{place, children}`", body = PlaceAnswer))
)]
async fn one(State(_): State<AppState>, Path(code): Path<String>) -> Result<Json<PlaceAnswer>, ApiError> {
    let list = Divisions::embedded();
    let area = AreaCode::parse(&code).map_err(|m| ApiError::InvalidInput(ValidationError::field("code", m)))?;
    let place = list.place(&area);
    if !place.listed && place.name == place.code {
        let suggestions = list.suggest(area.normal(), 5).into_iter().map(|d| serde_json::json!(summary(d))).collect();
        return Err(ApiError::UnknownPlace { code, suggestions });
    }
    let children = list.children(area.normal()).into_iter().map(summary).collect();
    Ok(Json(PlaceAnswer { place, children }))
}
