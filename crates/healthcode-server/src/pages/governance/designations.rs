//! Area designations for officials: the designations in force, the proposals with their
//! Approve buttons, and the form to propose one. A designation (an escalation to red
//! included) takes effect only when a provincial officer other than the proposer
//! approves it; each action is the JSON API's service call behind the same policy check.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use healthcode_domain::{AreaCode, AreaRisk, Event, RiskLevel, ValidationError};
use healthcode_service::{DesignationProposal, ServiceError};
use healthcode_store::Account;

use crate::api::policy::{may, permits, Action};
use crate::pages::accounts::officials::{
    back_to_list, four_eyes_note, post_button, staff_page, ListPage, ProposalList,
};
use crate::pages::extract::{Fields, Official, Posted};
use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};
use crate::pages::places::{area_summary, place_label, AreaPicker};
use crate::AppState;

/// How many areas the list of designations in force shows (the newest).
const SHOWN: usize = 200;

/// The list, its Approve buttons and its form (`ProposalList`).
pub(crate) struct Designations;

impl ProposalList for Designations {
    type Read = may::ReadDesignationProposals;
    const PATH: &'static str = "/staff/designations";

    type Approve = may::ApproveDesignation;
    type Approved = DesignationProposal;

    async fn approve(state: &AppState, by: &Account, id: &str) -> Result<DesignationProposal, ServiceError> {
        state.service.governance().approve_designation(by, id).await
    }

    async fn draw(ListPage { ui, state, account, status, message, kept }: ListPage<'_>) -> Response {
        let proposals = match state.service.governance().designation_proposals().await {
            Ok(p) => p,
            Err(e) => return ui.internal("listing designation proposals", e),
        };
        let title = ui.t("风险地区认定", "Area designations");
        let mut body = html!(
            "<h1>{title}</h1>{message}<p>{intro}</p>",
            title = title,
            message = message.unwrap_or_default(),
            intro = ui.t(
                "每项认定（包括升级为红码地区）都须经一位省级官员（非提议人）批准后才生效。",
                "Every designation (an escalation to red included) takes effect only when a provincial officer other than the proposer approves it."
            )
        );
        if permits(Action::Designate, account.role) {
            let picker = AreaPicker::new("area", kept);
            let covered = match AreaCode::parse(picker.code()) {
                Ok(area) => match state.service.overview().residents_within(&area).await {
                    Ok(n) => Some(n),
                    Err(e) => return ui.internal("counting the residents an area covers", e),
                },
                Err(_) => None,
            };
            body.push(designation_form(&ui, kept, &picker, covered));
        }
        body.push(in_force(&ui, &state.service.codes().designations()));
        body.push(html!("<h2>{proposals}</h2>", proposals = ui.t("认定提议", "Proposals")));
        if proposals.is_empty() {
            body.push(html!("<p>{none}</p>", none = ui.t("尚无认定提议。", "No designation proposals yet.")));
            return staff_page(ui, status, account, title, body);
        }
        // One card each: four columns do not fit a phone in large text.
        let may_approve = permits(Action::ApproveDesignation, account.role);
        let awaiting = ui.t("待批准", "Awaiting approval");
        for p in &proposals {
            let approval = match (&p.approved_by, p.approved_at) {
                (Some(by), Some(at)) => {
                    html!("{word} {by} · {at}", word = ui.t("已批准：", "Approved by"), by = by, at = when(at))
                }
                _ if may_approve => match four_eyes_note(&ui, account, &p.proposed_by, &[]) {
                    Some(why) => {
                        html!("{awaiting}<br><span class=\"muted\">{why}</span>", awaiting = awaiting, why = why)
                    }
                    None => html!(
                        "{awaiting}<br>{button}",
                        awaiting = awaiting,
                        button = post_button(
                            &format!("/staff/designations/{}/approve", p.id),
                            ui.t("批准此认定", "Approve")
                        ),
                    ),
                },
                _ => Markup::text(awaiting),
            };
            body.push(html!(
                "<article class=\"notice\" id=\"{id}\"><h3>{area} · {level}{red}</h3><p>{by_word} {by} · {at}</p><p>{approval}</p></article>",
                id = p.id,
                area = place_label(&ui, p.area.as_str()),
                level = level_words(&ui, p.level),
                red = escalation(p.escalate_to_red, ui.t("升级为红码地区", "escalated to red")),
                by_word = ui.t("提议：", "Proposed by"),
                by = p.proposed_by,
                at = when(p.proposed_at),
                approval = approval,
            ));
        }
        staff_page(ui, status, account, title, body)
    }
}

/// ` · <strong>red</strong>` for a designation escalated to red, nothing otherwise.
fn escalation(escalated: bool, words: &str) -> Markup {
    if escalated {
        html!(" · <strong>{words}</strong>", words = words)
    } else {
        Markup::new()
    }
}

