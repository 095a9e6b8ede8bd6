//! Server-rendered pages, zh-CN first with English beside it. Every dynamic value goes
//! through `esc`. No scripts, no external assets (the CSP forbids both).

use std::fmt::Write;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use healthcode_domain::{Colour, PersonId, RuleColour, Timestamp};
use healthcode_service::Explanation;

use crate::api::{parse_at, query_params, RawQuery};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/lookup", get(lookup))
        .route("/persons/{person_id}", get(person))
        .route("/demo", get(demo))
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
body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#111;background:#fff;line-height:1.5}}
a{{color:#0b4f9c}} .en{{color:#3d3d3d;font-size:.9em}} table{{border-collapse:collapse}} td,th{{padding:.25rem .6rem;border-bottom:1px solid #ccc;text-align:left}}
.code{{padding:1.5rem;border-radius:.75rem;font-size:2rem;font-weight:700;text-align:center;margin:1rem 0}}
.code .en{{color:inherit}}
.green{{background:#0a6b2b;color:#fff}} .yellow{{background:#f2c200;color:#111}} .orange{{background:#a84300;color:#fff}} .red{{background:#b00020;color:#fff}}
.swatch{{display:inline-block;width:.9em;height:.9em;border-radius:.2em;vertical-align:-.1em;margin-right:.3em;border:1px solid #555}}
label,input,button{{font-size:1rem}} input{{padding:.4rem}} button{{padding:.4rem .8rem}}
</style></head><body>
<header><a href="/">健康码 <span class="en" lang="en">healthcode</span></a></header>
<main>{body}</main></body></html>"#,
        title = esc(title)
    );
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(crate::CONTENT_SECURITY_POLICY));
    response
}

fn error_page(status: StatusCode, zh: &str, en: &str) -> Response {
    let title = if status == StatusCode::NOT_FOUND { "未找到 Not found" } else { "错误 Error" };
    page(
        status,
        title,
        &format!("<h1>{}</h1><p>{} <span class=\"en\" lang=\"en\">({})</span></p>", esc(title), esc(zh), esc(en)),
    )
}

fn internal_page(what: &str, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "{what} failed");
    error_page(StatusCode::INTERNAL_SERVER_ERROR, "内部错误，已记录", "internal error; it has been logged")
}

/// A bilingual span: Chinese, then English marked as such.
fn both(zh: &str, en: &str) -> String {
    format!("{} <span class=\"en\" lang=\"en\">{}</span>", esc(zh), esc(en))
}

fn colour_name(colour: Colour) -> &'static str {
    match colour {
        Colour::Green => "绿码",
        Colour::Yellow => "黄码",
        Colour::Orange => "橙码",
        Colour::Red => "红码",
    }
}

fn rule_colour(colour: RuleColour) -> String {
    match colour {
        RuleColour::Red => both("红", "red"),
        RuleColour::Yellow => both("黄", "yellow"),
    }
}

fn evidence_name(kind: &str) -> &'static str {
    match kind {
        "fever" => "发热",
        "fever_resolved" => "退热",
        "test" => "核酸检测",
        "diagnosis" => "诊断",
        "close_contact" => "密切接触",
        "contact_cleared" => "解除密接",
        "entry" => "入境",
        "stay" => "停留",
        "quarantine_order" => "隔离",
        "quarantine_release" => "解除隔离",
        "management_decision" => "管理决定",
        "area_risk" => "风险地区",
        _ => "证据",
    }
}

async fn index(State(state): State<AppState>) -> Response {
    let mut body = format!("<h1>{}</h1>", both("健康码", "Health codes"));
    let persons = state.service.store().person_count().await.map_err(crate::ApiError::from);
    match (persons, crate::api::colour_counts(&state).await) {
        (Ok(persons), Ok(counts)) => {
            let _ = write!(
                body,
                "<p>{}: <strong>{persons}</strong></p><table><caption>{}</caption><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
                both("登记人数", "registered persons"),
                both("各色码人数", "persons by code colour"),
                both("颜色", "colour"),
                both("人数", "persons"),
            );
            for (colour, n) in counts {
                let _ = write!(
                    body,
                    "<tr><td><span class=\"swatch {c}\" aria-hidden=\"true\"></span>{}</td><td>{n}</td></tr>",
                    both(colour_name(colour), colour.as_str()),
                    c = colour.as_str()
                );
            }
            body.push_str("</table>");
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = ?e, "reading the statistics failed");
            let _ = write!(body, "<p>{}</p>", both("统计暂不可用", "statistics unavailable"));
        }
    }
    let _ = write!(
        body,
        r#"<form action="/lookup" method="get"><p><label for="person">{}</label><br>
<input id="person" name="id" required maxlength="64" autocomplete="off"> <button type="submit">查询 <span lang="en">Look up</span></button></p></form>
<p><a href="/demo">{}</a></p>"#,
        both("查询健康码（输入登记时返回的编号）", "look up a code by the person id returned at registration"),
        both("示例居民", "sample residents of every colour"),
    );
    let rules = state.service.rules();
    let _ = write!(
        body,
        "<h2>{}</h2><p>{} · {} {} · <code>{}</code></p><table><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr>",
        both("赋码规则", "Colour rules"),
        esc(rules.name()),
        both("版本", "version"),
        esc(rules.version()),
        esc(rules.digest()),
        both("规则", "rule"),
        both("颜色", "colour"),
        both("内容", "title"),
    );
    for rule in rules.rules() {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}<br><span class=\"en\" lang=\"en\">{}</span></td></tr>",
            esc(rule.id),
            rule_colour(rule.colour),
            esc(&rule.title.zh),
            esc(&rule.title.en)
        );
    }
    body.push_str("</table>");
    page(StatusCode::OK, "健康码 healthcode", &body)
}

