//! The pages in a real browser: starts the server (SQLite, manual clock), seeds residents
//! of several colours in several areas, and runs `node --test web-tests/pages.test.mjs`,
//! which drives Debian's Chromium with playwright-core and saves screenshots under
//! `target/browser-screenshots/`. A second server, with three provincial officers who
//! sign in with passwords, runs `web-tests/officials.test.mjs`: a rule change proposed,
//! refused to its proposer, approved by the two others and in force.
//!
//! Without node, `web-tests/node_modules` or Chromium, it says "browser tests not run: …"
//! and passes, as the PostgreSQL tests do (`.ci/run` installs them).

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

#[allow(unused_imports)]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{resident_id, TestApp};
use serde_json::json;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn chromium() -> PathBuf {
    std::env::var_os("HEALTHCODE_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into())
}

/// Why the browser tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !matches!(node, Ok(ref o) if o.status.success()) {
        return Some("node is not installed".into());
    }
    let playwright = workspace().join("web-tests/node_modules/playwright-core");
    if !playwright.is_dir() {
        return Some(format!("{} is missing (run `npm ci --prefix web-tests`)", playwright.display()));
    }
    if !chromium().exists() {
        return Some(format!("{} is missing (apt-get install chromium)", chromium().display()));
    }
    None
}

/// Seeds residents; returns the id of a yellow one.
async fn seed(app: &TestApp) -> String {
    let mut yellow = None;
    // Residents in three areas: green, yellow (fever) and red (close contact).
    let people = [
        ("33010619700101001", "330106", None),
        ("33010619700101002", "330106", Some("fever")),
        ("33010619700101003", "330102", Some("close_contact")),
        ("33010619700101004", "330102", None),
        ("33010619700101005", "310101", Some("fever")),
    ];
    for (i, (first17, area, event)) in people.into_iter().enumerate() {
        let body = json!({"id_type": "resident_id", "id_number": resident_id(first17), "residence_area": area});
        let (status, answer) = app.post("/v1/persons", body.to_string()).await;
        assert_eq!(status, 201, "{answer}");
        let person = answer["person_id"].as_str().unwrap();
        if event == Some("fever") {
            yellow.get_or_insert_with(|| person.to_string());
        }
        let event = match event {
            Some("fever") => json!({"id": format!("seed-{i}"), "person_id": person, "type": "fever",
                "onset_at": "2020-06-01T06:00:00+08:00"}),
            Some(_) => json!({"id": format!("seed-{i}"), "person_id": person, "type": "close_contact",
                "exposure_at": "2020-05-31T08:00:00+08:00"}),
            None => continue,
        };
        let (status, answer) = app.post("/v1/events", event.to_string()).await;
        assert_eq!(status, 201, "{answer}");
    }
    // Enough green residents in two counties for the public dashboard, which shows no
    // county count under ten.
    for i in 0..20 {
        let area = if i < 10 { "330106" } else { "330102" };
        let body = json!({"id_type": "resident_id", "id_number": resident_id(&format!("330106197002{i:05}")),
                          "residence_area": area});
        assert_eq!(app.post("/v1/persons", body.to_string()).await.0, 201);
    }
    // A medium-risk street, for the scene where an explanation names the place of a stay.
    app.designate(&json!({"id": "seed-beishan", "area": "330106002", "level": "medium"}).to_string()).await;
    yellow.unwrap()
}

