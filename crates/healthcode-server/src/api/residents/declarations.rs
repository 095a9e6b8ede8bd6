//! Self-declaration over HTTP (健康申报): a resident, or a proxy for them, declares
//! symptoms, a contact with a case and recent stays. The rules judge what is declared;
//! the answer is the code as it is then.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use healthcode_service::{Declaration, DeclaredStay, Explanation};
use serde::{Deserialize, Serialize};

use crate::api::auth::{json_object, reader, Wanted};
use crate::api::extract::{PersonInPath, QueryParams};
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(declare))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DeclarationBody {
    #[serde(default)]
    items: Vec<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    stays: Vec<StayBody>,
}

/// A stay declared: where, from when, until when (absent: still there).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StayBody {
    pub(crate) area: String,
    pub(crate) from: String,
    #[serde(default)]
    pub(crate) to: Option<String>,
}

/// A declaration recorded, and the code as it now stands.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Declared {
    /// How many items were recorded as evidence.
    recorded: usize,
    code: Explanation,
}

/// 201 with what was recorded and the code now; 422 naming the item that is wrong (and
/// then nothing is recorded).
#[utoipa::path(
    post,
    path = "/v1/persons/{person_id}/declarations",
    tag = "residents",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    request_body = DeclarationBody,
    responses((status = 201, description = "`{recorded, code}`: the declaration is evidence; the code as it now stands", body = Declared)),
    security(("resident_key" = []))
)]
pub(crate) async fn declare(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<(StatusCode, Json<Declared>), ApiError> {
    let by = reader(&state, &headers, &person, &query, Wanted::OwnOnly("declaration")).await?;
    let body: DeclarationBody = json_object(
        &body,
        r#"{"items": ["fever"|"cough"|"sore_throat"|"breathlessness"|"contact_with_case"], "since": (optional), "stays": [{"area", "from", "to"}]}"#,
    )?;
    let declaration = Declaration {
        items: body.items,
        since: body.since,
        stays: body.stays.into_iter().map(|s| DeclaredStay { area: s.area, from: s.from, to: s.to }).collect(),
    };
    let report = state.service.evidence().declare(&person, &by, &declaration).await?;
    let code = state.service.codes().current_code(&person).await?;
    Ok((StatusCode::CREATED, Json(Declared { recorded: report.accepted, code })))
}
