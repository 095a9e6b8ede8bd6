//! The pages without a browser: form posts from elsewhere are refused, consent is
//! required, the operator key's cookie is scoped and guarded, input is escaped, and the
//! language choice is remembered. (The browser tests are in `browser.rs`.)

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

#[allow(unused_imports)]
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
    assert_eq!(app.store.person_count().await.unwrap(), 0, "nothing registered");

    let response = post_form(&app, "/register", &registration(false), &[("origin", &ours)]).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.unwrap().contains("同意"), "says why");
    assert_eq!(app.store.person_count().await.unwrap(), 0, "no consent, no registration");

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

/// Creates a staff account with a password (the test app's accounts have API keys only).
async fn staff(app: &TestApp, username: &str, role: healthcode_domain::Role) -> healthcode_store::Account {
    let jurisdiction = match role {
        healthcode_domain::Role::ProvincialOffice => Some(healthcode_domain::AreaCode::parse("330000").unwrap()),
        healthcode_domain::Role::LocalOffice => Some(healthcode_domain::AreaCode::parse("330100").unwrap()),
        _ => None,
    };
    let new = healthcode_service::NewAccount {
        username: username.to_string(),
        password: Some(format!("{username} long password")),
        role,
        jurisdiction,
        department: None,
    };
    app.service.accounts().create(new).await.unwrap()
}

