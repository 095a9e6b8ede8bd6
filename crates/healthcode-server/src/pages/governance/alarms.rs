//! The alarms for auditors and the provincial office, newest first: mass decisions,
//! bursts of small ones, unusual approvers, forwarded venue codes, bursts of colours by
//! origin, devices looking up too many persons, rules put in force by the operator. Each
//! is also in the transparency log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::api::policy::may;
use crate::pages::accounts::officials::staff_page;
use crate::pages::extract::Official;
use crate::pages::layout::when;
use crate::pages::markup::{html, Markup};
use crate::AppState;

/// How many alarms the list shows (the newest).
const SHOWN: usize = 200;

pub(crate) async fn list(
    State(state): State<AppState>,
    Official { ui, account, .. }: Official<may::ReadAlarms>,
) -> Response {
    // The store reads alarms oldest first after an id; the page wants the newest, and
    // alarms are few (each one is an event worth an auditor's time), so read them all.
    let mut alarms = Vec::new();
    let mut after = 0;
    loop {
        let page = match state.service.alarms().list(after, 1000).await {
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
    let mut body = html!("<h1>{title}</h1>", title = title);
    if alarms.is_empty() {
        body.push(html!("<p>{none}</p>", none = ui.t("没有告警。", "No alarms.")));
        return staff_page(ui, StatusCode::OK, &account, title, body);
    }
    body.push(html!(
        "<div class=\"scroll\"><table id=\"alarms\"><tr><th scope=\"col\">{at}</th><th scope=\"col\">{kind}</th><th scope=\"col\">{jurisdiction}</th><th scope=\"col\">{detail}</th></tr>",
        at = ui.t("时间", "At"),
        kind = ui.t("类型", "Kind"),
        jurisdiction = ui.t("辖区", "Jurisdiction"),
        detail = ui.t("详情", "Detail"),
    ));
    for a in &alarms {
        let kind = match a.alarm.kind.as_str() {
            "mass_decision" => ui.t("大规模管理决定", "mass decision"),
            "decision_burst" => ui.t("短时间内大量管理决定", "burst of decisions"),
            "approver_share" => ui.t("同一官员批准比例过高", "one approver's unusual share"),
            "forwarded_venue_code" => ui.t("场所码被转发", "forwarded venue code"),
            "colour_burst" => ui.t("短时间内大量赋红黄码（按来源）", "burst of red or yellow codes, by origin"),
            "gate_lookups" => ui.t("核验设备查询过多", "a device looking up too many persons"),
            "operator_rules" => ui.t("运维人员启用未经批准的规则", "rules put in force by the operator"),
            "counter_keys" => ui.t("同一窗口短时间内发放大量居民密钥", "many resident keys given at one counter"),
            other => other,
        };
        let logged = match a.alarm.log_index {
            Some(i) => {
                html!(" <span class=\"muted\">({entry} #{i})</span>", entry = ui.t("透明日志", "log entry"), i = i)
            }
            None => Markup::new(),
        };
        body.push(html!(
            "<tr><td>{at}</td><td>{kind}<br><code>{code}</code></td><td>{jurisdiction}</td><td>{detail}{logged}</td></tr>",
            at = when(a.alarm.at),
            kind = kind,
            code = a.alarm.kind,
            jurisdiction = a.alarm.jurisdiction,
            detail = a.alarm.detail,
            logged = logged,
        ));
    }
    body.push_literal("</table></div>");
    staff_page(ui, StatusCode::OK, &account, title, body)
}
