//! A person's code on the pages: my code (QR, colour, why, what turns it green), as known
//! at a time, my history from the transparency log, and a printable code card.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{Colour, PersonId, RuleColour, Timestamp};
use healthcode_log::Entry;
use healthcode_service::{Explanation, IssuedCode, Reader};

use crate::api::parse_at;
use crate::pages::extract::{PageQuery, PersonPage};
use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};
use crate::pages::places::place_label;
use crate::pages::residents::signin::reader_of;
use crate::AppState;

/// A person's code: now (with a fresh QR), or `?at=` as it was known then.
pub(crate) async fn code(
    ui: Ui,
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
    query: PageQuery,
) -> Result<Response, Response> {
    let welcome = query.get("welcome") == Some("1");
    let at = query.get("at").map(parse_at).transpose().map_err(|_| {
        ui.error(
            StatusCode::BAD_REQUEST,
            "时间格式应如 2020-06-01T08:00:00+08:00",
            "write the time like 2020-06-01T08:00:00+08:00",
        )
    })?;
    let reader = reader_of(&ui, &state, &id, "code and its explanation").await?;
    let explained = match at {
        Some(at) => state.service.codes().explain_at(&id, at).await,
        None => state.service.codes().current_code(&id).await,
    };
    let explanation = explained.map_err(|e| ui.internal("explaining a code", e))?;
    let mut body = html!("<h1>{title}</h1>", title = ui.t("我的健康码", "My health code"));
    let mut head = Markup::new();
    if at.is_none() {
        let (issued, svg) = signed_qr(&ui, &state, &id).await?;
        // No scripts: the browser reloads the page a minute before the code expires.
        let left = (issued.expires_at.as_millis() - state.service.now().as_millis()) / 1000;
        head = html!("<meta http-equiv=\"refresh\" content=\"{seconds}\">", seconds = (left - 60).max(30));
        body.push(html!(
            "<div class=\"code {c}\" role=\"status\">{heading}<div class=\"qr\">{qr}</div><div>{name}</div></div>",
            c = explanation.colour.as_str(),
            heading = colour_heading(&ui, explanation.colour),
            qr = Markup::qr_svg(&svg, ui.t("健康码二维码", "QR code of my health code")),
            name = masked_name(&issued),
        ));
        body.push(html!(
            "<p>{issued_word} {issued} · {until} {expires}</p><p class=\"muted\">{note}</p>",
            issued_word = ui.t("生成于", "Issued"),
            issued = when(issued.issued_at),
            until = ui.t("有效至", "valid until"),
            expires = when(issued.expires_at),
            note = ui.t(
                "二维码每几分钟更新一次，页面会自动刷新；截图无效。",
                "The QR changes every few minutes and this page reloads itself; a screenshot will not work."
            ),
        ));
    } else {
        body.push(html!(
            "<p>{known} {at}</p><div class=\"code {c}\" role=\"status\">{heading}</div>",
            known = ui.t("按当时已知的证据：", "As known at"),
            at = when(explanation.at),
            c = explanation.colour.as_str(),
            heading = colour_heading(&ui, explanation.colour),
        ));
    }
    body.push(why(&ui, &explanation));
    body.push(national_data_line(&ui, &state).await);
    body.push(html!(
        "<p>{id_word}: <code>{pid}</code></p><p class=\"noprint\"><a href=\"/persons/{pid}/history\">{history}</a> · <a href=\"/persons/{pid}/card\">{card}</a> · <a href=\"/scan?person={pid}\">{scan}</a> · <a href=\"/persons/{pid}/accesses\">{accesses}</a> · <a href=\"/persons/{pid}/complaints\">{complaints}</a> · <a href=\"/persons/{pid}/declare\">{declare}</a></p>",
        id_word = ui.t("编号", "Person id"),
        pid = id.as_str(),
        history = ui.t("我的记录", "My history"),
        card = ui.t("打印健康码卡片", "Printable code card"),
        scan = ui.t("扫场所码登记", "Check in at a venue"),
        accesses = ui.t("谁查看了我的信息", "Who accessed my data"),
        complaints = ui.t("申诉", "Complaints"),
        declare = ui.t("健康申报", "Declare my health"),
    ));
    body.push(crate::pages::residents::rights::credit_section(&ui, &state, &id).await?);
    body.push(crate::pages::codes::lasting::section(&ui, &id));
    match reader {
        Reader::Person(..) => {
            if welcome {
                body.push(welcome_note(&ui));
            }
            body.push(crate::pages::residents::family::section(&ui, &state, &id).await?);
            body.push(crate::pages::residents::rights::consent_section(&ui, &state, &id).await?);
        }
        _ => body.push(html!(
            "<p class=\"muted\">{note}</p>",
            note = ui.t(
                "您以家人代管身份查看；本次查看已记入其访问记录。",
                "You are viewing as a family proxy; this view is in their access log."
            )
        )),
    }
    Ok(ui.frame(StatusCode::OK, ui.t("我的健康码", "My health code"), body, head))
}