/// Signs in through the page; returns the `hc_staff=…` cookie pair.
async fn sign_in(app: &TestApp, username: &str) -> String {
    let body = format!("username={username}&password={username}%20long%20password&next=%2Fstaff");
    let response = post_form(app, "/staff/login", &body, &[("origin", &app.address)]).await;
    assert_eq!(response.status().as_u16(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/;"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(cookie.starts_with("hc_staff=hcs_"), "{cookie}");
    cookie.split(';').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officials_pages_need_a_session_the_right_role_and_same_site_posts() {
    use healthcode_domain::Role;
    let app = TestApp::spawn().await;
    let officer = staff(&app, "officer.zhao", Role::ProvincialOffice).await;
    staff(&app, "auditor.qian", Role::Auditor).await;

    // Signed out: every officials' page sends to the sign-in page, and back afterwards.
    let response = client().get(app.url("/staff/rules")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/staff/login?next=%2Fstaff%2Frules");
    let forged = client().get(app.url("/staff/rules")).header("cookie", "hc_staff=hcs_forged").send().await.unwrap();
    assert_eq!(forged.status().as_u16(), 303, "an unknown session is no session");

    // A wrong password and an unknown username get the same answer.
    let wrong =
        post_form(&app, "/staff/login", "username=officer.zhao&password=guess", &[("origin", &app.address)]).await;
    let unknown = post_form(&app, "/staff/login", "username=nobody&password=guess", &[("origin", &app.address)]).await;
    assert_eq!((wrong.status().as_u16(), unknown.status().as_u16()), (401, 401));
    let alert = |html: String| html.split("role=\"alert\"").nth(1).unwrap().split("</p>").next().unwrap().to_string();
    assert_eq!(alert(wrong.text().await.unwrap()), alert(unknown.text().await.unwrap()));
    assert!(login_is_refused_cross_site(&app).await);

    // The wrong role: an auditor reads the rule changes but may not propose or approve.
    let auditor = sign_in(&app, "auditor.qian").await;
    let read = client().get(app.url("/staff/rules")).header("cookie", &auditor).send().await.unwrap();
    assert_eq!(read.status().as_u16(), 200);
    let home = client().get(app.url("/staff?lang=en")).header("cookie", &auditor).send().await.unwrap();
    assert!(home.text().await.unwrap().contains("<title>Officials&#39; home</title>"), "escaped once");
    let form = client().get(app.url("/staff/rules/new")).header("cookie", &auditor).send().await.unwrap();
    assert_eq!(form.status().as_u16(), 403);
    assert!(form.text().await.unwrap().contains("无权"), "says why, in Chinese first");

    // A proposal by a local office, to approve.
    let local = app.store.account_by_username("local").await.unwrap().unwrap();
    let source = healthcode_rules::REFERENCE_RULES_TOML.replace("version = \"2026.1\"", "version = \"2020.9\"");
    let scenario = serde_json::json!({"name": "nothing", "events": [], "expect": [{"at": "2020-06-01T08:00:00+08:00", "color": "green"}]});
    let proposal = app
        .service
        .governance()
        .propose_rules(&local, &source, common::t("2020-06-02T00:00:00+08:00"), &[scenario])
        .await
        .unwrap();
    let approve = format!("/staff/rules/{}/approve", proposal.id);
    let as_auditor = post_form(&app, &approve, "", &[("origin", &app.address), ("cookie", &auditor)]).await;
    assert_eq!(as_auditor.status().as_u16(), 403, "an auditor may not approve");

    // Signed out (the session ended before the click): to the sign-in page, then back to
    // the proposal, not to the post's own address.
    let signed_out = post_form(&app, &approve, "", &[("origin", &app.address)]).await;
    assert_eq!(signed_out.status().as_u16(), 303);
    assert_eq!(signed_out.headers()["location"], format!("/staff/login?next=%2Fstaff%2Frules%2F{}", proposal.id));

    // CSRF: the officer's own cookie on a post from elsewhere approves nothing.
    let zhao = sign_in(&app, "officer.zhao").await;
    for origin in ["http://evil.example", "null"] {
        let refused = post_form(&app, &approve, "", &[("origin", origin), ("cookie", &zhao)]).await;
        assert_eq!(refused.status().as_u16(), 403, "{origin}");
    }
    let cross = post_form(&app, &approve, "", &[("sec-fetch-site", "cross-site"), ("cookie", &zhao)]).await;
    assert_eq!(cross.status().as_u16(), 403);
    assert!(
        app.service.governance().rule_proposal(&proposal.id).await.unwrap().unwrap().approvals.is_empty(),
        "not approved"
    );

    // From this site it is the service's approval, in the officer's name.
    let approved = post_form(&app, &approve, "", &[("sec-fetch-site", "same-origin"), ("cookie", &zhao)]).await;
    assert_eq!(approved.status().as_u16(), 303);
    let stored = app.service.governance().rule_proposal(&proposal.id).await.unwrap().unwrap();
    assert_eq!(stored.approvals.iter().map(|a| a.by.as_str()).collect::<Vec<_>>(), [officer.username.as_str()]);
    // Twice by the same officer: the service's refusal, shown on the page with the API's status.
    let twice = post_form(&app, &approve, "", &[("origin", &app.address), ("cookie", &zhao)]).await;
    assert_eq!(twice.status().as_u16(), 403);
    assert!(twice.text().await.unwrap().contains("you already approved"));

    // Signing out ends the session on the server, not only in the browser.
    let out = post_form(&app, "/staff/logout", "", &[("origin", &app.address), ("cookie", &zhao)]).await;
    assert_eq!(out.status().as_u16(), 303);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let after = client().get(app.url("/staff")).header("cookie", &zhao).send().await.unwrap();
    assert_eq!(after.status().as_u16(), 303, "the old key no longer works");
}

/// Signing in is a form post like any other: refused from another site (login CSRF).
async fn login_is_refused_cross_site(app: &TestApp) -> bool {
    let body = "username=officer.zhao&password=officer.zhao%20long%20password";
    let response = post_form(app, "/staff/login", body, &[("origin", "http://evil.example")]).await;
    response.status().as_u16() == 403 && response.headers().get("set-cookie").is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn designations_and_decisions_are_approved_on_the_pages_through_the_service() {
    use healthcode_domain::{AreaCode, DecisionColour, RiskLevel, Role, Timestamp};
    let app = TestApp::spawn().await;
    staff(&app, "officer.zhao", Role::ProvincialOffice).await;
    staff(&app, "officer.sun", Role::ProvincialOffice).await;
    staff(&app, "office.li", Role::LocalOffice).await;
    let local = app.store.account_by_username("local").await.unwrap().unwrap();
    let zhao = sign_in(&app, "officer.zhao").await;
    let sun = sign_in(&app, "officer.sun").await;
    let page = |cookie: String, path: &'static str| {
        let app = &app;
        async move {
            let response = client().get(app.url(path)).header("cookie", cookie).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let post = |cookie: String, path: String| {
        let app = &app;
        async move { post_form(app, &path, "", &[("origin", &app.address), ("cookie", &cookie)]).await }
    };

    // A local office's designation, approved by a provincial officer on the page.
    let proposal = app
        .service
        .governance()
        .propose_designation(&local, AreaCode::parse("330106").unwrap(), RiskLevel::High, false)
        .await
        .unwrap();
    let approve = format!("/staff/designations/{}/approve", proposal.id);
    let (status, html) = page(zhao.clone(), "/staff/designations").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("action=\"{approve}\"")), "an Approve button");
    let approved = post(zhao.clone(), approve.clone()).await;
    assert_eq!(approved.status().as_u16(), 303);
    assert_eq!(approved.headers()["location"], "/staff/designations?approved=1");
    let stored = app.service.governance().designation_proposals().await.unwrap();
    assert_eq!(stored[0].approved_by.as_deref(), Some("officer.zhao"));
    let again = post(sun.clone(), approve).await;
    assert_eq!(again.status().as_u16(), 409, "already approved: the service's conflict, shown on the page");
    assert!(again.text().await.unwrap().contains("already approved"));

    // A decision: the proposer has no button; two officers approve it and it applies.
    let person = app.register(&resident_id("33010619800101123")).await;
    let decision = app
        .service
        .governance()
        .propose_decision(
            &app.store.account_by_username("officer.zhao").await.unwrap().unwrap(),
            healthcode_service::NewDecision {
                persons: vec![healthcode_domain::PersonId::parse(&person).unwrap()],
                colour: DecisionColour::Yellow,
                until: Timestamp::from_millis(app.service.now().as_millis() + 7 * 86_400_000),
                basis: "《传染病防治法》第三十九条".into(),
            },
        )
        .await
        .unwrap();
    let approve = format!("/staff/decisions/{}/approve", decision.id);
    let (_, html) = page(zhao.clone(), "/staff/decisions").await;
    assert!(html.contains("《传染病防治法》第三十九条") && !html.contains(&approve), "the proposer sees no button");
    let refused = post(zhao.clone(), approve.clone()).await;
    assert_eq!(refused.status().as_u16(), 403, "nor may post one");
    let (_, html) = page(sun.clone(), "/staff/decisions").await;
    assert!(html.contains(&format!("action=\"{approve}\"")));
    assert_eq!(post(sun.clone(), approve.clone()).await.status().as_u16(), 303);
    let li = sign_in(&app, "office.li").await;
    assert_eq!(post(li.clone(), approve.clone()).await.status().as_u16(), 403, "a local office never approves");
    let second = staff(&app, "officer.wu", Role::ProvincialOffice).await;
    let wu = sign_in(&app, &second.username).await;
    assert_eq!(post(wu, approve).await.status().as_u16(), 303);
    let applied = app.store.decision(&decision.id).await.unwrap().unwrap();
    assert_eq!(applied.status, healthcode_store::DecisionStatus::Applied);
    let (_, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    assert_eq!(code["colour"], "yellow", "the decision is evidence now: {code}");

    // Alarms are for provincial officers and auditors, not local offices.
    assert_eq!(page(sun, "/staff/alarms").await.0, 200);
    assert_eq!(page(li, "/staff/alarms").await.0, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offices_designate_and_propose_decisions_on_the_pages_within_the_services_rules() {
    use healthcode_domain::Role;
    let app = TestApp::spawn().await;
    staff(&app, "officer.zhao", Role::ProvincialOffice).await;
    staff(&app, "office.li", Role::LocalOffice).await;
    let zhao = sign_in(&app, "officer.zhao").await;
    let li = sign_in(&app, "office.li").await;
    let post = |cookie: &str, path: &str, body: &str| {
        let (app, cookie, path, body) = (&app, cookie.to_string(), path.to_string(), body.to_string());
        async move { post_form(app, &path, &body, &[("origin", &app.address), ("cookie", &cookie)]).await }
    };

    // Every designation is a proposal, the provincial office's too: one officer alone
    // changes nothing.
    staff(&app, "officer.sun", Role::ProvincialOffice).await;
    let sun = sign_in(&app, "officer.sun").await;
    let proposed = post(&zhao, "/staff/designations", "area=330106&level=high").await;
    assert_eq!(proposed.headers()["location"], "/staff/designations?proposed=1");
    let listed = |cookie: String| {
        let app = &app;
        async move {
            let page = client().get(app.url("/staff/designations")).header("cookie", cookie).send().await.unwrap();
            page.text().await.unwrap()
        }
    };
    assert!(!listed(li.clone()).await.contains("<tr data-area=\"330106\">"), "not in force on one officer's word");
    let zhaos = app.service.governance().designation_proposals().await.unwrap()[0].id.clone();
    assert!(
        !listed(zhao.clone()).await.contains(&format!("/staff/designations/{zhaos}/approve")),
        "not by its proposer"
    );
    let approved = post(&sun, &format!("/staff/designations/{zhaos}/approve"), "").await;
    assert_eq!(approved.headers()["location"], "/staff/designations?approved=1");
    assert!(listed(li.clone()).await.contains("<tr data-area=\"330106\">"), "in force once another approved");
    let proposed = post(&li, "/staff/designations", "area=330102&level=medium&escalate_to_red=yes").await;
    assert_eq!(proposed.headers()["location"], "/staff/designations?proposed=1");
    let proposals = app.service.governance().designation_proposals().await.unwrap();
    assert_eq!(proposals.len(), 2);
    let lis = proposals.iter().find(|p| p.area.as_str() == "330102").unwrap();
    assert!(lis.escalate_to_red && lis.approved_by.is_none(), "waits for a provincial officer");
    // Outside the office's jurisdiction: the service's refusal, on the page, the form kept.
    let outside = post(&li, "/staff/designations", "area=310101&level=high").await;
    assert_eq!(outside.status().as_u16(), 403);
    let html = outside.text().await.unwrap();
    assert!(html.contains("outside your jurisdiction") && html.contains("value=\"310101\""), "{html}");
    let bad = post(&zhao, "/staff/designations", "area=33&level=high").await;
    assert_eq!(bad.status().as_u16(), 422, "an area code of 2 digits");

    // A decision proposed on the page changes nothing until approved.
    let person = app.register_in(&resident_id("33010619800101123"), "330106").await;
    let body = format!("persons={person}&colour=red&until=2020-06-05T08%3A00&basis=%E3%80%8A%E4%BC%A0%E6%9F%93%E7%97%85%E9%98%B2%E6%B2%BB%E6%B3%95%E3%80%8B");
    let proposed = post(&li, "/staff/decisions", &body).await;
    assert_eq!(proposed.headers()["location"], "/staff/decisions?proposed=1");
    let decisions = app.store.decisions(10).await.unwrap();
    assert_eq!((decisions.len(), decisions[0].proposed_by.as_str()), (1, "office.li"));
    assert_eq!(decisions[0].until.to_rfc3339(), "2020-06-05T08:00:00+08:00", "read as Beijing time");
    let (_, code) = app.get(&format!("/v1/persons/{person}/code")).await;
    assert_eq!(code["colour"], "green", "not before two approvals");
    // Too long a term: refused by the service with the field named, the input kept.
    let long = body.replace("2020-06-05", "2020-08-01");
    let refused = post(&li, "/staff/decisions", &long).await;
    assert_eq!(refused.status().as_u16(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("<code>until</code>") && html.contains(&person), "{html}");
    // An auditor reads decisions but has no form, and may not post one.
    staff(&app, "auditor.qian", Role::Auditor).await;
    let auditor = sign_in(&app, "auditor.qian").await;
    let page = client().get(app.url("/staff/decisions")).header("cookie", &auditor).send().await.unwrap();
    assert!(!page.text().await.unwrap().contains("action=\"/staff/decisions\""));
    assert_eq!(post(&auditor, "/staff/decisions", &body).await.status().as_u16(), 403);
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
    let log = app.service.residents().accesses(&person).await.unwrap();
    assert!(log.iter().any(|a| a.role == "proxy" && a.actor.starts_with("proxy:")), "{log:?}");

    // Someone who knows her ID number registers it: told to claim it, given no key.
    let hers = format!("id_type=resident_id&id_number={}&consent=yes", resident_id("33010619500101111"));
    let typed = post_form(&app, "/register", &hers, &[("origin", &app.address)]).await;
    assert_eq!(typed.status().as_u16(), 422);
    assert!(typed.headers().get("set-cookie").is_none(), "no key");
    assert!(typed.text().await.unwrap().contains("认领码"), "the page says how to claim it");
    // I give her a claim code from my page; she registers with it and gets her own key.
    let claim = client()
        .post(app.url("/family/claim-code"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &app.address)
        .header("cookie", &my_cookie)
        .body(format!("dependant={}", person.as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(claim.status().as_u16(), 201);
    let claim_page = claim.text().await.unwrap();
    let code = claim_page.split("id=\"claim-code\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let claimed = post_form(&app, "/register", &format!("{hers}&claim_code={code}"), &[("origin", &app.address)]).await;
    assert_eq!(claimed.status().as_u16(), 303);
    assert!(claimed.headers()["location"].to_str().unwrap().starts_with(&mother), "her own code");
    assert!(claimed.headers()["set-cookie"].to_str().unwrap().starts_with("hc_resident=hcr_"));

    // Extended functions: off until I switch one on from my page; then off again.
    let toggle = |granted: &'static str| {
        let (app, my_cookie, mine) = (&app, my_cookie.clone(), mine.clone());
        async move {
            client()
                .post(app.url(&format!("{mine}/consents")))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", &app.address)
                .header("cookie", &my_cookie)
                .body(format!("function=transport_card&granted={granted}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert!(mine_page.contains("未开通") && !mine_page.contains("已开通"), "every extended function starts off");
    assert_eq!(toggle("true").await, 303);
    let page = client().get(app.url(&mine)).header("cookie", &my_cookie).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已开通"), "switched on");
    assert_eq!(toggle("false").await, 303);
    let me = healthcode_domain::PersonId::parse(mine.trim_start_matches("/persons/")).unwrap();
    let consents = app.service.residents().consents(&me).await.unwrap();
    let functions: Vec<_> = consents.iter().filter(|c| !c.purpose.starts_with("collection_notice:")).collect();
    assert!(functions.len() == 1 && !functions[0].in_force(), "{consents:?}");
    let notice = format!("collection_notice:{}", healthcode_service::COLLECTION_NOTICE_VERSION);
    assert!(consents.iter().any(|c| c.purpose == notice), "the page's registration recorded the notice it accepted");

    // The demo pages exist only on the demo region.
    assert_eq!(client().get(app.url("/demo")).send().await.unwrap().status().as_u16(), 404);
}

/// A resident complains on their page; a complaint handler answers in the queue; the
/// resident reads the answer, the colour stays what the evidence says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_is_filed_on_the_residents_page_and_answered_in_the_queue() {
    let app = TestApp::spawn().await;
    let body =
        format!("id_type=resident_id&id_number={}&residence_area=330106&consent=yes", resident_id("33010619800101123"));
    let response = post_form(&app, "/register", &body, &[("origin", &app.address)]).await;
    let me = response.headers()["location"].to_str().unwrap().trim_end_matches("?welcome=1").to_string();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let filed = client()
        .post(app.url(&format!("{me}/complaints")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &app.address)
        .header("cookie", &cookie)
        .body("subject=colour&text=%E6%88%91%E7%9A%84%E7%A0%81%E4%B8%8D%E5%AF%B9")
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status().as_u16(), 303);

    staff(&app, "handler.wang", healthcode_domain::Role::ComplaintHandler).await;
    let session = sign_in(&app, "handler.wang").await;
    let queue = client().get(app.url("/staff/complaints")).header("cookie", &session).send().await.unwrap();
    assert_eq!(queue.status().as_u16(), 200);
    let html = queue.text().await.unwrap();
    assert!(html.contains("我的码不对"), "the complaint is in the queue");
    let id = html.split("action=\"/staff/complaints/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let answered = client()
        .post(app.url(&format!("/staff/complaints/{id}/answer")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &app.address)
        .header("cookie", &session)
        .body("status=dismissed&text=no+record+behind+it+is+wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status().as_u16(), 303);
    let mine = client().get(app.url(&format!("{me}/complaints"))).header("cookie", &cookie).send().await.unwrap();
    let mine = mine.text().await.unwrap();
    assert!(mine.contains("不成立") && mine.contains("no record behind it is wrong"), "the resident reads the answer");

    // An auditor reads the queue but has no answer form; a resident's cookie is no session.
    staff(&app, "auditor.zhao", healthcode_domain::Role::Auditor).await;
    let auditor = sign_in(&app, "auditor.zhao").await;
    let read = client().get(app.url("/staff/complaints?status=all")).header("cookie", &auditor).send().await.unwrap();
    let read = read.text().await.unwrap();
    assert!(read.contains("我的码不对") && !read.contains("/answer\""));
    let resident = client().get(app.url("/staff/complaints")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(resident.status().as_u16(), 303, "sent to sign in");
}

/// Registration and sign-in are rate limited per client address; codes are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_and_sign_in_are_rate_limited_per_address() {
    let settings = healthcode_server::limits::LimitSettings { registrations_per_minute: 3, sign_ins_per_minute: 2 };
    let app = TestApp::spawn_limited(settings).await;
    let mut statuses = Vec::new();
    let mut person = String::new();
    for i in 0..5 {
        let body =
            serde_json::json!({"id_type": "resident_id", "id_number": resident_id(&format!("3301061980010112{i}"))});
        let (status, answer) = app.post("/v1/persons", body.to_string()).await;
        if status == 201 {
            person = answer["person_id"].as_str().unwrap().to_string();
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429], "a burst of three, then refused");
    let refused = client()
        .post(app.url("/v1/persons"))
        .body(serde_json::json!({"id_type": "resident_id", "id_number": resident_id("33010619800101129")}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 429);
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "says when to try again: {wait}");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    // The form page counts against the same budget.
    let form = post_form(&app, "/register", &registration(true), &[("origin", &app.address)]).await;
    assert_eq!(form.status().as_u16(), 429);
    assert!(form.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "a page answers a page");
    assert!(form.text().await.unwrap().contains("请稍后再试"));
    // Sign-in: two attempts, then refused, whatever the key.
    let attempts = [
        post_form(&app, "/signin", "key=hcr_guess1", &[("origin", &app.address)]).await.status().as_u16(),
        post_form(&app, "/signin", "key=hcr_guess2", &[("origin", &app.address)]).await.status().as_u16(),
        post_form(&app, "/signin", "key=hcr_guess3", &[("origin", &app.address)]).await.status().as_u16(),
    ];
    assert_eq!(attempts, [401, 401, 429]);
    // A resident's code is not limited: checkpoints read codes in volume.
    for _ in 0..10 {
        assert_eq!(app.get(&format!("/v1/persons/{person}/token")).await.0, 200);
    }
}

/// A health officer traces a case's contacts on the page and confirms one; a provincial
/// officer approves on the page: only then, and only the confirmed one, turns red.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_traces_contacts_on_the_page_and_another_approves_one() {
    use serde_json::json;
    let app = TestApp::spawn().await;
    let (_, venue) = app.post("/v1/venues", json!({"name": "联华超市", "category": "supermarket"}).to_string()).await;
    let (market, key) =
        (venue["venue"]["id"].as_str().unwrap().to_string(), venue["operator_key"].as_str().unwrap().to_string());
    let mut persons = Vec::new();
    for first17 in ["33010619800101123", "33010619800202456", "33010619800303789"] {
        persons.push(app.register_in(&resident_id(first17), "330106").await);
    }
    let start = app.service.now();
    for (person, minutes) in persons.iter().zip([0, 10, 20]) {
        app.clock.set(healthcode_domain::Timestamp::from_millis(start.as_millis() + minutes * 60_000));
        let (_, code) = app.get_with_key(&format!("/v1/venues/{market}/code"), &key).await;
        let body = json!({"person_id": person, "venue_code": code["code"]["token"]});
        assert_eq!(app.post("/v1/checkins", body.to_string()).await.0, 200);
    }
    // The health department reports the first person's positive test: now a case.
    let test = json!({"id": "lab-1", "person_id": persons[0], "type": "test", "result": "positive",
                      "sampled_at": "2020-06-01T07:00:00+08:00"});
    assert_eq!(app.post("/v1/events", test.to_string()).await.0, 201);
    staff(&app, "officer.chen", healthcode_domain::Role::LocalOffice).await;
    let session = sign_in(&app, "officer.chen").await;
    let post = |path: String, body: String| {
        let (app, session) = (&app, session.clone());
        async move {
            client()
                .post(app.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", &app.address)
                .header("cookie", &session)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let traced = post("/staff/traces".into(), format!("case={}&days=14&window=30", persons[0])).await;
    assert_eq!(traced.status().as_u16(), 303);
    let trace_path = traced.headers()["location"].to_str().unwrap().to_string();
    let page =
        client().get(app.url(&trace_path)).header("cookie", &session).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&persons[1]) && page.contains(&persons[2]), "both contacts listed");
    let confirmed = post(format!("{trace_path}/confirm"), format!("person={}", persons[1])).await;
    assert_eq!(confirmed.status().as_u16(), 303);
    let colour = |person: String| {
        let app = &app;
        async move { app.get(&format!("/v1/persons/{person}/code")).await.1["colour"].as_str().unwrap().to_string() }
    };
    assert_eq!(colour(persons[1].clone()).await, "green", "a confirmation alone changes nothing");
    let page =
        client().get(app.url(&trace_path)).header("cookie", &session).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("id=\"pending\"") && !page.contains("approve-trace"),
        "pending; a local office cannot approve"
    );
    staff(&app, "officer.qian", healthcode_domain::Role::ProvincialOffice).await;
    let qian = sign_in(&app, "officer.qian").await;
    let page = client().get(app.url(&trace_path)).header("cookie", &qian).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("approve-trace"), "a provincial officer who did not confirm may approve");
    let approved = client()
        .post(app.url(&format!("{trace_path}/approve")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &app.address)
        .header("cookie", &qian)
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status().as_u16(), 303);
    assert_eq!(colour(persons[1].clone()).await, "red", "the confirmed and approved contact");
    assert_eq!(colour(persons[2].clone()).await, "green", "listed but not confirmed: unchanged");
    let refused = client().get(app.url("/staff/traces")).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 303, "signed out: to the sign-in page");
}

/// A key given at a counter declares on the resident's page: the page says it waits. The
/// official who gave it does not see it on the officials' page; another official of the
/// district opens it with a purpose and confirms it there, and only then does it count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_keys_declaration_waits_and_another_official_confirms_it_on_the_page() {
    use serde_json::json;
    let app = TestApp::spawn().await;
    app.designate(&json!({"id": "d-1", "area": "330106", "level": "high"}).to_string()).await;
    let id_number = resident_id("33010619800909001");
    let person = app.register_in(&id_number, "330106").await;
    let body = json!({"id_type": "resident_id", "id_number": id_number});
    let (status, given) = app.post_with_key("/v1/residents/keys", &app.keys["local"], body.to_string()).await;
    assert_eq!(status, 200, "{given}");
    let cookie = format!("hc_resident={}", given["resident_key"].as_str().unwrap());
    let declared = post_form(
        &app,
        &format!("/persons/{person}/declare"),
        "stay_area=330106002&stay_from=2020-05-30T08:00:00%2B08:00&stay_to=2020-05-31T08:00:00%2B08:00",
        &[("origin", &app.address), ("cookie", &cookie)],
    )
    .await;
    assert_eq!(declared.status().as_u16(), 202);
    assert!(declared.text().await.unwrap().contains("id=\"declaration-waiting\""));
    let colour =
        || async { app.get_with_key(&format!("/v1/persons/{person}/code"), &cookie[12..]).await.1["colour"].clone() };
    assert_eq!(colour().await, "green");

    // The test app's local office gave the key; another officer of the city decides.
    staff(&app, "officer.lin", healthcode_domain::Role::LocalOffice).await;
    let lin = sign_in(&app, "officer.lin").await;
    let get = |path: String| {
        let (app, lin) = (&app, lin.clone());
        async move { client().get(app.url(&path)).header("cookie", &lin).send().await.unwrap() }
    };
    let list = get("/staff/declarations".into()).await.text().await.unwrap();
    assert!(list.contains(&person) && list.contains("id=\"waiting\""), "{list}");
    let id = list.split("/staff/declarations/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let opened = get(format!("/staff/declarations/{id}?purpose=check%20the%20stay")).await;
    assert_eq!(opened.status().as_u16(), 200);
    assert!(opened.text().await.unwrap().contains("330106002"));
    let confirmed = post_form(
        &app,
        &format!("/staff/declarations/{id}/confirm"),
        "",
        &[("origin", &app.address), ("cookie", &lin)],
    )
    .await;
    assert_eq!(confirmed.status().as_u16(), 303);
    assert_eq!(colour().await, "yellow", "confirmed: Y2 holds");
    let list = get("/staff/declarations".into()).await.text().await.unwrap();
    assert!(list.contains("id=\"none-waiting\""), "decided: no longer listed");
}

/// A visitor from another region on the visitors' page (来浙申报): declares where they come
/// from and a stay, and is sent to their code here; an origin inside this region, or a home
/// code that is not genuine, is refused with the reason and registers nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_declares_on_the_visitors_page_and_gets_a_code_here() {
    let app = TestApp::spawn().await;
    let ours = app.address.clone();
    let form = client().get(app.url("/visit")).send().await.unwrap();
    assert_eq!(form.status().as_u16(), 200);
    let page = form.text().await.unwrap();
    assert!(page.contains("name=\"home_code\"") && page.contains("name=\"origin\""), "{page}");

    let visitor = resident_id("41010519900101123");
    let body = |origin: &str, extra: &str| {
        format!("id_type=resident_id&id_number={visitor}&name=%E5%BC%A0%E4%B8%89&origin={origin}&consent=yes{extra}")
    };
    let inside = post_form(&app, "/visit", &body("330106", ""), &[("origin", &ours)]).await;
    assert_eq!(inside.status().as_u16(), 422);
    assert!(inside.text().await.unwrap().contains("330106"), "names the origin refused");
    let forged = post_form(&app, "/visit", &body("410105", "&home_code=HC1%3ANOTACODE"), &[("origin", &ours)]).await;
    assert_eq!(forged.status().as_u16(), 422);
    assert!(forged.text().await.unwrap().contains("home code"));
    assert_eq!(app.store.person_count().await.unwrap(), 0, "a refused conversion registers nobody");

    let stay =
        "&stay_area=410105&stay_from=2020-02-20T08%3A00%3A00%2B08%3A00&stay_to=2020-02-25T08%3A00%3A00%2B08%3A00";
    let response = post_form(&app, "/visit", &body("410105", stay), &[("origin", &ours)]).await;
    assert_eq!(response.status().as_u16(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/persons/p"), "{location}");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("hc_resident=hcr_"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let page = client().get(app.url(&location)).header("cookie", &pair).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<svg") && !page.contains(&visitor), "the code, never the ID number");

    // The same ID again: known here, so no second key.
    let again = post_form(&app, "/visit", &body("410105", ""), &[("origin", &ours)]).await;
    assert_eq!(again.status().as_u16(), 409);
    assert_eq!(app.store.person_count().await.unwrap(), 1);
}
