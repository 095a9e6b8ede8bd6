//! What page handlers take from a request, each refused with a page: a form posted from
//! one of our own pages (the CSRF check), the signed-in official authorised for an
//! action, and the id named in the path.

use std::collections::HashMap;
use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::Form;
use healthcode_domain::PersonId;
use healthcode_store::Account;
use serde::de::DeserializeOwned;

use crate::api::extract::{IdInPath, PersonInPath};
use crate::api::policy::Permission;
use crate::pages::accounts::official;
use crate::pages::layout::{see_other, Ui};
use crate::pages::residents::signin::signed_in;
use crate::AppState;

/// A form's fields by name (the last of a name wins).
pub(crate) type Fields = HashMap<String, String>;

/// A form posted from one of our own pages, read as `T`: a post from elsewhere is refused
/// (403), a body that is not a form of that shape is answered 400. `ui` is set to answer
/// with form pages.
pub(crate) struct Posted<T = Fields> {
    pub ui: Ui,
    pub form: T,
}

impl<T, S> FromRequest<S> for Posted<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let FromOurPages(ui) = FromOurPages::from_request_parts(&mut parts, state).await?;
        match Form::<T>::from_request(Request::from_parts(parts, body), state).await {
            Ok(Form(form)) => Ok(Posted { ui, form }),
            Err(e) => Err(ui.error(
                e.status(),
                "无法读取表单，请返回上一页重新提交",
                "the form could not be read; go back and send it again",
            )),
        }
    }
}

/// A post from one of our own pages whose body is not a form (an upload): the CSRF check
/// alone, with `ui` set to answer with form pages.
pub(crate) struct FromOurPages(pub Ui);

impl<S: Send + Sync> FromRequestParts<S> for FromOurPages {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        page_ui(parts, state).await.posted(&parts.headers).map(FromOurPages)
    }
}

/// The signed-in official whose role may take the action `P` names, with the page's
/// `ui`; a post must also come from our own pages. Refused with the sign-in page (signed
/// out) or a 403 page (a role that may not): see `staff::official`.
pub(crate) struct Official<P> {
    pub ui: Ui,
    pub account: Account,
    action: PhantomData<P>,
}

impl<P: Permission> FromRequestParts<AppState> for Official<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let mut ui = page_ui(parts, state).await;
        if parts.method == Method::POST {
            ui = ui.posted(&parts.headers)?;
        }
        let account = official(&ui, state, P::ACTION).await?;
        Ok(Official { ui, account, action: PhantomData })
    }
}

/// The resident signed in on this browser; signed out is a redirect to the sign-in page.
/// A post must also come from our own pages.
pub(crate) struct Resident(pub PersonId);

impl FromRequestParts<AppState> for Resident {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let mut ui = page_ui(parts, state).await;
        if parts.method == Method::POST {
            ui = ui.posted(&parts.headers)?;
        }
        signed_in(&ui, state).await.map(Resident).ok_or_else(|| see_other("/signin"))
    }
}

/// The last id of the path (`{proposal_id}`, `{device_id}` …); one that is not text is
/// a 404 page.
pub(crate) struct PageId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PageId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match IdInPath::from_request_parts(parts, state).await {
            Ok(IdInPath(id)) => Ok(PageId(id)),
            Err(_) => Err(page_ui(parts, state).await.error(StatusCode::NOT_FOUND, "没有这一页", "no such page")),
        }
    }
}

/// The `{person_id}` of the path; one that is not a person id is a 404 page.
pub(crate) struct PersonPage(pub PersonId);

impl<S: Send + Sync> FromRequestParts<S> for PersonPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match PersonInPath::from_request_parts(parts, state).await {
            Ok(PersonInPath(id)) => Ok(PersonPage(id)),
            Err(_) => Err(page_ui(parts, state).await.error(
                StatusCode::NOT_FOUND,
                "这不是有效的编号",
                "not a valid person id",
            )),
        }
    }
}

/// The query's parameters; a malformed query string reads as none (pages only take
/// optional hints from it: where to go next, a notice to show).
#[derive(Default)]
pub(crate) struct PageQuery(pub Fields);

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PageQuery(axum::extract::Query::<Fields>::try_from_uri(&parts.uri).map(|q| q.0).unwrap_or_default()))
    }
}

impl PageQuery {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

async fn page_ui<S: Send + Sync>(parts: &mut Parts, state: &S) -> Ui {
    match Ui::from_request_parts(parts, state).await {
        Ok(ui) => ui,
        Err(never) => match never {},
    }
}
