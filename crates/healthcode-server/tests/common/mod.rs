//! A real server on 127.0.0.1:0 over a fresh SQLite store, with a clock the test moves.

use std::sync::Arc;

use healthcode_domain::Timestamp;
use healthcode_rules::RuleSet;
use healthcode_server::AppState;
use healthcode_service::{HealthService, ManualClock, Pseudonymiser};
use healthcode_store_sqlite::SqliteStore;
use serde_json::Value;

pub struct TestApp {
    pub address: String,
    pub clock: ManualClock,
    pub service: Arc<HealthService>,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("healthcode.sqlite3")).unwrap());
        let clock = ManualClock::new(t("2020-06-01T08:00:00+08:00"));
        let service = Arc::new(
            HealthService::open(
                store,
                Arc::new(clock.clone()),
                Pseudonymiser::new(b"test key".to_vec()),
                RuleSet::reference(),
            )
            .await
            .unwrap(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(service.clone());
        tokio::spawn(async move {
            healthcode_server::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestApp { address, clock, service, client: reqwest::Client::new(), _dir: dir, _shutdown: tx }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post(&self, path: &str, body: impl Into<String>) -> (u16, Value) {
        let response = self.client.post(self.url(path)).body(body.into()).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")))
    }

    /// Registers a resident and returns their pseudonymous id.
    pub async fn register(&self, id_number: &str) -> String {
        let (status, body) =
            self.post("/v1/persons", format!(r#"{{"id_type":"resident_id","id_number":"{id_number}"}}"#)).await;
        assert!(status == 201 || status == 200, "{status} {body}");
        body["person_id"].as_str().unwrap().to_string()
    }
}

/// A valid resident ID number (GB 11643 check digit) from 17 digits.
pub fn resident_id(first17: &str) -> String {
    format!("{first17}{}", healthcode_domain::resident_id_check_char(first17))
}
