//! Officials' accounts on the pages: signing in and out, the session cookie, the check
//! every officials' page starts with (`official`), the staff home that lists what the
//! account may do, and the frame every officials' page shares (`officials`).
//!
//! A page asks the same question as the JSON API (`api::policy::allow_key`: the key
//! authenticates, the role is in the policy table) with the key taken from the
//! `hc_staff` cookie instead of an `Authorization` header, and then calls the same
//! service methods, which apply the finer rules (jurisdiction, four eyes). There is no
//! second, weaker path.

pub(crate) mod officials;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use healthcode_domain::Role;
use healthcode_service::ServiceError;
use healthcode_store::Account;

use crate::api::policy::{allow_key, permits, Action, POLICY};
use crate::pages::extract::{PageQuery, Posted};
use crate::pages::layout::{see_other, url_value, Ui};
use crate::pages::markup::{html, Markup};
use crate::{ApiError, AppState};

pub(crate) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/staff", get(home))
        .route("/staff/login", get(login_form).post(login))
        .route("/staff/logout", post(logout))
}

/// The cookie holding a staff session key (`HealthService::login`).
pub(crate) const SESSION_COOKIE: &str = "hc_staff";

/// Where each officials' page is, for the home page and the bar at the top of each page.
/// The first action is the one needed to open the page.
const PAGES: &[(&str, Action, &str, &str)] = &[
    ("/staff/rules", Action::ReadRuleProposals, "规则变更", "Rule changes"),
    ("/staff/designations", Action::ReadDesignationProposals, "风险地区认定", "Area designations"),
    ("/staff/decisions", Action::ReadDecisions, "管理决定", "Management decisions"),
    ("/staff/alarms", Action::ReadAlarms, "告警", "Alarms"),
    ("/staff/complaints", Action::ReadComplaints, "申诉", "Complaints"),
    ("/staff/traces", Action::TraceContacts, "密接排查", "Contact tracing"),
    ("/staff/devices", Action::ReadDevices, "核验设备", "Gate devices"),
    ("/staff/corrections", Action::SubmitEvidence, "更正请求", "Correction requests"),
    ("/staff/counter", Action::ReplaceResidentKey, "服务窗口", "Service counter"),
    ("/staff/declarations", Action::DecideDeclarations, "待核实申报", "Declarations to confirm"),
];

