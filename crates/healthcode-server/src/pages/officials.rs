//! The officials' lists with their forms and Approve buttons: area designations (made by
//! the provincial office, proposed by local offices), management decisions (R5/Y3), and
//! the alarms raised for auditors. Each action is the JSON API's service call behind the
//! same policy check (`staff::official`).

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use healthcode_domain::{AreaCode, DecisionColour, PersonId, RiskLevel, ValidationError};
use healthcode_service::{NewDecision, ServiceError};
use healthcode_store::{Account, DecisionStatus};

use super::layout::{esc, see_other, when, Ui};
use super::rule_changes::{local_minute, parse_local_minute};
use super::staff::{four_eyes_note, official, posted_official, refusal, staff_page};
use crate::api::policy::{permits, Action};
use crate::api::{query_params, RawQuery};
use crate::AppState;

/// How many decisions and alarms a list shows (the newest).
const SHOWN: usize = 200;

fn approve_button(ui: &Ui, action: &str, label_zh: &str, label_en: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
        esc(action),
        ui.t(label_zh, label_en)
    )
}

/// What the last form did, after its redirect (`?approved=1`, `?proposed=1`).
fn done_message(ui: &Ui, query: RawQuery) -> Option<String> {
    let query = query_params(query).ok().unwrap_or_default();
    let said = if query.contains_key("approved") {
        ui.t("您的批准已记录。", "Your approval is recorded.")
    } else if query.contains_key("proposed") {
        ui.t("提议已提交，待另一位省级官员批准。", "Proposed; it waits for another provincial officer's approval.")
    } else {
        return None;
    };
    Some(format!("<p role=\"status\" class=\"done\">{said}</p>"))
}

type Kept = HashMap<String, String>;

fn form_fields(form: Result<Form<Kept>, FormRejection>) -> Kept {
    form.map(|Form(f)| f).unwrap_or_default()
}

pub(crate) async fn designations(ui: Ui, State(state): State<AppState>, query: RawQuery) -> Response {
    let account = match official(&ui, &state, Action::ReadDesignationProposals).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let message = done_message(&ui, query);
    designations_page(ui, &state, &account, StatusCode::OK, message, &Kept::new()).await
}

async fn designations_page(
    ui: Ui,
    state: &AppState,
    account: &Account,
    status: StatusCode,
    message: Option<String>,
    kept: &Kept,
) -> Response {
    let proposals = match state.service.designation_proposals().await {
        Ok(p) => p,
        Err(e) => return ui.internal("listing designation proposals", e),
    };
    let title = ui.t("风险地区认定", "Area designations");
    let mut body = format!(
        "<h1>{title}</h1>{}<p>{}</p>",
        message.unwrap_or_default(),
        ui.t(
            "每项认定（包括升级为红码地区）都须经一位省级官员（非提议人）批准后才生效。",
            "Every designation (an escalation to red included) takes effect only when a provincial officer other than the proposer approves it."
        )
    );
    if permits(Action::Designate, account.role) {
        body.push_str(&designation_form(&ui, kept));
    }
    body.push_str(&designations_in_force(&ui, &state.service.designations()));
    let _ = write!(body, "<h2>{}</h2>", ui.t("认定提议", "Proposals"));
    if proposals.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("尚无认定提议。", "No designation proposals yet."));
        return staff_page(ui, status, account, &title, &body);
    }
    // One card each: four columns do not fit a phone in large text.
    let may_approve = permits(Action::ApproveDesignation, account.role);
    for p in &proposals {
        let red = if p.escalate_to_red {
            format!(" · <strong>{}</strong>", ui.t("升级为红码地区", "escalated to red"))
        } else {
            String::new()
        };
        let approval = match (&p.approved_by, p.approved_at) {
            (Some(by), Some(at)) => {
                format!("{} {} · {}", ui.t("已批准：", "Approved by"), esc(by), esc(&when(at)))
            }
            _ if may_approve => match four_eyes_note(&ui, account, &p.proposed_by, &[]) {
                Some(why) => format!("{}<br><span class=\"muted\">{why}</span>", ui.t("待批准", "Awaiting approval")),
                None => format!(
                    "{}<br>{}",
                    ui.t("待批准", "Awaiting approval"),
                    approve_button(&ui, &format!("/staff/designations/{}/approve", p.id), "批准此认定", "Approve")
                ),
            },
            _ => ui.t("待批准", "Awaiting approval"),
        };
        let _ = write!(
            body,
            "<article class=\"notice\" id=\"{}\"><h3>{} · {}{red}</h3><p>{} {} · {}</p><p>{approval}</p></article>",
            esc(&p.id),
            esc(p.area.as_str()),
            level_words(&ui, p.level),
            ui.t("提议：", "Proposed by"),
            esc(&p.proposed_by),
            esc(&when(p.proposed_at)),
        );
    }
    staff_page(ui, status, account, &title, &body)
}

