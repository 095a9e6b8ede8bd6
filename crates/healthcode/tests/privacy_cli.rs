//! Personal data at rest and its destruction, against the real binary: after residents
//! register with their name, phone and ID number, none of the three is in any database
//! file or in the server's own log (scanning the bytes); the person reads them back
//! (sealed, not lost); `healthcode destroy` then removes every personal row, deletes the
//! vault and pseudonym keys, and records itself in the transparency log, after which
//! not even the masked names or person ids are left, and a backup taken before cannot be
//! opened.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use std::path::Path;
use std::process::Stdio;

use common::{command_in, healthcode, serve_command, serve_with};
use serde_json::{json, Value};

const RESIDENTS: [(&str, &str, &str); 3] = [
    ("11010519491231002X", "张三丰", "13800138000"),
    ("330106198001011235", "欧阳修远", "13912345678"),
    ("31010119800101123X", "Li Siguang", "15000001111"),
];

/// Every file under `dir` (the database and its write-ahead log), read whole.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The needles found in any of the files, with where.
fn found(files: &[(String, Vec<u8>)], needles: &[String]) -> Vec<String> {
    let mut hits = Vec::new();
    for (name, bytes) in files {
        for needle in needles {
            if contains(bytes, needle) {
                hits.push(format!("{needle:?} in {name}"));
            }
        }
    }
    hits
}

/// Registers a resident; their person id and resident key.
async fn register(client: &reqwest::Client, base: &str, body: &Value) -> (String, String) {
    let answer: Value =
        client.post(format!("{base}/v1/persons")).body(body.to_string()).send().await.unwrap().json().await.unwrap();
    (answer["person_id"].as_str().unwrap().to_string(), answer["resident_key"].as_str().unwrap().to_string())
}

fn server_with_log(dir: &Path, log: &Path) -> common::Server {
    let log = std::fs::File::create(log).unwrap();
    // The most talkative level: even debug output must not hold personal data.
    serve_with(serve_command(dir).env("RUST_LOG", "debug").stderr(Stdio::from(log)))
}

