//! Several servers over one store (PostgreSQL): which of them runs the jobs that must run
//! once per province — signing checkpoints, retention, finishing interrupted decisions
//! and designations, activating approved rule sets — and how that passes to another when
//! it stops. Everything else a server does, any server may do at once with the others:
//! evaluations are saved over the revision they read, the log only over the size it saw,
//! approvals are claims, and the queue hands each server its own share.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use healthcode_store::{Lease, LeaseStore};

use crate::{Clock, ServiceError};

/// The lease of the scheduler's province-wide jobs.
pub const SCHEDULER_LEASE: &str = "scheduler";

/// How long the scheduler's lease lasts without renewal: how long the province's singleton
/// jobs wait after their server dies before another takes them.
pub const SCHEDULER_LEASE_LENGTH: Duration = Duration::from_secs(15);

/// This server's part in the province's coordination.
pub struct Coordination {
    leases: Arc<dyn LeaseStore>,
    clock: Arc<dyn Clock>,
    holder: String,
    /// Until when this server holds the scheduler's lease, as of its last renewal
    /// (milliseconds; `i64::MIN` when it does not).
    held_until: AtomicI64,
}

impl Coordination {
    pub(crate) fn new(leases: Arc<dyn LeaseStore>, clock: Arc<dyn Clock>) -> Self {
        // Unique among the servers of a province, and saying which process it is when an
        // operator reads the lease.
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let tag: u32 = rand::random();
        let holder = format!("{}:{}:{tag:08x}", host.trim(), std::process::id());
        Coordination { leases, clock, holder, held_until: AtomicI64::new(i64::MIN) }
    }

    /// The name this server holds leases under.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Takes the scheduler's lease if it is free or ended, or renews it if this server
    /// holds it; returns whether this server holds it now. Call it more often than the
    /// lease's length (the follower does, every few seconds).
    pub async fn renew(&self) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        let until = now.saturating_add(SCHEDULER_LEASE_LENGTH.into());
        // Unable to renew, this server stops leading now rather than when the lease it can
        // no longer see would end.
        let held = self.leases.take_lease(SCHEDULER_LEASE, &self.holder, now, until).await;
        let held_until = if matches!(held, Ok(true)) { until.as_millis() } else { i64::MIN };
        self.held_until.store(held_until, Ordering::Relaxed);
        Ok(held?)
    }

    /// Whether this server holds the scheduler's lease as of its last renewal, and that
    /// renewal has not run out.
    pub fn leads(&self) -> bool {
        self.clock.now().as_millis() < self.held_until.load(Ordering::Relaxed)
    }

    /// Who holds the scheduler's lease, for operators.
    pub async fn leader(&self) -> Result<Option<Lease>, ServiceError> {
        Ok(self.leases.lease(SCHEDULER_LEASE).await?)
    }

    /// Takes the scheduler's lease whoever holds it: for a server that knows it is the
    /// only one (over an embedded store, which no other server opens), so that after a
    /// crash and restart it does not wait for its former self's lease to end.
    pub async fn take_over(&self) -> Result<(), ServiceError> {
        if let Some(lease) = self.leases.lease(SCHEDULER_LEASE).await? {
            if lease.holder != self.holder {
                tracing::info!(former = %lease.holder, "taking over the scheduler's lease of an earlier run");
                self.leases.release_lease(SCHEDULER_LEASE, &lease.holder).await?;
            }
        }
        self.renew().await.map(drop)
    }

    /// Gives the lease up (the server is stopping): another server takes the jobs at its
    /// next renewal instead of when the lease would have ended.
    pub async fn step_down(&self) -> Result<(), ServiceError> {
        self.held_until.store(i64::MIN, Ordering::Relaxed);
        Ok(self.leases.release_lease(SCHEDULER_LEASE, &self.holder).await?)
    }
}
