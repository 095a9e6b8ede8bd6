//! Camera scanning for verifiers: the one page with scripts. It loads the vendored jsQR
//! decoder and a small script of ours, both served from here (`/assets/…`), under a CSP
//! that allows `script-src 'self'` on this page only; every other page keeps none.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use healthcode_domain::VenueCategory;

use crate::pages::doors::venue::category_name;
use crate::pages::layout::Ui;
use crate::pages::markup::{html, Markup};

/// The camera page's policy: the default one plus scripts from this server.
pub(crate) const CAMERA_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// jsQR 1.4.0's pre-built bundle, unchanged (Apache-2.0; `assets/vendor-jsqr.sh` rebuilds
/// and checks it).
const JSQR: &str = include_str!("../../../assets/jsQR.js");
const CAMERA: &str = include_str!("../../../assets/camera.js");

pub(crate) async fn page(ui: Ui) -> Response {
    let ui = ui.with_form();
    let options: Markup = VenueCategory::ALL
        .iter()
        .map(|category| {
            html!(
                "<option value=\"{value}\"{selected}>{name}</option>",
                value = category.as_str(),
                selected = Markup::literal(if *category == VenueCategory::General { " selected" } else { "" }),
                name = category_name(&ui, *category),
            )
        })
        .collect();
    let body = html!(
        r#"<h1>{title}</h1><video id="camera" muted playsinline style="width:100%;max-height:60vh;background:#222"></video>
<p id="camera-status" role="status" data-scanning="{scanning}" data-found="{found}" data-nocamera="{nocamera}">{starting}</p>
<form id="verify-form" method="post" action="/verify"><label for="category">{category}</label><select id="category" name="category">{options}</select>
<label for="token">{token}</label><textarea id="token" name="token" rows="3" required autocomplete="off"></textarea>
<button type="submit">{submit}</button></form>
<script src="/assets/jsQR.js"></script><script src="/assets/camera.js"></script>"#,
        title = ui.t("用摄像头扫码核验", "Verify with the camera"),
        scanning = ui.t("请将健康码对准摄像头", "Hold the code in front of the camera"),
        found = ui.t("已读到，正在核验…", "Read; verifying…"),
        nocamera = ui.t("无法使用摄像头：请粘贴码的文本", "No camera available: paste the code's text"),
        starting = ui.t("正在打开摄像头…", "Opening the camera…"),
        category = ui.t("本场所类别", "Kind of place"),
        token = ui.t("健康码文本（扫到后自动填写）", "The code's text (filled in when read)"),
        options = options,
        submit = ui.t("核验", "Verify"),
    );
    let mut response = ui.page(StatusCode::OK, ui.t("摄像头核验", "Camera"), body);
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CAMERA_CSP));
    response
}

/// The camera page's scripts. Public and unchanging between releases: cacheable.
pub(crate) async fn asset(Path(name): Path<String>, uri: axum::http::Uri) -> Response {
    let body = match name.as_str() {
        "jsQR.js" => JSQR,
        "camera.js" => CAMERA,
        _ => return crate::error::not_found(uri).await.into_response(),
    };
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], body)
        .into_response()
}
