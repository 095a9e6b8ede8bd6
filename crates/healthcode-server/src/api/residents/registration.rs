//! Registration over HTTP: the published collection rules, a resident registering (or
//! claiming the code someone registered for them), and a lost key replaced at a
//! community service point.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use healthcode_domain::{AreaCode, ExtendedFunction, IdDocument, PersonId, PersonKind, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::auth::json_object;
use crate::api::extract::Actor;
use crate::api::policy::may;
use crate::api::JsonBody;
use crate::{ApiError, AppState};
use healthcode_service::{Registered, Registration, CHECKIN_RETENTION_DAYS, THIRD_PARTY_FIELDS};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(collection_rules)).routes(routes!(register)).routes(routes!(replace_key))
}

/// The collection notice (告知): what is collected about a resident, why, who receives
/// it, and for how long.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CollectionRules {
    fields: Vec<CollectedField>,
    who_receives: Vec<Recipient>,
    /// The notice's version, which a registration accepts (`accepted_notice`).
    version: &'static str,
    consent: ConsentRules,
    access_log: &'static str,
    destruction: &'static str,
}

/// One thing collected about a resident.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CollectedField {
    field: &'static str,
    purpose: &'static str,
    kept_as: &'static str,
    retention: String,
    /// `false` for what a registration may leave out; absent for what is always collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    required: Option<bool>,
}

/// Who receives what.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Recipient {
    who: &'static str,
    what: String,
}

/// How consent is given and withdrawn.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ConsentRules {
    health_code: &'static str,
    minors: &'static str,
    extended_functions: Vec<ExtendedFunction>,
    extended_functions_rule: &'static str,
}

fn collected(
    field: &'static str,
    purpose: &'static str,
    kept_as: &'static str,
    retention: String,
    required: Option<bool>,
) -> CollectedField {
    CollectedField { field, purpose, kept_as, retention, required }
}

/// What is collected about a resident, why, who sees it and for how long (the collection
/// notice a registration accepts).
#[utoipa::path(
    get,
    path = "/v1/collection-rules",
    tag = "residents",
    responses((status = 200, description = "what is collected, why, and for how long (告知)", body = CollectionRules))
)]
pub(crate) async fn collection_rules() -> Json<CollectionRules> {
    let until_over = || "until the epidemic is declared over".to_string();
    let checkin_days = || format!("{CHECKIN_RETENTION_DAYS} days");
    Json(CollectionRules {
        fields: vec![
            collected(
                "id_type and id_number",
                "a pseudonym (keyed hash) that ties evidence to the person",
                "never kept; only the pseudonym",
                until_over(),
                None,
            ),
            collected(
                "name",
                "checkpoints show it masked (张*丰); health officers reach close contacts",
                "masked in the clear; whole only sealed with the person's own data key",
                until_over(),
                Some(false),
            ),
            collected(
                "phone",
                "health officers reach close contacts",
                "sealed with the person's own data key",
                until_over(),
                Some(false),
            ),
            collected(
                "residence_area",
                "routing to the local office; aggregate statistics",
                "area code",
                until_over(),
                Some(false),
            ),
            collected(
                "check-ins",
                "entry decisions at venues; contact tracing confirmed by a health officer",
                "venue, time, colour and outcome",
                checkin_days(),
                None,
            ),
            collected(
                "contact lists (tracing)",
                "a health officer confirming close contacts",
                "the persons listed and their check-in times",
                checkin_days(),
                None,
            ),
            collected(
                "evidence (tests, diagnoses, contact lists, entries, stays)",
                "computing the colour under the published rules",
                "as the department sent it",
                until_over(),
                None,
            ),
        ],
        who_receives: vec![
            Recipient { who: "venues, gates and verifiers", what: "colour and masked name, nothing else".into() },
            Recipient {
                who: "local and provincial epidemic offices, complaint handlers",
                what: "a person's code, history and contact details, within their jurisdiction, each read with a \
                       purpose the person sees"
                    .into(),
            },
            Recipient {
                who: "third-party systems of an extended function the person switched on",
                what: format!("only their registered fields, at most {}", THIRD_PARTY_FIELDS.join(" and ")),
            },
            Recipient {
                who: "researchers",
                what: "counts by area and day with differential privacy and small cells withheld; never a per-person \
                       row"
                .into(),
            },
            Recipient {
                who: "anyone",
                what: "the transparency log: salted commitments, never a person's identity".into(),
            },
        ],
        version: healthcode_service::COLLECTION_NOTICE_VERSION,
        consent: ConsentRules {
            health_code: "given at registration, after this notice; the version accepted and when are recorded \
                          (send `accepted_notice`)",
            minors: "a family member who registers a child under 14 gives the guardian's consent, recorded with who \
                     gave it",
            extended_functions: ExtendedFunction::ALL.to_vec(),
            extended_functions_rule: "each off until the person switches it on; off again at any time, with \
                                      immediate effect",
        },
        access_log: "every read of a person's data by anyone else is recorded with who, role, purpose and time, and \
                     shown to the person",
        destruction: "when the epidemic is declared over, every personal row and the keys that open it are \
                      destroyed, and the destruction is recorded in the transparency log",
    })
}

