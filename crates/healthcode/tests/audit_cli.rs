//! The transparency log against a running `healthcode serve`: an honest log passes
//! `healthcode audit verify` (and keeps passing as it grows, from the checkpoint the
//! auditor kept); a resident checks the proof of each change to their code; a leaf row
//! changed behind the system's back fails the audit, and a changed node hash stops the
//! server from starting.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use base64::Engine;
use common::{healthcode, serve, serve_command};
use serde_json::{json, Value};

async fn post(client: &reqwest::Client, base: &str, key: &str, path: &str, body: Value) -> Value {
    let response = client.post(format!("{base}{path}")).bearer_auth(key).body(body.to_string()).send().await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.unwrap()
}

/// Registers a resident: their id and their key.
async fn register(client: &reqwest::Client, base: &str, id_number: &str) -> (String, String) {
    let answer = post(client, base, "", "/v1/persons", json!({"id_type": "resident_id", "id_number": id_number})).await;
    (answer["person_id"].as_str().unwrap().to_string(), answer["resident_key"].as_str().unwrap().to_string())
}

/// The health department's feed, created by an operator on the machine; its API key.
fn health_feed(dir: &Path) -> String {
    let out = healthcode()
        .args(["accounts", "add", "cdc-feed", "--role", "data_source", "--department", "health", "--api-key", "feed"])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().nth(1).unwrap().to_string()
}

fn audit(dir: &Path, base: &str, key: &str) -> (i32, String) {
    let out = healthcode()
        .args(["audit", "verify", "--url", base, "--key", key, "--state"])
        .arg(dir.join("audit-state"))
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string())
}