/// The look-up form's target: sends the browser on to `/persons/{id}`.
async fn lookup(query: RawQuery) -> Response {
    let wanted = query_params(query).ok().and_then(|q| q.get("id").map(|id| id.trim().to_string()));
    match wanted.as_deref().map(PersonId::parse) {
        Some(Ok(id)) => {
            // A person id is letters, digits, `-` and `_`: safe in a path as is.
            let location = format!("/persons/{id}");
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        _ => error_page(
            StatusCode::BAD_REQUEST,
            "这不是有效的编号：编号由字母、数字、- 和 _ 组成",
            "not a valid person id: letters, digits, - and _",
        ),
    }
}

/// A person's code: now, or `?at=` as it was known then.
async fn person(State(state): State<AppState>, path: Result<Path<String>, PathRejection>, query: RawQuery) -> Response {
    let Ok(id) = path.map_err(drop).and_then(|Path(p)| PersonId::parse(&p).map_err(drop)) else {
        return error_page(StatusCode::NOT_FOUND, "这不是有效的编号", "not a valid person id");
    };
    let at = match query_params(query).map(|q| q.get("at").map(|t| parse_at(t)).transpose()) {
        Ok(Ok(at)) => at,
        Ok(Err(_)) | Err(_) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "时间格式应如 2020-06-01T08:00:00+08:00",
                "write the time like 2020-06-01T08:00:00+08:00",
            )
        }
    };
    match state.service.store().person(&id).await {
        Ok(Some(_)) => {}
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "没有此人的登记", "no person is registered with this id"),
        Err(e) => return internal_page("reading a person", e),
    }
    let explained = match at {
        Some(at) => state.service.explain_at(&id, at).await,
        None => state.service.current_code(&id).await,
    };
    match explained {
        Ok(explanation) => page(StatusCode::OK, "健康码 Health code", &render_code(&explanation, at)),
        Err(e) => internal_page("explaining a code", e),
    }
}

fn render_code(e: &Explanation, past: Option<Timestamp>) -> String {
    let mut body = format!(
        "<h1>{}</h1><p>{}: <code>{}</code></p>",
        both("健康码", "Health code"),
        both("编号", "person id"),
        esc(e.person_id.as_str())
    );
    if past.is_some() {
        let _ = write!(body, "<p>{}: {}</p>", both("按当时已知的证据", "as known at"), e.at);
    }
    let _ = write!(
        body,
        "<div class=\"code {c}\" role=\"status\">{} <span class=\"en\" lang=\"en\">{c}</span></div>",
        colour_name(e.colour),
        c = e.colour.as_str()
    );
    if let Some(since) = e.since {
        let _ = write!(body, "<p>{} {since}</p>", both("自", "since"));
    }
    if e.reasons.is_empty() {
        let _ = write!(body, "<p>{}</p>", both("没有任何规则适用", "no rule holds"));
    } else {
        let _ = write!(body, "<h2>{}</h2><ul>", both("原因", "Why this colour"));
        for r in &e.reasons {
            let _ = write!(
                body,
                "<li><strong>{}</strong> ({}) {}<br><span class=\"en\" lang=\"en\">{}</span><ul>",
                esc(&r.rule),
                rule_colour(r.colour),
                esc(&r.title.zh),
                esc(&r.title.en)
            );
            for ev in &r.evidence {
                let _ = write!(
                    body,
                    "<li>{} · {} {} {}</li>",
                    both(evidence_name(&ev.kind), &ev.kind),
                    both("记录于", "recorded"),
                    ev.recorded_at,
                    esc(&details(&ev.details))
                );
            }
            body.push_str("</ul></li>");
        }
        body.push_str("</ul>");
    }
    match e.next_change {
        Some(t) => {
            let _ = write!(body, "<p>{} {t}</p>", both("下次可能变化", "may next change at"));
        }
        None => {
            let _ = write!(body, "<p>{}</p>", both("不会因时间推移而改变", "will not change by time alone"));
        }
    }
    let _ = write!(
        body,
        "<p>{}: {} {} <code>{}</code></p>",
        both("规则", "rules"),
        esc(&e.rules.name),
        esc(&e.rules.version),
        esc(&e.rules.digest)
    );
    body
}

/// An event's own fields (dates, area, result …) as `key: value` text.
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
    let mut body = format!("<h1>{}</h1>", both("示例居民", "Sample residents"));
    let _ = write!(body, "<p>{}</p>", both("每种颜色最多 10 人", "up to 10 persons of each colour"));
    for colour in [Colour::Red, Colour::Orange, Colour::Yellow, Colour::Green] {
        let codes = match state.service.store().codes_with_colour(colour, 10).await {
            Ok(codes) => codes,
            Err(e) => return internal_page("listing codes by colour", e),
        };
        let _ = write!(
            body,
            "<h2><span class=\"swatch {c}\" aria-hidden=\"true\"></span>{}</h2>",
            both(colour_name(colour), colour.as_str()),
            c = colour.as_str()
        );
        if codes.is_empty() {
            let _ = write!(body, "<p>{}</p>", both("无", "none"));
            continue;
        }
        body.push_str("<ul>");
        for code in codes {
            let id = esc(code.person.as_str());
            let _ = write!(body, "<li><a href=\"/persons/{id}\">{id}</a> {}</li>", esc(&code.reasons.join(", ")));
        }
        body.push_str("</ul>");
    }
    page(StatusCode::OK, "示例 Samples", &body)
}