const FIELDS: &[&str] =
    &["id_type", "id_number", "name", "phone", "residence_area", "international", "accepted_notice"];

/// What a registration takes besides `FIELDS`: the claim code of a code a family member
/// registered.
const CLAIM_FIELDS: &[&str] = &["claim_code"];

/// The fields of a registration (`FIELDS`) as the OpenAPI document describes them.
/// `registration_in` reads the body by hand (to name each refused field); a test keeps the
/// descriptions' fields equal to `FIELDS` and each route's extras.
#[allow(dead_code)] // A description only: never built.
#[derive(utoipa::ToSchema)]
pub(crate) struct RegistrationFields {
    /// `resident_id` (居民身份证), `passport`, `hk_macao_permit`, `taiwan_permit`, `foreign_permanent_residence`, …
    id_type: String,
    id_number: String,
    name: Option<String>,
    phone: Option<String>,
    /// The division code of the residence (e.g. `330106`).
    residence_area: Option<String>,
    /// The international code (travel permits, permanent residence cards).
    international: Option<bool>,
    /// The version of the collection notice accepted (`GET /v1/collection-rules`).
    accepted_notice: Option<String>,
}

/// A registration (`POST /v1/persons`).
#[allow(dead_code)] // A description only: never built.
#[derive(utoipa::ToSchema)]
pub(crate) struct RegistrationBody {
    #[serde(flatten)]
    registration: RegistrationFields,
    /// A claim code from the family member who registered this person.
    claim_code: Option<String>,
}

/// A dependant registered by a family member (`POST /v1/me/dependants`).
#[allow(dead_code)] // A description only: never built.
#[derive(utoipa::ToSchema)]
pub(crate) struct DependantBody {
    #[serde(flatten)]
    registration: RegistrationFields,
    /// Who the dependant is to the one registering (父亲, 女儿 …).
    relation: String,
    /// The dependant's own resident key, when they already have one and agree.
    dependant_key: Option<String>,
}

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
    let international = match object.get("international") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::InvalidInput(ValidationError::field(
                "international",
                "field `international`: true to ask for the international code (travel permits and permanent \
                 residence cards), else false",
            )))
        }
    };
    let accepted_notice = match text_in(&object, "accepted_notice")? {
        None => false,
        Some(v) if v == healthcode_service::COLLECTION_NOTICE_VERSION => true,
        Some(_) => {
            return Err(ApiError::InvalidInput(ValidationError::field(
                "accepted_notice",
                format!(
                "the collection notice in force is version {}: read it (GET /v1/collection-rules) and accept that one",
                healthcode_service::COLLECTION_NOTICE_VERSION
            ),
            )))
        }
    };
    Ok((Registration { document, residence_area, name, phone, international, accepted_notice }, object))
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

/// A registration's answer.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RegistrationAnswer {
    person_id: PersonId,
    kind: PersonKind,
    /// Whether the person was registered just now (201).
    created: bool,
    #[schema(required = true)]
    residence_area: Option<AreaCode>,
    status: RegistrationStatus,
    note: &'static str,
    /// Shown this once, when the person was registered or claimed their code just now.
    #[serde(skip_serializing_if = "Option::is_none")]
    resident_key: Option<String>,
}

/// What became of a registration.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RegistrationStatus {
    /// Registered now: the key is in the answer (201).
    Created,
    /// A person someone else registered claimed their code with a claim code: the key is in the answer.
    Claimed,
    /// Already registered: the person uses the key they hold.
    AlreadyRegistered,
    /// Registered by someone else: a claim code or a counter gives the key.
    ClaimRequired,
}