/// What an action means, for the staff home. Exhaustive on purpose: a new action in the
/// policy table needs its words here before it compiles.
fn action_words(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::SubmitEvidence => (
            "报送本部门的证据（数据接口），核查申诉所涉记录并撤回有误的记录",
            "Submit your department's evidence (data feed); check records complaints dispute and withdraw wrong ones",
        ),
        Action::Designate => ("提议风险地区认定", "Propose risk-area designations"),
        Action::ReadRejections => ("查看被拒收的数据", "Read rejected inputs"),
        Action::ProposeDecision => ("提议管理决定（赋红码、黄码）", "Propose management decisions (red or yellow)"),
        Action::ApproveDecision => {
            ("批准管理决定（须两位省级官员）", "Approve management decisions (two provincial officers)")
        }
        Action::ReadDecisions => ("查看管理决定", "Read management decisions"),
        Action::ReadDecisionPersons => (
            "在辖区内、说明用途后查看决定所列人员（记入本人的查询记录）",
            "Read whom a decision names within your jurisdiction, with a purpose (in their access logs)",
        ),
        Action::ReadAlarms => ("查看告警", "Read alarms"),
        Action::ProposeRules => ("提议新的赋码规则", "Propose new colour rules"),
        Action::ApproveRules => ("批准规则变更（须两位省级官员）", "Approve rule changes (two provincial officers)"),
        Action::ReadRuleProposals => ("查看规则版本与变更", "Read rule versions and changes"),
        Action::ApproveDesignation => ("批准他人提议的风险地区认定", "Approve designations others proposed"),
        Action::ReadDesignationProposals => ("查看风险地区认定提议", "Read designation proposals"),
        Action::TraceContacts => ("追踪并确认密切接触者", "Trace close contacts and confirm them"),
        Action::ApproveTrace => ("批准他人确认的密接", "Approve close contacts others confirmed"),
        Action::ReadPersonData => (
            "在辖区内、说明用途后查看个人健康码（记入本人的查询记录）",
            "Read a person's code within your jurisdiction, with a purpose (in their access log)",
        ),
        Action::ReplaceResidentKey => (
            "服务窗口：核验证件后为居民登记、发放密钥、打印长期卡",
            "Service counter: after checking papers, register a resident, give a key, print a card",
        ),
        Action::ReadComplaints => ("查看居民投诉", "Read residents' complaints"),
        Action::AnswerComplaints => ("答复居民投诉", "Answer residents' complaints"),
        Action::ReadDevices => ("查看场所核验设备", "Read venues' checkpoint devices"),
        Action::ApproveDevice => ("批准场所核验设备（可查询人员）", "Approve checkpoint devices (they look people up)"),
        Action::ManageThirdParties => ("登记或撤销第三方系统", "Register or revoke third-party systems"),
        Action::PostNotice => (
            "发布或撤销故障通报（所有页面和接口都会显示）",
            "Post or lift the incident notice (every page and answer carries it)",
        ),
        Action::ReadThirdParties => ("查看第三方系统登记", "Read third-party registrations"),
        Action::ThirdPartyCheck => ("查询已开通扩展功能的持卡人", "Check card holders who switched the function on"),
        Action::DecideDeclarations => (
            "核实或驳回用服务窗口发放的密钥所作的健康申报（须另一名工作人员）",
            "Confirm or refuse declarations made with keys given at a service counter (another official than the giver)",
        ),
        Action::ReadAgreements => ("查看本省的跨省互认协议及其确认", "Read the agreements to recognise other regions' codes"),
        Action::ConfirmAgreement => (
            "确认全国平台公布的互认协议（须两位省级官员）",
            "Confirm agreements the national hub published (two provincial officers)",
        ),
        Action::SubmitNational => (
            "向全国互认平台报送本省的重点人员记录及撤回",
            "Submit your province's key-person records, and their retractions, to the national hub",
        ),
        Action::CheckGroup => (
            "核验返岗专列、包车人员名单（须每人出示健康码），得知每人到达后的颜色",
            "Check a group's roster (each member shows their code) and learn each member's colour on arrival",
        ),
        Action::ReadGroupChecks => ("查看人员名单核验记录（不含个人）", "Read group checks (totals, no persons)"),
        Action::ReadExactCounts => (
            "在数据看板上查看各区县的精确人数（公众看到的是取整后的数字）",
            "See exact counts by county on the dashboard (the public sees them rounded)",
        ),
    }
}

pub(crate) fn role_words(ui: &Ui, role: Role) -> &'static str {
    match role {
        Role::DataSource => ui.t("数据来源部门", "data source"),
        Role::VenueOperator => ui.t("场所经营者", "venue operator"),
        Role::VerifierDevice => ui.t("核验设备", "verifier device"),
        Role::LocalOffice => ui.t("地方防控办", "local epidemic office"),
        Role::ProvincialOffice => ui.t("省级防控办", "provincial epidemic office"),
        Role::Auditor => ui.t("审计员", "auditor"),
        Role::ComplaintHandler => ui.t("投诉处理员", "complaint handler"),
        Role::ThirdParty => ui.t("第三方系统", "third-party system"),
        Role::Region => ui.t("省级平台（全国互认）", "region (national exchange)"),
        Role::GroupOrganiser => ui.t("返岗专列/包车组织方", "group organiser (employer, transport operator)"),
    }
}

/// The signed-in official who may take `action`, or the answer to give instead: to the
/// sign-in page when signed out (or the session ended), a 403 page saying so when the
/// role may not.
pub(crate) async fn official(ui: &Ui, state: &AppState, action: Action) -> Result<Account, Response> {
    let Some(key) = ui.cookie(SESSION_COOKIE).filter(|k| !k.is_empty()) else {
        return Err(to_sign_in(ui));
    };
    match allow_key(state, key, action).await {
        Ok(account) => Ok(account),
        Err(ApiError::Unauthorised(_)) => Err(to_sign_in(ui)),
        Err(ApiError::Forbidden(_)) => Err(not_for_this_role(ui)),
        Err(e) => Err(ui.internal("checking a staff session", e)),
    }
}

/// The signed-in official, if there is one and their role may take `action`: for a public
/// page that shows officials more (the dashboard's exact counts). Anyone else, signed out
/// or not, sees the public page.
pub(crate) async fn official_who_may(ui: &Ui, state: &AppState, action: Action) -> Option<Account> {
    let key = ui.cookie(SESSION_COOKIE).filter(|k| !k.is_empty())?;
    match allow_key(state, key, action).await {
        Ok(account) => Some(account),
        Err(ApiError::Unauthorised(_) | ApiError::Forbidden(_)) => None,
        Err(e) => {
            tracing::warn!("checking a staff session on a public page: {e}");
            None
        }
    }
}

