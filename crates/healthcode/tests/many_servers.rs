//! Three servers over one PostgreSQL (issue 16): they ingest at once, one designates a
//! whole city and is killed (SIGKILL) in the middle of re-evaluating it, a decision is
//! approved across two of them, and afterwards every code equals a direct evaluation,
//! every event is stored once, the log's tree is consistent with every checkpoint any of
//! them signed, and each colour change is in the log exactly once.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{command_in, healthcode, serve_with, Backend, Server};
use healthcode_domain::{PersonId, Timestamp};
use healthcode_log::Entry;
use healthcode_store::prelude::*;
use healthcode_store_postgres::PostgresStore;
use serde_json::{json, Value};

/// Persons each of the three senders ingests a stay for.
const PERSONS_PER_SENDER: usize = 12_000;

/// One province at a time: five servers of sixteen pooled connections each (retired and
/// reopened every two minutes), beside the tests' own, come near PostgreSQL's default
/// `max_connections` of 100, and a server refused a connection answers 503 (seen once in
/// CI). A deployment keeps servers × pool size under it the same way (docs/SCALE-OUT.md).
static ONE_PROVINCE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_over_one_postgresql_agree_and_survive_one_killed() {
    let _alone = ONE_PROVINCE_AT_A_TIME.lock().await;
    let Some(province) = Province::open("hc_many").await else { return };
    // The first server makes the key files the others then share.
    let mut servers: Vec<Server> = (0..3).map(|_| province.server()).collect();
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    // Ingestion from all three at once; a decision proposed and first approved on the
    // first, approved on the second; the city designated on the first and approved on the
    // third, which is killed in the middle of re-evaluating it.
    let routes = Routes {
        senders: bases.clone(),
        decision: [bases[0].clone(), bases[0].clone(), bases[1].clone()],
        designation: [bases[0].clone(), bases[2].clone()],
    };
    let approving = province.run(&routes).await;
    let at_kill = province.when_the_city_is_being_reevaluated().await;
    drop(servers.pop()); // SIGKILL of the third, which is approving the designation
    assert!(at_kill < province.persons(), "killed after the re-evaluation was over ({at_kill}): give it more persons");
    assert!(approving.await.unwrap().is_err(), "the approving server died before answering");
    province.check(&bases[1]).await;
    drop(servers);
    province.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_behind_haproxy_are_one_province() {
    let _alone = ONE_PROVINCE_AT_A_TIME.lock().await;
    let Some(province) = Province::open("hc_lb").await else { return };
    let haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].into_iter().find(|p| Path::new(p).exists());
    let Some(haproxy) = haproxy else {
        let _ = writeln!(std::io::stderr(), "note: the load-balancer test was not run: no haproxy (Debian `haproxy`)");
        province.close().await;
        return;
    };
    let mut servers: Vec<Server> = (0..2).map(|_| province.server()).collect();
    let balancer = Balancer::start(haproxy, &servers).await;
    let lb = balancer.base.clone();
    let routes = Routes {
        senders: vec![lb.clone(); 3],
        decision: [(); 3].map(|()| lb.clone()),
        designation: [(); 2].map(|()| lb.clone()),
    };
    let approving = province.run(&routes).await;
    let at_kill = province.when_the_city_is_being_reevaluated().await;
    drop(servers.remove(0)); // SIGKILL of one of the two, whichever took the approval
    assert!(at_kill < province.persons(), "killed after the re-evaluation was over ({at_kill}): give it more persons");
    // Whether the approval's server died or not, the balancer keeps the province answering:
    // a request it cannot deliver goes to the other server, and the dead one is taken out
    // once its readiness checks fail.
    let _ = approving.await.unwrap();
    let client = reqwest::Client::new();
    for _ in 0..20 {
        let ready = client.get(format!("{lb}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "through the balancer, with one server dead");
    }
    province.check(&lb).await;
    drop(balancer);
    drop(servers);
    province.close().await;
}

/// Which server (or the balancer) each step goes to.
struct Routes {
    /// One per sender of stays; the three send at once.
    senders: Vec<String>,
    /// Where the decision is proposed, first approved and second approved.
    decision: [String; 3],
    /// Where the city's designation is proposed and approved.
    designation: [String; 2],
}

/// A province in a fresh PostgreSQL schema: its accounts, key files, and direct views of
/// the database for the checks.
struct Province {
    admin: tokio_postgres::Client,
    schema: String,
    backend: Backend,
    dir: tempfile::TempDir,
    store: PostgresStore,
    db: Db,
    client: reqwest::Client,
    feed: String,
    offices: [String; 3],
}

impl Province {
    /// `None` (and a note) when no PostgreSQL is reachable.
    async fn open(name: &str) -> Option<Province> {
        let url = std::env::var("HEALTHCODE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let Ok((admin, connection)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await else {
            let _ = writeln!(std::io::stderr(), "note: the many-servers test {name} was not run: cannot reach {url}");
            return None;
        };
        tokio::spawn(connection);
        let schema = format!("{name}_{}", std::process::id());
        admin.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
        let backend = Backend::Postgres { url: url.clone(), schema: schema.clone() };
        let dir = tempfile::tempdir().unwrap();
        let store = PostgresStore::connect_in_schema(&url, &schema).await.unwrap();
        let db = Db::connect(&url, &schema).await;
        let [feed, a, b, c] =
            ["feed", "office.a", "office.b", "office.c"].map(|n| account_named(dir.path(), &backend, n));
        Some(Province {
            admin,
            schema,
            backend,
            dir,
            store,
            db,
            client: reqwest::Client::new(),
            feed,
            offices: [a, b, c],
        })
    }

    fn persons(&self) -> i64 {
        3 * PERSONS_PER_SENDER as i64
    }

    /// A server over the schema, with the key files under the province's folder, its
    /// scheduler every second, and rate limits for clients that all come from one address
    /// (the balancer's).
    fn server(&self) -> Server {
        let dir = self.dir.path();
        let mut command: Command = command_in(dir, &["serve", "--listen", "127.0.0.1:0"]);
        // Each server's warnings and errors in a file beside the keys (read them while the
        // test runs to see why a request failed).
        let n = std::fs::read_dir(dir).unwrap().count();
        let log = std::fs::File::create(dir.join(format!("server-{n}.log"))).unwrap();
        command
            .args(self.backend.args(dir))
            .args(["--scheduler-seconds", "1", "--registrations-per-minute", "100000"])
            .stderr(Stdio::from(log));
        serve_with(&mut command)
    }

    /// Ingests the stays from three senders at once, has a decision approved and the
    /// city designated; returns the designation's approval, in flight: it re-evaluates
    /// the whole city.
    async fn run(&self, routes: &Routes) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
        let (client, db) = (&self.client, &self.db);
        // Each sender also sends a share of another's rows (the same event ids through two
        // servers at the same time).
        let now = Timestamp::from_millis(clock_ms());
        let mut sending = Vec::new();
        for (s, base) in routes.senders.iter().enumerate() {
            let (client, base, feed) = (client.clone(), base.clone(), self.feed.clone());
            sending.push(tokio::spawn(async move {
                let mut accepted = 0;
                for chunk in 0..PERSONS_PER_SENDER / 1_000 {
                    let own = (0..1_000).map(|i| stay_row(s, chunk * 1_000 + i, now));
                    let other = (0..100).map(|i| stay_row((s + 1) % 3, chunk * 1_000 + i, now));
                    let body: Vec<String> = own.chain(other).collect();
                    let answer = client
                        .post(format!("{base}/v1/events/batch"))
                        .bearer_auth(&feed)
                        .header("content-type", "application/x-ndjson")
                        .body(body.join("\n"))
                        .send()
                        .await
                        .unwrap();
                    let status = answer.status().as_u16();
                    let report: Value = answer.json().await.unwrap();
                    assert_eq!(status, 200, "{report}");
                    let text = report.to_string();
                    assert_eq!(report["rejected"], 0, "{}", &text[..400.min(text.len())]);
                    accepted += report["accepted"].as_u64().unwrap();
                }
                accepted
            }));
        }
        let mut accepted = 0;
        for task in sending {
            accepted += task.await.unwrap();
        }
        assert_eq!(accepted as i64, self.persons(), "each event accepted once, whichever server got it first");
        assert_eq!(db.count("SELECT count(*) FROM evidence").await, self.persons());

        let [a, b, c] = &self.offices;
        let targets: Vec<String> = db.persons(5).await;
        let until = Timestamp::from_millis(now.as_millis() + 7 * 24 * 3_600_000).to_string();
        let decision = json!({"persons": targets, "colour": "red", "until": until,
                              "basis": "《传染病防治法》第四十二条; 疾控中心 决定书 (test)"});
        let (status, proposed) = post(client, &routes.decision[0], a, "/v1/decisions", decision).await;
        assert_eq!(status, 201, "{proposed}");
        let approve = format!("/v1/decisions/{}/approve", proposed["decision"]["id"].as_str().unwrap());
        assert_eq!(post(client, &routes.decision[1], b, &approve, Value::Null).await.0, 200);
        let (status, applied) = post(client, &routes.decision[2], c, &approve, Value::Null).await;
        assert_eq!(status, 200, "{applied}");

        let city = json!({"area": "330100", "level": "high"});
        let (status, proposal) = post(client, &routes.designation[0], a, "/v1/designations", city).await;
        assert_eq!(status, 202, "{proposal}");
        let approve = format!("/v1/designations/proposals/{}/approve", proposal["proposal"]["id"].as_str().unwrap());
        let (client, base, key) = (client.clone(), routes.designation[1].clone(), b.clone());
        tokio::spawn(async move { client.post(format!("{base}{approve}")).bearer_auth(key).send().await })
    }

    /// Waits until the city's re-evaluation has begun (some codes yellow); returns how
    /// many are yellow then.
    async fn when_the_city_is_being_reevaluated(&self) -> i64 {
        let started = Instant::now();
        let yellow = "SELECT count(*) FROM codes WHERE colour = 'yellow'";
        while self.db.count(yellow).await == 0 {
            assert!(started.elapsed() < Duration::from_secs(60), "the designation was never applied");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.db.count(yellow).await
    }

    /// Waits for the servers left to finish, then checks every code against a direct
    /// evaluation, every event stored once, each colour change logged once, and the log
    /// against every checkpoint (audited through `base`).
    async fn check(&self, base: &str) {
        let (store, db) = (&self.store, &self.db);
        let persons = self.persons() as usize;
        // The killed server's claims (and pages) end and return its share to the others.
        let started = Instant::now();
        loop {
            let due = db.count(&format!("SELECT count(*) FROM reevaluation_queue WHERE due <= {}", clock_ms())).await
                + db.count(&format!("SELECT count(*) FROM bulk_pages WHERE due <= {}", clock_ms())).await;
            let unapplied = db.count("SELECT count(*) FROM designations WHERE NOT applied").await;
            if due == 0 && unapplied == 0 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "{due} persons still due, {unapplied} unapplied");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }

        // Every code is what a direct evaluation says now.
        let designations = store.designations_after(0).await.unwrap();
        assert_eq!(designations.len(), 1);
        let areas = healthcode_rules::AreaRiskIndex::new(designations.iter().cloned());
        let rules = healthcode_rules::RuleSet::reference();
        let ids: Vec<PersonId> =
            db.persons(persons as i64 + 10).await.iter().map(|p| PersonId::parse(p).unwrap()).collect();
        assert_eq!(ids.len(), persons);
        let at = Timestamp::from_millis(clock_ms());
        let mut colours: BTreeMap<String, usize> = BTreeMap::new();
        let mut changes = 0;
        for chunk in ids.chunks(5_000) {
            let records: HashMap<PersonId, _> =
                store.persons(chunk).await.unwrap().into_iter().map(|r| (r.id.clone(), r)).collect();
            let codes: HashMap<PersonId, _> =
                store.codes(chunk).await.unwrap().into_iter().map(|c| (c.person.clone(), c)).collect();
            for (person, events) in store.evidence_for_many(chunk).await.unwrap() {
                let direct = rules.evaluate(records[&person].kind, &events, &areas, at);
                let code = &codes[&person];
                let reasons: Vec<String> = direct.reasons.iter().map(|r| r.rule.to_string()).collect();
                assert_eq!((code.colour, &code.reasons), (direct.colour, &reasons), "{person}");
                *colours.entry(code.colour.as_str().to_string()).or_default() += 1;
                // Each colour change in the log once: the person's entries chain from
                // green to their code's colour, each a change.
                let mut colour = "green".to_string();
                for index in store.log_indices_of(&person).await.unwrap() {
                    let (_, data) = store.log_leaves(index, 1).await.unwrap().remove(0);
                    let Entry::ColourChange(change) = Entry::from_leaf_bytes(&data).unwrap() else { continue };
                    let old = change.old_colour.as_deref().unwrap_or("green");
                    assert_eq!(old, colour, "{person}: a change logged twice");
                    assert_ne!(change.new_colour, colour, "{person}: an entry that changes nothing");
                    colour = change.new_colour;
                    changes += 1;
                }
                assert_eq!(colour, code.colour.as_str(), "{person}: the log ends at the code's colour");
            }
        }
        assert_eq!(colours.get("red"), Some(&5), "the decision's persons: {colours:?}");
        assert_eq!(colours.get("yellow"), Some(&(persons - 5)), "everyone else stayed in the city: {colours:?}");
        assert_eq!(changes, persons, "one change per person (green to yellow, or to red)");
        assert_eq!(db.count("SELECT count(*) FROM person_log").await as usize, changes, "and no one else's");

        // Every event once.
        let twice = "SELECT count(*) FROM (SELECT id FROM evidence GROUP BY id HAVING count(*) > 1) d";
        assert_eq!(db.count(twice).await, 0);
        assert_eq!(db.count("SELECT count(*) FROM evidence").await, self.persons() + 5, "the stays and the decision's");

        // The log's tree is consistent with every checkpoint any server signed, and one
        // server holds the scheduler's lease.
        let signed = db.count("SELECT count(*) FROM checkpoints").await;
        assert!(signed >= 2, "checkpoints signed: {signed}");
        let key = self.client.get(format!("{base}/v1/log/key")).send().await.unwrap().text().await.unwrap();
        let audit = healthcode().args(["audit", "verify", "--url", base, "--key", &key]).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&audit.stdout), String::from_utf8_lossy(&audit.stderr));
        assert!(audit.status.success(), "{said}");
        let lease = store.lease(healthcode_service::SCHEDULER_LEASE).await.unwrap().unwrap();
        assert!(lease.until.as_millis() > clock_ms(), "someone holds the scheduler's lease: {lease:?}");
    }

    async fn close(self) {
        self.admin.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema)).await.unwrap();
    }
}

