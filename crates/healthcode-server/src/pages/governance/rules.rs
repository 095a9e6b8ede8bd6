//! Rule changes on the officials' pages (全省一码): the version history, a proposal with its
//! diff against the rules active when it was proposed and its scenario suite's results,
//! the form to propose a new version, and the Approve button. The four-eyes rules (two
//! provincial officers, neither the proposer; never with a failing suite) are the
//! service's, exactly as for `POST /v1/rules/proposals/{id}/approve`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{Colour, Timestamp, ValidationError};
use healthcode_service::{RuleProposal, RuleProposalStatus};
use healthcode_store::Account;
use serde_json::Value;

use crate::api::policy::{may, permits, Action};
use crate::pages::accounts::officials::{done_message, four_eyes_note, redirect_or_refuse, staff_page};
use crate::pages::extract::{Fields, Official, PageId, PageQuery, Posted};
use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};
use crate::AppState;

/// Approvals a rule change needs (`HealthService::approve_rules`).
const APPROVALS_NEEDED: usize = 2;

fn status_words(ui: &Ui, status: RuleProposalStatus) -> &'static str {
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
pub(crate) async fn list(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::ReadRuleProposals>,
) -> Response {
    let proposals = match state.service.governance().rule_proposals().await {
        Ok(p) => p,
        Err(e) => return ui.internal("listing rule proposals", e),
    };
    let rules = state.service.codes().rules();
    let title = ui.t("规则变更", "Rule changes");
    let mut body = html!(
        "<h1>{title}</h1><p>{in_force}: {name} · {version_word} <strong id=\"active-version\">{version}</strong></p>",
        title = title,
        in_force = ui.t("现行规则", "Rules in force"),
        name = rules.name(),
        version_word = ui.t("版本", "version"),
        version = rules.version(),
    );
    if permits(Action::ProposeRules, account.role) {
        body.push(html!(
            "<p><a href=\"/staff/rules/new\">{propose}</a></p>",
            propose = ui.t("提议新版本规则", "Propose a new version")
        ));
    }
    if proposals.is_empty() {
        body.push(html!("<p>{none}</p>", none = ui.t("尚无规则变更提议。", "No rule change has been proposed yet.")));
    } else {
        body.push(html!(
            "<div class=\"scroll\"><table id=\"proposals\"><caption>{caption}</caption><tr><th scope=\"col\">{version}</th><th scope=\"col\">{status}</th><th scope=\"col\">{by}</th><th scope=\"col\">{approvals}</th><th scope=\"col\">{scenarios}</th></tr>",
            caption = ui.t("各版本（最新在前）", "Every version, newest first"),
            version = ui.t("版本", "Version"),
            status = ui.t("状态", "Status"),
            by = ui.t("提议人", "Proposed by"),
            approvals = ui.t("批准", "Approvals"),
            scenarios = ui.t("测试场景", "Scenarios"),
        ));
        for p in &proposals {
            body.push(html!(
                "<tr data-status=\"{code}\"><td><a href=\"/staff/rules/{id}\">{version}</a></td><td>{status}</td><td>{by}<br><span class=\"muted\">{at}</span></td><td>{approvals}/{needed}</td><td>{scenarios}</td></tr>",
                code = status_code(p.status),
                id = p.id,
                version = p.version,
                status = status_words(&ui, p.status),
                by = p.proposed_by,
                at = when(p.proposed_at),
                approvals = p.approvals.len().min(APPROVALS_NEEDED),
                needed = APPROVALS_NEEDED,
                scenarios = scenario_summary(&ui, p),
            ));
        }
        body.push_literal("</table></div>");
    }
    staff_page(ui, StatusCode::OK, &account, title, body)
}

fn scenario_summary(ui: &Ui, p: &RuleProposal) -> Markup {
    if p.scenarios_failed == 0 {
        html!("{n} {passed}", n = p.scenarios_passed, passed = ui.t("项全部通过", "passed, none failed"))
    } else {
        html!(
            "<strong>{failed_n} {failed}</strong> · {passed_n} {passed}",
            failed_n = p.scenarios_failed,
            failed = ui.t("项未通过", "failed"),
            passed_n = p.scenarios_passed,
            passed = ui.t("项通过", "passed")
        )
    }
}

