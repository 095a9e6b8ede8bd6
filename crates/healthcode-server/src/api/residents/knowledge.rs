//! The knowledge base of common problems over HTTP: anyone searches it; complaint
//! handlers add and retire entries.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use healthcode_service::{KnowledgeEntry, NewKnowledge};
use serde::{Deserialize, Serialize};

use crate::api::auth::json_object;
use crate::api::extract::{Actor, IdInPath, QueryParams};
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search, add)).routes(routes!(retire))
}

/// Knowledge-base entries, best first.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct KnowledgeEntries {
    entries: Vec<KnowledgeEntry>,
}

/// A knowledge-base entry, as it stands after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct KnowledgeAnswer {
    entry: KnowledgeEntry,
}

/// Public: the entries matching every word of `?q=` (both languages), best first.
#[utoipa::path(
    get,
    path = "/v1/knowledge",
    tag = "complaints",
    params(("q" = Option<String>, Query, description = "words to look for")),
    responses((status = 200, description = "`{entries}`: answers to common questions", body = KnowledgeEntries))
)]
pub(crate) async fn search(
    State(state): State<AppState>,
    query: QueryParams,
) -> Result<Json<KnowledgeEntries>, ApiError> {
    let q = query.get("q").unwrap_or_default();
    Ok(Json(KnowledgeEntries { entries: state.service.residents().search_knowledge(q).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct KnowledgeBody {
    question_zh: String,
    question_en: String,
    answer_zh: String,
    answer_en: String,
    #[serde(default)]
    from_complaint: Option<String>,
}

/// Adds an answer to the public knowledge base of common questions.
#[utoipa::path(
    post,
    path = "/v1/knowledge",
    tag = "complaints",
    request_body = KnowledgeBody,
    responses((status = 201, description = "`{entry}`", body = KnowledgeAnswer)),
    security(("staff_key" = []))
)]
pub(crate) async fn add(
    State(state): State<AppState>,
    handler: Actor<may::AnswerComplaints>,
    body: JsonBody,
) -> Result<(StatusCode, Json<KnowledgeAnswer>), ApiError> {
    let body: KnowledgeBody = json_object(
        &body,
        r#"{"question_zh": …, "question_en": …, "answer_zh": …, "answer_en": …, "from_complaint": (optional)}"#,
    )?;
    let new = NewKnowledge {
        question_zh: &body.question_zh,
        question_en: &body.question_en,
        answer_zh: &body.answer_zh,
        answer_en: &body.answer_en,
        from_complaint: body.from_complaint.as_deref(),
    };
    let entry = state.service.residents().add_knowledge(&handler, &new).await?;
    Ok((StatusCode::CREATED, Json(KnowledgeAnswer { entry })))
}

/// Retires an answer from the knowledge base.
#[utoipa::path(
    post,
    path = "/v1/knowledge/{entry_id}/retire",
    tag = "complaints",
    params(("entry_id" = String, Path, description = "the entry")),
    responses((status = 200, description = "`{entry}`, retired", body = KnowledgeAnswer)),
    security(("staff_key" = []))
)]
pub(crate) async fn retire(
    State(state): State<AppState>,
    handler: Actor<may::AnswerComplaints>,
    IdInPath(id): IdInPath,
) -> Result<Json<KnowledgeAnswer>, ApiError> {
    Ok(Json(KnowledgeAnswer { entry: state.service.residents().retire_knowledge(&handler, &id).await? }))
}
