//! Schema migrations: numbered SQL files applied in order, each in its own transaction,
//! and recorded in `schema_migrations`.

use healthcode_store::StoreError;
use rusqlite::Connection;

use crate::backend;

/// (version, name, SQL). Names are shared with the other backends.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "0001_initial", include_str!("../migrations/0001_initial.sql")),
    (2, "0002_checkpoints", include_str!("../migrations/0002_checkpoints.sql")),
    (3, "0003_log", include_str!("../migrations/0003_log.sql")),
    (4, "0004_accounts", include_str!("../migrations/0004_accounts.sql")),
    (5, "0005_documents", include_str!("../migrations/0005_documents.sql")),
    (6, "0006_residents", include_str!("../migrations/0006_residents.sql")),
    (7, "0007_feeds", include_str!("../migrations/0007_feeds.sql")),
    (8, "0008_evidence_persons_check", include_str!("../migrations/0008_evidence_persons_check.sql")),
    (9, "0009_one_person_paths", include_str!("../migrations/0009_one_person_paths.sql")),
    (10, "0010_complaint_repairs", include_str!("../migrations/0010_complaint_repairs.sql")),
    (11, "0011_many_servers", include_str!("../migrations/0011_many_servers.sql")),
    (12, "0012_federation", include_str!("../migrations/0012_federation.sql")),
    (13, "0013_national_parked_at", include_str!("../migrations/0013_national_parked_at.sql")),
    (14, "0014_bulk_pages", include_str!("../migrations/0014_bulk_pages.sql")),
    (15, "0015_national_signers", include_str!("../migrations/0015_national_signers.sql")),
    (16, "0016_national_parked_by_arrival", include_str!("../migrations/0016_national_parked_by_arrival.sql")),
    (17, "0017_counter_keys_agreements", include_str!("../migrations/0017_counter_keys_agreements.sql")),
    (18, "0018_visits_elsewhere", include_str!("../migrations/0018_visits_elsewhere.sql")),
];

pub(crate) fn run(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
         )",
    )
    .map_err(backend("create schema_migrations"))?;
    let current: i64 = conn
        .query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(backend("read the schema version"))?;
    let supported = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > supported {
        return Err(StoreError::SchemaTooNew { found: current, supported });
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let tx = conn.transaction().map_err(backend("begin a migration"))?;
        tx.execute_batch(sql).map_err(|e| StoreError::Backend(format!("migration {name} failed: {e}")))?;
        tx.execute("INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)", (version, name))
            .map_err(backend("record a migration"))?;
        tx.commit().map_err(backend("commit a migration"))?;
    }
    Ok(())
}
