//! PostgreSQL lost while the server works (issue 17's injected faults): requests fail
//! cleanly — 503 with a retry hint, no internals, no hang — and the server recovers by
//! itself when the database is back, with nothing acknowledged lost. The database is
//! reached through a TCP proxy the test cuts and restores, so the shared PostgreSQL of
//! the other tests is never stopped.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{resident_id, TestApp};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Forwards every connection on `listener` to `target` until aborted; aborting it drops
/// every forwarded connection too.
fn forward(listener: TcpListener, target: String) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            connections.spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_is_a_503_with_a_retry_hint_and_the_server_recovers_by_itself() {
    let config: tokio_postgres::Config = TestApp::database_url().parse().unwrap();
    let (Some(tokio_postgres::config::Host::Tcp(host)), Some(port)) =
        (config.get_hosts().first(), config.get_ports().first())
    else {
        eprintln!("note: the outage test needs a PostgreSQL reached over TCP; not run");
        return;
    };
    let target = format!("{host}:{port}");
    if tokio::net::TcpStream::connect(&target).await.is_err() {
        eprintln!("note: PostgreSQL is not reachable at {target}; the outage test did not run");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_address = listener.local_addr().unwrap();
    let mut proxy = forward(listener, target.clone());
    let url = format!(
        "postgres://{}@{proxy_address}/{}",
        config.get_user().unwrap_or("postgres"),
        config.get_dbname().unwrap_or("test")
    );
    let Some(app) = TestApp::spawn_postgres_via(&url).await else { return };

    let body = json!({"id_type": "resident_id", "id_number": resident_id("33010619800101123")});
    let (_, me) = app.post("/v1/persons", body.to_string()).await;
    let person = me["person_id"].as_str().unwrap().to_string();
    let code = format!("/v1/persons/{person}/code");
    assert_eq!(app.get(&code).await.0, 200);

    // The database goes away: reads and writes fail at once, cleanly.
    proxy.abort();
    let _ = proxy.await;
    let fever = json!({"id": "f-1", "person_id": person, "type": "fever", "onset_at": "2020-06-01T07:00:00+08:00"});
    for attempt in 0..3 {
        let read = tokio::time::timeout(
            Duration::from_secs(20),
            app.client.get(app.url(&code)).bearer_auth(app.resident_key(&person).unwrap()).send(),
        )
        .await
        .expect("no hang while the database is away")
        .unwrap();
        assert_eq!(read.status().as_u16(), 503, "attempt {attempt}");
        assert_eq!(read.headers()["retry-after"], "5");
        let text = read.text().await.unwrap();
        assert!(text.contains("\"unavailable\"") && !text.contains("postgres") && !text.contains("connect"), "{text}");
        let write =
            tokio::time::timeout(Duration::from_secs(20), async { app.post("/v1/events", fever.to_string()).await })
                .await
                .expect("no hang while the database is away");
        assert_eq!(write.0, 503, "{}", write.1);
    }

    // Back on the same address: the server recovers without a restart, and the event it
    // refused (never acknowledged) is accepted when sent again.
    let listener = TcpListener::bind(proxy_address).await.unwrap();
    proxy = forward(listener, target);
    let mut recovered = false;
    for _ in 0..40 {
        if app.get(&code).await.0 == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the server reconnects by itself");
    assert_eq!(app.post("/v1/events", fever.to_string()).await.0, 201);
    let (_, yellow) = app.get(&code).await;
    assert_eq!(yellow["colour"], "yellow");
    proxy.abort();
}
