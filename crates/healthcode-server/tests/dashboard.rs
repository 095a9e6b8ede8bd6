//! The dashboard's counties, against a running server on both backends: residents of real
//! streets, some with red or yellow codes, and designations in force, drawn as a treemap
//! of named counties with the table of their numbers — exact for a signed-in official,
//! rounded for the public.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{resident_id, TestApp};
use healthcode_domain::Role;
use serde_json::json;

common::on_both_backends!(the_dashboard_shows_codes_and_designations_by_county);

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// An official with a password, signed in through the page: the `hc_staff=…` pair.
async fn signed_in(app: &TestApp, username: &str, role: Role) -> String {
    let jurisdiction = matches!(role, Role::ProvincialOffice | Role::ComplaintHandler)
        .then(|| healthcode_domain::AreaCode::parse("330000").unwrap());
    let new = healthcode_service::NewAccount {
        username: username.to_string(),
        password: Some(format!("{username} long password")),
        role,
        jurisdiction,
        department: None,
    };
    app.service.accounts().create(new).await.unwrap();
    let response = client()
        .post(app.url("/staff/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &app.address)
        .body(format!("username={username}&password={username}%20long%20password&next=%2Fstaff"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    cookie.split(';').next().unwrap().to_string()
}

async fn page(app: &TestApp, path: &str, cookie: &str) -> String {
    let response = client().get(app.url(path)).header("cookie", cookie).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.text().await.unwrap()
}

/// The table row of one county, from `<tr data-area="…"` to its `</tr>`.
fn row<'a>(html: &'a str, area: &str) -> &'a str {
    let start = html.find(&format!("<tr data-area=\"{area}\"")).unwrap_or_else(|| panic!("no row for {area}: {html}"));
    let end = start + html[start..].find("</tr>").unwrap();
    &html[start..end]
}

/// The treemap tile of one county, from `<g class="tile" data-area="…"` to its `</g>`.
fn tile<'a>(html: &'a str, area: &str) -> Option<&'a str> {
    let start = html.find(&format!("<g class=\"tile\" data-area=\"{area}\""))?;
    let end = start + html[start..].find("</g>").unwrap();
    Some(&html[start..end])
}

