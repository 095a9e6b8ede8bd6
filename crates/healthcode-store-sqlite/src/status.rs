//! The store's connections and SQLite's page caches, for `/metrics`.

use std::sync::atomic::Ordering;

use healthcode_store::{StatusStore, StoreStatus};
use rusqlite::{ffi, Connection};

use crate::SqliteStore;

impl StatusStore for SqliteStore {
    fn status(&self) -> StoreStatus {
        let inner = &self.inner;
        let connections = std::iter::once(&inner.writer).chain(&inner.readers);
        let idle = connections.filter(|c| c.try_lock().is_ok()).count() as u64;
        let open = 1 + inner.readers.len() as u64;
        StoreStatus {
            max_connections: open,
            open_connections: open,
            idle_connections: idle,
            // Requests queue on the connections' locks, which do not count them.
            waiting: None,
            embedded_memory_bytes: Some(inner.cache_bytes.iter().map(|c| c.load(Ordering::Relaxed)).sum()),
        }
    }
}

/// The bytes `conn`'s page cache holds now. With the caches' bounds (`cache_size`), what
/// tells a cache filling up from a leak, in the soak (issue 17).
#[allow(unsafe_code)]
pub(crate) fn cache_used(conn: &Connection) -> u64 {
    let (mut current, mut highwater) = (0, 0);
    // SAFETY: the handle is this open connection's, used by its holder (the caller has the
    // connection's lock) for this one call; sqlite3_db_status only reads the connection's
    // counters and writes the two integers it is given. rusqlite does not wrap it.
    let rc = unsafe {
        ffi::sqlite3_db_status(conn.handle(), ffi::SQLITE_DBSTATUS_CACHE_USED, &mut current, &mut highwater, 0)
    };
    if rc == ffi::SQLITE_OK {
        u64::try_from(current).unwrap_or(0)
    } else {
        0
    }
}
