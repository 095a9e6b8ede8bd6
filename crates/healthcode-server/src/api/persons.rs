//! Residents: registration, and acting for family members.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use healthcode_domain::{AreaCode, IdDocument, ValidationError};
use healthcode_service::{Registered, Registration};
use serde_json::{json, Map, Value};

use crate::api::JsonBody;
use crate::{ApiError, AppState};

const FIELDS: &[&str] = &["id_type", "id_number", "name", "phone", "residence_area"];

/// A JSON object holding a registration (`FIELDS`) and the `extra` fields a route takes;
/// any other field is refused with its name. Returns the registration and the object.
pub(crate) fn registration_in(body: &JsonBody, extra: &[&str]) -> Result<(Registration, Map<String, Value>), ApiError> {
    let value: Value = serde_json::from_str(body.text()?)
        .map_err(|e| ApiError::InvalidJson(format!("the body is not JSON ({e}); send a JSON object")))?;
    let Value::Object(object) = value else {
        return Err(ApiError::InvalidInput(ValidationError::new(
            "send a JSON object: {\"id_type\": …, \"id_number\": …}",
        )));
    };
    let allowed = || FIELDS.iter().chain(extra).copied();
    if let Some(unknown) = object.keys().find(|k| !allowed().any(|f| f == k.as_str())) {
        return Err(ApiError::InvalidInput(ValidationError::field(
            unknown.as_str(),
            format!(
                "unknown field `{}`; this takes {}",
                unknown.chars().take(40).collect::<String>(),
                allowed().collect::<Vec<_>>().join(", ")
            ),
        )));
    }
    let id_type =
        text_in(&object, "id_type")?.ok_or_else(|| ApiError::InvalidInput(ValidationError::missing("id_type")))?;
    let id_number =
        text_in(&object, "id_number")?.ok_or_else(|| ApiError::InvalidInput(ValidationError::missing("id_number")))?;
    let document = IdDocument::parse(id_type, id_number).map_err(ApiError::InvalidInput)?;
    let residence_area = text_in(&object, "residence_area")?
        .map(|a| {
            AreaCode::parse(a).map_err(|m| {
                ApiError::InvalidInput(ValidationError::field("residence_area", format!("field `residence_area`: {m}")))
            })
        })
        .transpose()?;
    let name =
        text_in(&object, "name")?.map(healthcode_domain::check_name).transpose().map_err(ApiError::InvalidInput)?;
    let phone =
        text_in(&object, "phone")?.map(healthcode_service::check_phone).transpose().map_err(ApiError::InvalidInput)?;
    Ok((Registration { document, residence_area, name, phone }, object))
}

/// A string field of a JSON object, if present and not null.
pub(crate) fn text_in<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => {
            Err(ApiError::InvalidInput(ValidationError::field(name, format!("field `{name}`: expected a string"))))
        }
    }
}

/// Registers a resident. Only what the code needs is taken; the ID number becomes the
/// pseudonym and is neither stored nor echoed. A new resident gets their key, once; a
/// person someone else registered (a family member, a department's list) gets it with the
/// `claim_code` the family member gave them, or at a community service point; one who
/// holds a key gets none (knowing an ID number is not being its holder).
pub(crate) async fn register(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (registration, object) = registration_in(&body, &["claim_code"])?;
    let claim_code = text_in(&object, "claim_code")?;
    let (person, registered) = state.service.register_resident(registration, claim_code).await?;
    let created = matches!(registered, Registered::Created { .. });
    let mut answer = json!({
        "person_id": person.id,
        "kind": person.kind,
        "created": created,
        "residence_area": person.residence_area,
    });
    let (status, note) = match &registered {
        Registered::Created { .. } => (
            "created",
            "keep resident_key: it is shown once and opens your code (`Authorization: Bearer <resident_key>`)",
        ),
        Registered::Claimed { .. } => (
            "claimed",
            "keep resident_key: it is shown once and opens your code; the family member who acted for you still \
             does until either of you ends it",
        ),
        Registered::AlreadyRegistered => (
            "already_registered",
            "already registered: use the resident key you were given; a lost key is replaced at a community service \
             point",
        ),
        Registered::ClaimRequired => (
            "claim_required",
            "this person was registered by someone else (a family member or a department): claim the code with the \
             `claim_code` the family member who acts for you can give, or at a community service point with your \
             papers",
        ),
    };
    answer["status"] = json!(status);
    answer["note"] = json!(note);
    if let Some(key) = registered.key() {
        answer["resident_key"] = json!(key);
    }
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(answer)))
}
