//! Contact tracing for health officers: find the persons admitted at the same venues as
//! a case, nearest in time first, then confirm those the investigation bears out. Nothing
//! changes colour before a provincial officer other than the one who confirmed approves
//! the confirmation; then it is the health department's evidence like any other.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_service::{ServiceError, Trace, VisitsStep};
use healthcode_store::Account;

use crate::api::policy::{may, permits, Action};
use crate::pages::accounts::officials::{four_eyes_note, redirect_or_refuse, staff_page};
use crate::pages::extract::{Official, PageId, Posted};
use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};
use crate::AppState;

/// A form with repeated names (the contacts' checkboxes), in order.
type Pairs = Vec<(String, String)>;

fn trace_form(ui: &Ui) -> Markup {
    html!(
        r#"<form method="post" action="/staff/traces"><label for="case">{case}</label><input id="case" name="case" required maxlength="64" autocomplete="off">
<label for="days">{days}</label><input id="days" name="days" type="number" min="1" max="28" value="14" inputmode="numeric">
<label for="window">{window}</label><input id="window" name="window" type="number" min="1" max="240" value="30" inputmode="numeric">
<button type="submit">{submit}</button></form>"#,
        case = ui.t("确诊病例的编号", "The confirmed case's person id"),
        days = ui.t("回溯天数（传染期）", "Days to look back (contagious period)"),
        window = ui.t("同场所时间窗口（分钟）", "Window at the same venue (minutes)"),
        submit = ui.t("查找密接", "Find contacts"),
    )
}

fn search_page(ui: Ui, account: &Account, status: StatusCode, problem: Option<Markup>) -> Response {
    let title = ui.t("场所密接排查", "Contact tracing from check-ins");
    let body = html!(
        "<h1>{title}</h1>{problem}<p class=\"muted\">{intro}</p>{form}",
        title = title,
        problem = problem.unwrap_or_default(),
        intro = ui.t(
            "列出与病例（阳性或确诊、疑似、无症状，且在您的辖区内）在同一场所、时间窗口内登记的人员。您的确认须经另一位省级官员批准后，才作为卫健部门的密接证据改变健康码。每次查找都记入相关人员的访问记录。",
            "Lists the persons admitted at the venues of a case (a positive test, or a confirmed, suspected or asymptomatic diagnosis, within your jurisdiction) within the window. Your confirmation changes codes, as the health department's close-contact evidence, only when another provincial officer approves it. Every search is in each listed person's access log."
        ),
        form = trace_form(&ui)
    );
    staff_page(ui, status, account, title, body)
}

pub(crate) async fn page(Official { ui, account, .. }: Official<may::TraceContacts>) -> Response {
    search_page(ui, &account, StatusCode::OK, None)
}

/// Whether this server's region takes part in the national exchange: only then may a
/// trace publish its case's visits.
fn national(state: &AppState) -> bool {
    matches!(state.service.national().role(), healthcode_service::national::Role::Region { .. })
}

