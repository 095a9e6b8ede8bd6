//! The OpenAPI 3.1 document of the JSON API, served at `GET /v1/openapi.json`.
//!
//! It is generated, not written: each handler carries its `#[utoipa::path]` (method, path,
//! parameters, body type, answers, keys), and `api::routes` builds the router and the
//! document from the same list (utoipa-axum's `routes!`), so a route cannot be served
//! undocumented or documented unserved. Request bodies are the very types the handlers
//! deserialise (`ToSchema` derived beside `Deserialize`). What every operation shares —
//! the error body, which errors its inputs and keys can bring, the 503 with its retry
//! hint — is added here once, from what the operation declares, rather than repeated on
//! each handler.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AdditionalProperties, Components, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, InfoBuilder, OpenApi, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// `GET /healthz`: the process answers.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// `GET /readyz`: the server reaches its database.
#[derive(Serialize, ToSchema)]
pub(crate) struct Readiness {
    /// Always `ready` (a server that cannot reach its database answers 503).
    pub status: &'static str,
    /// The transparency log's size, as just read from the database.
    pub log_size: u64,
}

/// `GET /v1/openapi.json`: this document. Its own schema is OpenAPI 3.1's meta-schema; only
/// its top-level members are named here.
pub(crate) struct OpenApiDocument;

impl PartialSchema for OpenApiDocument {
    fn schema() -> RefOr<Schema> {
        let free_form = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(AdditionalProperties::FreeForm(true)))
                .description(Some(description))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("an OpenAPI 3.1 document: its members are those of OpenAPI's own schema"))
            .property("openapi", ObjectBuilder::new().schema_type(Type::String).description(Some("`3.1.0`")))
            .required("openapi")
            .property("info", free_form("the API's title, version and description (OpenAPI's Info Object)"))
            .required("info")
            .property("paths", free_form("every operation, by path (OpenAPI's Paths Object)"))
            .required("paths")
            .property("components", free_form("schemas and security schemes (OpenAPI's Components Object)"))
            .into()
    }
}

impl ToSchema for OpenApiDocument {}

pub(crate) use crate::error::{ErrorBody, ErrorDetail, Suggestion};

/// The keys of the API, each sent as `Authorization: Bearer <key>`.
const SECURITY_SCHEMES: [(&str, &str); 4] = [
    (
        "resident_key",
        "A resident's key (`hc_r_…`), given at registration or by a counter, or a family proxy's: reads \
         and acts on that person's data only.",
    ),
    (
        "staff_key",
        "An account's API key or a session token from `POST /v1/login`: a data source, an epidemic office, \
         an auditor, a complaint handler, a counter. What each role may do is the table in `api::policy`; \
         reading a person's data also takes `?purpose=`, which the person sees.",
    ),
    (
        "operator_key",
        "A venue operator's key, shown once at `POST /v1/venues`: displays the venue code and registers devices.",
    ),
    (
        "device_key",
        "A checkpoint device's key, shown once at registration and usable once an office approves the device.",
    ),
];

/// The document, built once.
pub(crate) fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let openapi = describe(super::routes().into_openapi());
        // The document is made of our own types: failing to write it is a bug found by the
        // first test that reads it.
        openapi.to_pretty_json().unwrap_or_else(|e| format!(r#"{{"error": "the OpenAPI document: {e}"}}"#))
    })
}

/// This document: the whole JSON API in OpenAPI 3.1, generated from the handlers.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "the OpenAPI 3.1 document of this API", body = OpenApiDocument)))]
pub(crate) async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

/// Adds what the handlers' annotations leave to one place: the title, the keys, the error
/// body, and each operation's error answers.
fn describe(mut openapi: OpenApi) -> OpenApi {
    openapi.info = InfoBuilder::new()
        .title("healthcode")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The JSON API of healthcode: evidence in, codes out, every colour with its reasons. Errors are \
             `{\"error\": {\"code\", \"message\", \"field\"?}}`; every answer may carry an `X-Incident-Notice` \
             header while a provincial office has a notice up.",
        ))
        .build();
    let components = openapi.components.get_or_insert_with(Components::new);
    for (name, description) in SECURITY_SCHEMES {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(description.to_string());
        components.add_security_scheme(name, SecurityScheme::Http(scheme));
    }
    components.schemas.insert("ErrorBody".into(), ErrorBody::schema());
    components.schemas.insert("ErrorDetail".into(), ErrorDetail::schema());
    components.schemas.insert("Suggestion".into(), Suggestion::schema());
    unique_operation_ids(&mut openapi);
    add_links(&mut openapi);
    for item in openapi.paths.paths.values_mut() {
        for operation in operations(item) {
            add_error_answers(operation);
        }
    }
    openapi
}

