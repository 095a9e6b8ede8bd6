//! Injected fault (issue 17): PostgreSQL restarted while the server is under load. The
//! test runs its own PostgreSQL cluster (initdb in a temporary folder, on a free port) so
//! that it can stop and start it without disturbing anyone else's database. While the
//! database is away, every request must fail cleanly (503 with `Retry-After`, never a hang
//! and never a 500); when it is back, the same server answers again without a restart, and
//! every event it acknowledged is stored.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{healthcode, serve_command, serve_with};
use serde_json::{json, Value};

/// A PostgreSQL cluster of the test's own, stopped (immediately) when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Cluster {
    /// None when PostgreSQL's server programs are not installed on this machine.
    fn new() -> Option<Cluster> {
        let bin = postgres_bin()?;
        let dir = tempfile::tempdir().unwrap();
        if running_as_root() {
            // initdb refuses root: the cluster belongs to the `postgres` account.
            run(Command::new("chown").arg("postgres").arg(dir.path()));
        }
        let cluster = Cluster { port: free_port(), bin, dir };
        run(cluster.tool("initdb").args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"]).arg(cluster.data()));
        cluster.start();
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// One of PostgreSQL's programs, run as the cluster's owner.
    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        let mut command = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        command.stdout(Stdio::null());
        command
    }

    fn start(&self) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        run(self
            .tool("pg_ctl")
            .args(["-w", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-o", &options, "start"]));
    }

    /// A fast shutdown, as an operator's restart does: sessions are cut, in-flight
    /// transactions roll back.
    fn stop(&self) {
        run(self.tool("pg_ctl").args(["-w", "-m", "fast", "-D"]).arg(self.data()).arg("stop"));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.tool("pg_ctl").args(["-m", "immediate", "-D"]).arg(self.data()).arg("stop").status();
    }
}

fn run(command: &mut Command) {
    let out = command.stderr(Stdio::piped()).output().unwrap();
    assert!(out.status.success(), "{command:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `HEALTHCODE_TEST_PG_BIN`, else Debian's newest `/usr/lib/postgresql/<n>/bin`.
fn postgres_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("HEALTHCODE_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn account(url: &str, what: &[&str]) -> String {
    let out = healthcode()
        .args(["accounts", "add"])
        .args(what)
        .args(["--api-key", "restart", "--database-url", url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().nth(1).unwrap().to_string()
}

/// What one request got: its status, or what went wrong on the way.
#[derive(Debug)]
struct Outcome {
    what: String,
    status: Option<u16>,
    retry_after: bool,
    code: Option<String>,
    #[allow(dead_code)] // shown when the test fails
    failure: Option<String>,
    at: Duration,
}

async fn send(request: reqwest::RequestBuilder, what: String, start: Instant) -> Outcome {
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response.headers().contains_key("retry-after");
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let code = body["error"]["code"].as_str().map(str::to_string);
            Outcome { what, status: Some(status), retry_after, code, failure: None, at: start.elapsed() }
        }
        Err(e) => Outcome {
            what,
            status: None,
            retry_after: false,
            code: None,
            failure: Some(e.to_string()),
            at: start.elapsed(),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_gives_clean_503s_and_the_server_recovers_by_itself() {
    let Some(cluster) = Cluster::new() else {
        let _ =
            writeln!(std::io::stderr(), "note: PostgreSQL's server programs are not installed; restart test not run");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = cluster.url();
    let feed = account(&url, &["cdc-feed", "--role", "data_source", "--department", "health"]);
    let mut command = serve_command(dir.path());
    command.args(["--database-url", &url]).stderr(Stdio::null());
    let server = serve_with(&mut command);
    let base = server.base.clone();
    // A hang is a failure: nothing may take longer than this.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();

    let mut residents = Vec::new();
    for i in 0..8 {
        let id_number = resident_id(&format!("33010619800101{:03}", 100 + i));
        let body = json!({"id_type": "resident_id", "id_number": id_number, "residence_area": "330106"});
        let answer: Value =
            client.post(format!("{base}/v1/persons")).json(&body).send().await.unwrap().json().await.unwrap();
        residents.push((
            answer["person_id"].as_str().unwrap().to_string(),
            answer["resident_key"].as_str().unwrap().to_string(),
        ));
    }
    let residents = Arc::new(residents);

    let start = Instant::now();
    let running = Arc::new(AtomicBool::new(true));
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let next_event = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for worker in 0..6 {
        let (client, base, feed) = (client.clone(), base.clone(), feed.clone());
        let (residents, running, outcomes, next_event) =
            (residents.clone(), running.clone(), outcomes.clone(), next_event.clone());
        workers.push(tokio::spawn(async move {
            let mut turn = 0usize;
            while running.load(Ordering::Relaxed) {
                turn += 1;
                let (person, key) = &residents[(worker + turn) % residents.len()];
                let outcome = match (worker + turn) % 3 {
                    0 => {
                        let n = next_event.fetch_add(1, Ordering::Relaxed);
                        let event = json!({"id": format!("restart-{n}"), "person_id": person, "type": "test",
                                           "result": "negative", "sampled_at": "2026-12-04T08:00:00+08:00"});
                        let request = client.post(format!("{base}/v1/events")).bearer_auth(&feed).json(&event);
                        send(request, format!("event restart-{n} {person}"), start).await
                    }
                    1 => {
                        let request = client.get(format!("{base}/v1/persons/{person}/token")).bearer_auth(key);
                        send(request, "token".into(), start).await
                    }
                    _ => {
                        let request = client.get(format!("{base}/v1/persons/{person}/code")).bearer_auth(key);
                        send(request, "code".into(), start).await
                    }
                };
                outcomes.lock().unwrap().push(outcome);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    let stopped_at = start.elapsed();
    tokio::task::block_in_place(|| cluster.stop());
    let readiness_down = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(readiness_down.status(), 503, "readiness while the database is down");
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), 200, "the process still lives");
    tokio::time::sleep(Duration::from_secs(3)).await;
    tokio::task::block_in_place(|| cluster.start());
    let restarted_at = start.elapsed();

    // Without restarting the server, requests succeed again within a few seconds.
    let recovered = loop {
        let answer = client.get(format!("{base}/readyz")).send().await.unwrap();
        if answer.status() == 200 {
            break start.elapsed();
        }
        assert!(
            start.elapsed() - restarted_at < Duration::from_secs(30),
            "the server never reached the database again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    running.store(false, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let unclean: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| match o.status {
            Some(200 | 201) => false,
            Some(503) => !(o.retry_after && o.code.as_deref() == Some("unavailable")),
            _ => true,
        })
        .collect();
    assert!(unclean.is_empty(), "requests that did not fail cleanly: {unclean:#?}");
    let refused = outcomes.iter().filter(|o| o.status == Some(503)).count();
    assert!(refused > 0, "no request met the outage: the test did not test anything");
    // Once the database answered again, so did every request.
    let late_failures: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.at > recovered + Duration::from_millis(500) && o.status != Some(200) && o.status != Some(201))
        .collect();
    assert!(late_failures.is_empty(), "failures after the recovery: {late_failures:#?}");
    let served_before = outcomes.iter().filter(|o| o.at < stopped_at && o.status.is_some_and(|s| s < 300)).count();
    let served_after = outcomes.iter().filter(|o| o.at > recovered && o.status.is_some_and(|s| s < 300)).count();
    assert!(served_before > 0 && served_after > 0, "served before {served_before}, after {served_after}");

    // Every event the server acknowledged is stored (sending it again is a duplicate);
    // every event it refused can simply be sent again.
    for outcome in outcomes.iter().filter(|o| o.what.starts_with("event ")) {
        let mut words = outcome.what.split(' ').skip(1);
        let (id, person) = (words.next().unwrap(), words.next().unwrap());
        let event = json!({"id": id, "person_id": person, "type": "test",
                           "result": "negative", "sampled_at": "2026-12-04T08:00:00+08:00"});
        let again = client.post(format!("{base}/v1/events")).bearer_auth(&feed).json(&event).send().await.unwrap();
        match outcome.status {
            Some(201 | 200) => assert_eq!(again.status(), 200, "{id} was acknowledged but is not stored"),
            _ => assert!(again.status() == 200 || again.status() == 201, "{id} sent again: {}", again.status()),
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "restart under load: {} requests, {refused} refused with 503 during the outage, recovered {:?} after the restart",
        outcomes.len(),
        recovered - restarted_at
    );
    drop(server);
}

/// A valid 18-character resident ID number from its first 17 digits (GB 11643 check digit).
fn resident_id(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    let check = "10X98765432".chars().nth((sum % 11) as usize).unwrap();
    format!("{first17}{check}")
}
