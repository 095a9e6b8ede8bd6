//! The printed card that lasts, on the pages: printed and revoked by its holder or a
//! proxy, for a family member without a phone. The card shows no colour; a gate asks.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::PersonId;

use crate::pages::extract::{PersonPage, Posted};
use crate::pages::layout::{see_other, when, Ui};
use crate::pages::markup::{html, Markup};
use crate::pages::residents::signin::reader_of;
use crate::AppState;

/// The forms on a person's page: print a card, revoke one by its number.
pub(crate) fn section(ui: &Ui, id: &PersonId) -> Markup {
    html!(
        r#"<section aria-labelledby="lasting-title"><h2 id="lasting-title">{title}</h2><p class="muted">{intro}</p><form method="post" action="/persons/{id}/cards/print"><button type="submit">{print}</button></form>
<form method="post" action="/persons/{id}/cards/revoke"><label for="card_id">{number}</label><input id="card_id" name="card_id" maxlength="64" autocomplete="off" required><button type="submit">{revoke}</button></form></section>"#,
        title = ui.t("长期卡（无智能手机者）", "A card that lasts (for people without a phone)"),
        intro = ui.t(
            "打印后一年有效；卡上不显示颜色，闸机扫卡时向系统查询当前颜色。遗失请凭卡号作废。",
            "Valid for a year once printed; it shows no colour: a gate asks for the colour now when it reads the card. If it is lost, revoke it by its number."
        ),
        id = id.as_str(),
        print = ui.t("打印长期卡", "Print a card"),
        number = ui.t("卡号", "Card number"),
        revoke = ui.t("作废此卡", "Revoke this card"),
    )
}

pub(crate) async fn print(
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
    Posted { ui, .. }: Posted,
) -> Result<Response, Response> {
    let reader = reader_of(&ui, &state, &id, "card").await?;
    let card = state.service.tokens().issue_card(&id, &reader).await.map_err(|e| ui.internal("printing a card", e))?;
    let svg = healthcode_token::qr::svg(&card.token).map_err(|e| ui.internal("drawing a card's code", e))?;
    let body = card_body(&ui, &card, &svg, &format!("/persons/{id}"));
    Ok(ui.page(StatusCode::CREATED, ui.t("健康码长期卡", "Health code card"), body))
}

/// A printed card's page: its code, holder, number and term, and that it shows no colour.
pub(crate) fn card_body(ui: &Ui, card: &healthcode_service::IssuedCard, svg: &str, back: &str) -> Markup {
    html!(
        "<div class=\"big\"><h1>{title}</h1><div class=\"qr\">{qr}</div><p>{name_word} {name}</p><p>{number_word} <code>{number}</code></p><p>{until} {expires}</p><p class=\"muted\">{note}</p><p class=\"noprint\"><a href=\"{back}\">{back_word}</a></p></div>",
        title = ui.t("健康码长期卡", "Health code card"),
        qr = Markup::qr_svg(svg, ui.t("长期卡二维码", "Card code")),
        name_word = ui.t("持卡人", "Holder"),
        name = if card.masked_name.is_empty() { "—" } else { card.masked_name.as_str() },
        number_word = ui.t("卡号", "Card number"),
        number = card.card_id,
        until = ui.t("有效期至", "Valid until"),
        expires = when(card.expires_at),
        note = ui.t(
            "本卡不显示健康码颜色，由闸机在线查询。遗失请在健康码页面凭卡号作废，或到社区服务窗口办理。",
            "This card shows no colour: gates look it up online. If lost, revoke it by its number on the code page, or at a community service counter."
        ),
        back = back,
        back_word = ui.t("返回", "Back"),
    )
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    PersonPage(id): PersonPage,
    Posted { ui, form }: Posted,
) -> Result<Response, Response> {
    let reader = reader_of(&ui, &state, &id, "card").await?;
    let who = reader.resident_label().unwrap_or_default();
    let card_id = form.get("card_id").map(|c| c.trim()).unwrap_or_default();
    let result = state.service.tokens().revoke_card(&id, card_id, &who).await;
    Ok(ui.outcome(result, "revoking a card", |_| see_other(&format!("/persons/{id}"))))
}
