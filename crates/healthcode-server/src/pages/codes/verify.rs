//! A verifier's page: paste a resident's code (or its text from a scanner), choose the
//! kind of place, and see a large colour-coded decision with its reason.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use healthcode_domain::{access_decision, PresentedBy, VenueCategory};

use crate::pages::doors::venue::{category_options, decision_box, outcome_words};
use crate::pages::extract::{FromOurPages, Posted};
use crate::pages::layout::{when, Ui};
use crate::pages::markup::{html, Markup};
use crate::AppState;

pub(crate) async fn form(ui: Ui) -> Response {
    verify_page(ui.with_form(), StatusCode::OK, Markup::new(), VenueCategory::General)
}

fn verify_page(ui: Ui, status: StatusCode, result: Markup, chosen: VenueCategory) -> Response {
    let options = category_options(&ui, chosen);
    let body = html!(
        r#"<h1>{title}</h1>{result}<p><a href="/verify/camera">{camera}</a></p><form method="post" action="/verify"><label for="token">{token}</label><textarea id="token" name="token" rows="4" required autocomplete="off"></textarea>
<label for="category">{category}</label><select id="category" name="category">{options}</select>
<button type="submit">{submit}</button></form>
<h2>{upload_title}</h2><form method="post" action="/verify/upload" enctype="multipart/form-data"><label for="image">{image}</label><input type="file" id="image" name="image" accept="image/png" required>
<label for="upload-category">{category}</label><select id="upload-category" name="category">{options}</select>
<button type="submit">{submit}</button></form><p class="muted">{offline}</p>"#,
        title = ui.t("核验健康码", "Verify a health code"),
        result = result,
        camera = ui.t("用摄像头扫码", "Scan with the camera"),
        token = ui.t("健康码（扫码枪读出的或粘贴的 HC1: 文本）", "Health code (HC1: text from a scanner, or pasted)"),
        category = ui.t("本场所类别", "Kind of place"),
        options = options,
        submit = ui.t("核验", "Verify"),
        upload_title = ui.t("或上传二维码图片", "Or upload a picture of the code"),
        image = ui.t("二维码图片（PNG，最大 4 MB）", "Picture of the QR code (PNG, at most 4 MB)"),
        offline = ui.t(
            "核验只看签名、有效期和颜色，看不到持码人的身份。",
            "Verification checks the signature, validity and colour; it never learns who holds the code."
        ),
    );
    ui.page(status, ui.t("核验", "Verify"), body)
}

/// The form's target: the decision is the answer (nothing is recorded, so nothing to
/// redirect to), and the code is not echoed back.
pub(crate) async fn verify(State(state): State<AppState>, Posted { ui, form }: Posted) -> Response {
    let token = form.get("token").map(|t| t.trim().to_string()).unwrap_or_default();
    let category = form.get("category").and_then(|c| VenueCategory::parse(c).ok()).unwrap_or(VenueCategory::General);
    let result = decide(&ui, &state, &token, category);
    verify_page(ui, StatusCode::OK, result, category)
}

/// The largest picture the upload form takes.
pub(crate) const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;

/// The upload form's target: reads the QR in the picture, then decides as for a pasted code.
pub(crate) async fn upload(
    State(state): State<AppState>,
    FromOurPages(ui): FromOurPages,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut image = None;
    let mut category = VenueCategory::General;
    if let Ok(mut multipart) = multipart {
        while let Ok(Some(field)) = multipart.next_field().await {
            match field.name() {
                Some("image") => image = field.bytes().await.ok(),
                Some("category") => {
                    if let Ok(text) = field.text().await {
                        category = VenueCategory::parse(&text).unwrap_or(VenueCategory::General);
                    }
                }
                _ => {}
            }
        }
    }
    let read = match image {
        Some(bytes) => Some(read_qr(bytes).await),
        None => None,
    };
    let result = match read {
        Some(Ok(token)) => decide(&ui, &state, &token, category),
        Some(Err(_)) | None => decision_box(
            "deny",
            Markup::text(ui.t("读不出二维码", "No QR code could be read")),
            Markup::text(
                ui.t("请上传清晰的 PNG 图片，或粘贴码的文本", "Upload a sharp PNG picture, or paste the code's text"),
            ),
        ),
    };
    verify_page(ui, StatusCode::OK, result, category)
}

/// Decoding a picture is CPU work of up to a second: on the blocking pool, at most two
/// at once, so that uploads cannot starve the server's other requests.
async fn read_qr(bytes: axum::body::Bytes) -> Result<String, String> {
    static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let _permit = DECODING.acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || healthcode_token::qr::decode_png(&bytes).map_err(|e| e.to_string()))
        .await
        .map_err(|e| e.to_string())?
}

/// The decision for a code at a place of this category.
fn decide(ui: &Ui, state: &AppState, token: &str, category: VenueCategory) -> Markup {
    match state.service.tokens().verify_code_token(token) {
        Ok(code) => {
            let decision = access_decision(code.colour, category, PresentedBy::Code);
            let (class, words) = outcome_words(ui, decision.outcome);
            let (zh, en) = decision.reason.message();
            let region = healthcode_places::Divisions::embedded().get(&code.issuer);
            let region_name = match region {
                Some(d) => ui.t(d.full_name(), d.full_name_en()).to_string(),
                None => code.issuer.clone(),
            };
            let detail = html!(
                "{reason} · {colour} · {name}<br>{until} {expires} · {issued_by} {region} (<code>{issuer}</code>) · <code>{code}</code>",
                reason = ui.t(zh, en),
                colour = ui.colour(code.colour),
                name = if code.masked_name.is_empty() { "—" } else { &code.masked_name },
                until = ui.t("有效至", "valid until"),
                expires = when(code.expires_at),
                issued_by = ui.t("签发地区", "issued by"),
                region = region_name,
                issuer = code.issuer,
                code = decision.reason.code(),
            );
            decision_box(class, Markup::text(words), detail)
        }
        Err(refused) => {
            let detail = html!(
                "{advice}<br><code>{code}</code> {why}",
                advice = ui.t("请持码人刷新健康码后重试", "Ask the holder to refresh their code and try again"),
                code = refused.code(),
                why = refused.to_string(),
            );
            decision_box("deny", Markup::text(ui.t("劝阻：码无效", "Denied: not a valid code")), detail)
        }
    }
}
