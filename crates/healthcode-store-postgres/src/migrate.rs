//! Schema migrations, named as the SQLite backend's where both have one
//! (`0013_event_sequence` is PostgreSQL's alone: SQLite has one writer and needs no
//! sequence object; so SQLite's `0013_national_parked_at` is 0014 here, and its
//! `0014_bulk_pages` 0015, its `0015_national_signers` 0016; `0017_codes_fillfactor` is PostgreSQL's alone, so SQLite's `0017_counter_keys_agreements` is 0018 here, and its `0018_visits_elsewhere` 0019). An advisory lock
//! makes servers that start together migrate one at a time.

use healthcode_store::StoreError;

use crate::backend;

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
    (13, "0013_event_sequence", include_str!("../migrations/0013_event_sequence.sql")),
    (14, "0014_national_parked_at", include_str!("../migrations/0014_national_parked_at.sql")),
    (15, "0015_bulk_pages", include_str!("../migrations/0015_bulk_pages.sql")),
    (16, "0016_national_signers", include_str!("../migrations/0016_national_signers.sql")),
    (17, "0017_codes_fillfactor", include_str!("../migrations/0017_codes_fillfactor.sql")),
    (18, "0018_counter_keys_agreements", include_str!("../migrations/0018_counter_keys_agreements.sql")),
    (19, "0019_visits_elsewhere", include_str!("../migrations/0019_visits_elsewhere.sql")),
];

/// An arbitrary constant naming healthcode's migration lock.
const LOCK: i64 = 0x6865_616c_7468;

pub(crate) async fn run(client: &mut deadpool_postgres::Object) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(backend("begin migrating"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]).await.map_err(backend("take the migration lock"))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(backend("create schema_migrations"))?;
    let current: i64 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])
        .await
        .map_err(backend("read the schema version"))?
        .get(0);
    let supported = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > supported {
        return Err(StoreError::SchemaTooNew { found: current, supported });
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.batch_execute(sql).await.map_err(|e| StoreError::Backend(format!("migration {name} failed: {e}")))?;
        tx.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &[version, name])
            .await
            .map_err(backend("record a migration"))?;
    }
    tx.commit().await.map_err(backend("commit migrations"))
}