fn masked_name(issued: &IssuedCode) -> &str {
    if issued.masked_name.is_empty() {
        "—"
    } else {
        &issued.masked_name
    }
}

/// The colour in words (the block's colour is never the only signal): in Chinese with the
/// English word beside it, which many verifiers read; in English once.
fn colour_heading(ui: &Ui, colour: Colour) -> Markup {
    if ui.en() {
        Markup::text(ui.colour(colour))
    } else {
        html!("{zh} <span lang=\"en\">{en}</span>", zh = ui.colour(colour), en = colour.as_str())
    }
}

/// Why this colour, in plain words, and what will turn it green.
fn why(ui: &Ui, e: &Explanation) -> Markup {
    let mut out = html!("<h2>{title}</h2>", title = ui.t("为什么是这个颜色", "Why this colour"));
    if e.reasons.is_empty() {
        out.push(html!(
            "<p>{green}</p>",
            green = ui.t("没有任何规则适用：绿码。", "No rule holds: the code is green.")
        ));
    } else {
        out.push_literal("<ul>");
        for r in &e.reasons {
            let colour = match r.colour {
                RuleColour::Red => ui.t("红码规则", "red rule"),
                RuleColour::Yellow => ui.t("黄码规则", "yellow rule"),
            };
            out.push(html!(
                "<li><strong>{rule} {title}</strong> ({colour})<ul>",
                rule = r.rule,
                title = ui.t(&r.title.zh, &r.title.en),
                colour = colour,
            ));
            for ev in &r.evidence {
                let (zh, en) = evidence_name(&ev.kind);
                let from = match &ev.reported_by_region {
                    Some(region) => {
                        let name = healthcode_places::Divisions::embedded()
                            .get(region)
                            .map_or(region.as_str(), |d| ui.t(d.full_name(), d.full_name_en()));
                        format!(" · {} {name}", ui.t("经全国平台报送：", "reported through the national hub by"))
                    }
                    None => String::new(),
                };
                out.push(html!(
                    "<li>{kind} · {recorded} {at} {details}{from}</li>",
                    kind = ui.t(zh, en),
                    recorded = ui.t("记录于", "recorded"),
                    at = when(ev.recorded_at),
                    details = details(ui, &ev.details),
                    from = from,
                ));
            }
            let (zh, en) = what_clears(&r.rule);
            out.push(html!(
                "</ul><p>{changes} {clears}</p></li>",
                changes = ui.t("怎样变回：", "What changes it:"),
                clears = ui.t(zh, en),
            ));
        }
        out.push_literal("</ul>");
    }
    out.push(html!("<h2>{title}</h2>", title = ui.t("什么时候变绿", "What will turn it green")));
    out.push(match (e.reasons.is_empty(), e.next_change) {
        (true, _) => html!("<p>{green}</p>", green = ui.t("已经是绿码。", "It is green already.")),
        (false, Some(t)) => html!(
            "<p>{until} <strong>{at}</strong>{end}</p>",
            until = ui.t("若没有新的证据，健康码将在", "If nothing new is recorded, the code changes at"),
            at = when(t),
            end = ui.t(" 重新计算颜色。", "."),
        ),
        (false, None) => html!(
            "<p>{never}</p>",
            never = ui.t(
                "时间推移不会改变它：需要上面所说的新证据。",
                "Time alone will not change it: it needs the new evidence described above."
            )
        ),
    });
    out.push(html!(
        "<p class=\"muted\">{rules}: {name} {version} <code>{digest}</code></p>",
        rules = ui.t("规则", "Rules"),
        name = e.rules.name,
        version = e.rules.version,
        digest = e.rules.digest,
    ));
    out
}

