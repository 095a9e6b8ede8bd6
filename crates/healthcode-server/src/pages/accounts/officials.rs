//! What every officials' page shares: the frame with the bar of pages the role may open,
//! the Approve button, the notice after a form's redirect, the four-eyes note, and how a
//! form post ends (a redirect, or the form again with the service's refusal).

use std::future::Future;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_service::ServiceError;
use healthcode_store::{Account, Approval};

use super::PAGES;
use crate::api::policy::{permits, Permission};
use crate::pages::extract::{Fields, Official, PageId, PageQuery};
use crate::pages::layout::{see_other, Ui};
use crate::pages::markup::{html, Markup};
use crate::{ApiError, AppState};

/// Every officials' page: a bar saying who is signed in, the pages this role may open
/// and the sign-out button, then the page. Pages with forms send their origin.
pub(crate) fn staff_page(ui: Ui, status: StatusCode, account: &Account, title: &str, body: Markup) -> Response {
    let ui = ui.with_form();
    let mut page = html!(
        "<nav class=\"staffbar\" aria-label=\"{menu}\"><a href=\"/staff\">{home}</a>",
        menu = ui.t("工作人员菜单", "Officials' menu"),
        home = ui.t("工作台", "Officials' home")
    );
    for (path, action, zh, en) in PAGES {
        if permits(*action, account.role) {
            page.push(html!("<a href=\"{path}\">{name}</a>", path = *path, name = ui.t(zh, en)));
        }
    }
    page.push(html!(
        "<form method=\"post\" action=\"/staff/logout\"><span class=\"muted\">{username} </span><button type=\"submit\">{sign_out}</button></form></nav>",
        username = account.username,
        sign_out = ui.t("退出登录", "Sign out"),
    ));
    page.push(body);
    ui.page(status, title, page)
}

/// Why this officer gets no Approve button on something proposed by `proposed_by` that
/// already has `approvals`, if the four-eyes rules rule them out. The service alone
/// decides (an approval posted anyway is refused, and the page says why); this only
/// spares an officer a button that can only be refused.
pub(crate) fn four_eyes_note(
    ui: &Ui,
    account: &Account,
    proposed_by: &str,
    approvals: &[Approval],
) -> Option<&'static str> {
    if proposed_by == account.username {
        Some(ui.t(
            "您是提议人，不能批准自己的提议：须由其他省级官员批准。",
            "You proposed this, so you cannot approve it: other provincial officers must.",
        ))
    } else if approvals.iter().any(|a| a.by == account.username) {
        Some(ui.t(
            "您已批准；第二个批准须来自另一位官员。",
            "You have approved it; the second approval must come from another officer.",
        ))
    } else {
        None
    }
}

/// How an officials' form post ends: on success, a redirect to the page that shows the
/// result (`done` names it); on a refusal, the form's page again (`again`) with the
/// status the JSON API would answer and the reason (`refusal`); a fault of ours is logged.
pub(crate) async fn redirect_or_refuse<T, Page>(
    ui: Ui,
    result: Result<T, ServiceError>,
    done: impl FnOnce(T) -> String,
    again: impl FnOnce(Ui, StatusCode, Markup) -> Page,
) -> Response
where
    Page: Future<Output = Response>,
{
    match result {
        Ok(value) => see_other(&done(value)),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => again(ui, status, problem).await,
            Err(response) => response,
        },
    }
}

/// What a list of proposals is drawn with: who asks, what the last action said, the
/// form as it was sent.
pub(crate) struct ListPage<'a> {
    pub ui: Ui,
    pub state: &'a AppState,
    pub account: &'a Account,
    pub status: StatusCode,
    pub message: Option<Markup>,
    pub kept: &'a Fields,
}

/// A list of proposals that officials approve on the list itself (designations,
/// decisions): one `GET` handler, one Approve handler and one way back to the list serve
/// them all.
pub(crate) trait ProposalList {
    /// Where the list is.
    const PATH: &'static str;
    /// The action that opens the list.
    type Read: Permission;
    /// The action an Approve button takes.
    type Approve: Permission;
    type Approved: Send;

    /// The list's page.
    fn draw(page: ListPage<'_>) -> impl Future<Output = Response> + Send;

    /// The same service call as the JSON API's approve route.
    fn approve<'a>(
        state: &'a AppState,
        by: &'a Account,
        id: &'a str,
    ) -> impl Future<Output = Result<Self::Approved, ServiceError>> + Send + 'a;
}

