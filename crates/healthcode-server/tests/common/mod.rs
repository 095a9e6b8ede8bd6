//! A real server on 127.0.0.1:0 over a fresh SQLite store, with a clock the test moves.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]
// Each test file uses part of this module.
#![allow(dead_code)]

use std::sync::Arc;

use healthcode_domain::Timestamp;
use healthcode_rules::RuleSet;
use healthcode_server::AppState;
use healthcode_service::{HealthService, ManualClock, Pseudonymiser};
use healthcode_store::Store;
use healthcode_store_postgres::PostgresStore;
use healthcode_store_sqlite::SqliteStore;
use serde_json::Value;

pub struct TestApp {
    /// API keys of the test's accounts: `health`, `telecom`, `border` (data sources),
    /// `provincial`, `provincial2`, `provincial3`, `local` (offices), `auditor`,
    /// `complaints` (a complaint handler for 330100).
    pub keys: std::collections::HashMap<&'static str, String>,
    /// Resident keys given at registration through `post`, by person id: `get` and `post`
    /// present them on that person's routes, as the resident's app would.
    pub resident_keys: std::sync::Mutex<std::collections::HashMap<String, String>>,
    pub address: String,
    pub clock: ManualClock,
    pub service: Arc<HealthService>,
    /// The store under the service, for tests that look at what was stored (the server
    /// itself reaches it only through the service).
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _schema: Option<TestSchema>,
}

/// Runs each named test body (`async fn name(app: TestApp)`) once on SQLite and once on
/// PostgreSQL; the PostgreSQL run passes without doing anything when no server is
/// reachable (`.ci/run` says whether one is).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::common::TestApp::spawn().await).await })*
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(app) = super::common::TestApp::spawn_postgres().await {
                    super::$name(app).await
                }
            })*
        }
    };
}
#[allow(unused_imports)] // Not every test file runs on both backends.
pub use on_both_backends;

/// A PostgreSQL schema made for one test, dropped when the test ends.
struct TestSchema {
    url: String,
    name: String,
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop cannot await: a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                if let Ok((client, connection)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                    tokio::spawn(connection);
                    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await;
                }
            });
        })
        .join();
    }
}

