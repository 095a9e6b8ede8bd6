//! Leases on the scheduler's province-wide jobs, as the PostgreSQL backend keeps them.

use async_trait::async_trait;
use healthcode_domain::Timestamp;
use healthcode_store::{Lease, LeaseStore, StoreResult};

use crate::rows::ms;
use crate::{backend, PostgresStore};

#[async_trait]
impl LeaseStore for PostgresStore {
    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> StoreResult<bool> {
        let client = self.client().await?;
        // One statement: of two servers taking a free lease at once, the second's insert
        // waits for the first's and then finds the row held, so it updates nothing.
        let taken = client
            .execute(
                "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $4)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
                 WHERE leases.holder = excluded.holder OR leases.until <= $3",
                &[&name, &holder, &ms(now), &ms(until)],
            )
            .await
            .map_err(backend("take a lease"))?;
        Ok(taken == 1)
    }

    async fn lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT holder, until FROM leases WHERE name = $1", &[&name])
            .await
            .map_err(backend("read a lease"))?;
        Ok(row.map(|r| Lease { name: name.to_string(), holder: r.get(0), until: Timestamp::from_millis(r.get(1)) }))
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM leases WHERE name = $1 AND holder = $2", &[&name, &holder])
            .await
            .map_err(backend("give up a lease"))?;
        Ok(())
    }
}