/// The text of the rules in force, to start a proposal from: the approved version's own
/// text, the shipped reference file, or (rules given with `serve --rules`) their JSON.
async fn active_source(state: &AppState) -> String {
    let rules = state.service.codes().rules();
    if let Ok(proposals) = state.service.governance().rule_proposals().await {
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

pub(crate) async fn new_form(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::ProposeRules>,
) -> Response {
    let kept = Fields::from([
        ("source".to_string(), active_source(&state).await),
        ("activates_at".to_string(), local_minute(state.service.now())),
    ]);
    proposal_form(ui, StatusCode::OK, &account, None, &kept)
}

fn proposal_form(ui: Ui, status: StatusCode, account: &Account, problem: Option<Markup>, kept: &Fields) -> Response {
    let kept = |name: &str| kept.get(name).map(String::as_str).unwrap_or("");
    let title = ui.t("提议新版本规则", "Propose a new version of the rules");
    let body = html!(
        r#"<h1>{title}</h1>{problem}<p>{intro}</p><form method="post" action="/staff/rules/new">
<label for="source">{source} <span class="muted">{source_hint}</span></label><textarea id="source" name="source" rows="16" required spellcheck="false">{source_value}</textarea>
<label for="scenarios">{scenarios} <span class="muted">{scenarios_hint}</span></label><textarea id="scenarios" name="scenarios" rows="8" required spellcheck="false">{scenarios_value}</textarea>
<label for="activates_at">{activates} <span class="muted">{activates_hint}</span></label><input id="activates_at" name="activates_at" type="datetime-local" required value="{activates_value}">
<button type="submit">{submit}</button></form>"#,
        title = title,
        problem = problem.unwrap_or_default(),
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
    staff_page(ui, status, account, title, body)
}

/// The proposal form's target: the same service call as `POST /v1/rules/proposals`.
pub(crate) async fn propose(
    State(state): State<AppState>,
    Official { account, .. }: Official<may::ProposeRules>,
    Posted { ui, form }: Posted,
) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let parsed = parse_local_minute("activates_at", field("activates_at"))
        .and_then(|at| Ok((at, parse_scenarios(field("scenarios"))?)));
    let result = match parsed {
        Ok((activates_at, scenarios)) => {
            state.service.governance().propose_rules(&account, field("source"), activates_at, &scenarios).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    let (account, form) = (&account, &form);
    redirect_or_refuse(
        ui,
        result,
        |proposal| format!("/staff/rules/{}", proposal.id),
        move |ui, status, problem| async move { proposal_form(ui, status, account, Some(problem), form) },
    )
    .await
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::ReadRuleProposals>,
    PageId(id): PageId,
    query: PageQuery,
) -> Response {
    let done = done_message(&ui, &query);
    show(ui, &state, &account, &id, StatusCode::OK, done).await
}

/// One proposal, with whatever the last action said about it.
async fn show(
    ui: Ui,
    state: &AppState,
    account: &Account,
    id: &str,
    status: StatusCode,
    message: Option<Markup>,
) -> Response {
    let proposal = match state.service.governance().rule_proposal(id).await {
        Ok(Some(p)) => p,
        Ok(None) => return ui.error(StatusCode::NOT_FOUND, "没有这个规则提议", "no such rule proposal"),
        Err(e) => return ui.internal("reading a rule proposal", e),
    };
    let title = format!("{} {}", ui.t("规则版本", "Rules version"), proposal.version);
    let mut body = html!("<h1>{title}</h1>{message}", title = title, message = message.unwrap_or_default());
    let approvers = if proposal.approvals.is_empty() {
        Markup::new()
    } else {
        let each = proposal.approvals.iter().map(|a| html!("{by} ({at})", by = a.by, at = when(a.at)));
        html!(": {approvers}", approvers = Markup::join(each, ", "))
    };
    // The rule set's own title says what it is; it parsed when it was proposed.
    if let Ok(rules) = healthcode_rules::RuleSet::parse(&proposal.source) {
        let title = &rules.file().title;
        body.push(html!("<p id=\"title\">{title}</p>", title = ui.t(&title.zh, &title.en)));
    }
    body.push(html!(
        "<dl><dt>{status_word}</dt><dd id=\"status\" data-status=\"{code}\">{status}</dd><dt>{proposed_word}</dt><dd>{by} · {at}</dd><dt>{effect_word}</dt><dd>{effect}</dd><dt>{approvals_word}</dt><dd id=\"approvals\">{approvals}/{needed}{approvers}</dd><dt>{digest_word}</dt><dd><code>{digest}</code></dd></dl>",
        status_word = ui.t("状态", "Status"),
        code = status_code(proposal.status),
        status = status_words(&ui, proposal.status),
        proposed_word = ui.t("提议", "Proposed"),
        by = proposal.proposed_by,
        at = when(proposal.proposed_at),
        effect_word = ui.t("生效时间", "Takes effect at"),
        effect = when(proposal.activated_at.unwrap_or(proposal.activates_at)),
        approvals_word = ui.t("批准", "Approvals"),
        approvals = proposal.approvals.len(),
        needed = APPROVALS_NEEDED,
        approvers = approvers,
        digest_word = ui.t("哈希摘要", "Digest"),
        digest = proposal.digest,
    ));
    if permits(Action::ApproveRules, account.role) && proposal.status == RuleProposalStatus::Proposed {
        body.push(approval_form(&ui, account, &proposal));
    }
    body.push(diff_table(&ui, &proposal.diff));
    body.push(scenario_table(&ui, &proposal));
    body.push(html!(
        "<details><summary>{summary}</summary><pre id=\"source\">{source}</pre></details><p><a href=\"/staff/rules\">{all}</a></p>",
        summary = ui.t("提议的规则全文", "The proposed rule set in full"),
        source = proposal.source,
        all = ui.t("全部版本", "All versions"),
    ));
    staff_page(ui, status, account, &title, body)
}

/// The Approve button, or why this officer has none (see `staff::four_eyes_note`).
fn approval_form(ui: &Ui, account: &Account, proposal: &RuleProposal) -> Markup {
    let why_not = four_eyes_note(ui, account, &proposal.proposed_by, &proposal.approvals).or_else(|| {
        (proposal.scenarios_failed > 0).then(|| {
            ui.t(
                "测试场景未全部通过，不能批准；请提议人修改规则或场景后重新提议。",
                "Some of its scenarios fail, so it cannot be approved; the proposer must fix the rules or the scenarios and propose again.",
            )
        })
    });
    match why_not {
        Some(why) => html!("<p id=\"why-no-approval\" class=\"notice\">{why}</p>", why = why),
        None => html!(
            "<form method=\"post\" action=\"/staff/rules/{id}/approve\"><p class=\"muted\">{check}</p><button type=\"submit\" id=\"approve\">{approve}</button></form>",
            id = proposal.id,
            check = ui.t(
                "批准前请核对下方的规则差异和测试场景结果。您的批准将以您的名义记入透明日志。",
                "Check the changes and the scenario results below first. Your approval is written to the transparency log in your name."
            ),
            approve = ui.t("批准此规则变更", "Approve this rule change"),
        ),
    }
}

/// The diff (`healthcode_rules::RuleChange`s, as stored with the proposal), as a list:
/// a phone has no room for four columns, and each change reads as a sentence.
fn diff_table(ui: &Ui, diff: &Value) -> Markup {
    let changes = diff.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut out = html!(
        "<h2>{title}</h2>",
        title = ui.t("与提议时现行规则的差异", "Changes against the rules in force when proposed")
    );
    if changes.is_empty() {
        out.push(html!(
            "<p>{none}</p>",
            none = ui.t(
                "规则内容没有变化（只有版本号等说明不同）。",
                "No rule changes (only the version or titles differ)."
            )
        ));
        return out;
    }
    out.push_literal("<ul id=\"diff\" class=\"changes\">");
    for change in changes {
        let text = |key: &str| change[key].as_str().unwrap_or("").to_string();
        let kind = match change["change"].as_str().unwrap_or("") {
            "added" => ui.t("新增规则", "Rule added"),
            "removed" => ui.t("删除规则", "Rule removed"),
            "changed" => ui.t("修改规则", "Rule changed"),
            "setting" => ui.t("修改设置", "Setting changed"),
            other => other,
        };
        let what = if change.get("rule").is_some() { text("rule") } else { text("name") };
        out.push(html!(
            "<li data-change=\"{change}\"><strong>{kind}</strong> <code>{what}</code>",
            change = text("change"),
            kind = kind,
            what = what,
        ));
        if change.get("before").is_some() || change.get("after").is_some() {
            out.push(html!(
                "<br>{before_word}: <del><code>{before}</code></del><br>{after_word}: <ins><code>{after}</code></ins>",
                before_word = ui.t("原来", "Before"),
                before = text("before"),
                after_word = ui.t("提议", "Proposed"),
                after = text("after"),
            ));
        }
        out.push_literal("</li>");
    }
    out.push_literal("</ul>");
    out
}

/// Every expectation of the attached scenarios, checked against the proposed rules.
fn scenario_table(ui: &Ui, p: &RuleProposal) -> Markup {
    let mut out = html!(
        "<h2>{title}</h2><p id=\"scenario-summary\" data-failed=\"{failed}\">{summary}</p>",
        title = ui.t("测试场景结果", "Scenario results"),
        failed = p.scenarios_failed,
        summary = scenario_summary(ui, p)
    );
    let results = p.scenario_results.as_array().map(Vec::as_slice).unwrap_or_default();
    if results.is_empty() {
        return out;
    }
    out.push_literal("<ul id=\"scenarios\" class=\"changes\">");
    let with_reasons = |colour: &str, reasons: &[String]| {
        let colour = Colour::parse(colour).map(|c| ui.colour(c).to_string()).unwrap_or_else(|| colour.to_string());
        if reasons.is_empty() {
            colour
        } else {
            format!("{colour} ({})", reasons.join(", "))
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
            Ok(e) if e["color"].is_string() => with_reasons(e["color"].as_str().unwrap_or(""), &strings(&e["reasons"])),
            _ => r["expected"].as_str().unwrap_or("").to_string(),
        };
        let actual = with_reasons(r["actual"].as_str().unwrap_or(""), &strings(&r["reasons"]));
        out.push(html!(
            "<li data-ok=\"{ok}\"><strong>{verdict}</strong> {scenario} <span class=\"muted\">{at}</span><br>{expected_word}: {expected} · {actual_word}: {actual}</li>",
            ok = if ok { "true" } else { "false" },
            verdict = if ok { ui.t("✓ 通过", "✓ passed") } else { ui.t("✗ 未通过", "✗ failed") },
            scenario = r["scenario"].as_str().unwrap_or(""),
            at = at,
            expected_word = ui.t("预期", "expected"),
            expected = expected,
            actual_word = ui.t("实际", "actual"),
            actual = actual,
        ));
    }
    out.push_literal("</ul>");
    out
}

/// The Approve button's target: the same service call as the JSON API's approval. A
/// refusal (the proposer, a second approval by the same officer, a failing suite) is
/// shown on the proposal's page with the status the API would answer.
pub(crate) async fn approve(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::ApproveRules>,
    PageId(id): PageId,
) -> Response {
    let result = state.service.governance().approve_rules(&account, &id).await;
    let (state, account, id) = (&state, &account, &id);
    // The proposal id in the path is safe: the service made it of letters and digits.
    redirect_or_refuse(
        ui,
        result,
        |proposal| format!("/staff/rules/{}?approved=1", proposal.id),
        move |ui, status, problem| show(ui, state, account, id, status, Some(problem)),
    )
    .await
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
