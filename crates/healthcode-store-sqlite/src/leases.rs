//! Leases on the scheduler's province-wide jobs, as the SQLite backend keeps them (one
//! server uses them; they keep the same promises as PostgreSQL's for the CLI beside it).

use async_trait::async_trait;
use healthcode_domain::Timestamp;
use healthcode_store::{Lease, LeaseStore, StoreResult};
use rusqlite::OptionalExtension;

use crate::{backend, SqliteStore};

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> StoreResult<bool> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.write(move |c| {
            let taken = c
                .execute(
                    "INSERT INTO leases (name, holder, until) VALUES (?1, ?2, ?4)
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
                     WHERE leases.holder = excluded.holder OR leases.until <= ?3",
                    (&name, &holder, now.as_millis(), until.as_millis()),
                )
                .map_err(backend("take a lease"))?;
            Ok(taken == 1)
        })
        .await
    }

    async fn lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        let name = name.to_string();
        self.read(move |c| {
            c.query_row("SELECT holder, until FROM leases WHERE name = ?1", [&name], |r| {
                Ok(Lease { name: name.clone(), holder: r.get(0)?, until: Timestamp::from_millis(r.get(1)?) })
            })
            .optional()
            .map_err(backend("read a lease"))
        })
        .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.write(move |c| {
            c.execute("DELETE FROM leases WHERE name = ?1 AND holder = ?2", [&name, &holder])
                .map(drop)
                .map_err(backend("give up a lease"))
        })
        .await
    }
}