/// Handlers in different modules share names (`register`, `propose`): an operation's id is
/// its handler's name, followed where that is not unique by its path's first word
/// (`register_venues`, `register_persons`).
fn unique_operation_ids(openapi: &mut OpenApi) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for item in openapi.paths.paths.values_mut() {
        for operation in operations(item) {
            *seen.entry(operation.operation_id.clone().unwrap_or_default()).or_default() += 1;
        }
    }
    for (path, item) in openapi.paths.paths.iter_mut() {
        let word = path.trim_start_matches("/v1/").split('/').next().unwrap_or_default().replace('-', "_");
        for operation in operations(item) {
            if let Some(id) = operation.operation_id.as_mut().filter(|id| seen[id.as_str()] > 1) {
                *id = format!("{id}_{word}");
            }
        }
    }
}

/// What a client does next with what an answer gave it: from the answer `status` of
/// `POST from`, a link `name` to the operation `to`, its path parameters filled by runtime
/// expressions. schemathesis's stateful phase follows them, so that a chain (register →
/// read the code → complain → attach) runs against what the server really made.
struct LinkSpec {
    from: &'static str,
    status: &'static str,
    name: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
}

const REGISTERED: &[(&str, &str)] = &[("person_id", "$response.body#/person_id")];
const COMPLAINT: &[(&str, &str)] =
    &[("person_id", "$request.path.person_id"), ("complaint_id", "$response.body#/complaint/id")];
const VENUE: &[(&str, &str)] = &[("venue_id", "$response.body#/venue/id")];

const fn link(
    from: &'static str,
    name: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> LinkSpec {
    LinkSpec { from, status: "201", name, to, parameters }
}

const LINKS: &[LinkSpec] = &[
    link("/v1/persons", "ReadTheCode", "code_persons", REGISTERED),
    link("/v1/persons", "ShowTheCode", "token", REGISTERED),
    link("/v1/persons", "ReadTheLog", "person", REGISTERED),
    link("/v1/persons", "ReadWhoRead", "accesses", REGISTERED),
    link("/v1/persons", "Complain", "file_complaint", REGISTERED),
    link("/v1/persons", "ReadTheComplaints", "complaints_of", REGISTERED),
    link("/v1/persons/{person_id}/complaints", "Attach", "attach", COMPLAINT),
    link("/v1/venues", "ShowTheVenueCode", "code_venues", VENUE),
    link("/v1/venues", "RegisterADevice", "register_device", VENUE),
];

fn add_links(openapi: &mut OpenApi) {
    for spec in LINKS {
        let operation = openapi.paths.paths.get_mut(spec.from).and_then(|item| item.post.as_mut());
        let Some(RefOr::T(response)) = operation.and_then(|o| o.responses.responses.get_mut(spec.status)) else {
            continue;
        };
        let mut link = LinkBuilder::new().operation_id(spec.to);
        for (parameter, expression) in spec.parameters {
            link = link.parameter(*parameter, *expression);
        }
        response.links.insert(spec.name.to_string(), RefOr::T(link.build()));
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch]
        .into_iter()
        .filter_map(|o| o.as_mut())
}

/// The errors an operation can answer with, from what it takes: a body can be malformed or
/// too large, a key missing or not allowed, a path's id unknown, any input invalid, and
/// the database out of reach.
fn add_error_answers(operation: &mut Operation) {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has_path_id = parameters.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let has_input = has_path_id || !parameters.is_empty() || operation.request_body.is_some();
    let keyed = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let public_operation = operation.tags.as_ref().is_some_and(|t| t.iter().any(|t| t == "operations"));
    let mut answers: Vec<(&str, &str)> = Vec::new();
    if operation.request_body.is_some() {
        answers.push(("400", "`invalid_json`: the body is not JSON, or not the JSON object this operation takes"));
        answers.push(("413", "`payload_too_large`: the body is larger than this operation takes"));
    }
    if keyed {
        answers.push(("401", "`unauthorised`: no key, or a key that is not (or no longer) valid"));
        answers.push(("403", "`forbidden`: a valid key whose holder may not do this"));
    }
    if has_path_id {
        answers.push(("404", "the path names nothing that exists (`unknown_person`, `unknown_venue`, `not_found`, …)"));
    }
    if has_input {
        answers.push((
            "422",
            "`invalid_input` (or `unknown_area`, `invalid_token`, `invalid_event`): the field named is wrong",
        ));
    }
    if !public_operation {
        answers
            .push(("503", "`unavailable`: the database cannot be reached just now; retry after `Retry-After` seconds"));
    }
    for (status, description) in answers {
        operation.responses.responses.entry(status.to_string()).or_insert_with(|| error_answer(status, description));
    }
}

fn error_answer(status: &str, description: &str) -> RefOr<Response> {
    let mut answer = ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(RefOr::Ref(ref_to("ErrorBody")))).build());
    if status == "503" {
        answer = answer.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(Schema::Object(ObjectBuilder::new().schema_type(Type::Integer).build())))
                .description(Some("seconds to wait before trying again"))
                .build(),
        );
    }
    RefOr::T(answer.build())
}

fn ref_to(schema: &str) -> utoipa::openapi::Ref {
    utoipa::openapi::Ref::from_schema_name(schema)
}
