//! Figures for everyone: persons, codes by colour and the re-evaluation queue.

use axum::extract::State;
use axum::Json;
use healthcode_domain::Colour;
use serde::Serialize;

use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats))
}

/// Public counts.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Stats {
    /// Persons registered.
    persons: u64,
    codes: CodesByColour,
    /// Persons waiting to be re-evaluated.
    queue: u64,
}

/// Codes by colour, every colour (0 when none).
#[derive(Serialize, Default, utoipa::ToSchema)]
pub(crate) struct CodesByColour {
    green: u64,
    orange: u64,
    red: u64,
    yellow: u64,
}

/// Persons, codes by colour (every colour, 0 when none) and the re-evaluation queue.
#[utoipa::path(
    get,
    path = "/v1/stats",
    tag = "public figures",
    responses((status = 200, description = "`{persons, codes, queue}`: public counts, rounded", body = Stats))
)]
pub(crate) async fn stats(State(state): State<AppState>) -> Result<Json<Stats>, ApiError> {
    let stats = state.service.overview().stats().await?;
    let mut codes = CodesByColour::default();
    for (colour, n) in stats.codes {
        *match colour {
            Colour::Green => &mut codes.green,
            Colour::Orange => &mut codes.orange,
            Colour::Red => &mut codes.red,
            Colour::Yellow => &mut codes.yellow,
        } = n;
    }
    Ok(Json(Stats { persons: stats.persons, codes, queue: stats.queue }))
}
