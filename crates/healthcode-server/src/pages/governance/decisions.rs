//! Management decisions for officials (R5/Y3): the decisions, newest first, with their
//! Approve buttons, and the form to propose one. A decision changes no code until two
//! provincial officers, neither the proposer, approve it; each action is the JSON API's
//! service call behind the same policy check.

use axum::extract::State;
use axum::response::Response;
use healthcode_domain::{DecisionColour, PersonId, Timestamp, ValidationError};
use healthcode_service::{NewDecision, ServiceError};
use healthcode_store::{Account, Decision, DecisionStatus};

use crate::api::policy::{may, permits, Action};
use crate::pages::accounts::officials::{
    back_to_list, four_eyes_note, post_button, staff_page, ListPage, ProposalList,
};
use crate::pages::extract::{Fields, Official, Posted};
use crate::pages::governance::rules::{local_minute, parse_local_minute};
use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};
use crate::AppState;

/// How many decisions the list shows (the newest).
const SHOWN: usize = 200;

/// The list, its Approve buttons and its form (`ProposalList`).
pub(crate) struct Decisions;

impl ProposalList for Decisions {
    type Read = may::ReadDecisions;
    const PATH: &'static str = "/staff/decisions";

    type Approve = may::ApproveDecision;
    type Approved = Decision;

    async fn approve(state: &AppState, by: &Account, id: &str) -> Result<Decision, ServiceError> {
        state.service.governance().approve_decision(by, id).await
    }

    async fn draw(ListPage { ui, state, account, status, message, kept }: ListPage<'_>) -> Response {
        let decisions = match state.service.governance().decisions(SHOWN).await {
            Ok(d) => d,
            Err(e) => return ui.internal("listing decisions", e),
        };
        let title = ui.t("管理决定", "Management decisions");
        let mut body = html!(
            "<h1>{title}</h1>{message}<p>{intro}</p>",
            title = title,
            message = message.unwrap_or_default(),
            intro = ui.t(
                "管理决定须写明法律依据和期限，经两位省级官员（均非提议人）批准后，才作为证据改变所列人员的健康码。",
                "A decision states its legal basis and term; only when two provincial officers, neither the proposer, approve it does it become evidence that changes the codes of the persons it names."
            )
        );
        if permits(Action::ProposeDecision, account.role) {
            let default_until = local_minute(Timestamp::from_millis(state.service.now().as_millis() + 7 * 86_400_000));
            body.push(decision_form(&ui, kept, &default_until));
        }
        body.push(html!("<h2>{heading}</h2>", heading = ui.t("决定（最新在前）", "Decisions, newest first")));
        if decisions.is_empty() {
            body.push(html!("<p>{none}</p>", none = ui.t("尚无管理决定。", "No management decisions yet.")));
            return staff_page(ui, status, account, title, body);
        }
        let may_approve = permits(Action::ApproveDecision, account.role);
        for d in &decisions {
            let colour = match d.colour {
                DecisionColour::Red => ui.t("红码", "red"),
                DecisionColour::Yellow => ui.t("黄码", "yellow"),
            };
            let approvers = if d.approvals.is_empty() {
                Markup::text(ui.t("（尚无）", "(none yet)"))
            } else {
                Markup::join(d.approvals.iter().map(|a| html!("{by} ({at})", by = a.by, at = when(a.at))), ", ")
            };
            let status_words = match d.status {
                DecisionStatus::Applied => Markup::text(ui.t("已批准并执行", "approved and applied")),
                DecisionStatus::Proposed => {
                    html!("{awaiting} ({n}/2)", awaiting = ui.t("待批准", "awaiting approval"), n = d.approvals.len())
                }
            };
            let jurisdiction = match d.jurisdiction.as_deref() {
                Some(j) => html!(" · {word} {j}", word = ui.t("辖区", "jurisdiction"), j = j),
                None => Markup::new(),
            };
            body.push(html!(
                "<article class=\"notice\" id=\"{id}\"><h3>{colour} · {persons} {persons_word}</h3><dl><dt>{basis_word}</dt><dd>{basis}</dd><dt>{until_word}</dt><dd>{until}</dd><dt>{status_word}</dt><dd>{status}</dd><dt>{proposed_word}</dt><dd>{proposed_by} · {proposed_at}{jurisdiction}</dd><dt>{approvers_word}</dt><dd>{approvers}</dd></dl>",
                id = d.id,
                colour = colour,
                persons = d.persons,
                persons_word = ui.t("人", "persons"),
                basis_word = ui.t("法律依据", "Legal basis"),
                basis = d.basis,
                until_word = ui.t("有效期至", "Until"),
                until = when(d.until),
                status_word = ui.t("状态", "Status"),
                status = status_words,
                proposed_word = ui.t("提议", "Proposed"),
                proposed_by = d.proposed_by,
                proposed_at = when(d.proposed_at),
                jurisdiction = jurisdiction,
                approvers_word = ui.t("批准人", "Approved by"),
                approvers = approvers,
            ));
            if may_approve && d.status == DecisionStatus::Proposed {
                body.push(match four_eyes_note(&ui, account, &d.proposed_by, &d.approvals) {
                    Some(why) => html!("<p class=\"muted\">{why}</p>", why = why),
                    None => post_button(
                        &format!("/staff/decisions/{}/approve", d.id),
                        ui.t("批准此决定", "Approve this decision"),
                    ),
                });
            }
            body.push_literal("</article>");
        }
        staff_page(ui, status, account, title, body)
    }
}

/// The form to propose a decision: persons by their ids, a colour, a term and the legal
/// basis. The service checks them all (registered persons, 1 to 1,000 of them, at most
/// 28 days, a basis of 4 to 500 characters).
fn decision_form(ui: &Ui, kept: &Fields, default_until: &str) -> Markup {
    let kept_value = |name: &str| kept.get(name).map(String::as_str);
    let red = Markup::literal(if kept_value("colour") == Some("red") { " selected" } else { "" });
    html!(
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
        persons_value = kept_value("persons").unwrap_or(""),
        colour = ui.t("颜色", "Colour"),
        yellow = ui.t("黄码", "Yellow"),
        red = red,
        red_words = ui.t("红码", "Red"),
        until = ui.t("有效期至", "Until"),
        until_hint = ui.t("（北京时间，不超过 28 天）", "(Beijing time, at most 28 days)"),
        until_value = kept_value("until").unwrap_or(default_until),
        basis = ui.t("法律依据", "Legal basis"),
        basis_hint = ui.t("（4 至 500 字）", "(4 to 500 characters)"),
        basis_value = kept_value("basis").unwrap_or(""),
        submit = ui.t("提交提议", "Propose"),
    )
}

/// The decision form's target: the same service call as `POST /v1/decisions`.
pub(crate) async fn propose(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::ProposeDecision>,
    Posted { ui, form }: Posted,
) -> Response {
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
        state.service.governance().propose_decision(&account, new).await
    }
    .await;
    back_to_list::<Decisions, _>(ui, &state, &account, result, "proposed", &form).await
}