/// A Y4M video (one 640×480 frame, looped by Chromium's fake camera) showing the person's
/// code: what the camera page's decoder will see.
async fn fake_camera(app: &TestApp, person: &str, path: &Path) {
    let person = healthcode_domain::PersonId::parse(person).unwrap();
    let token = app.service.tokens().issue_code_token(&person).await.unwrap().token;
    let png = healthcode_token::qr::png(&token, 5).unwrap();
    let qr = image::load_from_memory(&png).unwrap().to_luma8();
    let (width, height) = (640u32, 480u32);
    assert!(qr.width() <= width && qr.height() <= height, "{}×{}", qr.width(), qr.height());
    let (left, top) = ((width - qr.width()) / 2, (height - qr.height()) / 2);
    let mut luma = vec![255u8; (width * height) as usize];
    for (x, y, pixel) in qr.enumerate_pixels() {
        luma[((top + y) * width + left + x) as usize] = pixel.0[0];
    }
    let mut video = format!("YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\nFRAME\n").into_bytes();
    video.extend_from_slice(&luma);
    video.extend(std::iter::repeat_n(128u8, (width * height / 2) as usize)); // grey chroma
    std::fs::write(path, video).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_in_a_real_browser() {
    if let Some(why) = missing() {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "browser tests not run: {why}");
        return;
    }
    let app = TestApp::spawn().await;
    let yellow = seed(&app).await;
    let root = workspace();
    let screenshots = root.join("target/browser-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let camera = screenshots.join("fake-camera.y4m");
    fake_camera(&app, &yellow, &camera).await;
    let address = app.address.clone();
    let health_key = app.keys["health"].clone();
    let telecom_key = app.keys["telecom"].clone();
    let started = std::time::Instant::now();
    // Blocking: the server keeps answering on the runtime's other threads meanwhile.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "web-tests/pages.test.mjs"])
            .current_dir(&root)
            .env("HEALTHCODE_URL", &address)
            .env("HEALTHCODE_HEALTH_KEY", &health_key)
            .env("HEALTHCODE_TELECOM_KEY", &telecom_key)
            .env("HEALTHCODE_CHROMIUM", chromium())
            .env("HEALTHCODE_SCREENSHOTS", &screenshots)
            .env("HEALTHCODE_FAKE_CAMERA", &camera)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let report = format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("{report}");
    assert!(output.status.success(), "browser tests failed ({:?}):\n{report}", started.elapsed());
    eprintln!("browser tests passed in {:.1?}; screenshots in target/browser-screenshots/", started.elapsed());
}

/// Runs one of `web-tests/*.test.mjs` against `app` with the environment given, and fails
/// with node's report if any browser test failed.
async fn run_node_tests(app: &TestApp, file: &'static str, env: Vec<(&'static str, String)>) {
    let root = workspace();
    let screenshots = root.join("target/browser-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let address = app.address.clone();
    let started = std::time::Instant::now();
    // Blocking: the server keeps answering on the runtime's other threads meanwhile.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "--test-reporter=spec", file])
            .current_dir(&root)
            .env("HEALTHCODE_URL", &address)
            .env("HEALTHCODE_CHROMIUM", chromium())
            .env("HEALTHCODE_SCREENSHOTS", &screenshots)
            .envs(env)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let report = format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("{report}");
    assert!(output.status.success(), "{file} failed ({:?}):\n{report}", started.elapsed());
    eprintln!("{file} passed in {:.1?}; screenshots in target/browser-screenshots/", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_official_approves_a_rule_change_in_a_real_browser() {
    if let Some(why) = missing() {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "browser tests not run: {why}");
        return;
    }
    let app = TestApp::spawn().await;
    // Three provincial officers who sign in with passwords: one proposes, two approve.
    let mut officers = Vec::new();
    for username in ["officer.a", "officer.b", "officer.c"] {
        let password = format!("{username} correct horse battery");
        let new = healthcode_service::NewAccount {
            username: username.to_string(),
            password: Some(password.clone()),
            role: healthcode_domain::Role::ProvincialOffice,
            jurisdiction: Some(healthcode_domain::AreaCode::parse("330000").unwrap()),
            department: None,
        };
        app.service.accounts().create(new).await.unwrap();
        officers.push(json!({"username": username, "password": password}));
    }
    // Entered from abroad ten days ago: red under the 14-day window, green under 7 days.
    // Their key lets the browser open their code page, as they would.
    let body = json!({"id_type": "resident_id", "id_number": resident_id("33010619800101123")});
    let (status, registered) = app.post("/v1/persons", body.to_string()).await;
    assert_eq!(status, 201, "{registered}");
    let traveller = registered["person_id"].as_str().unwrap().to_string();
    let traveller_key = registered["resident_key"].as_str().unwrap().to_string();
    let entry = json!({"id": "bd-1", "person_id": traveller, "type": "entry", "country": "GB",
                       "entered_at": "2020-05-22T08:00:00+08:00"});
    let (status, answer) = app.post("/v1/events", entry.to_string()).await;
    assert_eq!(status, 201, "{answer}");
    // Something on the other lists: a local office's designation proposal and a decision
    // proposed by another provincial officer, both waiting for approval.
    let local = app.store.account_by_username("local").await.unwrap().unwrap();
    let area = healthcode_domain::AreaCode::parse("330106").unwrap();
    app.service.governance().propose_designation(&local, area, healthcode_domain::RiskLevel::High, true).await.unwrap();
    let provincial = app.store.account_by_username("provincial").await.unwrap().unwrap();
    let decision = healthcode_service::NewDecision {
        persons: vec![healthcode_domain::PersonId::parse(&traveller).unwrap()],
        colour: healthcode_domain::DecisionColour::Yellow,
        until: common::t("2020-06-08T08:00:00+08:00"),
        basis: "《中华人民共和国传染病防治法》第四十二条".into(),
    };
    app.service.governance().propose_decision(&provincial, decision).await.unwrap();
    // The traveller disputes the entry record: red today, and they must travel (urgent).
    // A complaint handler with a password will ask the border department to check it.
    let complaint = json!({"subject": "evidence", "text": "入境记录不是我的，我没有出过国。",
                           "event_id": "bd-1", "blocks": "travel"});
    let (status, filed) =
        app.post_with_key(&format!("/v1/persons/{traveller}/complaints"), &traveller_key, complaint.to_string()).await;
    assert_eq!(status, 201, "{filed}");
    let handler_password = "handler.wang correct horse battery";
    let handler = healthcode_service::NewAccount {
        username: "handler.wang".into(),
        password: Some(handler_password.into()),
        role: healthcode_domain::Role::ComplaintHandler,
        jurisdiction: None,
        department: None,
    };
    app.service.accounts().create(handler).await.unwrap();
    // A credit record about the traveller, made by two provincial officers (the browser
    // shows it to the traveller, who appeals).
    let proposer = app.store.account_by_username("provincial3").await.unwrap().unwrap();
    let person = healthcode_domain::PersonId::parse(&traveller).unwrap();
    let record = app
        .service
        .governance()
        .propose_credit_record(&proposer, &person, "《浙江省公共信用信息管理条例》第十四条", "隐瞒入境史，虚假申报。")
        .await
        .unwrap();
    for approver in ["provincial", "provincial2"] {
        let account = app.store.account_by_username(approver).await.unwrap().unwrap();
        app.service.governance().approve_credit_record(&account, &record.id).await.unwrap();
    }
    // The border department's officer, who answers correction requests on the pages.
    let border_password = "border.wu correct horse battery";
    let border = healthcode_service::NewAccount {
        username: "border.wu".into(),
        password: Some(border_password.into()),
        role: healthcode_domain::Role::DataSource,
        jurisdiction: None,
        department: Some(healthcode_domain::Department::Border),
    };
    app.service.accounts().create(border).await.unwrap();
    let env = vec![
        ("HEALTHCODE_BORDER", json!({"username": "border.wu", "password": border_password}).to_string()),
        ("HEALTHCODE_OFFICERS", json!(officers).to_string()),
        ("HEALTHCODE_HANDLER", json!({"username": "handler.wang", "password": handler_password}).to_string()),
        ("HEALTHCODE_TRAVELLER", traveller.clone()),
        ("HEALTHCODE_TRAVELLER_KEY", traveller_key),
    ];
    run_node_tests(&app, "web-tests/officials.test.mjs", env).await;
    let person = healthcode_domain::PersonId::parse(&traveller).unwrap();
    let complaints = app.service.residents().complaints_of(&person).await.unwrap();
    let correction = complaints[0].correction.as_ref().expect("the handler's request in the browser");
    assert_eq!(correction.department, healthcode_domain::Department::Border);
    assert_eq!(
        correction.answer.as_ref().map(|a| a.outcome.as_str()),
        Some("retracted"),
        "the border officer withdrew the record on the page"
    );
    assert_eq!(complaints[0].status, healthcode_store::ComplaintStatus::Upheld, "{:?}", complaints[0].steps);
    let active = app.service.codes().rules();
    assert_eq!(active.version(), "2026.2", "the server agrees with what the browser saw");
}