#[tokio::test]
async fn an_honest_log_passes_the_audit_and_an_altered_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let key = health_feed(dir.path());
    let server = serve(dir.path());
    let base = server.base.clone();
    let (a, a_key) = register(&client, &base, "11010519491231002X").await;
    let (b, _) = register(&client, &base, "330106198001011235").await;
    for (i, person) in [&a, &b].into_iter().enumerate() {
        let contact = json!({"id": format!("cdc-{i}"), "person_id": person, "type": "close_contact",
                             "exposure_at": "2020-06-01T08:00:00+08:00"});
        post(&client, &base, &key, "/v1/events", contact).await;
    }
    let log_key = client.get(format!("{base}/v1/log/key")).send().await.unwrap().text().await.unwrap();

    let (code, said) = audit(dir.path(), &base, &log_key);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("all 3 entries hash to the signed root"), "{said}");
    assert!(said.contains("2  colour changes to red"), "{said}");
    assert!(said.contains("1  accounts in use: data_source"), "the feed's account, before its first event: {said}");

    // The log grows; the next audit proves it extends what the auditor saw before.
    post(&client, &base, &key, "/v1/events", json!({"id": "clr-0", "person_id": a, "type": "contact_cleared"})).await;
    let (code, said) = audit(dir.path(), &base, &log_key);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("all 4 entries") && said.contains("1  colour changes to green"), "{said}");

    // A resident checks each change to their own code: the commitment from their salt,
    // the entry's inclusion in the signed checkpoint.
    let mine: Value = client
        .get(format!("{base}/v1/persons/{a}/log"))
        .bearer_auth(&a_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = mine["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{mine}");
    let verifier = healthcode_log::NoteVerifier::parse(log_key.trim()).unwrap();
    let checkpoint =
        healthcode_log::Checkpoint::open(mine["checkpoint"].as_str().unwrap(), &verifier, verifier.name()).unwrap();
    let salt: [u8; 32] = hex(mine["salt"].as_str().unwrap()).try_into().unwrap();
    for e in entries {
        let index = e["index"].as_u64().unwrap();
        let entry: healthcode_log::Entry = serde_json::from_value(e["entry"].clone()).unwrap();
        let healthcode_log::Entry::ColourChange(change) = &entry else { panic!("{entry:?}") };
        assert_eq!(change.person_commitment, healthcode_log::person_commitment(&salt, &a, index));
        let proof: Vec<[u8; 32]> = e["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| base64::engine::general_purpose::STANDARD.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
            .collect();
        healthcode_log::verify_inclusion(&entry.leaf_hash(), index, checkpoint.size, &proof, &checkpoint.root).unwrap();
    }
    assert!(!mine.to_string().contains(&b), "a person sees only their own entries");
    drop(server);

    // Behind the system's back: a red entry made to read green in the database.
    let db = rusqlite::Connection::open(dir.path().join("data/healthcode.sqlite3")).unwrap();
    let data: Vec<u8> = db.query_row("SELECT data FROM log_leaves WHERE idx = 1", [], |r| r.get(0)).unwrap();
    let altered = String::from_utf8(data).unwrap().replace("\"new_colour\":\"red\"", "\"new_colour\":\"green\"");
    assert!(altered.contains("\"new_colour\":\"green\""), "leaf 1 is the first red: {altered}");
    db.execute("UPDATE log_leaves SET data = ?1 WHERE idx = 1", [altered.as_bytes()]).unwrap();
    let server = serve(dir.path());
    let (code, said) = audit(dir.path(), &server.base, &log_key);
    assert_eq!(code, 1, "{said}");
    assert!(said.starts_with("FAILED:") && said.contains("do not hash to the checkpoint's root"), "{said}");
    drop(server);

    // A node hash changed to match forged data: the server itself refuses to start.
    db.execute("UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 1", []).unwrap();
    let out = serve_command(dir.path()).output().unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("were changed in the database"), "{said}");
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// The server checks its own log before it starts: a log whose checkpoints were deleted,
/// or whose latest checkpoint another key signed (forged, or the log key replaced), or
/// that is shorter than its checkpoint, is refused with what happened.
#[tokio::test]
async fn a_log_without_its_checkpoints_or_with_a_forged_one_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let key = health_feed(dir.path());
    let server = serve(dir.path());
    let (person, _) = register(&client, &server.base, "11010519491231002X").await;
    let contact = json!({"id": "cdc-0", "person_id": person, "type": "close_contact",
                         "exposure_at": "2020-06-01T08:00:00+08:00"});
    post(&client, &server.base, &key, "/v1/events", contact).await;
    drop(server);
    let refused = |expected: &str| {
        let mut child = serve_command(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > std::time::Duration::from_secs(30) {
                let _ = child.kill();
                panic!("the server started over a log that should be refused ({expected})");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert!(!status.success());
        let mut said = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut said).unwrap();
        assert!(said.contains(expected), "{said}");
    };
    let db = rusqlite::Connection::open(dir.path().join("data/healthcode.sqlite3")).unwrap();
    let saved: Vec<(i64, String, i64)> = {
        let mut rows = db.prepare("SELECT size, note, signed_at FROM checkpoints").unwrap();
        rows.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    };
    assert!(!saved.is_empty(), "the first append stored a checkpoint with it");

    db.execute("DELETE FROM checkpoints", []).unwrap();
    refused("no signed checkpoint: checkpoints were deleted");

    // Another key's checkpoint of the same log.
    let impostor = healthcode_log::NoteSigner::from_seed(healthcode_service::DEFAULT_LOG_ORIGIN, [9; 32]).unwrap();
    let (size, _, signed_at) = saved.last().unwrap().clone();
    let forged = healthcode_log::Checkpoint { origin: impostor.name().into(), size: size as u64, root: [0; 32] }
        .sign(&impostor)
        .unwrap();
    db.execute("INSERT INTO checkpoints (size, note, signed_at) VALUES (?1, ?2, ?3)", (size, &forged, signed_at))
        .unwrap();
    refused("not signed by this log's key");

    // The genuine checkpoints back, and a log cut short under them.
    db.execute("DELETE FROM checkpoints", []).unwrap();
    for (size, note, signed_at) in &saved {
        db.execute("INSERT INTO checkpoints (size, note, signed_at) VALUES (?1, ?2, ?3)", (size, note, signed_at))
            .unwrap();
    }
    let serve_ok = serve(dir.path());
    drop(serve_ok);
    db.execute("UPDATE log_state SET size = 0 WHERE id = 1", []).unwrap();
    refused("entries were deleted");
}
