//! Server-rendered pages, zh-CN first with English beside it. Every dynamic value goes
//! through `esc`. No scripts, no external assets.

use std::fmt::Write;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use healthcode_domain::{Colour, PersonId};
use healthcode_service::Explanation;

use crate::AppState;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/", get(index)).route("/persons/{person_id}", get(person)).route("/demo", get(demo))
}

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#111;line-height:1.5}}
a{{color:#0b4f9c}} .en{{color:#444;font-size:.9em}} table{{border-collapse:collapse}} td,th{{padding:.25rem .6rem;border-bottom:1px solid #ccc;text-align:left}}
.code{{padding:1.5rem;border-radius:.75rem;font-size:2rem;font-weight:700;text-align:center;margin:1rem 0}}
.green{{background:#0a7d32;color:#fff}} .yellow{{background:#f2c200;color:#111}} .orange{{background:#d35400;color:#fff}} .red{{background:#b00020;color:#fff}}
label,input,button{{font-size:1rem}} input{{padding:.4rem}} button{{padding:.4rem .8rem}}
</style></head><body>
<header><a href="/">健康码 <span class="en">healthcode</span></a></header>
<main>{body}</main></body></html>"#,
        title = esc(title)
    );
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}

fn colour_name(colour: Colour) -> &'static str {
    match colour {
        Colour::Green => "绿码",
        Colour::Yellow => "黄码",
        Colour::Orange => "橙码",
        Colour::Red => "红码",
    }
}

async fn index(State(state): State<AppState>) -> Response {
    let store = state.service.store();
    let mut body = String::from("<h1>健康码 <span class=\"en\">Health codes</span></h1>");
    match (store.person_count().await, store.colour_counts().await) {
        (Ok(persons), Ok(counts)) => {
            let _ = write!(body, "<p>登记人数 <span class=\"en\">registered persons</span>: <strong>{persons}</strong></p><table><tr><th>颜色 <span class=\"en\">colour</span></th><th>人数 <span class=\"en\">persons</span></th></tr>");
            for (colour, n) in counts {
                let _ = write!(
                    body,
                    "<tr><td>{} <span class=\"en\">{}</span></td><td>{n}</td></tr>",
                    colour_name(colour),
                    colour.as_str()
                );
            }
            body.push_str("</table>");
        }
        _ => body.push_str("<p>统计暂不可用 <span class=\"en\">statistics unavailable</span></p>"),
    }
    body.push_str(
        r#"<form action="/persons/lookup" method="get"><p><label for="person">查询健康码 <span class="en">look up a code</span></label><br>
<input id="person" name="id" required placeholder="p00000001"> <button type="submit">查询 Look up</button></p></form>
<p><a href="/demo">示例居民 <span class="en">sample residents of every colour</span></a></p>"#,
    );
    let rules = state.service.rules();
    let _ = write!(
        body,
        "<h2>赋码规则 <span class=\"en\">Colour rules</span></h2><p>{} · {} · <code>{}</code></p><table>",
        esc(rules.name()),
        esc(rules.version()),
        esc(rules.digest())
    );
    for rule in rules.rules() {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}<br><span class=\"en\">{}</span></td></tr>",
            esc(rule.id),
            if rule.colour == healthcode_domain::RuleColour::Red { "红 red" } else { "黄 yellow" },
            esc(&rule.title.zh),
            esc(&rule.title.en)
        );
    }
    body.push_str("</table>");
    page(StatusCode::OK, "健康码 healthcode", &body)
}