async fn the_dashboard_shows_codes_and_designations_by_county(app: TestApp) {
    // 西湖区: four residents on 北山街道 and 西溪街道, one red (a close contact), one yellow
    // (fever); 上城区: two on 清波街道, one yellow; one resident who gave no area.
    let residents = [
        ("33010619800101201", Some("330106002"), Some("close_contact")),
        ("33010619800101202", Some("330106002"), Some("fever")),
        ("33010619800101203", Some("330106004"), None),
        ("33010619800101204", Some("330106004"), None),
        ("33010619800101205", Some("330102001"), Some("fever")),
        ("33010619800101206", Some("330102001"), None),
        ("33010619800101207", None, None),
    ];
    for (i, (first17, area, event)) in residents.into_iter().enumerate() {
        let person = match area {
            Some(area) => app.register_in(&resident_id(first17), area).await,
            None => app.register(&resident_id(first17)).await,
        };
        let event = match event {
            Some("fever") => json!({"id": format!("d-{i}"), "person_id": person, "type": "fever",
                                    "onset_at": "2020-06-01T06:00:00+08:00"}),
            Some(_) => json!({"id": format!("d-{i}"), "person_id": person, "type": "close_contact",
                              "exposure_at": "2020-05-31T08:00:00+08:00"}),
            None => continue,
        };
        let (status, answer) = app.post("/v1/events", event.to_string()).await;
        assert_eq!(status, 201, "{answer}");
    }
    let (_, stats) = app.get("/v1/stats").await;
    assert_eq!(stats["codes"], json!({"red": 1, "orange": 0, "yellow": 2, "green": 4}));

    // In force: 北山街道 medium, and 拱墅区 (where nobody here lives) high; 清波街道 was
    // designated, then lifted (low).
    app.designate(&json!({"area": "330106002", "level": "medium"}).to_string()).await;
    app.designate(&json!({"area": "330105", "level": "high"}).to_string()).await;
    app.designate(&json!({"area": "330102001", "level": "medium"}).to_string()).await;
    app.designate(&json!({"area": "330102001", "level": "low"}).to_string()).await;

    // The service's figures, exact.
    let counties = app.service.overview().counties().await.unwrap();
    let xihu = counties.iter().find(|c| c.county.as_ref().is_some_and(|a| a.as_str() == "330106")).unwrap();
    assert_eq!((xihu.residents, xihu.red, xihu.orange, xihu.yellow, xihu.green()), (4, 1, 0, 1, 2));
    assert_eq!(xihu.designated(), Some(healthcode_domain::RiskLevel::Medium));
    assert_eq!(xihu.designations[0].area.as_str(), "330106002");
    let shangcheng = counties.iter().find(|c| c.county.as_ref().is_some_and(|a| a.as_str() == "330102")).unwrap();
    assert_eq!((shangcheng.residents, shangcheng.yellow), (2, 1));
    assert!(shangcheng.designations.is_empty(), "a designation lifted (low) is not in force: {shangcheng:?}");
    let unknown = counties.last().unwrap();
    assert_eq!((unknown.county.as_ref(), unknown.residents), (None, 1), "no area: last, in a bucket of its own");
    assert!(counties.iter().any(|c| c.county.as_ref().is_some_and(|a| a.as_str() == "330105") && c.residents == 0));
    assert_eq!(
        app.service
            .overview()
            .residents_within(&healthcode_domain::AreaCode::parse("330106002").unwrap())
            .await
            .unwrap(),
        2
    );

    // An official sees the exact counts.
    let cookie = signed_in(&app, "officer.qian", Role::ProvincialOffice).await;
    let html = page(&app, "/dashboard", &cookie).await;
    assert!(html.contains("<svg id=\"chart-counties\" class=\"chart\" role=\"img\""), "{html}");
    assert!(html.contains("精确人数，仅工作人员可见"), "{html}");
    let xihu_tile = tile(&html, "330106").unwrap_or_else(|| panic!("no tile for 西湖区: {html}"));
    assert!(
        xihu_tile
            .contains("data-state=\"red\" data-residents=\"4\" data-red=\"1\" data-orange=\"0\" data-yellow=\"1\""),
        "{xihu_tile}"
    );
    assert!(
        xihu_tile
            .contains("<title>浙江省杭州市西湖区 (330106)：居民 4，红码 1，橙码 0，黄码 1；中风险：北山街道</title>"),
        "{xihu_tile}"
    );
    assert!(xihu_tile.contains("stroke-dasharray"), "a designation in force: dashed outline: {xihu_tile}");
    assert!(xihu_tile.contains(">西湖区</text>"), "the name is written on the tile: {xihu_tile}");
    let xihu_row = row(&html, "330106");
    assert!(xihu_row.contains("<span class=\"swatch red\" aria-hidden=\"true\"></span>西湖区</span><br><span class=\"muted\">330106 · 浙江省杭州市</span>"), "{xihu_row}");
    assert!(
        xihu_row.contains("<td>4</td><td>1</td><td>1</td><td class=\"designation\">中风险：北山街道</td>"),
        "{xihu_row}"
    );
    let shangcheng_row = row(&html, "330102");
    assert!(shangcheng_row.contains("data-state=\"yellow\"") && shangcheng_row.contains("上城区"), "{shangcheng_row}");
    assert!(
        shangcheng_row.contains("<td>2</td><td>0</td><td>1</td><td class=\"designation\"></td>"),
        "{shangcheng_row}"
    );
    let gongshu_row = row(&html, "330105");
    assert!(
        gongshu_row.contains("data-state=\"designated\"") && gongshu_row.contains("高风险：拱墅区"),
        "{gongshu_row}"
    );
    assert!(tile(&html, "330105").is_none(), "no residents, no tile: only the row");
    assert!(row(&html, "unknown").contains("<td>1</td><td>0</td><td>0</td>"), "the resident with no area");
    // The worst first: red, then yellow, then designated only, then green.
    let at = |area: &str| html.find(&format!("<tr data-area=\"{area}\"")).unwrap();
    assert!(at("330106") < at("330102") && at("330102") < at("330105") && at("330105") < at("unknown"));
    // The rest of the dashboard is still there.
    assert!(html.contains("<svg id=\"chart-colours\"") && html.contains("<svg id=\"chart-changes\""), "{html}");

    // English, large text: names in English, a taller map with larger text.
    let english = page(&app, "/dashboard?lang=en&text=large", &cookie).await;
    assert!(english.contains("<html lang=\"en\" class=\"large\">"));
    assert!(english.contains("viewBox=\"0 0 360 320\"") && english.contains("font-size=\"18\""), "{english}");
    let xihu_tile = tile(&english, "330106").unwrap();
    assert!(xihu_tile.contains("Xihu District, Hangzhou City, Zhejiang Province (330106): 4 residents, 1 red"));
    assert!(row(&english, "330106").contains("Xihu District"));

    // The public sees no number under ten: the counties stand only by their designations.
    let public = client().get(app.url("/dashboard")).send().await.unwrap().text().await.unwrap();
    assert!(public.contains("取整到十位，不足十人不显示"), "{public}");
    assert!(public.contains("非绿码不足十人"), "the legend says what green means once rounded: {public}");
    let public_counties = &public[public.find("<svg id=\"chart-counties\"").unwrap()..];
    let public_counties = &public_counties[..public_counties.find("</table>").unwrap()];
    assert!(
        !public_counties.contains("data-residents=\"4\"") && !public_counties.contains("<td>4</td>"),
        "{public_counties}"
    );
    let xihu_row = row(&public, "330106");
    assert!(
        xihu_row.contains("data-state=\"designated\""),
        "a red code hidden by rounding does not colour it: {xihu_row}"
    );
    assert!(xihu_row.contains("</th><td>0</td><td>0</td><td>0</td>"), "{xihu_row}");
    assert!(!public.contains("data-area=\"330102\""), "上城区, under ten and not designated, is not named: {public}");
    assert!(!public.contains("data-area=\"unknown\""), "{public}");
    // A signed-in official whose role may not see exact counts sees the public page.
    let handler = signed_in(&app, "handler.sun", Role::ComplaintHandler).await;
    let rounded = page(&app, "/dashboard", &handler).await;
    assert!(rounded.contains("取整到十位，不足十人不显示") && !rounded.contains("data-area=\"330102\""));
}