/// Each area's latest designation (a later one for the same code replaces it), newest
/// first.
fn designations_in_force(ui: &Ui, all: &[healthcode_domain::Event<healthcode_domain::AreaRisk>]) -> String {
    let mut latest: HashMap<String, &healthcode_domain::Event<healthcode_domain::AreaRisk>> = HashMap::new();
    // `all` is sorted by (at, seq): the last one of each area wins.
    for d in all {
        latest.insert(d.body.area.normal().to_string(), d);
    }
    let mut latest: Vec<_> = latest.into_values().collect();
    latest.sort_by_key(|d| std::cmp::Reverse((d.at, d.seq)));
    let mut out =
        format!("<h2>{}</h2>", ui.t("现行认定（每个地区最新的一次）", "Designations in force (each area's latest)"));
    if latest.is_empty() {
        let _ = write!(out, "<p>{}</p>", ui.t("尚无风险地区认定。", "No area has been designated."));
        return out;
    }
    let _ = write!(
        out,
        "<div class=\"scroll\"><table id=\"in-force\"><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
        ui.t("地区", "Area"),
        ui.t("风险等级", "Risk level"),
        ui.t("认定时间", "Since"),
    );
    for d in latest.iter().take(SHOWN) {
        let red = if d.body.escalate_to_red {
            format!(" · <strong>{}</strong>", ui.t("红码地区", "red"))
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<tr data-area=\"{area}\"><td>{area}</td><td>{}{red}</td><td>{}</td></tr>",
            level_words(ui, d.body.level),
            esc(&when(d.at)),
            area = esc(d.body.area.as_str()),
        );
    }
    out.push_str("</table></div>");
    out
}

fn level_words(ui: &Ui, level: RiskLevel) -> String {
    match level {
        RiskLevel::High => ui.t("高风险", "high"),
        RiskLevel::Medium => ui.t("中风险", "medium"),
        RiskLevel::Low => ui.t("低风险", "low"),
    }
}

/// The designation form: every office proposes (`POST /v1/designations` does the same).
fn designation_form(ui: &Ui, kept: &Kept) -> String {
    let kept_value = |name: &str| esc(kept.get(name).map(String::as_str).unwrap_or(""));
    let chosen = kept.get("level").map(String::as_str).unwrap_or("high");
    let mut levels = String::new();
    for (value, zh, en) in [("high", "高风险", "high"), ("medium", "中风险", "medium"), ("low", "低风险", "low")]
    {
        let selected = if value == chosen { " selected" } else { "" };
        let _ = write!(levels, "<option value=\"{value}\"{selected}>{}</option>", ui.t(zh, en));
    }
    format!(
        r#"<h2>{heading}</h2><p>{explain}</p><form method="post" action="/staff/designations">
<label for="area">{area} <span class="muted">{area_hint}</span></label><input id="area" name="area" required maxlength="12" inputmode="numeric" autocomplete="off" value="{area_value}">
<label for="level">{level}</label><select id="level" name="level">{levels}</select>
<p><input type="checkbox" id="escalate_to_red" name="escalate_to_red" value="yes"{escalate}><label class="inline" for="escalate_to_red">{escalate_label}</label></p>
<button type="submit" id="designate">{submit}</button></form>"#,
        heading = ui.t("提议认定风险地区", "Propose a risk area"),
        explain = ui.t(
            "认定是提议：另一位省级官员批准后才生效，并记入透明日志；只能在您的辖区内。",
            "A designation is a proposal: it takes effect, and is logged, when another provincial officer approves it; only inside your jurisdiction.",
        ),
        area = ui.t("地区代码", "Area code"),
        area_hint = ui.t("（6、9 或 12 位，如 330106）", "(6, 9 or 12 digits, e.g. 330106)"),
        area_value = kept_value("area"),
        level = ui.t("风险等级", "Risk level"),
        escalate = if kept.contains_key("escalate_to_red") { " checked" } else { "" },
        escalate_label = ui.t("升级为红码地区", "Escalate the area to red"),
        submit = ui.t("提交提议", "Propose"),
    )
}

