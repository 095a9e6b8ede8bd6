//! Group checks over HTTP (复工专列, arrival buses): an organiser's roster of members who
//! showed their codes, and each member's colour here (`healthcode_service::Groups`).

use axum::extract::State;
use axum::Json;
use healthcode_domain::ValidationError;
use healthcode_service::{GroupCheckRecord, GroupReport, Roster};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::api::extract::Actor;
use crate::api::policy::may;
use crate::api::Body;
use crate::{ApiError, AppState};

/// A roster of `MAX_GROUP_MEMBERS` members, each with a code of a few hundred bytes.
const MAX_ROSTER_BYTES: usize = 4 * 1024 * 1024;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check, checks))
}

/// Checks a group's roster (an employer's return-to-work train, an operator's bus): each
/// member's code (their home region's, verified offline with the national trust list, or
/// this region's), its masked name against the name given, and then the colour this
/// region's rules give the member on arrival from `origin`, with the measure at work. A
/// member's line that is wrong is refused with its field; the others are checked. The
/// organiser learns colours, not reasons; members known here see the check in their access
/// log. Nothing else is recorded about them: each member converts on arrival.
#[utoipa::path(
    post,
    path = "/v1/groups",
    tag = "national exchange",
    request_body(content = Roster, description = "`{reference, origin, departed_at?, members: [{id_type, id_number, name, code}]}`", content_type = "application/json"),
    responses((status = 200, description = "one outcome per member, and the totals by colour", body = GroupReport)),
    security(("staff_key" = []))
)]
pub(crate) async fn check(
    State(state): State<AppState>,
    by: Actor<may::CheckGroup>,
    body: Body<MAX_ROSTER_BYTES>,
) -> Result<Json<GroupReport>, ApiError> {
    let roster: Roster = serde_json::from_str(body.text()?).map_err(|e| {
        ApiError::InvalidInput(ValidationError::new(format!(
            "not a roster ({e}); send {{\"reference\", \"origin\", \"departed_at\"?, \"members\": [{{\"id_type\", \
             \"id_number\", \"name\", \"code\"}}]}}"
        )))
    })?;
    Ok(Json(state.service.groups().check(&by, roster).await?))
}

/// The latest group checks: who checked which roster, when, and its totals by colour
/// (no person). For the provincial office and auditors.
#[utoipa::path(
    get,
    path = "/v1/groups",
    tag = "national exchange",
    responses((status = 200, description = "the latest checks, newest first", body = [GroupCheckRecord])),
    security(("staff_key" = []))
)]
pub(crate) async fn checks(
    State(state): State<AppState>,
    _by: Actor<may::ReadGroupChecks>,
) -> Result<Json<Vec<GroupCheckRecord>>, ApiError> {
    Ok(Json(state.service.groups().checks().await?))
}