/// Each area's latest designation (a later one for the same code replaces it), newest
/// first.
fn in_force(ui: &Ui, all: &[Event<AreaRisk>]) -> Markup {
    let mut latest: HashMap<String, &Event<AreaRisk>> = HashMap::new();
    // `all` is sorted by (at, seq): the last one of each area wins.
    for d in all {
        latest.insert(d.body.area.normal().to_string(), d);
    }
    let mut latest: Vec<_> = latest.into_values().collect();
    latest.sort_by_key(|d| std::cmp::Reverse((d.at, d.seq)));
    let mut out = html!(
        "<h2>{title}</h2>",
        title = ui.t("现行认定（每个地区最新的一次）", "Designations in force (each area's latest)")
    );
    if latest.is_empty() {
        out.push(html!("<p>{none}</p>", none = ui.t("尚无风险地区认定。", "No area has been designated.")));
        return out;
    }
    out.push(html!(
        "<div class=\"scroll\"><table id=\"in-force\"><tr><th scope=\"col\">{area}</th><th scope=\"col\">{level}</th><th scope=\"col\">{since}</th></tr>",
        area = ui.t("地区", "Area"),
        level = ui.t("风险等级", "Risk level"),
        since = ui.t("认定时间", "Since"),
    ));
    for d in latest.iter().take(SHOWN) {
        out.push(html!(
            "<tr data-area=\"{area}\"><td>{name}</td><td>{level}{red}</td><td>{at}</td></tr>",
            area = d.body.area.as_str(),
            name = place_label(ui, d.body.area.as_str()),
            level = level_words(ui, d.body.level),
            red = escalation(d.body.escalate_to_red, ui.t("红码地区", "red")),
            at = when(d.at),
        ));
    }
    out.push_literal("</table></div>");
    out
}

pub(crate) fn level_words(ui: &Ui, level: RiskLevel) -> &'static str {
    match level {
        RiskLevel::High => ui.t("高风险", "high"),
        RiskLevel::Medium => ui.t("中风险", "medium"),
        RiskLevel::Low => ui.t("低风险", "low"),
    }
}

/// The designation form: every office proposes (`POST /v1/designations` does the same).
fn designation_form(ui: &Ui, kept: &Fields, picker: &AreaPicker, covered: Option<u64>) -> Markup {
    let chosen = kept.get("level").map(String::as_str).unwrap_or("high");
    let levels: Markup = [RiskLevel::High, RiskLevel::Medium, RiskLevel::Low]
        .into_iter()
        .map(|level| {
            let value = level.as_str();
            html!(
                "<option value=\"{value}\"{selected}>{name}</option>",
                value = value,
                selected = Markup::literal(if value == chosen { " selected" } else { "" }),
                name = level_words(ui, level),
            )
        })
        .collect();
    html!(
        r#"<h2>{heading}</h2><p>{explain}</p><form method="post" action="/staff/designations">
{area_picker}
<label for="level">{level}</label><select id="level" name="level">{levels}</select>
<p><input type="checkbox" id="escalate_to_red" name="escalate_to_red" value="yes"{escalate}><label class="inline" for="escalate_to_red">{escalate_label}</label></p>
<button type="submit" id="designate">{submit}</button></form>"#,
        heading = ui.t("提议认定风险地区", "Propose a risk area"),
        explain = ui.t(
            "认定是提议：另一位省级官员批准后才生效，并记入透明日志；只能在您的辖区内。",
            "A designation is a proposal: it takes effect, and is logged, when another provincial officer approves it; only inside your jurisdiction.",
        ),
        area_picker = picker.render(ui, ui.t("认定地区", "Area to designate"), true, {
            let mut summary = area_summary(ui, picker.code()).unwrap_or_default();
            if let Some(n) = covered {
                summary.push(html!(
                    r#"<p class="covered" id="area-covered">{words} <strong>{n}</strong></p>"#,
                    words = ui.t("按常住地计，覆盖居民：", "Residents it covers (by area of residence):"),
                    n = n
                ));
            }
            summary
        }),
        level = ui.t("风险等级", "Risk level"),
        levels = levels,
        escalate = Markup::literal(if kept.contains_key("escalate_to_red") { " checked" } else { "" }),
        escalate_label = ui.t("升级为红码地区", "Escalate the area to red"),
        submit = ui.t("提交提议", "Propose"),
    )
}

/// The designation form's target: a proposal (`propose_designation`, as
/// `POST /v1/designations`), which a provincial officer other than the proposer approves.
/// The service checks the jurisdiction.
pub(crate) async fn designate(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::Designate>,
    Posted { ui, form }: Posted,
) -> Response {
    if AreaPicker::acted("area", &form) {
        let status = axum::http::StatusCode::OK;
        return Designations::draw(ListPage {
            ui,
            state: &state,
            account: &account,
            status,
            message: None,
            kept: &form,
        })
        .await;
    }
    let field = |name: &str| form.get(name).map(|v| v.trim()).unwrap_or("");
    let escalate = form.contains_key("escalate_to_red");
    let result = async {
        let area = AreaCode::parse(field("area")).map_err(|m| ValidationError::field("area", m))?;
        let level = RiskLevel::parse(field("level"))
            .ok_or_else(|| ValidationError::field("level", format!("a level is one of {}", RiskLevel::choices())))?;
        state.service.governance().propose_designation(&account, area, level, escalate).await?;
        Ok::<_, ServiceError>(())
    }
    .await;
    back_to_list::<Designations, _>(ui, &state, &account, result, "proposed", &form).await
}