/// The designation form's target: a proposal (`propose_designation`, as
/// `POST /v1/designations`), which a provincial officer other than the proposer approves.
/// The service checks the jurisdiction.
pub(crate) async fn designate(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Kept>, FormRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::Designate).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = form_fields(form);
    let field = |name: &str| form.get(name).map(|v| v.trim()).unwrap_or("");
    let escalate = form.contains_key("escalate_to_red");
    let result = async {
        let area = AreaCode::parse(field("area")).map_err(|m| ValidationError::field("area", m))?;
        let level = RiskLevel::parse(field("level"))
            .ok_or_else(|| ValidationError::field("level", format!("a level is one of {}", RiskLevel::choices())))?;
        state.service.propose_designation(&account, area, level, escalate).await?;
        Ok::<_, ServiceError>("/staff/designations?proposed=1")
    }
    .await;
    match result {
        Ok(next) => see_other(next),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => designations_page(ui, &state, &account, status, Some(problem), &form).await,
            Err(response) => response,
        },
    }
}

/// The same service call as `POST /v1/designations/proposals/{id}/approve`.
pub(crate) async fn approve_designation(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::ApproveDesignation).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(Path(id)) = path else {
        return ui.error(StatusCode::NOT_FOUND, "没有这个认定提议", "no such designation proposal");
    };
    match state.service.approve_designation(&account, &id).await {
        Ok(_) => see_other("/staff/designations?approved=1"),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => designations_page(ui, &state, &account, status, Some(problem), &Kept::new()).await,
            Err(response) => response,
        },
    }
}

pub(crate) async fn decisions(ui: Ui, State(state): State<AppState>, query: RawQuery) -> Response {
    let account = match official(&ui, &state, Action::ReadDecisions).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let message = done_message(&ui, query);
    decisions_page(ui, &state, &account, StatusCode::OK, message, &Kept::new()).await
}

async fn decisions_page(
    ui: Ui,
    state: &AppState,
    account: &Account,
    status: StatusCode,
    message: Option<String>,
    kept: &Kept,
) -> Response {
    let decisions = match state.service.decisions(SHOWN).await {
        Ok(d) => d,
        Err(e) => return ui.internal("listing decisions", e),
    };
    let title = ui.t("管理决定", "Management decisions");
    let mut body = format!(
        "<h1>{title}</h1>{}<p>{}</p>",
        message.unwrap_or_default(),
        ui.t(
            "管理决定须写明法律依据和期限，经两位省级官员（均非提议人）批准后，才作为证据改变所列人员的健康码。",
            "A decision states its legal basis and term; only when two provincial officers, neither the proposer, approve it does it become evidence that changes the codes of the persons it names."
        )
    );
    if permits(Action::ProposeDecision, account.role) {
        let default_until =
            local_minute(healthcode_domain::Timestamp::from_millis(state.service.now().as_millis() + 7 * 86_400_000));
        body.push_str(&decision_form(&ui, kept, &default_until));
    }
    let _ = write!(body, "<h2>{}</h2>", ui.t("决定（最新在前）", "Decisions, newest first"));
    if decisions.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("尚无管理决定。", "No management decisions yet."));
        return staff_page(ui, status, account, &title, &body);
    }
    let may_approve = permits(Action::ApproveDecision, account.role);
    for d in &decisions {
        let colour = match d.colour {
            DecisionColour::Red => ui.t("红码", "red"),
            DecisionColour::Yellow => ui.t("黄码", "yellow"),
        };
        let approvers: Vec<String> =
            d.approvals.iter().map(|a| format!("{} ({})", esc(&a.by), esc(&when(a.at)))).collect();
        let state_words = match d.status {
            DecisionStatus::Applied => ui.t("已批准并执行", "approved and applied"),
            DecisionStatus::Proposed => format!("{} ({}/2)", ui.t("待批准", "awaiting approval"), d.approvals.len()),
        };
        let _ = write!(
            body,
            "<article class=\"notice\" id=\"{id}\"><h3>{colour} · {} {}</h3><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{} · {}{}</dd><dt>{}</dt><dd>{}</dd></dl>",
            d.persons,
            ui.t("人", "persons"),
            ui.t("法律依据", "Legal basis"),
            esc(&d.basis),
            ui.t("有效期至", "Until"),
            esc(&when(d.until)),
            ui.t("状态", "Status"),
            state_words,
            ui.t("提议", "Proposed"),
            esc(&d.proposed_by),
            esc(&when(d.proposed_at)),
            d.jurisdiction.as_deref().map(|j| format!(" · {} {}", ui.t("辖区", "jurisdiction"), esc(j))).unwrap_or_default(),
            ui.t("批准人", "Approved by"),
            if approvers.is_empty() { ui.t("（尚无）", "(none yet)") } else { approvers.join(", ") },
            id = esc(&d.id),
        );
        if may_approve && d.status == DecisionStatus::Proposed {
            match four_eyes_note(&ui, account, &d.proposed_by, &d.approvals) {
                Some(why) => {
                    let _ = write!(body, "<p class=\"muted\">{why}</p>");
                }
                None => body.push_str(&approve_button(
                    &ui,
                    &format!("/staff/decisions/{}/approve", d.id),
                    "批准此决定",
                    "Approve this decision",
                )),
            }
        }
        body.push_str("</article>");
    }
    staff_page(ui, status, account, &title, &body)
}

