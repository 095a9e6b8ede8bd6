//! Server-rendered pages, one module per capability (the same cut as the API's):
//! `codes`, `residents`, `doors`, `governance`, `accounts` (officials' sign-in and the
//! frame of their pages) and `overview`. zh-CN by default, English by a switch
//! (`?lang=en`, remembered in a cookie), a large-text mode, no scripts and no external
//! assets (the CSP forbids both; the camera page alone may load scripts from this
//! server). What every page shares: `markup` (HTML safe by type), `layout` (the frame,
//! the language, the CSRF check of form posts) and `extract` (what handlers take from a
//! request, each refused with a page).

mod accounts;
mod codes;
mod doors;
mod extract;
mod governance;
mod layout;
pub(crate) mod markup;
mod overview;
mod places;
mod residents;

use axum::Router;
pub(crate) use overview::dashboard::FiguresCache;
pub(crate) use residents::register::shown_again as register_shown_again;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(overview::routes())
        .merge(codes::routes())
        .merge(residents::routes())
        .merge(doors::routes())
        .merge(governance::routes())
        .merge(accounts::routes())
}