/// A key given at a counter.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CounterKey {
    person_id: PersonId,
    #[schema(required = true)]
    residence_area: Option<AreaCode>,
    /// Shown this once; every earlier key of the person no longer works.
    resident_key: String,
}

/// Registers a resident. Only what the code needs is taken; the ID number becomes the
/// pseudonym and is neither stored nor echoed. A new resident gets their key, once; a
/// person someone else registered (a family member, a department's list) gets it with the
/// `claim_code` the family member gave them, or at a community service point; one who
/// holds a key gets none (knowing an ID number is not being its holder).
#[utoipa::path(
    post,
    path = "/v1/persons",
    tag = "residents",
    request_body = RegistrationBody,
    responses((status = 201, description = "`{person_id, kind, created: true, residence_area, status, note, resident_key}`: the key is shown once", body = RegistrationAnswer), (status = 200, description = "`{status: already_registered|claimed|claim_required, …}`", body = RegistrationAnswer), (status = 429, description = "too many registrations from this address; retry later", body = crate::api::openapi::ErrorBody))
)]
pub(crate) async fn register(
    State(state): State<AppState>,
    body: JsonBody,
) -> Result<(StatusCode, Json<RegistrationAnswer>), ApiError> {
    let (registration, object) = registration_in(&body, CLAIM_FIELDS)?;
    let claim_code = text_in(&object, "claim_code")?;
    let (person, registered) = state.service.residents().register_resident(registration, claim_code).await?;
    let created = matches!(registered, Registered::Created { .. });
    let (status, note) = match &registered {
        Registered::Created { .. } => (
            RegistrationStatus::Created,
            "keep resident_key: it is shown once and opens your code (`Authorization: Bearer <resident_key>`)",
        ),
        Registered::Claimed { .. } => (
            RegistrationStatus::Claimed,
            "keep resident_key: it is shown once and opens your code; the family member who acted for you still \
             does until either of you ends it",
        ),
        Registered::AlreadyRegistered => (
            RegistrationStatus::AlreadyRegistered,
            "already registered: use the resident key you were given; a lost key is replaced at a community service \
             point",
        ),
        Registered::ClaimRequired => (
            RegistrationStatus::ClaimRequired,
            "this person was registered by someone else (a family member or a department): claim the code with the \
             `claim_code` the family member who acts for you can give, or at a community service point with your \
             papers",
        ),
    };
    let answer = RegistrationAnswer {
        person_id: person.id,
        kind: person.kind,
        created,
        residence_area: person.residence_area,
        status,
        note,
        resident_key: registered.key().map(str::to_string),
    };
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(answer)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CounterBody {
    id_type: String,
    id_number: String,
    /// The area of residence on the person's papers, recorded if none is.
    residence_area: Option<String>,
}

/// A key given at a community service point after checking the person's papers: the
/// first key of a person someone else registered, or the replacement of a lost one.
/// Every earlier key of the person stops working.
#[utoipa::path(
    post,
    path = "/v1/residents/keys",
    tag = "residents",
    request_body = CounterBody,
    responses((status = 200, description = "`{person_id, residence_area, resident_key}`: the old key no longer works", body = CounterKey)),
    security(("staff_key" = []))
)]
pub(crate) async fn replace_key(
    State(state): State<AppState>,
    office: Actor<may::ReplaceResidentKey>,
    body: JsonBody,
) -> Result<Json<CounterKey>, ApiError> {
    let body: CounterBody = json_object(&body, r#"{"id_type": …, "id_number": …, "residence_area"?: "330106"}"#)?;
    let document = IdDocument::parse(&body.id_type, &body.id_number).map_err(ApiError::InvalidInput)?;
    let area = body
        .residence_area
        .map(|a| AreaCode::parse(&a).map_err(|m| ApiError::InvalidInput(ValidationError::field("residence_area", m))))
        .transpose()?;
    let (person, key) = state.service.residents().replace_resident_key(&office, &document, area).await?;
    Ok(Json(CounterKey { person_id: person.id, residence_area: person.residence_area, resident_key: key }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    use utoipa::PartialSchema;

    use super::*;

    /// The properties a body schema names, through `allOf` and the shared fields' reference.
    fn properties(schema: RefOr<Schema>) -> Vec<String> {
        fn collect(schema: RefOr<Schema>, names: &mut Vec<String>) {
            match schema {
                RefOr::T(Schema::Object(object)) => names.extend(object.properties.keys().cloned()),
                RefOr::T(Schema::AllOf(all)) => all.items.into_iter().for_each(|item| collect(item, names)),
                RefOr::Ref(r) if r.ref_location.ends_with("/RegistrationFields") => {
                    collect(RegistrationFields::schema(), names)
                }
                _ => panic!("not an object, allOf or the registration's fields"),
            }
        }
        let mut names = Vec::new();
        collect(schema, &mut names);
        names.sort();
        names
    }

    fn sorted(fields: &[&[&str]]) -> Vec<String> {
        let mut names: Vec<String> = fields.iter().flat_map(|f| f.iter().map(|n| n.to_string())).collect();
        names.sort();
        names
    }

    /// The notice reads as it did when it was written as a `json!` literal, word for word.
    #[tokio::test]
    async fn the_collection_notice_is_the_one_published() {
        let written = serde_json::json!(collection_rules().await.0);
        let published = json!({
            "fields": [
                {"field": "id_type and id_number", "purpose": "a pseudonym (keyed hash) that ties evidence to the person",
                 "kept_as": "never kept; only the pseudonym", "retention": "until the epidemic is declared over"},
                {"field": "name", "purpose": "checkpoints show it masked (张*丰); health officers reach close contacts",
                 "kept_as": "masked in the clear; whole only sealed with the person's own data key",
                 "retention": "until the epidemic is declared over", "required": false},
                {"field": "phone", "purpose": "health officers reach close contacts",
                 "kept_as": "sealed with the person's own data key", "retention": "until the epidemic is declared over",
                 "required": false},
                {"field": "residence_area", "purpose": "routing to the local office; aggregate statistics",
                 "kept_as": "area code", "retention": "until the epidemic is declared over", "required": false},
                {"field": "check-ins", "purpose": "entry decisions at venues; contact tracing confirmed by a health officer",
                 "kept_as": "venue, time, colour and outcome", "retention": format!("{CHECKIN_RETENTION_DAYS} days")},
                {"field": "contact lists (tracing)", "purpose": "a health officer confirming close contacts",
                 "kept_as": "the persons listed and their check-in times", "retention": format!("{CHECKIN_RETENTION_DAYS} days")},
                {"field": "evidence (tests, diagnoses, contact lists, entries, stays)",
                 "purpose": "computing the colour under the published rules", "kept_as": "as the department sent it",
                 "retention": "until the epidemic is declared over"}
            ],
            "who_receives": [
                {"who": "venues, gates and verifiers", "what": "colour and masked name, nothing else"},
                {"who": "local and provincial epidemic offices, complaint handlers",
                 "what": "a person's code, history and contact details, within their jurisdiction, each read with a purpose the person sees"},
                {"who": "third-party systems of an extended function the person switched on",
                 "what": format!("only their registered fields, at most {}", THIRD_PARTY_FIELDS.join(" and "))},
                {"who": "researchers", "what": "counts by area and day with differential privacy and small cells withheld; never a per-person row"},
                {"who": "anyone", "what": "the transparency log: salted commitments, never a person's identity"}
            ],
            "version": healthcode_service::COLLECTION_NOTICE_VERSION,
            "consent": {
                "health_code": "given at registration, after this notice; the version accepted and when are recorded (send `accepted_notice`)",
                "minors": "a family member who registers a child under 14 gives the guardian's consent, recorded with who gave it",
                "extended_functions": ["citizen_card", "transport_card", "parking", "access_control"],
                "extended_functions_rule": "each off until the person switches it on; off again at any time, with immediate effect"
            },
            "access_log": "every read of a person's data by anyone else is recorded with who, role, purpose and time, and shown to the person",
            "destruction": "when the epidemic is declared over, every personal row and the keys that open it are destroyed, and the destruction is recorded in the transparency log"
        });
        assert_eq!(written, published);
    }

    /// The bodies read by hand are described by hand: the descriptions name exactly the
    /// fields the code takes.
    #[test]
    fn the_documented_registration_bodies_are_the_fields_taken() {
        assert_eq!(properties(RegistrationBody::schema()), sorted(&[FIELDS, CLAIM_FIELDS]));
        let dependant = super::super::family::DEPENDANT_FIELDS;
        assert_eq!(properties(DependantBody::schema()), sorted(&[FIELDS, dependant]));
        let conversion = super::super::conversions::CONVERSION_FIELDS;
        assert_eq!(properties(super::super::conversions::ConversionBody::schema()), sorted(&[FIELDS, conversion]));
    }
}