/// The form to propose a decision: persons by their ids, a colour, a term and the legal
/// basis. The service checks them all (registered persons, 1 to 1,000 of them, at most
/// 28 days, a basis of 4 to 500 characters).
fn decision_form(ui: &Ui, kept: &Kept, default_until: &str) -> String {
    let kept_value = |name: &str, default: &str| esc(kept.get(name).map(String::as_str).unwrap_or(default));
    let red = if kept.get("colour").map(String::as_str) == Some("red") { " selected" } else { "" };
    format!(
        r#"<h2>{heading}</h2><p>{explain}</p><form method="post" action="/staff/decisions">
<label for="persons">{persons} <span class="muted">{persons_hint}</span></label><textarea id="persons" name="persons" rows="4" required spellcheck="false">{persons_value}</textarea>
<label for="colour">{colour}</label><select id="colour" name="colour"><option value="yellow">{yellow}</option><option value="red"{red}>{red_words}</option></select>
<label for="until">{until} <span class="muted">{until_hint}</span></label><input id="until" name="until" type="datetime-local" required value="{until_value}">
<label for="basis">{basis} <span class="muted">{basis_hint}</span></label><textarea id="basis" name="basis" rows="3" required maxlength="500">{basis_value}</textarea>
<button type="submit" id="propose-decision">{submit}</button></form>"#,
        heading = ui.t("提议管理决定", "Propose a management decision"),
        explain = ui.t(
            "决定在两位省级官员（均非提议人）批准前不改变任何健康码；被列人员会看到其法律依据。",
            "A decision changes no code until two provincial officers, neither the proposer, approve it; the persons named see its legal basis."
        ),
        persons = ui.t("人员编号", "Person ids"),
        persons_hint = ui.t("（每行一个，最多 1000 人）", "(one per line, at most 1,000)"),
        persons_value = kept_value("persons", ""),
        colour = ui.t("颜色", "Colour"),
        yellow = ui.t("黄码", "Yellow"),
        red_words = ui.t("红码", "Red"),
        until = ui.t("有效期至", "Until"),
        until_hint = ui.t("（北京时间，不超过 28 天）", "(Beijing time, at most 28 days)"),
        until_value = kept_value("until", default_until),
        basis = ui.t("法律依据", "Legal basis"),
        basis_hint = ui.t("（4 至 500 字）", "(4 to 500 characters)"),
        basis_value = kept_value("basis", ""),
        submit = ui.t("提交提议", "Propose"),
    )
}