fn database_url() -> String {
    std::env::var("HEALTHCODE_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

impl TestApp {
    /// The server over a fresh SQLite store.
    pub async fn spawn() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("healthcode.sqlite3")).unwrap());
        Self::spawn_on(store, dir, None, None).await
    }

    /// As `spawn`, with rate limits as `healthcode serve` has them.
    pub async fn spawn_limited(settings: healthcode_server::limits::LimitSettings) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("healthcode.sqlite3")).unwrap());
        Self::spawn_on(store, dir, None, Some(settings)).await
    }

    /// As `spawn_postgres`, with the server reaching the database at `url` (a proxy a test
    /// can cut); the schema is made and dropped through the usual URL.
    pub async fn spawn_postgres_via(url: &str) -> Option<TestApp> {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("hc_via_{}_{n}", std::process::id());
        let store = match PostgresStore::connect_in_schema(url, &name).await {
            Ok(store) => Arc::new(store),
            Err(e) => {
                not_run(url, &e);
                return None;
            }
        };
        let schema = TestSchema { url: database_url(), name };
        Some(Self::spawn_on(store, tempfile::tempdir().unwrap(), Some(schema), None).await)
    }

    /// The PostgreSQL URL the tests use.
    pub fn database_url() -> String {
        database_url()
    }

    /// The server over a fresh PostgreSQL schema, or None when no server is reachable.
    pub async fn spawn_postgres() -> Option<TestApp> {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let url = database_url();
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("hc_api_{}_{n}", std::process::id());
        let store = match PostgresStore::connect_in_schema(&url, &name).await {
            Ok(store) => Arc::new(store),
            Err(e) => {
                not_run(&database_url(), &e);
                return None;
            }
        };
        let schema = TestSchema { url, name };
        Some(Self::spawn_on(store, tempfile::tempdir().unwrap(), Some(schema), None).await)
    }

    async fn spawn_on(
        store: Arc<dyn Store>,
        dir: tempfile::TempDir,
        schema: Option<TestSchema>,
        limits: Option<healthcode_server::limits::LimitSettings>,
    ) -> TestApp {
        let clock = ManualClock::new(t("2020-06-01T08:00:00+08:00"));
        let service = Arc::new(
            HealthService::open(
                store.clone(),
                Arc::new(clock.clone()),
                Pseudonymiser::new(b"test key".to_vec()),
                RuleSet::reference(),
            )
            .await
            .unwrap(),
        );
        // The province's officers have served for a month (an account younger than a day
        // that approves raises `fresh_approver`, which tests of that alarm make on purpose).
        let start = healthcode_service::Clock::now(&clock);
        clock.set(Timestamp::from_millis(start.as_millis() - 30 * 86_400_000));
        let keys = accounts(&service).await;
        clock.set(start);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut state = AppState::new(service.clone());
        if let Some(limits) = limits {
            state = state.with_limits(limits);
        }
        tokio::spawn(async move {
            healthcode_server::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestApp {
            store,
            keys,
            address,
            clock,
            service,
            client: reqwest::Client::new(),
            _dir: dir,
            _shutdown: tx,
            _schema: schema,
            resident_keys: Default::default(),
        }
    }

    /// The SQLite database file, if the store is SQLite (to read its bytes).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        let file = self._dir.path().join("healthcode.sqlite3");
        file.exists().then_some(file)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Posts JSON with the key a real caller of that route would hold (see `key_for`).
    pub async fn post(&self, path: &str, body: impl Into<String>) -> (u16, Value) {
        let body = body.into();
        self.post_bytes(path, body.into_bytes(), Some("application/json")).await
    }

    /// Who calls a route in these tests: events come from the department whose evidence
    /// they are, designations from the provincial office, staff lists are read by staff.
    pub fn key_for(&self, path: &str, body: &str) -> Option<String> {
        let who = match path {
            "/v1/designations" | "/v1/rejections" => "provincial",
            p if p.starts_with("/v1/rejections") => "provincial",
            "/v1/decisions" | "/v1/alarms" => "auditor",
            "/v1/events/batch" => "health",
            "/v1/events" => {
                match serde_json::from_str::<Value>(body).ok().and_then(|v| v["type"].as_str().map(String::from)) {
                    Some(t) if t == "stay" => "telecom",
                    Some(t) if t == "entry" => "border",
                    _ => "health",
                }
            }
            "/v1/checkins" => {
                let body: Value = serde_json::from_str(body).ok()?;
                return self.resident_key(body["person_id"].as_str()?);
            }
            p if p.starts_with("/v1/persons/") => {
                let person = p["/v1/persons/".len()..].split(['/', '?']).next().unwrap_or_default();
                return self.resident_key(person);
            }
            _ => return None,
        };
        Some(self.keys[who].clone())
    }

    /// Posts raw bytes with the given Content-Type (none if `None`) and reads a JSON answer.
    pub async fn post_bytes(&self, path: &str, body: Vec<u8>, content_type: Option<&str>) -> (u16, Value) {
        let key = self.key_for(path, &String::from_utf8_lossy(&body));
        let mut request = self.client.post(self.url(path)).body(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let (status, answer) = json_answer(request.send().await.unwrap()).await;
        if let (Some(person), Some(key)) = (answer["person_id"].as_str(), answer["resident_key"].as_str()) {
            self.resident_keys.lock().unwrap().insert(person.to_string(), key.to_string());
        }
        (status, answer)
    }

    /// The key a resident was given when registered through `post`.
    pub fn resident_key(&self, person: &str) -> Option<String> {
        self.resident_keys.lock().unwrap().get(person).cloned()
    }

    /// Posts JSON with `Authorization: Bearer <key>`.
    pub async fn post_with_key(&self, path: &str, key: &str, body: impl Into<String>) -> (u16, Value) {
        let request = self.client.post(self.url(path)).bearer_auth(key).body(body.into());
        json_answer(request.send().await.unwrap()).await
    }

    pub async fn get_with_key(&self, path: &str, key: &str) -> (u16, Value) {
        json_answer(self.client.get(self.url(path)).bearer_auth(key).send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        match self.key_for(path, "") {
            Some(key) => self.get_with_key(path, &key).await,
            None => json_answer(self.client.get(self.url(path)).send().await.unwrap()).await,
        }
    }

    /// A designation proposed by one provincial officer and approved by another (every
    /// designation takes two); returns the approved proposal.
    pub async fn designate(&self, designation: &str) -> Value {
        let (status, proposed) = self.post_with_key("/v1/designations", &self.keys["provincial"], designation).await;
        assert_eq!(status, 202, "{proposed}");
        let id = proposed["proposal"]["id"].as_str().unwrap();
        let path = format!("/v1/designations/proposals/{id}/approve");
        let (status, approved) = self.post_with_key(&path, &self.keys["provincial2"], "").await;
        assert_eq!(status, 200, "{approved}");
        approved["proposal"].clone()
    }

    /// Registers a resident living in `area` and returns their pseudonymous id.
    pub async fn register_in(&self, id_number: &str, area: &str) -> String {
        let body = format!(r#"{{"id_type":"resident_id","id_number":"{id_number}","residence_area":"{area}"}}"#);
        let (status, body) = self.post("/v1/persons", body).await;
        assert!(status == 201 || status == 200, "{status} {body}");
        body["person_id"].as_str().unwrap().to_string()
    }

    /// Registers a resident and returns their pseudonymous id.
    /// An API key for a new office account of `role` whose jurisdiction is `area`.
    pub async fn office_key(&self, username: &str, role: healthcode_domain::Role, area: &str) -> String {
        let office = healthcode_service::NewAccount {
            username: username.into(),
            password: None,
            role,
            jurisdiction: Some(healthcode_domain::AreaCode::parse(area).unwrap()),
            department: None,
        };
        self.service.accounts().create(office).await.unwrap();
        self.service.accounts().issue_api_key(username, "test").await.unwrap()
    }

    pub async fn register(&self, id_number: &str) -> String {
        let (status, body) =
            self.post("/v1/persons", format!(r#"{{"id_type":"resident_id","id_number":"{id_number}"}}"#)).await;
        assert!(status == 201 || status == 200, "{status} {body}");
        body["person_id"].as_str().unwrap().to_string()
    }
}

/// The accounts every test app has, each with an API key.
async fn accounts(service: &HealthService) -> std::collections::HashMap<&'static str, String> {
    use healthcode_domain::{AreaCode, Department, Role};
    let office = |role, area: &str| (role, Some(AreaCode::parse(area).unwrap()), None);
    let source = |department| (Role::DataSource, None, Some(department));
    let wanted = [
        ("health", source(Department::Health)),
        ("telecom", source(Department::Telecom)),
        ("border", source(Department::Border)),
        ("provincial", office(Role::ProvincialOffice, "330000")),
        ("provincial2", office(Role::ProvincialOffice, "330000")),
        ("provincial3", office(Role::ProvincialOffice, "330000")),
        ("local", office(Role::LocalOffice, "330100")),
        ("auditor", (Role::Auditor, None, None)),
        ("complaints", office(Role::ComplaintHandler, "330100")),
    ];
    let mut keys = std::collections::HashMap::new();
    for (name, (role, jurisdiction, department)) in wanted {
        let new = healthcode_service::NewAccount {
            username: name.to_string(),
            password: None,
            role,
            jurisdiction,
            department,
        };
        service.accounts().create(new).await.unwrap();
        keys.insert(name, service.accounts().issue_api_key(name, "tests").await.unwrap());
    }
    keys
}

/// The status and JSON body of a response, checking that it says it is JSON.
pub async fn json_answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_string());
    let text = response.text().await.unwrap();
    assert_eq!(content_type.as_deref(), Some("application/json"), "({status}) {text}");
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")))
}

/// A valid resident ID number (GB 11643 check digit) from 17 digits.
pub fn resident_id(first17: &str) -> String {
    format!("{first17}{}", healthcode_domain::resident_id_check_char(first17))
}

/// Says once, past the test harness's capture (which only takes `print!`), that the
/// PostgreSQL runs were skipped and how to have them.
fn not_run(url: &str, why: &dyn std::fmt::Display) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "note: PostgreSQL API tests were not run ({url}: {why}); start PostgreSQL or set HEALTHCODE_TEST_DATABASE_URL"
        );
    });
}

/// A scenario for a proposed rule set: an entry from abroad ten days before 1 June 2020,
/// and the colour expected then.
pub fn entry_scenario(expected_at_ten_days: &str) -> Value {
    serde_json::json!({
        "name": "entry-ten-days-ago",
        "person": {"kind": "domestic"},
        "events": [{"at": "2020-05-22T08:00:00+08:00", "type": "entry", "country": "GB",
                    "entered_at": "2020-05-22T08:00:00+08:00"}],
        "expect": [{"at": "2020-06-01T08:00:00+08:00", "color": expected_at_ten_days}]
    })
}