async fn person(
    State(state): State<AppState>,
    Path(person_id): Path<String>,
    query: Result<Query<std::collections::HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // The lookup form sends `/persons/lookup?id=…`.
    let wanted = match (person_id.as_str(), query.as_ref().ok().and_then(|q| q.get("id"))) {
        ("lookup", Some(id)) => id.trim().to_string(),
        _ => person_id,
    };
    let not_found = |what: &str| {
        page(
            StatusCode::NOT_FOUND,
            "未找到 not found",
            &format!("<h1>未找到 <span class=\"en\">Not found</span></h1><p>{}</p>", esc(what)),
        )
    };
    let Ok(id) = PersonId::parse(&wanted) else { return not_found("这不是有效的编号 (not a valid person id)") };
    match state.service.store().person(&id).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found("没有此人的登记 (no person is registered with this id)"),
        Err(e) => {
            tracing::error!(error = %e, "reading a person failed");
            return page(StatusCode::INTERNAL_SERVER_ERROR, "错误 error", "<p>内部错误 (internal error)</p>");
        }
    }
    match state.service.current_code(&id).await {
        Ok(explanation) => page(StatusCode::OK, "健康码 code", &render_code(&explanation)),
        Err(e) => {
            tracing::error!(error = %e, "explaining a code failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, "错误 error", "<p>内部错误 (internal error)</p>")
        }
    }
}

fn render_code(e: &Explanation) -> String {
    let mut body = format!(
        "<h1>健康码 <span class=\"en\">Health code</span></h1><p>{}</p>\
         <div class=\"code {colour}\" role=\"status\">{} <span lang=\"en\">{colour}</span></div>",
        esc(e.person_id.as_str()),
        colour_name(e.colour),
        colour = e.colour.as_str()
    );
    if let Some(since) = e.since {
        let _ = write!(body, "<p>自 <span class=\"en\">since</span> {since}</p>");
    }
    if e.reasons.is_empty() {
        body.push_str("<p>没有任何规则适用 <span class=\"en\">no rule holds</span></p>");
    } else {
        body.push_str("<h2>原因 <span class=\"en\">Why this colour</span></h2><ul>");
        for r in &e.reasons {
            let _ = write!(
                body,
                "<li><strong>{}</strong> {} <span class=\"en\">{}</span><ul>",
                esc(&r.rule),
                esc(&r.title.zh),
                esc(&r.title.en)
            );
            for ev in &r.evidence {
                let _ = write!(body, "<li>{} · {} {}</li>", esc(&ev.kind), ev.recorded_at, esc(&details(&ev.details)));
            }
            body.push_str("</ul></li>");
        }
        body.push_str("</ul>");
    }
    match e.next_change {
        Some(t) => {
            let _ = write!(body, "<p>下次可能变化 <span class=\"en\">may next change at</span> {t}</p>");
        }
        None => body.push_str("<p>不会因时间推移而改变 <span class=\"en\">will not change by time alone</span></p>"),
    }
    let _ = write!(
        body,
        "<p class=\"en\">规则 rules: {} {} <code>{}</code></p>",
        esc(&e.rules.name),
        esc(&e.rules.version),
        esc(&e.rules.digest)
    );
    body
}

fn details(value: &serde_json::Value) -> String {
    match value.as_object() {
        Some(o) if !o.is_empty() => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                .collect();
            format!("({})", parts.join(", "))
        }
        _ => String::new(),
    }
}

async fn demo(State(state): State<AppState>) -> Response {
    let mut body = String::from("<h1>示例居民 <span class=\"en\">Sample residents</span></h1>");
    for colour in [Colour::Red, Colour::Orange, Colour::Yellow, Colour::Green] {
        let codes = match state.service.store().codes_with_colour(colour, 10).await {
            Ok(codes) => codes,
            Err(e) => {
                tracing::error!(error = %e, "listing codes failed");
                Vec::new()
            }
        };
        let _ = write!(body, "<h2>{} <span class=\"en\">{}</span></h2>", colour_name(colour), colour.as_str());
        if codes.is_empty() {
            body.push_str("<p class=\"en\">—</p>");
            continue;
        }
        body.push_str("<ul>");
        for code in codes {
            let id = esc(code.person.as_str());
            let _ = write!(body, "<li><a href=\"/persons/{id}\">{id}</a> {}</li>", esc(&code.reasons.join(", ")));
        }
        body.push_str("</ul>");
    }
    page(StatusCode::OK, "示例 demo", &body)
}