#[tokio::test]
async fn personal_data_is_sealed_at_rest_and_gone_after_destruction() {
    let dir = tempfile::tempdir().unwrap();
    let server_log = dir.path().join("server.log");
    let server = server_with_log(dir.path(), &server_log);
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let mut registered = Vec::new();
    for (id_number, name, phone) in RESIDENTS {
        let body = json!({"id_type": "resident_id", "id_number": id_number, "name": name, "phone": phone,
            "residence_area": "330106"});
        let (person, key) = register(&client, &base, &body).await;
        // The person reads their details back: sealed, not lost.
        let details: Value = client
            .get(format!("{base}/v1/persons/{person}/details"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(details["details"], json!({"name": name, "phone": phone}), "{details}");
        registered.push((person, key));
    }
    // A wrong registration and a malformed phone: the error messages carry no personal data.
    let refused = client
        .post(format!("{base}/v1/persons"))
        .body(json!({"id_type": "resident_id", "id_number": "11010519491231002X", "phone": "12345"}).to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(refused.contains("phone") && !refused.contains("11010519491231002X"), "{refused}");
    drop(server);

    let mut plaintext: Vec<String> = Vec::new();
    for (id_number, name, phone) in RESIDENTS {
        plaintext.extend([id_number.to_string(), name.to_string(), phone.to_string()]);
    }
    let data = dir.path().join("data");
    assert!(found(&files_under(&data), &plaintext).is_empty(), "{:?}", found(&files_under(&data), &plaintext));
    let log_bytes = std::fs::read(&server_log).unwrap();
    assert!(!log_bytes.is_empty(), "the server wrote its log");
    assert!(found(&[("server log".into(), log_bytes)], &plaintext).is_empty());
    let masked = "张*丰".to_string();
    assert!(
        !found(&files_under(&data), std::slice::from_ref(&masked)).is_empty(),
        "the masked name is kept, for gates"
    );

    // A backup taken before the destruction, with the key files a destruction keeps
    // (the log's key, which its stored checkpoints must verify with, and the signing keys).
    let backup = dir.path().join("backup");
    std::fs::create_dir_all(backup.join("data")).unwrap();
    for (name, bytes) in files_under(&data) {
        let file = Path::new(&name).file_name().unwrap();
        std::fs::write(backup.join("data").join(file), bytes).unwrap();
    }
    std::fs::create_dir_all(backup.join("keys")).unwrap();
    for kept in ["log.key", "signing.json"] {
        std::fs::copy(dir.path().join("keys").join(kept), backup.join("keys").join(kept)).unwrap();
    }

    let refused = healthcode().args(["destroy", "--basis", "test"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "not without --yes");
    let report = dir.path().join("report.json");
    let out = command_in(dir.path(), &["destroy", "--yes", "--basis", "省政府公告：疫情防控措施结束，健康码数据销毁"])
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let removed: Vec<(String, u64)> = serde_json::from_value(report["removed"].clone()).unwrap();
    assert!(
        removed.contains(&("persons".to_string(), 3)) && removed.contains(&("personal_data".to_string(), 3)),
        "{report}"
    );
    assert_eq!(report["master_keys"].as_array().unwrap().len(), 1);
    assert!(report["log_index"].is_u64(), "the destruction is in the transparency log: {report}");
    assert!(!dir.path().join("keys/vault.key").exists() && !dir.path().join("keys/pseudonym.key").exists());

    let mut gone = plaintext.clone();
    gone.push(masked);
    gone.extend(registered.iter().map(|(person, _)| person.clone()));
    let after = files_under(&data);
    assert!(found(&after, &gone).is_empty(), "{:?}", found(&after, &gone));

    // The backup still holds the sealed rows, but nothing can open them: the master key
    // is gone, and a server on the backup has only a new one.
    let server = serve_with(serve_command(&backup).stderr(Stdio::null()));
    let (person, key) = &registered[0];
    let response = reqwest::Client::new()
        .get(format!("{}/v1/persons/{person}/details", server.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 500, "the sealed details cannot be opened");
    let text = response.text().await.unwrap();
    assert!(!text.contains("张三丰") && !text.contains("13800138000"), "{text}");
}

/// A new master key without downtime: the running server reloads the key file, every
/// data key is rewrapped under the new key, and the details open before and after, in
/// the running server and after a restart.
#[tokio::test]
async fn the_vault_master_key_rotates_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with(serve_command(dir.path()).stderr(Stdio::null()));
    let client = reqwest::Client::new();
    let body =
        json!({"id_type": "resident_id", "id_number": "11010519491231002X", "name": "张三丰", "phone": "13800138000"});
    let (person, key) = register(&client, &server.base, &body).await;
    let details = |base: String| {
        let (client, person, key) = (client.clone(), person.clone(), key.clone());
        async move {
            let response =
                client.get(format!("{base}/v1/persons/{person}/details")).bearer_auth(&key).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let body: Value = response.json().await.unwrap();
            body["details"]["name"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(details(server.base.clone()).await, "张三丰");

    let out = command_in(dir.path(), &["vault", "rotate", "--settle-seconds", "10"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("rewrapped 1 data key(s)"), "{said}");
    let file = std::fs::read_to_string(dir.path().join("keys/vault.key")).unwrap();
    assert_eq!(file.lines().filter(|l| !l.trim().is_empty()).count(), 2, "the old key is kept for what it wrapped");
    assert_eq!(details(server.base.clone()).await, "张三丰", "the running server opens the rewrapped key");
    drop(server);
    let restarted = serve_with(serve_command(dir.path()).stderr(Stdio::null()));
    assert_eq!(details(restarted.base.clone()).await, "张三丰", "and so does a restarted one");
}