/// `HAProxy` with the example configuration (`deploy/haproxy.cfg`), its servers replaced by
/// these, on a free port; stopped when dropped.
struct Balancer {
    child: std::process::Child,
    base: String,
    _config: tempfile::NamedTempFile,
}

impl Balancer {
    async fn start(haproxy: &str, servers: &[Server]) -> Balancer {
        let example = include_str!("../../../deploy/haproxy.cfg");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut config: Vec<String> = example
            .lines()
            .filter(|l| !l.trim_start().starts_with("server "))
            .map(|l| l.replace("bind 127.0.0.1:8080", &format!("bind 127.0.0.1:{port}")))
            .collect();
        for (i, server) in servers.iter().enumerate() {
            let address = server.base.trim_start_matches("http://");
            config.push(format!("    server healthcode-{i} {address} check"));
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), config.join("\n") + "\n").unwrap();
        let child = Command::new(haproxy)
            .arg("-db")
            .arg("-f")
            .arg(file.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        // Up once it answers and has found both servers ready.
        let started = Instant::now();
        loop {
            let ready = reqwest::get(format!("{base}/readyz")).await.map(|r| r.status().as_u16()).unwrap_or(0);
            if ready == 200 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "haproxy did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        Balancer { child, base, _config: file }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A stay in 西湖区 (330106) over the last two days, by the person's resident id number.
fn stay_row(sender: usize, i: usize, now: Timestamp) -> String {
    let day = 24 * 3_600_000;
    json!({"id": format!("stay-{sender}-{i}"), "id_type": "resident_id", "id_number": resident_id(sender, i),
           "type": "stay", "area": "330106",
           "from": Timestamp::from_millis(now.as_millis() - 2 * day).to_string(),
           "to": Timestamp::from_millis(now.as_millis() - day).to_string()})
    .to_string()
}

/// A valid 18-digit resident id number (GB 11643, ISO 7064 MOD 11-2 check digit), one per
/// `(sender, i)`.
fn resident_id(sender: usize, i: usize) -> String {
    let n = sender * PERSONS_PER_SENDER + i;
    let body = format!("330106{:04}0101{:03}", 1940 + n / 1_000, n % 1_000);
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

fn clock_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// An account made by an operator on the machine, with its API key: the telecom
/// operators' feed (stays), or a provincial officer.
/// The feed (telecom) or a provincial office of Zhejiang; its API key.
fn account_named(dir: &Path, backend: &Backend, name: &str) -> String {
    let role: &[&str] = if name == "feed" {
        &["--role", "data_source", "--department", "telecom"]
    } else {
        &["--role", "provincial_office", "--jurisdiction", "330000"]
    };
    common::account(dir, backend, name, role)
}

async fn post(client: &reqwest::Client, base: &str, key: &str, path: &str, body: Value) -> (u16, Value) {
    let response = client.post(format!("{base}{path}")).bearer_auth(key).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The schema, read directly: what no server's answer can hide.
struct Db(tokio_postgres::Client);

impl Db {
    async fn connect(url: &str, schema: &str) -> Db {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client.batch_execute(&format!("SET search_path = {schema}")).await.unwrap();
        Db(client)
    }

    async fn count(&self, sql: &str) -> i64 {
        self.0.query_one(sql, &[]).await.unwrap().get(0)
    }

    async fn persons(&self, limit: i64) -> Vec<String> {
        let rows = self.0.query("SELECT id FROM persons ORDER BY id LIMIT $1", &[&limit]).await.unwrap();
        rows.iter().map(|r| r.get(0)).collect()
    }
}