fn trace_page(
    ui: Ui,
    account: &Account,
    trace: &Trace,
    national: bool,
    status: StatusCode,
    problem: Option<Markup>,
) -> Response {
    let title = ui.t("密接排查结果", "Contacts found");
    let mut body = html!(
        "<h1>{title}</h1>{problem}<p>{case_word} <code>{case}</code> · {from} – {to} · {window_word} {window} {minutes}</p>",
        title = title,
        problem = problem.unwrap_or_default(),
        case_word = ui.t("病例", "Case"),
        case = trace.case.as_str(),
        from = when(trace.from),
        to = when(trace.to),
        window_word = ui.t("窗口", "window"),
        window = trace.window_minutes,
        minutes = ui.t("分钟", "minutes"),
    );
    if let Some(pending) = &trace.pending {
        let action = if !permits(Action::ApproveTrace, account.role) {
            Markup::new()
        } else if let Some(why) = four_eyes_note(&ui, account, &pending.proposed_by, &[]) {
            html!("<p class=\"muted\">{why}</p>", why = why)
        } else {
            html!(
                "<form method=\"post\" action=\"/staff/traces/{id}/approve\"><button type=\"submit\" id=\"approve-trace\">{approve}</button></form>",
                id = trace.id,
                approve = ui.t("批准：这些人员成为密接", "Approve: these persons become close contacts")
            )
        };
        body.push(html!(
            "<article class=\"notice\" id=\"pending\"><h2>{heading}</h2><p>{by_word} {by} · {at} · {n} {persons}{publish}</p>{action}</article>",
            heading = ui.t("待批准的确认", "Confirmation awaiting approval"),
            by_word = ui.t("确认人：", "Confirmed by"),
            by = pending.proposed_by,
            at = when(pending.proposed_at),
            n = pending.persons.len(),
            persons = ui.t("人", "persons"),
            publish = match (&pending.withdraw_visits, pending.publish_visits) {
                (Some(reason), _) => format!(
                    "{}{reason}",
                    ui.t(" · 撤回已发布的病例到访场所：", " · the published visits to be withdrawn: ")
                ),
                (None, true) => ui
                    .t(" · 经国家平台发布病例到访场所", " · the case's visits to be published through the national hub")
                    .to_string(),
                (None, false) => String::new(),
            },
            action = action,
        ));
    }
    if trace.contacts.is_empty() {
        body.push(html!("<p>{none}</p>", none = ui.t("没有找到同场所的人员。", "Nobody was admitted near the case.")));
    }
    // One confirmation waits at a time: nothing is offered while one does.
    let publishable = national && trace.pending.is_none() && trace.may_publish_visits();
    let withdrawable = trace.pending.is_none() && trace.may_withdraw_visits();
    if trace.contacts.is_empty() && !publishable && !withdrawable {
        return staff_page(ui, status, account, title, body);
    }
    body.push(html!("<form method=\"post\" action=\"/staff/traces/{id}/confirm\">", id = trace.id));
    if !trace.contacts.is_empty() {
        contacts_table(&ui, trace, &mut body);
    }
    if !trace.visits.is_empty() {
        body.push(html!("<h2>{heading}</h2><ul id=\"visits\">", heading = ui.t("病例到访场所", "The case's visits")));
        for visit in &trace.visits {
            body.push(html!("<li>{venue} · {at}</li>", venue = visit.venue, at = when(visit.at)));
        }
        body.push_literal("</ul>");
        if withdrawable {
            body.push(html!(
                "<p><label for=\"withdraw-visits\">{label}</label><input type=\"text\" id=\"withdraw-visits\" name=\"withdraw_visits\" maxlength=\"500\"></p>",
                label = ui.t(
                    "撤回已发布的到访（填写原因，如病例排除；另一名官员批准后生效）",
                    "Withdraw the published visits (say why, e.g. the case was excluded; another official approves)"
                )
            ));
        }
        if publishable {
            body.push(html!(
                "<p><input type=\"checkbox\" id=\"publish-visits\" name=\"publish_visits\" value=\"yes\"><label class=\"inline\" for=\"publish-visits\">{label}</label></p>",
                label = ui.t(
                    "经国家平台发布这些到访（场所与时间窗，不含人员），供外省用自己的扫码记录查找来访者",
                    "Publish these visits through the national hub (venue and window, no person), so that other regions find their visitors among their own check-ins"
                )
            ));
        }
    }
    body.push(html!(
        "<button type=\"submit\">{submit}</button></form>",
        submit = ui.t("提交确认（待另一名官员批准）", "Confirm (another official approves)")
    ));
    staff_page(ui, status, account, title, body)
}