/// In a region of the national exchange: how current what other regions reported is
/// (the hub may be unreachable; the code is computed from what arrived until then).
async fn national_data_line(ui: &Ui, state: &AppState) -> Markup {
    let national = state.service.national();
    if !matches!(national.role(), healthcode_service::national::Role::Region { .. }) {
        return Markup::new();
    }
    match national.view().await.ok().and_then(|v| v.synced_at) {
        Some(at) => html!(
            "<p class=\"muted\">{words} {at}</p>",
            words = ui.t("其他省份报送的数据截至", "Data reported by other provinces as of"),
            at = when(at),
        ),
        None => html!(
            "<p class=\"muted\">{words}</p>",
            words = ui.t("尚未收到全国平台的数据。", "No data from the national hub has arrived yet."),
        ),
    }
}

/// What clears each reference rule, in plain words (REFERENCE-RULES.md).
fn what_clears(rule: &str) -> (&'static str, &'static str) {
    match rule {
        "R1" => ("只有“排除”或“出院”的诊断才能解除；阴性检测不能解除。", "Only a diagnosis of “excluded” or “discharged” clears it; negative tests do not."),
        "R2" => ("解除隔离或疾控解除密接后变回。", "It ends when you are released from quarantine or the contact is cleared."),
        "R3" => ("入境满 14 天后自动解除。", "It ends 14 days after your entry."),
        "R4" => ("解除隔离后变回。", "It ends when you are released from quarantine."),
        "R5" | "Y3" => ("管理决定到期后解除。", "It ends when the management decision expires."),
        "R6" => ("离开该地区满 14 天后解除。", "It ends 14 days after your stay there."),
        "Y1" => (
            "发热后采样的核酸检测阴性可解除；没有流行病学史的，退热后也可解除。",
            "A negative test sampled after the fever began clears it; without epidemiological history, so does the fever ending.",
        ),
        "Y2" => (
            "离开该地区后采样的核酸检测阴性可解除，或停留结束满 14 天。",
            "A negative test sampled after you left the area clears it, or 14 days after the stay.",
        ),
        _ => ("依据该规则的条件。", "As that rule says."),
    }
}

pub(crate) fn evidence_name(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "fever" => ("发热", "fever"),
        "fever_resolved" => ("退热", "fever resolved"),
        "test" => ("核酸检测", "test"),
        "diagnosis" => ("诊断", "diagnosis"),
        "close_contact" => ("密切接触", "close contact"),
        "contact_cleared" => ("解除密接", "contact cleared"),
        "entry" => ("入境", "entry from abroad"),
        "stay" => ("停留", "stay"),
        "quarantine_order" => ("隔离", "quarantine order"),
        "quarantine_release" => ("解除隔离", "quarantine release"),
        "management_decision" => ("管理决定", "management decision"),
        "area_risk" => ("风险地区", "area risk"),
        _ => ("证据", "evidence"),
    }
}

/// An event's own fields (dates, area, result …) as `key: value` text; an area by its
/// name and code.
fn details(ui: &Ui, value: &serde_json::Value) -> String {
    match value.as_object() {
        Some(o) if !o.is_empty() => {
            let parts: Vec<String> = o
                .iter()
                .filter(|(k, _)| !k.starts_with("area_name"))
                .map(|(k, v)| match (k.as_str(), v.as_str()) {
                    ("area", Some(code)) => format!("{}: {}", ui.t("地区", "area"), place_label(ui, code)),
                    (_, Some(text)) => format!("{k}: {text}"),
                    _ => format!("{k}: {v}"),
                })
                .collect();
            format!("({})", parts.join(", "))
        }
        _ => String::new(),
    }
}

