//! Rule changes on the officials' pages (全省一码): the version history, a proposal with its
//! diff against the rules active when it was proposed and its scenario suite's results,
//! the form to propose a new version, and the Approve button. The four-eyes rules (two
//! provincial officers, neither the proposer; never with a failing suite) are the
//! service's, exactly as for `POST /v1/rules/proposals/{id}/approve`.

use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use healthcode_domain::{Colour, Timestamp, ValidationError};
use healthcode_service::{RuleProposal, RuleProposalStatus};
use healthcode_store::Account;
use serde_json::Value;

use super::layout::{esc, see_other, when, Ui};
use super::staff::{four_eyes_note, official, posted_official, refusal, staff_page};
use crate::api::policy::{permits, Action};
use crate::api::{query_params, RawQuery};
use crate::AppState;

/// Approvals a rule change needs (`HealthService::approve_rules`).
const APPROVALS_NEEDED: usize = 2;

fn status_words(ui: &Ui, status: RuleProposalStatus) -> String {
    match status {
        RuleProposalStatus::Proposed => ui.t("待批准", "awaiting approval"),
        RuleProposalStatus::Approved => ui.t("已批准，待生效", "approved, not yet in force"),
        RuleProposalStatus::Active => ui.t("现行", "in force"),
        RuleProposalStatus::Superseded => ui.t("已被取代", "superseded"),
    }
}

fn status_code(status: RuleProposalStatus) -> &'static str {
    match status {
        RuleProposalStatus::Proposed => "proposed",
        RuleProposalStatus::Approved => "approved",
        RuleProposalStatus::Active => "active",
        RuleProposalStatus::Superseded => "superseded",
    }
}

/// Every version proposed, newest first, and the rules in force.
pub(crate) async fn list(ui: Ui, State(state): State<AppState>) -> Response {
    let account = match official(&ui, &state, Action::ReadRuleProposals).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let proposals = match state.service.rule_proposals().await {
        Ok(p) => p,
        Err(e) => return ui.internal("listing rule proposals", e),
    };
    let rules = state.service.rules();
    let title = ui.t("规则变更", "Rule changes");
    let mut body = format!(
        "<h1>{title}</h1><p>{}: {} · {} <strong id=\"active-version\">{}</strong></p>",
        ui.t("现行规则", "Rules in force"),
        esc(rules.name()),
        ui.t("版本", "version"),
        esc(rules.version()),
    );
    if permits(Action::ProposeRules, account.role) {
        let _ =
            write!(body, "<p><a href=\"/staff/rules/new\">{}</a></p>", ui.t("提议新版本规则", "Propose a new version"));
    }
    if proposals.is_empty() {
        let _ = write!(body, "<p>{}</p>", ui.t("尚无规则变更提议。", "No rule change has been proposed yet."));
    } else {
        let _ = write!(
            body,
            "<div class=\"scroll\"><table id=\"proposals\"><caption>{}</caption><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
            ui.t("各版本（最新在前）", "Every version, newest first"),
            ui.t("版本", "Version"),
            ui.t("状态", "Status"),
            ui.t("提议人", "Proposed by"),
            ui.t("批准", "Approvals"),
            ui.t("测试场景", "Scenarios"),
        );
        for p in &proposals {
            let _ = write!(
                body,
                "<tr data-status=\"{}\"><td><a href=\"/staff/rules/{id}\">{}</a></td><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td>{}/{APPROVALS_NEEDED}</td><td>{}</td></tr>",
                status_code(p.status),
                esc(&p.version),
                status_words(&ui, p.status),
                esc(&p.proposed_by),
                esc(&when(p.proposed_at)),
                p.approvals.len().min(APPROVALS_NEEDED),
                scenario_summary(&ui, p),
                id = esc(&p.id),
            );
        }
        body.push_str("</table></div>");
    }
    staff_page(ui, StatusCode::OK, &account, &title, &body)
}

fn scenario_summary(ui: &Ui, p: &RuleProposal) -> String {
    if p.scenarios_failed == 0 {
        format!("{} {}", p.scenarios_passed, ui.t("项全部通过", "passed, none failed"))
    } else {
        format!(
            "<strong>{} {}</strong> · {} {}",
            p.scenarios_failed,
            ui.t("项未通过", "failed"),
            p.scenarios_passed,
            ui.t("项通过", "passed")
        )
    }
}