/// The signed-in account, whatever its role (the staff home).
async fn signed_in(ui: &Ui, state: &AppState) -> Result<Account, Response> {
    let Some(key) = ui.cookie(SESSION_COOKIE).filter(|k| !k.is_empty()) else {
        return Err(to_sign_in(ui));
    };
    match state.service.accounts().authenticate(key).await {
        Ok(account) => Ok(account),
        Err(ServiceError::Unauthorised(_)) => Err(to_sign_in(ui)),
        Err(e) => Err(ui.internal("checking a staff session", e)),
    }
}

fn to_sign_in(ui: &Ui) -> Response {
    see_other(&format!("/staff/login?next={}", url_value(&return_to(ui.path()))))
}

/// The page to come back to after signing in: an Approve button's target (a session that
/// ended before the click) is only posted to, so the page that showed the button instead.
fn return_to(path: &str) -> String {
    let Some(item) = path.strip_suffix("/approve") else { return path.to_string() };
    match item.rsplit_once('/') {
        Some(("/staff/rules", _)) => item.to_string(),
        Some((list, _)) => list.to_string(),
        None => "/staff".to_string(),
    }
}

fn not_for_this_role(ui: &Ui) -> Response {
    let title = ui.t("无权访问", "Not allowed");
    let body = html!(
        "<h1>{title}</h1><p role=\"alert\" class=\"problem\">{why}</p><p><a href=\"/staff\">{back}</a></p>",
        title = title,
        why = ui.t(
            "您的账号角色无权使用此页面或执行此操作。如确有需要，请联系系统管理员。",
            "Your account's role may not use this page or take this action. Ask the administrator if you need it."
        ),
        back = ui.t("返回工作人员首页，查看您可以做的事", "Back to the officials' home: what you may do"),
    );
    ui.page(StatusCode::FORBIDDEN, title, body)
}

/// Where to go after signing in: one of the officials' pages, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if (path == "/staff" || path.starts_with("/staff/"))
                && path.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_')) =>
        {
            path.to_string()
        }
        _ => "/staff".to_string(),
    }
}

pub(crate) async fn login_form(ui: Ui, query: PageQuery) -> Response {
    login_page(ui.with_form(), StatusCode::OK, None, "", &safe_next(query.get("next")))
}

fn login_page(ui: Ui, status: StatusCode, problem: Option<&str>, username: &str, next: &str) -> Response {
    let title = ui.t("工作人员登录", "Officials' sign-in");
    let mut body = html!("<h1>{title}</h1>", title = title);
    if let Some(problem) = problem {
        body.push(html!("<p role=\"alert\" class=\"problem\"><strong>{problem}</strong></p>", problem = problem));
    }
    body.push(html!(
        r#"<p>{intro}</p><form method="post" action="/staff/login">
<input type="hidden" name="next" value="{next}">
<label for="username">{user}</label><input id="username" name="username" required maxlength="64" autocomplete="username" autocapitalize="none" spellcheck="false" value="{username}">
<label for="password">{pass}</label><input id="password" name="password" type="password" required maxlength="200" autocomplete="current-password">
<button type="submit">{submit}</button></form>"#,
        intro = ui.t(
            "防控办官员与审计员在此登录。居民、场所和核验人员无需登录。",
            "For epidemic-office officers and auditors. Residents, venues and verifiers need no account."
        ),
        next = next,
        user = ui.t("用户名", "Username"),
        pass = ui.t("密码", "Password"),
        username = username,
        submit = ui.t("登录", "Sign in"),
    ));
    ui.page(status, title, body)
}

/// Checks the password and keeps the session key in an HttpOnly, SameSite=Strict cookie
/// that lasts as long as the session. A wrong password and an unknown username get the
/// same answer (the service makes them take the same time, too).
pub(crate) async fn login(State(state): State<AppState>, Posted { ui, form }: Posted) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let next = safe_next(Some(field("next")));
    let username = field("username").trim();
    match state.service.accounts().login(username, field("password")).await {
        Ok((key, expires_at)) => {
            let seconds = (expires_at.as_millis() - state.service.now().as_millis()).max(0) / 1000;
            // Behind TLS this cookie should also be `Secure` (as the venue key's).
            let cookie = format!("{SESSION_COOKIE}={key}; Path=/; Max-Age={seconds}; HttpOnly; SameSite=Strict");
            let mut response = see_other(&next);
            match HeaderValue::from_str(&cookie) {
                Ok(value) => {
                    response.headers_mut().append(header::SET_COOKIE, value);
                    response
                }
                Err(e) => ui.internal("setting the session cookie", e),
            }
        }
        Err(ServiceError::Unauthorised(_)) => {
            let problem = ui.t("用户名或密码错误", "Wrong username or password");
            login_page(ui, StatusCode::UNAUTHORIZED, Some(problem), username, &next)
        }
        Err(e) => ui.internal("signing in", e),
    }
}