/// The person's own entries in the transparency log.
pub(crate) async fn history(
    ui: Ui,
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
) -> Result<Response, Response> {
    reader_of(&ui, &state, &id, "history of colour changes").await?;
    let log = state.service.residents().person_log(&id).await.map_err(|e| ui.internal("reading a person's log", e))?;
    let mut body = html!(
        "<h1>{title}</h1><p>{intro}</p>",
        title = ui.t("我的记录", "My history"),
        intro = ui.t(
            "每次颜色变化都写入公开的透明日志（日志中只有加盐承诺，没有您的身份）。以下是您的条目。",
            "Every colour change is written to the public transparency log (which holds a salted commitment, not your identity). These are your entries."
        )
    );
    if log.entries.is_empty() {
        body.push(html!(
            "<p>{none}</p>",
            none = ui.t("还没有条目：一直是绿码。", "No entries yet: the code has always been green.")
        ));
    } else {
        body.push(html!(
            "<div class=\"scroll\"><table><tr><th scope=\"col\">{time}</th><th scope=\"col\">{change}</th><th scope=\"col\">{rules}</th><th scope=\"col\">{index}</th></tr>",
            time = ui.t("时间", "Time"),
            change = ui.t("变化", "Change"),
            rules = ui.t("规则", "Rules"),
            index = ui.t("日志序号", "Log index"),
        ));
        let colour = |c: &str| Colour::parse(c).map(|c| ui.colour(c).to_string()).unwrap_or_else(|| c.to_string());
        for item in log.entries.iter().rev() {
            let Entry::ColourChange(change) = &item.entry else { continue };
            let from = match change.old_colour.as_deref() {
                Some(old) => colour(old),
                None => ui.t("首次赋码", "first code").to_string(),
            };
            body.push(html!(
                "<tr><td>{at}</td><td>{from} → {to}</td><td>{rules}</td><td>{index}</td></tr>",
                at = when(Timestamp::from_millis(change.at)),
                from = from,
                to = colour(&change.new_colour),
                rules = change.rules.join(", "),
                index = item.index,
            ));
        }
        body.push_literal("</table></div>");
    }
    body.push(html!(
        "<p class=\"muted\">{machine} <a href=\"/v1/persons/{pid}/log\">/v1/persons/{pid}/log</a></p><p><a href=\"/persons/{pid}\">{back}</a></p>",
        machine = ui.t("含包含证明的机器可读版本：", "Machine-readable, with inclusion proofs:"),
        pid = id.as_str(),
        back = ui.t("返回我的健康码", "Back to my code"),
    ));
    Ok(ui.page(StatusCode::OK, ui.t("我的记录", "My history"), body))
}

/// A freshly signed code for the person and its QR as SVG.
async fn signed_qr(ui: &Ui, state: &AppState, id: &PersonId) -> Result<(IssuedCode, String), Response> {
    let issued = state.service.tokens().issue_code_token(id).await.map_err(|e| ui.internal("issuing a code", e))?;
    let svg = healthcode_token::qr::svg(&issued.token).map_err(|e| ui.internal("drawing a QR", e))?;
    Ok((issued, svg))
}

/// A card to print: the code as it is now, its colour, masked name and validity.
pub(crate) async fn card(
    ui: Ui,
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
) -> Result<Response, Response> {
    reader_of(&ui, &state, &id, "printable code card").await?;
    let (issued, svg) = signed_qr(&ui, &state, &id).await?;
    let body = html!(
        "<h1>{title}</h1><div class=\"code {c}\">{colour}<div class=\"qr\">{qr}</div><div>{name}</div></div><p>{issued_word} {issued} · {until} {expires}</p><p class=\"muted\">{note}</p><p class=\"noprint\"><a href=\"/persons/{pid}\">{back}</a></p>",
        title = ui.t("健康码卡片", "Health code card"),
        c = issued.colour.as_str(),
        colour = ui.colour(issued.colour),
        qr = Markup::qr_svg(&svg, ui.t("健康码二维码", "QR code")),
        name = masked_name(&issued),
        issued_word = ui.t("生成于", "Issued"),
        issued = when(issued.issued_at),
        until = ui.t("有效至", "valid until"),
        expires = when(issued.expires_at),
        note = ui.t(
            "打印的二维码只在有效期内可用；没有手机的居民可在卡口出示身份证。",
            "A printed QR works only until it expires; residents without a phone can show their ID card at gates."
        ),
        pid = id.as_str(),
        back = ui.t("返回我的健康码", "Back to my code"),
    );
    Ok(ui.page(StatusCode::OK, ui.t("健康码卡片", "Health code card"), body))
}

/// Shown once after registration: the key this browser now holds, for other devices.
fn welcome_note(ui: &Ui) -> Markup {
    html!(
        "<section class=\"notice\" aria-labelledby=\"key-title\"><h2 id=\"key-title\">{title}</h2><p>{note}</p><p><code>{key}</code></p></section>",
        title = ui.t("您的居民密钥", "Your resident key"),
        note = ui.t(
            "本浏览器已记住它。请抄下并妥善保管：在其他设备上登录、或让家人代管时需要它。它只显示这一次。",
            "This browser remembers it. Write it down and keep it safe: you need it to sign in on another device or to let a family member act for you. It is shown only this once."
        ),
        key = ui.cookie(crate::pages::residents::signin::RESIDENT_COOKIE).unwrap_or_default(),
    )
}