/// The text of the rules in force, to start a proposal from: the approved version's own
/// text, the shipped reference file, or (rules given with `serve --rules`) their JSON.
async fn active_source(state: &AppState) -> String {
    let rules = state.service.rules();
    if let Ok(proposals) = state.service.rule_proposals().await {
        if let Some(active) =
            proposals.iter().find(|p| p.status == RuleProposalStatus::Active && p.digest == rules.digest())
        {
            return active.source.clone();
        }
    }
    if rules.digest() == healthcode_rules::RuleSet::reference().digest() {
        return healthcode_rules::REFERENCE_RULES_TOML.to_string();
    }
    serde_json::to_string_pretty(rules.file()).unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM` in China Standard Time, as a `datetime-local` input shows it.
pub(crate) fn local_minute(t: Timestamp) -> String {
    t.to_rfc3339().chars().take(16).collect()
}

/// A `datetime-local` value of the form field `field`, read as China Standard Time
/// (every time here is written in it).
pub(crate) fn parse_local_minute(field: &str, text: &str) -> Result<Timestamp, ValidationError> {
    let text = text.trim();
    let with_seconds = if text.len() == 16 { format!("{text}:00") } else { text.to_string() };
    Timestamp::parse_field(field, &format!("{with_seconds}+08:00"))
        .map_err(|_| ValidationError::field(field, format!("give `{field}` as a date and a time (Beijing time)")))
}

/// The scenario suite as pasted: a JSON array of scenarios, one scenario, or one per line.
fn parse_scenarios(text: &str) -> Result<Vec<Value>, ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValidationError::field("scenarios", "attach the scenario suite the new rules must pass"));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(one @ Value::Object(_)) => Ok(vec![one]),
        Ok(_) => Err(ValidationError::field("scenarios", "a scenario is a JSON object; a suite is a list of them")),
        Err(whole) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str::<Value>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ValidationError::field("scenarios", format!("the scenarios are not JSON: {whole}"))),
    }
}

pub(crate) async fn new_form(ui: Ui, State(state): State<AppState>) -> Response {
    let account = match official(&ui, &state, Action::ProposeRules).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let kept = HashMap::from([
        ("source".to_string(), active_source(&state).await),
        ("activates_at".to_string(), local_minute(state.service.now())),
    ]);
    proposal_form(ui, StatusCode::OK, &account, None, &kept)
}

fn proposal_form(
    ui: Ui,
    status: StatusCode,
    account: &Account,
    problem: Option<String>,
    kept: &HashMap<String, String>,
) -> Response {
    let kept = |name: &str| esc(kept.get(name).map(String::as_str).unwrap_or(""));
    let title = ui.t("提议新版本规则", "Propose a new version of the rules");
    let mut body = format!("<h1>{title}</h1>{}", problem.unwrap_or_default());
    let _ = write!(
        body,
        r#"<p>{intro}</p><form method="post" action="/staff/rules/new">
<label for="source">{source} <span class="muted">{source_hint}</span></label><textarea id="source" name="source" rows="16" required spellcheck="false">{source_value}</textarea>
<label for="scenarios">{scenarios} <span class="muted">{scenarios_hint}</span></label><textarea id="scenarios" name="scenarios" rows="8" required spellcheck="false">{scenarios_value}</textarea>
<label for="activates_at">{activates} <span class="muted">{activates_hint}</span></label><input id="activates_at" name="activates_at" type="datetime-local" required value="{activates_value}">
<button type="submit">{submit}</button></form>"#,
        intro = ui.t(
            "提议不会改变任何颜色：须两位省级官员（均非提议人）批准，且测试场景全部通过，才会在生效时间起施行。",
            "A proposal changes no colour: two provincial officers, neither the proposer, must approve it, its scenarios must all pass, and it takes effect at its activation time."
        ),
        source = ui.t("规则集（TOML 或 JSON）", "Rule set (TOML or JSON)"),
        source_hint = ui.t("（已填入现行规则；请修改并给出新的 version）", "(the rules in force, to edit; give it a new version)"),
        source_value = kept("source"),
        scenarios = ui.t("测试场景（JSON）", "Scenario suite (JSON)"),
        scenarios_hint = ui.t(
            "（一个场景、场景数组或每行一个；格式见 scenarios/README.md）",
            "(one scenario, a list, or one per line; format in scenarios/README.md)"
        ),
        scenarios_value = kept("scenarios"),
        activates = ui.t("生效时间", "Takes effect at"),
        activates_hint = ui.t("（北京时间；批准后到点生效）", "(Beijing time; once approved)"),
        activates_value = kept("activates_at"),
        submit = ui.t("提交提议", "Propose"),
    );
    staff_page(ui, status, account, &title, &body)
}

/// The proposal form's target: the same service call as `POST /v1/rules/proposals`.
pub(crate) async fn propose(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::ProposeRules).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let parsed = parse_local_minute("activates_at", field("activates_at"))
        .and_then(|at| Ok((at, parse_scenarios(field("scenarios"))?)));
    let result = match parsed {
        Ok((activates_at, scenarios)) => {
            state.service.propose_rules(&account, field("source"), activates_at, &scenarios).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match result {
        Ok(proposal) => see_other(&format!("/staff/rules/{}", proposal.id)),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => proposal_form(ui, status, &account, Some(problem), &form),
            Err(response) => response,
        },
    }
}

pub(crate) async fn detail(
    ui: Ui,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: RawQuery,
) -> Response {
    let account = match official(&ui, &state, Action::ReadRuleProposals).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let approved = query_params(query).ok().is_some_and(|q| q.contains_key("approved"));
    let done = approved.then(|| {
        format!("<p role=\"status\" class=\"done\">{}</p>", ui.t("您的批准已记录。", "Your approval is recorded."))
    });
    show(ui, &state, &account, path, StatusCode::OK, done).await
}

/// One proposal, with whatever the last action said about it.
async fn show(
    ui: Ui,
    state: &AppState,
    account: &Account,
    path: Result<Path<String>, PathRejection>,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let Ok(Path(id)) = path else {
        return ui.error(StatusCode::NOT_FOUND, "没有这个规则提议", "no such rule proposal");
    };
    let proposal = match state.service.rule_proposal(&id).await {
        Ok(Some(p)) => p,
        Ok(None) => return ui.error(StatusCode::NOT_FOUND, "没有这个规则提议", "no such rule proposal"),
        Err(e) => return ui.internal("reading a rule proposal", e),
    };
    let title = format!("{} {}", ui.t("规则版本", "Rules version"), esc(&proposal.version));
    let mut body = format!("<h1>{title}</h1>{}", message.unwrap_or_default());
    let approvers: Vec<String> =
        proposal.approvals.iter().map(|a| format!("{} ({})", esc(&a.by), esc(&when(a.at)))).collect();
    // The rule set's own title says what it is; it parsed when it was proposed.
    let rule_set_title = healthcode_rules::RuleSet::parse(&proposal.source)
        .map(|r| {
            let title = &r.file().title;
            format!("<p id=\"title\">{}</p>", ui.t(&title.zh, &title.en))
        })
        .unwrap_or_default();
    body.push_str(&rule_set_title);
    let _ = write!(
        body,
        "<dl><dt>{}</dt><dd id=\"status\" data-status=\"{}\">{}</dd><dt>{}</dt><dd>{} · {}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd id=\"approvals\">{}/{APPROVALS_NEEDED}{}</dd><dt>{}</dt><dd><code>{}</code></dd></dl>",
        ui.t("状态", "Status"),
        status_code(proposal.status),
        status_words(&ui, proposal.status),
        ui.t("提议", "Proposed"),
        esc(&proposal.proposed_by),
        esc(&when(proposal.proposed_at)),
        ui.t("生效时间", "Takes effect at"),
        esc(&when(proposal.activated_at.unwrap_or(proposal.activates_at))),
        ui.t("批准", "Approvals"),
        proposal.approvals.len(),
        if approvers.is_empty() { String::new() } else { format!(": {}", approvers.join(", ")) },
        ui.t("哈希摘要", "Digest"),
        esc(&proposal.digest),
    );
    if permits(Action::ApproveRules, account.role) && proposal.status == RuleProposalStatus::Proposed {
        body.push_str(&approval_form(&ui, account, &proposal));
    }
    body.push_str(&diff_table(&ui, &proposal.diff));
    body.push_str(&scenario_table(&ui, &proposal));
    let _ = write!(
        body,
        "<details><summary>{}</summary><pre id=\"source\">{}</pre></details>",
        ui.t("提议的规则全文", "The proposed rule set in full"),
        esc(&proposal.source)
    );
    let _ = write!(body, "<p><a href=\"/staff/rules\">{}</a></p>", ui.t("全部版本", "All versions"));
    staff_page(ui, status, account, &title, &body)
}

/// The Approve button, or why this officer has none (see `staff::four_eyes_note`).
fn approval_form(ui: &Ui, account: &Account, proposal: &RuleProposal) -> String {
    let why_not = four_eyes_note(ui, account, &proposal.proposed_by, &proposal.approvals).or_else(|| {
        (proposal.scenarios_failed > 0).then(|| {
            ui.t(
                "测试场景未全部通过，不能批准；请提议人修改规则或场景后重新提议。",
                "Some of its scenarios fail, so it cannot be approved; the proposer must fix the rules or the scenarios and propose again.",
            )
        })
    });
    match why_not {
        Some(why) => format!("<p id=\"why-no-approval\" class=\"notice\">{why}</p>"),
        None => format!(
            "<form method=\"post\" action=\"/staff/rules/{}/approve\"><p class=\"muted\">{}</p><button type=\"submit\" id=\"approve\">{}</button></form>",
            esc(&proposal.id),
            ui.t(
                "批准前请核对下方的规则差异和测试场景结果。您的批准将以您的名义记入透明日志。",
                "Check the changes and the scenario results below first. Your approval is written to the transparency log in your name."
            ),
            ui.t("批准此规则变更", "Approve this rule change"),
        ),
    }
}

/// The diff (`healthcode_rules::RuleChange`s, as stored with the proposal), as a list:
/// a phone has no room for four columns, and each change reads as a sentence.
fn diff_table(ui: &Ui, diff: &Value) -> String {
    let changes = diff.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut out =
        format!("<h2>{}</h2>", ui.t("与提议时现行规则的差异", "Changes against the rules in force when proposed"));
    if changes.is_empty() {
        let _ = write!(
            out,
            "<p>{}</p>",
            ui.t("规则内容没有变化（只有版本号等说明不同）。", "No rule changes (only the version or titles differ).")
        );
        return out;
    }
    out.push_str("<ul id=\"diff\" class=\"changes\">");
    for change in changes {
        let text = |key: &str| esc(change[key].as_str().unwrap_or(""));
        let kind = match change["change"].as_str().unwrap_or("") {
            "added" => ui.t("新增规则", "Rule added"),
            "removed" => ui.t("删除规则", "Rule removed"),
            "changed" => ui.t("修改规则", "Rule changed"),
            "setting" => ui.t("修改设置", "Setting changed"),
            other => esc(other),
        };
        let what = if change.get("rule").is_some() { text("rule") } else { text("name") };
        let _ = write!(out, "<li data-change=\"{}\"><strong>{kind}</strong> <code>{what}</code>", text("change"));
        if change.get("before").is_some() || change.get("after").is_some() {
            let _ = write!(
                out,
                "<br>{}: <del><code>{}</code></del><br>{}: <ins><code>{}</code></ins>",
                ui.t("原来", "Before"),
                text("before"),
                ui.t("提议", "Proposed"),
                text("after"),
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    out
}

/// Every expectation of the attached scenarios, checked against the proposed rules.
fn scenario_table(ui: &Ui, p: &RuleProposal) -> String {
    let mut out = format!(
        "<h2>{}</h2><p id=\"scenario-summary\" data-failed=\"{}\">{}</p>",
        ui.t("测试场景结果", "Scenario results"),
        p.scenarios_failed,
        scenario_summary(ui, p)
    );
    let results = p.scenario_results.as_array().map(Vec::as_slice).unwrap_or_default();
    if results.is_empty() {
        return out;
    }
    out.push_str("<ul id=\"scenarios\" class=\"changes\">");
    let with_reasons = |colour: &str, reasons: Vec<&str>| {
        let colour = Colour::parse(colour).map(|c| ui.colour(c)).unwrap_or_else(|| esc(colour));
        if reasons.is_empty() {
            colour
        } else {
            format!("{colour} ({})", esc(&reasons.join(", ")))
        }
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect()).unwrap_or_default()
    };
    for r in results {
        let ok = r["ok"].as_bool().unwrap_or(false);
        let at = r["at"].as_str().unwrap_or("");
        let at = Timestamp::parse(at).map(when).unwrap_or_else(|_| at.to_string());
        // The expectation is kept as its JSON (`{"at", "color", "reasons"?}`).
        let expected = match serde_json::from_str::<Value>(r["expected"].as_str().unwrap_or("")) {
            Ok(e) if e["color"].is_string() => {
                let reasons = strings(&e["reasons"]);
                with_reasons(e["color"].as_str().unwrap_or(""), reasons.iter().map(String::as_str).collect())
            }
            _ => esc(r["expected"].as_str().unwrap_or("")),
        };
        let reasons = strings(&r["reasons"]);
        let actual = with_reasons(r["actual"].as_str().unwrap_or(""), reasons.iter().map(String::as_str).collect());
        let _ = write!(
            out,
            "<li data-ok=\"{ok}\"><strong>{}</strong> {} <span class=\"muted\">{}</span><br>{}: {expected} · {}: {actual}</li>",
            if ok { ui.t("✓ 通过", "✓ passed") } else { ui.t("✗ 未通过", "✗ failed") },
            esc(r["scenario"].as_str().unwrap_or("")),
            esc(&at),
            ui.t("预期", "expected"),
            ui.t("实际", "actual"),
        );
    }
    out.push_str("</ul>");
    out
}

/// The Approve button's target: the same service call as the JSON API's approval. A
/// refusal (the proposer, a second approval by the same officer, a failing suite) is
/// shown on the proposal's page with the status the API would answer.
pub(crate) async fn approve(
    ui: Ui,
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let (ui, account) = match posted_official(ui, &state, &headers, Action::ApproveRules).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(Path(id)) = path else {
        return ui.error(StatusCode::NOT_FOUND, "没有这个规则提议", "no such rule proposal");
    };
    match state.service.approve_rules(&account, &id).await {
        // Safe in a path: the service made the id of letters and digits, and found it.
        Ok(proposal) => see_other(&format!("/staff/rules/{}?approved=1", proposal.id)),
        Err(e) => match refusal(&ui, e) {
            Ok((status, problem)) => show(ui, &state, &account, Ok(Path(id)), status, Some(problem)).await,
            Err(response) => response,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_times_are_read_as_beijing_time() {
        let t = parse_local_minute("activates_at", "2020-06-01T09:30").unwrap();
        assert_eq!(t.to_rfc3339(), "2020-06-01T09:30:00+08:00");
        assert_eq!(local_minute(t), "2020-06-01T09:30");
        assert_eq!(
            parse_local_minute("activates_at", "2020-06-01T09:30:15").unwrap().to_rfc3339(),
            "2020-06-01T09:30:15+08:00"
        );
        assert_eq!(parse_local_minute("activates_at", "tomorrow").unwrap_err().field.as_deref(), Some("activates_at"));
    }

    #[test]
    fn a_suite_is_a_list_one_scenario_or_one_per_line() {
        assert_eq!(parse_scenarios(r#"[{"name":"a"},{"name":"b"}]"#).unwrap().len(), 2);
        assert_eq!(parse_scenarios(r#"{"name":"a"}"#).unwrap().len(), 1);
        assert_eq!(parse_scenarios("{\"name\":\"a\"}\n\n{\"name\":\"b\"}\n").unwrap().len(), 2);
        for bad in ["", "  ", "42", "{not json"] {
            assert_eq!(parse_scenarios(bad).unwrap_err().field.as_deref(), Some("scenarios"), "{bad:?}");
        }
    }
}
