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

/// A store parked records in before migration 0016 (keyed by pseudonym) keeps them after
/// it (keyed by the hub's index): the same rows, found by pseudonym, by key and by age.
#[tokio::test]
async fn parked_records_survive_their_new_key() {
    use healthcode_domain::Timestamp;
    use healthcode_store::{ParkedRecord, SignedOutside, Signer};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("healthcode.sqlite3");
    drop(SqliteStore::open(&path).unwrap());
    // Back to the layout before 0016 (and the migrations after it), with two records of one person and one of another.
    let conn = rusqlite_connection(&path);
    conn.execute_batch(
        "DROP TABLE national_parked;
         CREATE TABLE national_parked (
             national_id TEXT NOT NULL, hub_index INTEGER NOT NULL, entry TEXT NOT NULL,
             parked_at INTEGER NOT NULL DEFAULT 0, region TEXT NOT NULL DEFAULT '', kid TEXT,
             hub_at INTEGER NOT NULL DEFAULT 0,
             PRIMARY KEY (national_id, hub_index)) WITHOUT ROWID;
         CREATE INDEX national_parked_by_time ON national_parked (parked_at);
         CREATE INDEX national_parked_by_key ON national_parked (region, kid, hub_at);
         INSERT INTO national_parked VALUES ('nB', 7, '{\"b\":7}', 100, '41', 'k1', 5000);
         INSERT INTO national_parked VALUES ('nA', 9, '{\"a\":9}', 200, '41', 'k1', 6000);
         INSERT INTO national_parked VALUES ('nA', 3, '{\"a\":3}', 300, '41', NULL, 4000);
         ALTER TABLE proxies DROP COLUMN agreed_with_counter_key_of;
         DROP TABLE visits_elsewhere;
         DELETE FROM schema_migrations WHERE version >= 16;",
    )
    .unwrap();
    drop(conn);

    let store = SqliteStore::open(&path).unwrap();
    let signer = |kid: Option<&str>, at: i64| Signer {
        region: "41".into(),
        kid: kid.map(String::from),
        hub_at: Timestamp::from_millis(at),
    };
    let found = store.parked_records(&["nA".to_string()]).await.unwrap();
    assert_eq!(
        found,
        vec![
            ParkedRecord {
                national_id: "nA".into(),
                hub_index: 3,
                entry: r#"{"a":3}"#.into(),
                parked_at: Timestamp::from_millis(300),
                signer: signer(None, 4000),
            },
            ParkedRecord {
                national_id: "nA".into(),
                hub_index: 9,
                entry: r#"{"a":9}"#.into(),
                parked_at: Timestamp::from_millis(200),
                signer: signer(Some("k1"), 6000),
            },
        ]
    );
    let outside =
        SignedOutside { region: "41".into(), kid: "k1".into(), from: Timestamp::from_millis(5500), until: None };
    let by_key: Vec<u64> =
        store.parked_signed_outside(&outside, 10).await.unwrap().iter().map(|r| r.hub_index).collect();
    assert_eq!(by_key, vec![7]);
    assert_eq!(store.delete_parked_before(Timestamp::from_millis(150)).await.unwrap(), 1);
    assert!(store.parked_records(&["nB".to_string()]).await.unwrap().is_empty());
    // Parking the same entry again (a sync repeated) adds nothing.
    store.park_records(&found[..1]).await.unwrap();
    assert_eq!(store.parked_records(&["nA".to_string()]).await.unwrap().len(), 2);
}