/// The decision form's target: the same service call as `POST /v1/decisions`.
pub(crate) async fn propose_decision(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Kept>, FormRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::ProposeDecision).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = form_fields(form);
    let field = |name: &str| form.get(name).map(|v| v.trim()).unwrap_or("");
    let result = async {
        let persons = field("persons")
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|p| !p.is_empty())
            .map(PersonId::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let colour = DecisionColour::parse(field("colour"))
            .ok_or_else(|| ValidationError::field("colour", "a decision's colour is red or yellow"))?;
        let until = parse_local_minute("until", field("until"))?;
        let new = NewDecision { persons, colour, until, basis: field("basis").to_string() };
        state.service.propose_decision(&account, new).await
    }
    .await;
    match result {
        Ok(_) => see_other("/staff/decisions?proposed=1"),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => decisions_page(ui, &state, &account, status, Some(problem), &form).await,
            Err(response) => response,
        },
    }
}

/// The same service call as `POST /v1/decisions/{id}/approve`.
pub(crate) async fn approve_decision(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::ApproveDecision).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(Path(id)) = path else {
        return ui.error(StatusCode::NOT_FOUND, "没有这个管理决定", "no such decision");
    };
    match state.service.approve_decision(&account, &id).await {
        Ok(_) => see_other("/staff/decisions?approved=1"),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => decisions_page(ui, &state, &account, status, Some(problem), &Kept::new()).await,
            Err(response) => response,
        },
    }
}

/// The alarms, newest first: mass decisions, bursts of small ones, unusual approvers,
/// forwarded venue codes. Each is also in the transparency log.
pub(crate) async fn alarms(ui: Ui, State(state): State<AppState>) -> Response {
    let account = match official(&ui, &state, Action::ReadAlarms).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    // The store reads alarms oldest first after an id; the page wants the newest, and
    // alarms are few (each one is an event worth an auditor's time), so read them all.
    let mut alarms = Vec::new();
    let mut after = 0;
    loop {
        let page = match state.service.alarms(after, 1000).await {
            Ok(page) => page,
            Err(e) => return ui.internal("listing alarms", e),
        };
        let Some(last) = page.last() else { break };
        after = last.id;
        let full = page.len() == 1000;
        alarms.extend(page);
        if alarms.len() > SHOWN {
            alarms.drain(..alarms.len() - SHOWN);
        }
        if !full {
            break;
        }
    }
    alarms.reverse();
    let title = ui.t("告警", "Alarms");
    let mut body = format!("<h1>{title}</h1>");
    if alarms.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("没有告警。", "No alarms."));
        return staff_page(ui, StatusCode::OK, &account, &title, &body);
    }
    let _ = write!(
        body,
        "<div class=\"scroll\"><table id=\"alarms\"><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
        ui.t("时间", "At"),
        ui.t("类型", "Kind"),
        ui.t("辖区", "Jurisdiction"),
        ui.t("详情", "Detail"),
    );
    for a in &alarms {
        let kind = match a.alarm.kind.as_str() {
            "mass_decision" => ui.t("大规模管理决定", "mass decision"),
            "decision_burst" => ui.t("短时间内大量管理决定", "burst of decisions"),
            "approver_share" => ui.t("同一官员批准比例过高", "one approver's unusual share"),
            "forwarded_venue_code" => ui.t("场所码被转发", "forwarded venue code"),
            "colour_burst" => ui.t("短时间内大量赋红黄码（按来源）", "burst of red or yellow codes, by origin"),
            "gate_lookups" => ui.t("核验设备查询过多", "a device looking up too many persons"),
            "operator_rules" => ui.t("运维人员启用未经批准的规则", "rules put in force by the operator"),
            other => esc(other),
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{kind}<br><code>{}</code></td><td>{}</td><td>{}{}</td></tr>",
            esc(&when(a.alarm.at)),
            esc(&a.alarm.kind),
            esc(&a.alarm.jurisdiction),
            esc(&a.alarm.detail),
            a.alarm
                .log_index
                .map(|i| format!(" <span class=\"muted\">({} #{i})</span>", ui.t("透明日志", "log entry")))
                .unwrap_or_default(),
        );
    }
    body.push_str("</table></div>");
    staff_page(ui, StatusCode::OK, &account, &title, &body)
}
