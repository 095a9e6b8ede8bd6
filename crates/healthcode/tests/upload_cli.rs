//! The kill test: `healthcode upload` streams a 200,000-row batch to the real
//! `healthcode serve`, the server is killed (SIGKILL) in the middle of it, restarted on
//! the same data, and the uploader run again resumes where the server stands. Every
//! event is then stored exactly once, every rejected row logged exactly once, and the
//! batch's report adds up.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{healthcode, serve_command, serve_with, Backend};
use serde_json::Value;

const ROWS: usize = 200_000;
/// Rows that repeat an earlier row (same id, same content): duplicates.
const REPEATS: usize = 10;
/// Rows that are refused: an unknown test result, in some of the rows that are tests.
fn refused(i: usize) -> bool {
    i % 20_000 == 777 && !i.is_multiple_of(3)
}

/// The batch: tests and close contacts about 20,000 travellers named by passport (a list
/// that reaches the province before they ask for a code), a few blank lines, repeats,
/// refused rows.
fn write_batch(path: &Path) -> (usize, usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut lines = 0;
    let mut invalid = 0;
    let row = |i: usize| -> String {
        let who = format!(r#""id_type":"passport","id_number":"E{:08}""#, i % 20_000);
        if i.is_multiple_of(3) {
            format!(r#"{{"id":"cc-{i}",{who},"type":"close_contact","exposure_at":"2026-11-20T08:00:00+08:00"}}"#)
        } else {
            let result = if refused(i) { "unclear" } else { "negative" };
            format!(
                r#"{{"id":"t-{i}",{who},"type":"test","result":"{result}","sampled_at":"2026-11-21T08:00:00+08:00"}}"#
            )
        }
    };
    for i in 0..ROWS {
        writeln!(file, "{}", row(i)).unwrap();
        lines += 1;
        invalid += usize::from(refused(i));
        if i % 50_000 == 49_999 {
            writeln!(file).unwrap();
            lines += 1;
        }
    }
    for i in 0..REPEATS {
        writeln!(file, "{}", row(i * 1000 + 1)).unwrap();
        lines += 1;
    }
    file.flush().unwrap();
    (lines, invalid)
}

impl Backend {
    /// What `serve` is given besides its data folder.
    fn serve_args(&self, dir: &Path) -> Vec<String> {
        match self {
            Backend::Sqlite => Vec::new(),
            Backend::Postgres { .. } => self.args(dir),
        }
    }

    /// A number read from the store with `SELECT count(…) FROM …`.
    async fn count(&self, dir: &Path, sql: &str) -> usize {
        match self {
            Backend::Sqlite => {
                let db = rusqlite::Connection::open(dir.join("data/healthcode.sqlite3")).unwrap();
                db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as usize
            }
            Backend::Postgres { url, schema } => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                client.batch_execute(&format!("SET search_path = {schema}")).await.unwrap();
                client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) as usize
            }
        }
    }
}

fn feed_key(dir: &Path, backend: &Backend) -> String {
    let out = healthcode()
        .args(["accounts", "add", "cdc-feed", "--role", "data_source", "--department", "health", "--api-key", "feed"])
        .args(backend.args(dir))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().nth(1).unwrap().to_string()
}

fn upload_command(file: &Path, base: &str, key: &str) -> std::process::Command {
    let mut command = healthcode();
    command.arg("upload").arg(file).args(["--url", base, "--key", key, "--batch-id", "cdc-20261125", "--retries", "0"]);
    command
}

async fn status(client: &reqwest::Client, base: &str, key: &str) -> Option<Value> {
    let response = client.get(format!("{base}/v1/feeds/cdc-20261125")).bearer_auth(key).send().await.ok()?;
    (response.status() == 200).then_some(response.json().await.ok()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_interrupted_by_killing_the_server_resumes_with_every_row_stored_once() {
    kill_and_resume(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_on_postgres() {
    let url = std::env::var("HEALTHCODE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("hc_upload_{}", std::process::id());
    let Ok((client, connection)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await else {
        let _ = writeln!(
            std::io::stderr(),
            "note: the PostgreSQL kill test was not run: cannot reach {url}; start PostgreSQL or set \
             HEALTHCODE_TEST_DATABASE_URL to run it"
        );
        return;
    };
    tokio::spawn(connection);
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    kill_and_resume(Backend::Postgres { url, schema: schema.clone() }).await;
    client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
}

async fn kill_and_resume(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("contacts.ndjson");
    let (lines, invalid) = write_batch(&file);
    let key = feed_key(dir.path(), &backend);
    let serve = |dir: &Path| serve_with(serve_command(dir).args(backend.serve_args(dir)).stderr(Stdio::null()));
    let client = reqwest::Client::new();

    // First attempt: killed once some chunks are stored, well before the end.
    let server = serve(dir.path());
    let uploader =
        upload_command(&file, &server.base, &key).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    let stored_at_kill = loop {
        if let Some(report) = status(&client, &server.base, &key).await {
            let through = report["committed_through_line"].as_u64().unwrap();
            assert!(report["complete"] != true, "the upload ended before the kill; make the batch larger");
            if through >= 10_000 {
                break through;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(300), "no chunk was stored in 5 minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    drop(server); // SIGKILL: no shutdown, no flush, a chunk may be half written.
    let out = tokio::task::spawn_blocking(move || uploader.wait_with_output()).await.unwrap().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("run the same command again to resume"), "{said}");

    // Restarted on the same data: the batch stands where its last committed chunk left it.
    let server = serve(dir.path());
    let before = status(&client, &server.base, &key).await.expect("the batch is known after the restart");
    let through = before["committed_through_line"].as_u64().unwrap();
    assert!(through >= stored_at_kill && through < lines as u64, "{through} after a kill at {stored_at_kill}");
    assert_eq!(
        before["rows"].as_u64().unwrap(),
        before["accepted"].as_u64().unwrap() + before["rejected"].as_u64().unwrap()
    );

    // The uploader again: it asks where the batch stands and sends the rest.
    let out = upload_command(&file, &server.base, &key).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "rows were rejected: {said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("resuming at line {}", through + 1)));
    assert!(said.contains(&format!("rows from line {}, ", through + 1)), "{said}");

    let report = status(&client, &server.base, &key).await.unwrap();
    let n = |k: &str| report[k].as_u64().unwrap() as usize;
    let rows = lines - ROWS / 50_000; // the blank lines are no rows
    assert_eq!(n("committed_through_line"), lines);
    assert_eq!(report["complete"], true);
    assert_eq!(n("rows"), rows, "{report}");
    assert_eq!((n("accepted"), n("duplicates"), n("rejected")), (ROWS - invalid, REPEATS, invalid), "{report}");
    assert_eq!(n("accepted") + n("duplicates") + n("rejected"), n("rows"));
    assert!(said.contains("line 20778  result:"), "{said}");
    drop(server);

    // In the database itself: each event once, each rejected row logged once.
    let count = |sql: &'static str| backend.count(dir.path(), sql);
    assert_eq!(count("SELECT count(*) FROM evidence").await, ROWS - invalid);
    assert_eq!(count("SELECT count(DISTINCT id) FROM evidence").await, ROWS - invalid);
    assert_eq!(count("SELECT count(*) FROM rejections").await, invalid);
    assert_eq!(count("SELECT count(*) FROM persons").await, 20_000, "the travellers, registered by passport");
}
