//! A visitor's conversion over HTTP (转码, 来浙申报): register from another region with the
//! home code or a declaration, and receive this region's code, judged by this region's
//! rules from the national data about the visitor and what they declared.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use healthcode_domain::{AreaCode, Colour, HomeCode, PersonId, PersonKind, Timestamp, ValidationError};
use healthcode_service::{Conversion, DeclaredStay, Explanation};
use serde::Serialize;
use serde_json::Value;

use super::declarations::StayBody;
use super::registration::{registration_in, text_in, RegistrationFields};
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(convert))
}

/// What a conversion takes besides a registration's fields.
pub(crate) const CONVERSION_FIELDS: &[&str] = &["origin", "home_code", "stays"];

/// A conversion (`POST /v1/conversions`): a registration, where the visitor comes from,
/// and their home code or their stays.
#[allow(dead_code)] // A description only: never built.
#[derive(utoipa::ToSchema)]
pub(crate) struct ConversionBody {
    #[serde(flatten)]
    registration: RegistrationFields,
    /// Where the visitor comes from: the area code of their home or last stay (e.g. `420100`).
    origin: String,
    /// The home region's code as its app shows it (`HC1:…`). With it, `name` is required
    /// and checked against the code's masked name.
    home_code: Option<String>,
    /// Where the visitor stayed in the past days.
    stays: Option<Vec<StayBody>>,
}

/// The home code as this region read it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct HomeCodeAnswer {
    /// The region that issued it (`00`: the national code).
    issuer: String,
    /// Its colour at home, shown beside this region's own: never copied into it.
    colour: Colour,
    masked_name: String,
    expires_at: Timestamp,
    /// `recognised` (an agreement in force) or `no_agreement`; recorded as an `arrival`.
    counts_as: HomeCode,
}

/// A visitor converted: their key (shown once), the home code, and this region's code.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Converted {
    person_id: PersonId,
    kind: PersonKind,
    /// Shown this once: it opens the code here (`Authorization: Bearer <resident_key>`).
    resident_key: String,
    #[schema(required = true)]
    home_code: Option<HomeCodeAnswer>,
    /// This region's code, by this region's rules, with its reasons.
    code: Explanation,
    note: &'static str,
}

/// Converts a visitor from another region (path 2 of seed 004): checks the home code
/// offline against the national trust list (genuine, current, another region's, and the
/// masked name matching `name`), registers the visitor (a new person only), records the
/// arrival and the declared stays as evidence, and answers with this region's code. The
/// home code's colour is shown, never copied. 422 names what is wrong, and then nothing is
/// recorded; 409 if the ID is already known here.
#[utoipa::path(
    post,
    path = "/v1/conversions",
    tag = "residents",
    request_body = ConversionBody,
    responses(
        (status = 201, description = "`{person_id, resident_key, home_code, code}`: the key is shown once", body = Converted),
        (status = 409, description = "the ID is already known here: open the code with its key, or claim it at a counter", body = crate::api::openapi::ErrorBody),
        (status = 429, description = "too many registrations from this address; retry later", body = crate::api::openapi::ErrorBody)
    )
)]
pub(crate) async fn convert(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Converted>), ApiError> {
    let (registration, object) = registration_in(&body, CONVERSION_FIELDS)?;
    let origin =
        text_in(&object, "origin")?.ok_or_else(|| ApiError::InvalidInput(ValidationError::missing("origin")))?;
    let origin = AreaCode::parse(origin)
        .map_err(|m| ApiError::InvalidInput(ValidationError::field("origin", format!("field `origin`: {m}"))))?;
    let home_code = text_in(&object, "home_code")?.map(str::to_string);
    let stays: Vec<StayBody> = match object.get("stays") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => serde_json::from_value(value.clone()).map_err(|e| {
            ApiError::InvalidInput(ValidationError::field(
                "stays",
                format!("field `stays`: a list of {{\"area\", \"from\", \"to\"?}} ({e})"),
            ))
        })?,
    };
    let conversion = Conversion {
        registration,
        origin,
        home_code,
        stays: stays.into_iter().map(|s| DeclaredStay { area: s.area, from: s.from, to: s.to }).collect(),
    };
    let converted = state.service.conversions().convert(conversion).await?;
    let code = state.service.codes().current_code(&converted.person.id).await?;
    let home_code = converted.home.map(|home| HomeCodeAnswer {
        issuer: home.issuer,
        colour: home.colour,
        masked_name: home.masked_name,
        expires_at: home.expires_at,
        counts_as: home.shown,
    });
    let note = if home_code.is_some() {
        "keep resident_key: it is shown once. This code is judged by this region's rules from the national data about \
         you and what you declared; your home code's colour is shown, not copied"
    } else {
        "keep resident_key: it is shown once. No home code was shown: at a checkpoint this region's measures for \
         travellers without a recognised code apply"
    };
    Ok((
        StatusCode::CREATED,
        Json(Converted {
            person_id: converted.person.id,
            kind: converted.person.kind,
            resident_key: converted.resident_key,
            home_code,
            code,
            note,
        }),
    ))
}
