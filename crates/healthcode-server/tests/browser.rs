//! The pages in a real browser: starts the server (SQLite, manual clock), seeds residents
//! of several colours in several areas, and runs `node --test web-tests/pages.test.mjs`,
//! which drives Debian's Chromium with playwright-core and saves screenshots under
//! `target/browser-screenshots/`.
//!
//! Without node, `web-tests/node_modules` or Chromium, it says "browser tests not run: …"
//! and passes, as the PostgreSQL tests do (`.ci/run` installs them).

#[allow(dead_code, unused_imports)]
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

async fn seed(app: &TestApp) {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_in_a_real_browser() {
    if let Some(why) = missing() {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "browser tests not run: {why}");
        return;
    }
    let app = TestApp::spawn().await;
    seed(&app).await;
    let root = workspace();
    let screenshots = root.join("target/browser-screenshots");
    let address = app.address.clone();
    let started = std::time::Instant::now();
    // Blocking: the server keeps answering on the runtime's other threads meanwhile.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "web-tests/pages.test.mjs"])
            .current_dir(&root)
            .env("HEALTHCODE_URL", &address)
            .env("HEALTHCODE_CHROMIUM", chromium())
            .env("HEALTHCODE_SCREENSHOTS", &screenshots)
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