/// The contacts found, each with a box to confirm them (or what became of them).
fn contacts_table(ui: &Ui, trace: &Trace, body: &mut Markup) {
    body.push(html!(
        "<div class=\"scroll\"><table id=\"contacts\"><tr><th scope=\"col\">{confirm}</th><th scope=\"col\">{person}</th><th scope=\"col\">{venue}</th><th scope=\"col\">{times}</th><th scope=\"col\">{gap}</th></tr>",
        confirm = ui.t("确认", "Confirm"),
        person = ui.t("人员", "Person"),
        venue = ui.t("场所", "Venue"),
        times = ui.t("病例 / 此人到场", "Case / contact admitted"),
        gap = ui.t("相隔", "Gap"),
    ));
    for (i, c) in trace.contacts.iter().enumerate() {
        let pending = trace.pending.as_ref().is_some_and(|p| p.persons.contains(&c.person));
        let check = if trace.confirmed.contains(&c.person) {
            Markup::text(ui.t("已确认", "confirmed"))
        } else if pending {
            Markup::text(ui.t("待批准", "awaiting approval"))
        } else {
            html!(
                "<input type=\"checkbox\" id=\"c{i}\" name=\"person\" value=\"{person}\"><label class=\"inline\" for=\"c{i}\">{contact}</label>",
                i = i,
                person = c.person.as_str(),
                contact = ui.t("密接", "contact")
            )
        };
        body.push(html!(
            "<tr><td>{check}</td><td><code>{person}</code></td><td>{venue}</td><td>{case_at} / {contact_at}</td><td>{gap} {min}</td></tr>",
            check = check,
            person = c.person.as_str(),
            venue = c.venue,
            case_at = when(c.case_at),
            contact_at = when(c.contact_at),
            gap = c.gap_minutes,
            min = ui.t("分钟", "min"),
        ));
    }
    body.push_literal("</table></div>");
}

pub(crate) async fn trace(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::TraceContacts>,
    Posted { ui, form }: Posted<Pairs>,
) -> Result<Response, Response> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let Some(case) = field("case").and_then(|c| PersonId::parse(&c).ok()) else {
        return Err(ui.error(StatusCode::UNPROCESSABLE_ENTITY, "病例编号无效", "not a valid person id"));
    };
    let days: i64 = field("days").and_then(|d| d.parse().ok()).unwrap_or(14);
    let window: i64 = field("window").and_then(|w| w.parse().ok()).unwrap_or(30);
    let to = state.service.now();
    let from = Timestamp::from_millis(to.as_millis() - days.clamp(1, 28) * 86_400_000);
    let result = state.service.governance().trace_contacts(&account, case, from, to, window).await;
    let account = &account;
    Ok(redirect_or_refuse(
        ui,
        result,
        |trace| format!("/staff/traces/{}", trace.id),
        move |ui, status, problem| async move { search_page(ui, account, status, Some(problem)) },
    )
    .await)
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::TraceContacts>,
    PageId(id): PageId,
) -> Response {
    match state.service.governance().trace(&account, &id).await {
        Ok(Some(trace)) => trace_page(ui, &account, &trace, national(&state), StatusCode::OK, None),
        Ok(None) => ui.error(StatusCode::NOT_FOUND, "没有这次排查", "no such trace"),
        Err(e) => ui.internal("reading a trace", e),
    }
}

pub(crate) async fn confirm(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::TraceContacts>,
    PageId(id): PageId,
    Posted { ui, form }: Posted<Pairs>,
) -> Response {
    let withdraw = form.iter().find(|(k, v)| k == "withdraw_visits" && !v.trim().is_empty()).map(|(_, v)| v.clone());
    let visits = match withdraw {
        Some(reason) => VisitsStep::Withdraw(reason),
        None if form.iter().any(|(k, v)| k == "publish_visits" && v == "yes") => VisitsStep::Publish,
        None => VisitsStep::Unchanged,
    };
    let persons: Vec<PersonId> =
        form.into_iter().filter(|(k, _)| k == "person").filter_map(|(_, v)| PersonId::parse(&v).ok()).collect();
    let result = state.service.governance().confirm_trace(&account, &id, &persons, visits).await;
    after(ui, &state, &account, &id, result).await
}

/// The same service call as `POST /v1/traces/{id}/approve`.
pub(crate) async fn approve(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::ApproveTrace>,
    PageId(id): PageId,
) -> Response {
    let result = state.service.governance().approve_trace(&account, &id).await;
    after(ui, &state, &account, &id, result).await
}

/// After a confirmation or an approval: back to the trace, or the trace with the refusal.
async fn after(ui: Ui, state: &AppState, account: &Account, id: &str, result: Result<Trace, ServiceError>) -> Response {
    redirect_or_refuse(
        ui,
        result,
        |_| format!("/staff/traces/{id}"),
        |ui, status, problem| async move {
            match state.service.governance().trace(account, id).await {
                Ok(Some(trace)) => trace_page(ui, account, &trace, national(state), status, Some(problem)),
                _ => ui.page(status, ui.t("错误", "Error"), problem),
            }
        },
    )
    .await
}