/// Ends the session on the server (the key stops working at once) and forgets the cookie.
pub(crate) async fn logout(State(state): State<AppState>, Posted { ui, .. }: Posted) -> Response {
    if let Some(key) = ui.cookie(SESSION_COOKIE).filter(|k| !k.is_empty()) {
        if let Err(e) = state.service.accounts().logout(key).await {
            return ui.internal("signing out", e);
        }
    }
    let mut response = see_other("/staff/login");
    let gone = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&gone).expect("a plain cookie"));
    response
}

/// The officials' home: who is signed in, the pages their role opens, and everything the
/// policy table lets the role do (some of it through the API only).
pub(crate) async fn home(ui: Ui, State(state): State<AppState>) -> Response {
    let account = match signed_in(&ui, &state).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let title = ui.t("工作台", "Officials' home");
    let jurisdiction = match account.jurisdiction.as_deref() {
        Some(j) => {
            html!(" · {word} {j}", word = ui.t("辖区", "jurisdiction"), j = crate::pages::places::place_label(&ui, j))
        }
        None => Markup::new(),
    };
    let mut body = html!(
        "<h1>{title}</h1><p>{signed_in}: <strong>{username}</strong> · {role}{jurisdiction}</p>",
        title = title,
        signed_in = ui.t("已登录", "Signed in as"),
        username = account.username,
        role = role_words(&ui, account.role),
        jurisdiction = jurisdiction,
    );
    body.push(html!("<h2>{pages}</h2><ul>", pages = ui.t("页面", "Pages")));
    for (path, _, zh, en) in PAGES.iter().filter(|(_, action, _, _)| permits(*action, account.role)) {
        body.push(html!("<li><a href=\"{path}\">{name}</a></li>", path = *path, name = ui.t(zh, en)));
    }
    body.push(html!(
        "<li><a href=\"/dashboard\">{dashboard}</a></li></ul><h2>{may}</h2><ul id=\"may-do\">",
        dashboard = ui.t("数据看板", "Dashboard"),
        may = ui.t("您的角色可以", "Your role may"),
    ));
    let mut any = false;
    for (action, roles) in POLICY {
        if roles.contains(&account.role) {
            let (zh, en) = action_words(*action);
            body.push(html!("<li>{words}</li>", words = ui.t(zh, en)));
            any = true;
        }
    }
    if !any {
        body.push(html!("<li>{words}</li>", words = ui.t("只能查看公开页面", "Read the public pages only")));
    }
    body.push_literal("</ul>");
    body.push(html!(
        "<p class=\"muted\">{note}</p>",
        note = ui.t(
            "每一次批准都记入透明日志；管理决定与规则变更须两位省级官员（均非提议人）批准。",
            "Every approval is written to the transparency log; decisions and rule changes need two provincial officers, neither the proposer."
        )
    ));
    officials::staff_page(ui, StatusCode::OK, &account, title, body)
}

#[cfg(test)]
mod tests {
    use super::{return_to, safe_next};

    #[test]
    fn after_signing_in_only_officials_pages() {
        assert_eq!(safe_next(Some("/staff/rules/rules0a1b")), "/staff/rules/rules0a1b");
        assert_eq!(safe_next(Some("/staff")), "/staff");
        for bad in ["//evil.example", "https://evil.example/staff", "/staffevil", "/dashboard", "/staff/../x", ""] {
            assert_eq!(safe_next(Some(bad)), "/staff", "{bad}");
        }
        assert_eq!(safe_next(None), "/staff");
    }

    #[test]
    fn a_post_whose_session_ended_comes_back_to_its_page() {
        assert_eq!(return_to("/staff/rules/rules0a1b/approve"), "/staff/rules/rules0a1b");
        assert_eq!(return_to("/staff/decisions/dec0a1b/approve"), "/staff/decisions");
        assert_eq!(return_to("/staff/designations/des0a1b/approve"), "/staff/designations");
        assert_eq!(return_to("/staff/rules/new"), "/staff/rules/new");
    }
}
