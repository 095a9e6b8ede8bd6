//! Leases: how several servers over one database agree which of them does a job that
//! must run once per province (signing checkpoints, retention, alarms), and hand it on
//! when that server stops answering.

use async_trait::async_trait;
use healthcode_domain::Timestamp;

use crate::StoreResult;

/// Who holds a lease, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub until: Timestamp,
}

/// Named leases, each held by one holder at a time for a bounded time. A holder renews
/// its lease before it ends; one that dies stops renewing, and the lease passes to the
/// next server to ask once it has ended. Times are the servers' clocks: keep them in
/// step (NTP) to well within a lease's length.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes (or renews) the lease `name` for `holder` until `until` if no one holds it,
    /// its holder's time ended by `now`, or `holder` holds it already. Returns whether
    /// `holder` holds it now. Of several holders asking at once, exactly one gets it.
    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> StoreResult<bool>;
    /// The lease's last holder and its end, if it was ever taken.
    async fn lease(&self, name: &str) -> StoreResult<Option<Lease>>;
    /// Gives up the lease if `holder` holds it (a server shutting down), so that another
    /// takes it at once instead of when it would have ended.
    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()>;
}
