//! The storage conformance story against SQLite: on files, and in memory.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_store::conformance;
use healthcode_store::prelude::*;
use healthcode_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_store_keeps_every_promise() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    conformance::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = dir.path().join(format!("store-{n}.sqlite3"));
        async move { SqliteStore::open(&path).unwrap() }
    })
    .await;
}

#[tokio::test]
async fn sqlite_memory_store_keeps_every_promise() {
    conformance::run_all(|| async { SqliteStore::open_in_memory().unwrap() }).await;
}

#[tokio::test]
async fn reopening_keeps_data_and_does_not_migrate_twice() {
    use healthcode_domain::{PersonId, PersonKind, Timestamp};
    use healthcode_store::PersonRecord;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/healthcode.sqlite3");
    let record = PersonRecord {
        id: PersonId::parse("p1").unwrap(),
        kind: PersonKind::Domestic,
        registered_at: Timestamp::from_millis(0),
        residence_area: None,
    };
    SqliteStore::open(&path).unwrap().register_person(&record).await.unwrap();
    let again = SqliteStore::open(&path).unwrap();
    assert_eq!(again.person(&record.id).await.unwrap(), Some(record));
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("healthcode.sqlite3");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite_connection(&path);
    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future')", []).unwrap();
    drop(conn);
    match SqliteStore::open(&path) {
        Err(healthcode_store::StoreError::SchemaTooNew { found: 999, .. }) => {}
        Err(other) => panic!("expected SchemaTooNew, got {other}"),
        Ok(_) => panic!("expected SchemaTooNew, got a store"),
    }
}

fn rusqlite_connection(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}
