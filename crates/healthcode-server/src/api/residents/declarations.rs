//! Self-declaration over HTTP (健康申报): a resident, or a proxy for them, declares
//! symptoms, a contact with a case and recent stays. The rules judge what is declared;
//! the answer is the code as it is then. What a key given at a service counter declares
//! waits for a second official (202), who reads, confirms or refuses it here.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use healthcode_service::{Declaration, Declared, DeclaredStay, Explanation, OpenedDeclaration, WaitingDeclaration};
use serde::{Deserialize, Serialize};

use crate::api::auth::{json_object, reader, Wanted};
use crate::api::extract::{Actor, IdInPath, PersonInPath, QueryParams};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(declare, declarations_of_person))
        .routes(routes!(waiting))
        .routes(routes!(open_one))
        .routes(routes!(confirm))
        .routes(routes!(refuse))
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

/// A declaration recorded (201: `waiting` absent) or waiting for a second official (202:
/// `recorded` 0), and the code as it now stands.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DeclarationAnswer {
    /// How many items were recorded as evidence.
    recorded: usize,
    /// Made with a key an official gave at a service counter: it counts once another
    /// official confirms it.
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting: Option<WaitingDeclaration>,
    code: Explanation,
}

/// 201 with what was recorded and the code now; 202 when the key was given at a service
/// counter (another official confirms it first); 422 naming the item that is wrong (and
/// then nothing is recorded).
#[utoipa::path(
    post,
    path = "/v1/persons/{person_id}/declarations",
    tag = "residents",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)")),
    request_body = DeclarationBody,
    responses((status = 201, description = "`{recorded, code}`: the declaration is evidence; the code as it now stands", body = DeclarationAnswer), (status = 202, description = "`{recorded: 0, waiting, code}`: made with a key an official gave at a service counter, it counts once another official confirms it", body = DeclarationAnswer)),
    security(("resident_key" = []))
)]
pub(crate) async fn declare(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
    body: JsonBody,
) -> Result<(StatusCode, Json<DeclarationAnswer>), ApiError> {
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
    let declared = state.service.residents().declare(&person, &by, &declaration).await?;
    let code = state.service.codes().current_code(&person).await?;
    Ok(match declared {
        Declared::Recorded(report) => {
            (StatusCode::CREATED, Json(DeclarationAnswer { recorded: report.accepted, waiting: None, code }))
        }
        Declared::Waiting(waiting) => {
            (StatusCode::ACCEPTED, Json(DeclarationAnswer { recorded: 0, waiting: Some(waiting), code }))
        }
    })
}

/// Declarations that wait for, or were decided by, a second official.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct WaitingDeclarations {
    declarations: Vec<WaitingDeclaration>,
}

/// The person's declarations made with a key an official has seen: waiting, confirmed or
/// refused (with the reason). The person, their proxies, or staff with a purpose.
#[utoipa::path(
    get,
    path = "/v1/persons/{person_id}/declarations",
    tag = "residents",
    params(("person_id" = String, Path, description = "the person's pseudonymous id (`P…`)"), ("purpose" = Option<String>, Query, description = "staff only: why the data is read, recorded in the person's access log and shown to them")),
    responses((status = 200, description = "`{declarations}`, newest first", body = WaitingDeclarations)),
    security(("resident_key" = []), ("staff_key" = []))
)]
pub(crate) async fn declarations_of_person(
    State(state): State<AppState>,
    headers: HeaderMap,
    PersonInPath(person): PersonInPath,
    query: QueryParams,
) -> Result<Json<WaitingDeclarations>, ApiError> {
    reader(&state, &headers, &person, &query, Wanted::Data("declarations")).await?;
    Ok(Json(WaitingDeclarations { declarations: state.service.residents().declarations_of(&person).await? }))
}

/// The declarations waiting for this office: persons it covers, made with keys none of
/// its own officials gave. Who and how many items, not what (open one for that).
#[utoipa::path(
    get,
    path = "/v1/declarations/waiting",
    tag = "governance",
    responses((status = 200, description = "`{declarations}`, newest first", body = WaitingDeclarations)),
    security(("staff_key" = []))
)]
pub(crate) async fn waiting(
    State(state): State<AppState>,
    by: Actor<may::DecideDeclarations>,
) -> Result<Json<WaitingDeclarations>, ApiError> {
    Ok(Json(WaitingDeclarations { declarations: state.service.residents().waiting_declarations(&by).await? }))
}

/// One waiting declaration with its records, for an official who may decide it; the read
/// goes into the person's access log with the purpose.
#[utoipa::path(
    get,
    path = "/v1/declarations/{declaration_id}",
    tag = "governance",
    params(("declaration_id" = String, Path, description = "the declaration (`wd-…`)"), ("purpose" = String, Query, description = "why it is read, recorded in the person's access log and shown to them")),
    responses((status = 200, description = "`{declaration, records}`", body = OpenedDeclaration)),
    security(("staff_key" = []))
)]
pub(crate) async fn open_one(
    State(state): State<AppState>,
    by: Actor<may::DecideDeclarations>,
    IdInPath(id): IdInPath,
    query: QueryParams,
) -> Result<Json<OpenedDeclaration>, ApiError> {
    Ok(Json(state.service.residents().open_declaration(&by, &id, query.get("purpose")).await?))
}

/// A waiting declaration, decided.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DecidedDeclaration {
    declaration: WaitingDeclaration,
    /// On a confirmation: how many codes changed colour (0 or 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    colour_changes: Option<u64>,
}

/// Another official confirms a declaration made with a key an official gave at a counter:
/// its records become evidence and the confirmation is logged (`declaration_confirmation`).
#[utoipa::path(
    post,
    path = "/v1/declarations/{declaration_id}/confirm",
    tag = "governance",
    params(("declaration_id" = String, Path, description = "the declaration (`wd-…`)")),
    responses((status = 200, description = "`{declaration, colour_changes}`: confirmed, its records stored", body = DecidedDeclaration), (status = 403, description = "`forbidden`: you gave the key it was made with, or the person is outside your jurisdiction", body = crate::api::openapi::ErrorBody), (status = 409, description = "`conflict`: decided already", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn confirm(
    State(state): State<AppState>,
    by: Actor<may::DecideDeclarations>,
    IdInPath(id): IdInPath,
) -> Result<Json<DecidedDeclaration>, ApiError> {
    let (declaration, report) = state.service.residents().confirm_declaration(&by, &id).await?;
    Ok(Json(DecidedDeclaration { declaration, colour_changes: Some(report.codes.changed) }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RefusalBody {
    /// Why (4–500 characters): the person reads it.
    reason: String,
}

/// Another official refuses a waiting declaration; it never counts.
#[utoipa::path(
    post,
    path = "/v1/declarations/{declaration_id}/refuse",
    tag = "governance",
    params(("declaration_id" = String, Path, description = "the declaration (`wd-…`)")),
    request_body = RefusalBody,
    responses((status = 200, description = "`{declaration}`: refused", body = DecidedDeclaration), (status = 409, description = "`conflict`: decided already", body = crate::api::openapi::ErrorBody)),
    security(("staff_key" = []))
)]
pub(crate) async fn refuse(
    State(state): State<AppState>,
    by: Actor<may::DecideDeclarations>,
    IdInPath(id): IdInPath,
    body: JsonBody,
) -> Result<Json<DecidedDeclaration>, ApiError> {
    let body: RefusalBody = json_object(&body, r#"{"reason": "why it is refused"}"#)?;
    let declaration = state.service.residents().refuse_declaration(&by, &id, &body.reason).await?;
    Ok(Json(DecidedDeclaration { declaration, colour_changes: None }))
}