/// The list's page (`GET`), with what the last form did (`?proposed=1`, `?approved=1`).
pub(crate) async fn proposal_list<L: ProposalList>(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<L::Read>,
    query: PageQuery,
) -> Response {
    let message = done_message(&ui, &query);
    let kept = Fields::new();
    L::draw(ListPage { ui, state: &state, account: &account, status: StatusCode::OK, message, kept: &kept }).await
}

/// An Approve button on the list (`POST {PATH}/{id}/approve`).
pub(crate) async fn approve_on_list<L: ProposalList>(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<L::Approve>,
    PageId(id): PageId,
) -> Response {
    let result = L::approve(&state, &account, &id).await;
    back_to_list::<L, _>(ui, &state, &account, result, "approved", &Fields::new()).await
}

/// How a form on a list of proposals ends: the list with `?{done}=1` (`proposed`,
/// `approved`), or the list again with the refusal and the form as it was sent.
pub(crate) async fn back_to_list<L: ProposalList, T>(
    ui: Ui,
    state: &AppState,
    account: &Account,
    result: Result<T, ServiceError>,
    done: &str,
    kept: &Fields,
) -> Response {
    let again = |ui, status, problem| L::draw(ListPage { ui, state, account, status, message: Some(problem), kept });
    redirect_or_refuse(ui, result, |_| format!("{}?{done}=1", L::PATH), again).await
}

/// A small form with one button that posts to `action` (an Approve button).
pub(crate) fn post_button(action: &str, label: &str) -> Markup {
    html!(
        "<form class=\"inline\" method=\"post\" action=\"{action}\"><button type=\"submit\">{label}</button></form>",
        action = action,
        label = label,
    )
}

/// What the last form did, after its redirect (`?approved=1`, `?proposed=1`).
pub(crate) fn done_message(ui: &Ui, query: &PageQuery) -> Option<Markup> {
    let said = if query.get("approved").is_some() {
        ui.t("您的批准已记录。", "Your approval is recorded.")
    } else if query.get("proposed").is_some() {
        ui.t("提议已提交，待另一位省级官员批准。", "Proposed; it waits for another provincial officer's approval.")
    } else {
        return None;
    };
    Some(html!("<p role=\"status\" class=\"done\">{said}</p>", said = said))
}

/// A service's refusal as a page shows it: the status the JSON API would answer and a
/// box saying why. The service's own words (English) are always shown; the common
/// four-eyes refusals get a Chinese gloss. `Err` for a fault of ours (logged, not shown).
// The error is the page to answer with, made once per request (as `Ui::posted`'s).
#[allow(clippy::result_large_err)]
pub(crate) fn refusal(ui: &Ui, e: ServiceError) -> Result<(StatusCode, Markup), Response> {
    let e = ApiError::from(e);
    let (status, _) = e.status_and_code();
    if status.is_server_error() {
        return Err(ui.internal("an officials' action", e));
    }
    let headline = match status {
        StatusCode::FORBIDDEN => ui.t("不允许", "Not allowed"),
        StatusCode::CONFLICT => ui.t("现在不能这样做", "Not possible now"),
        StatusCode::UNAUTHORIZED => ui.t("请重新登录", "Please sign in again"),
        _ => ui.t("请检查输入", "Please check the input"),
    };
    let message = e.to_string();
    let gloss = [
        ("the proposer of a", "提议人不能批准自己的提议，须由另外两位省级官员批准。"),
        ("you already approved", "您已批准过；第二个批准须来自另一位官员。"),
        ("only provincial-office officers approve", "只有省级防控办官员可以批准。"),
        ("already approved", "已经批准，无需再批。"),
        ("scenario expectations fail", "测试场景未全部通过，不能批准；请修改规则或场景后重新提议。"),
        ("outside your jurisdiction", "超出您的辖区。"),
        ("exists already", "该版本号已存在，请使用新的版本号。"),
    ]
    .iter()
    .find(|(english, _)| message.contains(english))
    .filter(|_| !ui.en())
    .map(|(_, zh)| html!("<br>{zh}", zh = *zh))
    .unwrap_or_default();
    let field = e.field().map(|f| html!(" (<code>{f}</code>)", f = f)).unwrap_or_default();
    let lang = Markup::literal(if ui.en() { "" } else { " lang=\"en\"" });
    let problem = html!(
        "<div role=\"alert\" class=\"problem\"><strong>{headline}</strong>{gloss}<br><span{lang}>{message}</span>{field}</div>",
        headline = headline,
        gloss = gloss,
        lang = lang,
        message = message,
        field = field,
    );
    Ok((status, problem))
}
