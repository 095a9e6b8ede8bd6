use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use healthcode_domain::Timestamp;

/// How far ahead of the receiver's clock a time a sender gives may lie (clocks drift):
/// a department's occurrence times, a region's records at the hub and on receipt.
pub const CLOCK_DRIFT_MINUTES: i64 = 10;

/// `now` plus the drift allowed (`CLOCK_DRIFT_MINUTES`): the latest time a sender may name.
pub(crate) fn latest_allowed(now: Timestamp) -> Timestamp {
    now.saturating_add(healthcode_domain::Duration::from_millis(CLOCK_DRIFT_MINUTES * 60_000))
}

/// Where the service reads the time. Production uses the system clock; scenarios and
/// tests a manual one, so that "now" is whatever the story says.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp::from_millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(at.as_millis())))
    }

    pub fn set(&self, at: Timestamp) {
        self.0.store(at.as_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}
