//! The pages without a browser: form posts from elsewhere are refused, consent is
//! required, the operator key's cookie is scoped and guarded, input is escaped, and the
//! language choice is remembered. (The browser tests are in `browser.rs`.)

#[allow(dead_code, unused_imports)]
mod common;

use common::{resident_id, TestApp};

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn post_form(app: &TestApp, path: &str, body: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request =
        client().post(app.url(path)).header("content-type", "application/x-www-form-urlencoded").body(body.to_string());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.unwrap()
}

fn registration(consent: bool) -> String {
    format!(
        "id_type=resident_id&id_number={}&name=%E5%BC%A0%E4%B8%89&residence_area=330106{}",
        resident_id("33010619800101123"),
        if consent { "&consent=yes" } else { "" }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_posts_from_other_sites_are_refused_and_consent_is_required() {
    let app = TestApp::spawn().await;
    let ours = app.address.clone();
    for headers in [
        vec![("origin", "http://evil.example")],
        vec![("sec-fetch-site", "cross-site"), ("origin", ours.as_str())],
        vec![("origin", "null")],
        vec![],
    ] {
        let response = post_form(&app, "/register", &registration(true), &headers).await;
        assert_eq!(response.status().as_u16(), 403, "{headers:?}");
    }
    assert_eq!(app.service.store().person_count().await.unwrap(), 0, "nothing registered");

    let response = post_form(&app, "/register", &registration(false), &[("origin", &ours)]).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.unwrap().contains("同意"), "says why");
    assert_eq!(app.service.store().person_count().await.unwrap(), 0, "no consent, no registration");

    let response = post_form(&app, "/register", &registration(true), &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(response.status().as_u16(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/persons/p"), "{location}");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("hc_resident=hcr_") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict")
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let page = client().get(app.url(&location)).header("cookie", &pair).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("张*") && page.contains("<svg"), "masked name and QR");
    assert!(page.contains(pair.trim_start_matches("hc_resident=")), "the key is shown once, after registering");
    assert!(!page.contains(&resident_id("33010619800101123")), "the ID number is never shown");

    let form = client().get(app.url("/register")).send().await.unwrap();
    assert_eq!(form.headers()["referrer-policy"], "same-origin", "form pages send their origin");
    let front = client().get(app.url("/")).send().await.unwrap();
    assert_eq!(front.headers()["referrer-policy"], "no-referrer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_key_cookie_is_scoped_and_guards_the_display() {
    let app = TestApp::spawn().await;
    let body = "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&category=supermarket&area=330106";
    let response = post_form(&app, "/venues/new", body, &[("origin", &app.address)]).await;
    assert_eq!(response.status().as_u16(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let venue_path = location.trim_end_matches("?new=1").to_string();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("operator_key=hcv_"), "{cookie}");
    for attribute in [format!("Path={venue_path}"), "HttpOnly".into(), "SameSite=Strict".into()] {
        assert!(cookie.contains(&attribute), "{cookie} lacks {attribute}");
    }
    let pair = cookie.split(';').next().unwrap().to_string();

    let page = client().get(app.url(&location)).header("cookie", &pair).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name, escaped");
    assert!(!page.contains("<script>"), "never raw");
    assert!(page.contains("id=\"operator-key\""), "the key is shown once, after registering");

    let display = format!("{venue_path}/display");
    let refused = client().get(app.url(&display)).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401, "no cookie, no venue code");
    let wrong = client().get(app.url(&display)).header("cookie", "operator_key=hcv_wrong").send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let shown = client().get(app.url(&display)).header("cookie", &pair).send().await.unwrap();
    assert_eq!(shown.status().as_u16(), 200);
    let html = shown.text().await.unwrap();
    assert!(html.contains("<svg") && html.contains("HV1:") && html.contains("http-equiv=\"refresh\""));

    // Another browser enters the key by hand.
    let key = pair.trim_start_matches("operator_key=");
    let saved = post_form(&app, &format!("{venue_path}/key"), &format!("key={key}"), &[("origin", &app.address)]).await;
    assert_eq!(saved.status().as_u16(), 303);
    assert!(saved.headers()["set-cookie"].to_str().unwrap().contains(&format!("Path={venue_path}")));
    let bad = post_form(&app, &format!("{venue_path}/key"), "key=hcv_nope", &[("origin", &app.address)]).await;
    assert_eq!(bad.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_and_text_size_are_chosen_by_link_and_remembered() {
    let app = TestApp::spawn().await;
    let zh = client().get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(zh.contains("<html lang=\"zh-CN\">"));
    let switched = client().get(app.url("/?lang=en&text=large")).send().await.unwrap();
    let cookies: Vec<String> =
        switched.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("lang=en;") && c.contains("SameSite=Strict")), "{cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("text=large;")), "{cookies:?}");
    assert!(switched.text().await.unwrap().contains("<html lang=\"en\" class=\"large\">"));
    let remembered = client().get(app.url("/dashboard")).header("cookie", "lang=en; text=large").send().await.unwrap();
    let html = remembered.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\" class=\"large\">"));
    assert!(html.contains("Codes by colour now") && html.contains("<svg id=\"chart-colours\""));
}

/// A person's pages open only with their key (or a proxy's): signed out, the browser is
/// sent to sign in; someone else's key is refused; a proxy's view is in the access log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_pages_open_only_for_them_and_their_proxies() {
    let app = TestApp::spawn().await;
    let register = |first17: &'static str| {
        let app = &app;
        async move {
            let body = format!("id_type=resident_id&id_number={}&consent=yes", resident_id(first17));
            let response = post_form(app, "/register", &body, &[("origin", &app.address)]).await;
            assert_eq!(response.status().as_u16(), 303);
            let location = response.headers()["location"].to_str().unwrap().trim_end_matches("?welcome=1").to_string();
            let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
            (location, cookie)
        }
    };
    let (mine, my_cookie) = register("33010619800101123").await;
    let (_, their_cookie) = register("33010619800101234").await;
    for path in [mine.clone(), format!("{mine}/history"), format!("{mine}/card"), format!("{mine}/accesses")] {
        let signed_out = client().get(app.url(&path)).send().await.unwrap();
        assert_eq!(signed_out.status().as_u16(), 303, "{path}");
        assert_eq!(signed_out.headers()["location"], "/signin");
        let stranger = client().get(app.url(&path)).header("cookie", &their_cookie).send().await.unwrap();
        assert_eq!(stranger.status().as_u16(), 403, "{path}");
        let own = client().get(app.url(&path)).header("cookie", &my_cookie).send().await.unwrap();
        assert_eq!(own.status().as_u16(), 200, "{path}");
    }

    // Signing in on another device with the key; a wrong key is refused.
    let key = my_cookie.trim_start_matches("hc_resident=");
    let signed_in = post_form(&app, "/signin", &format!("key={key}"), &[("origin", &app.address)]).await;
    assert_eq!(signed_in.status().as_u16(), 303);
    assert_eq!(signed_in.headers()["location"].to_str().unwrap(), mine);
    let wrong = post_form(&app, "/signin", "key=hcr_nope", &[("origin", &app.address)]).await;
    assert_eq!(wrong.status().as_u16(), 401);

    // I start acting for my mother, who has no phone: I register her from my page.
    let body = format!("relation=parent&id_type=resident_id&id_number={}", resident_id("33010619500101111"));
    let added = client()
        .post(app.url("/family"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &app.address)
        .header("cookie", &my_cookie)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(added.status().as_u16(), 303);
    let mother = added.headers()["location"].to_str().unwrap().to_string();
    let page = client().get(app.url(&mother)).header("cookie", &my_cookie).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200, "a proxy sees the code");
    assert!(page.text().await.unwrap().contains("<svg"));
    let mine_page =
        client().get(app.url(&mine)).header("cookie", &my_cookie).send().await.unwrap().text().await.unwrap();
    assert!(mine_page.contains(&format!("href=\"{mother}\"")), "my page links to her code");
    let refused = client().get(app.url(&mother)).header("cookie", &their_cookie).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 403, "nobody else does");
    let person = healthcode_domain::PersonId::parse(mother.trim_start_matches("/persons/")).unwrap();
    let log = app.service.accesses(&person).await.unwrap();
    assert!(log.iter().any(|a| a.role == "proxy" && a.actor.starts_with("proxy:")), "{log:?}");

    // The demo pages exist only on the demo region.
    assert_eq!(client().get(app.url("/demo")).send().await.unwrap().status().as_u16(), 404);
}
