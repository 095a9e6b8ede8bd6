//! What API handlers take from a request besides its body, each refused the same way
//! everywhere: the person or the id named in the path, and the account authorised for an
//! action (checked before any body is read: extractors of the request's head run first).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, MatchedPath, Path, Query};
use axum::http::request::Parts;
use healthcode_domain::{PersonId, ValidationError};
use healthcode_store::Account;

use crate::api::policy::{allow, Permission};
use crate::{ApiError, AppState};

/// The `{person_id}` of the path; not UTF-8 or not an id is `invalid_input`.
#[derive(Debug)]
pub(crate) struct PersonInPath(pub PersonId);

impl<S: Send + Sync> FromRequestParts<S> for PersonInPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = path_params(parts, state).await?;
        let text = params.get("person_id").ok_or_else(|| missing(parts))?;
        PersonId::parse(text).map(PersonInPath).map_err(ApiError::InvalidInput)
    }
}

/// The last id of the path (`{decision_id}`, `{venue_id}` …) as text; the service finds
/// out whether it names anything.
#[derive(Debug)]
pub(crate) struct IdInPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdInPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let mut params = path_params(parts, state).await?;
        let name = last_param_name(parts).ok_or_else(|| missing(parts))?;
        params.remove(&name).map(IdInPath).ok_or_else(|| missing(parts))
    }
}

/// The path's parameters by name; a value that is not UTF-8 text is `invalid_input`
/// naming its parameter.
pub(crate) async fn path_params<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<HashMap<String, String>, ApiError> {
    match Path::<HashMap<String, String>>::from_request_parts(parts, state).await {
        Ok(Path(params)) => Ok(params),
        Err(PathRejection::FailedToDeserializePathParams(e)) => {
            let field = match e.into_kind() {
                ErrorKind::InvalidUtf8InPathParam { key } => key,
                _ => last_param_name(parts).unwrap_or_else(|| "path".into()),
            };
            Err(ApiError::InvalidInput(ValidationError::field(&field, "not valid UTF-8 text")))
        }
        Err(_) => Err(missing(parts)),
    }
}

/// `{name}` of the route's last parameter.
fn last_param_name(parts: &Parts) -> Option<String> {
    let route = parts.extensions.get::<MatchedPath>()?.as_str();
    let start = route.rfind('{')?;
    let end = route[start..].find('}')? + start;
    Some(route[start + 1..end].to_string())
}

fn missing(parts: &Parts) -> ApiError {
    // A route without the parameter its handler reads: our bug, not the caller's.
    ApiError::Internal(format!("the route of {} names no parameter its handler reads", parts.uri.path()))
}

/// Query parameters as text; a malformed query string is `invalid_input`.
#[derive(Debug, Default)]
pub(crate) struct QueryParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state).await.map(|Query(q)| QueryParams(q)).map_err(
            |e: QueryRejection| {
                ApiError::InvalidInput(ValidationError::new(format!(
                    "the query string is malformed: {}",
                    e.body_text()
                )))
            },
        )
    }
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A whole number from 0 to `i64::MAX` (what the stores keep sizes, indexes and ids
    /// as): `default` when absent (`None`: required); anything else is `invalid_input`
    /// naming the parameter, never read as the default or wrapped.
    pub fn whole_number(&self, name: &str, default: Option<u64>) -> Result<u64, ApiError> {
        match (self.get(name), default) {
            (Some(text), _) => text.trim().parse::<i64>().ok().and_then(|n| u64::try_from(n).ok()).ok_or_else(|| {
                ApiError::InvalidInput(ValidationError::field(
                    name,
                    format!("`{name}` must be a whole number from 0 to {}", i64::MAX),
                ))
            }),
            (None, Some(default)) => Ok(default),
            (None, None) => Err(ApiError::InvalidInput(ValidationError::missing(name))),
        }
    }
}

/// The caller's account, authorised for the action `P` names (`Actor<may::ApproveDecision>`):
/// 401 without a valid key, 403 with a role that may not.
pub(crate) struct Actor<P> {
    account: Account,
    action: PhantomData<P>,
}

impl<P> Deref for Actor<P> {
    type Target = Account;

    fn deref(&self) -> &Account {
        &self.account
    }
}

impl<P: Permission> FromRequestParts<AppState> for Actor<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let account = allow(state, &parts.headers, P::ACTION).await?;
        Ok(Actor { account, action: PhantomData })
    }
}
