use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use healthcode_domain::{AreaCode, IdDocument, ValidationError};
use healthcode_service::Registration;
use serde_json::{json, Value};

use crate::api::JsonBody;
use crate::{ApiError, AppState};

const FIELDS: &[&str] = &["id_type", "id_number", "name", "residence_area"];

/// Registers a resident. Only what the code needs is taken; the ID number becomes the
/// pseudonym and is neither stored nor echoed.
pub(crate) async fn register(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let value: Value = serde_json::from_str(body.text()?)
        .map_err(|e| ApiError::InvalidJson(format!("the body is not JSON ({e}); send a JSON object")))?;
    let object = value.as_object().ok_or_else(|| {
        ApiError::InvalidInput(ValidationError::new("send a JSON object: {\"id_type\": …, \"id_number\": …}"))
    })?;
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::InvalidInput(ValidationError::field(
            unknown.as_str(),
            format!(
                "unknown field `{}`; registration takes {}",
                unknown.chars().take(40).collect::<String>(),
                FIELDS.join(", ")
            ),
        )));
    }
    let text = |name: &str| -> Result<Option<&str>, ApiError> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => {
                Err(ApiError::InvalidInput(ValidationError::field(name, format!("field `{name}`: expected a string"))))
            }
        }
    };
    let id_type = text("id_type")?.ok_or_else(|| ApiError::InvalidInput(ValidationError::missing("id_type")))?;
    let id_number = text("id_number")?.ok_or_else(|| ApiError::InvalidInput(ValidationError::missing("id_number")))?;
    let document = IdDocument::parse(id_type, id_number).map_err(ApiError::InvalidInput)?;
    let residence_area = text("residence_area")?
        .map(|a| {
            AreaCode::parse(a).map_err(|m| {
                ApiError::InvalidInput(ValidationError::field("residence_area", format!("field `residence_area`: {m}")))
            })
        })
        .transpose()?;
    let name = text("name")?.map(healthcode_domain::check_name).transpose().map_err(ApiError::InvalidInput)?;
    let (person, created) = state.service.register(Registration { document, residence_area, name }).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(json!({
            "person_id": person.id,
            "kind": person.kind,
            "created": created,
            "residence_area": person.residence_area,
        })),
    ))
}
