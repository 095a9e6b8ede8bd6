//! How the store's connections and memory stand now: what an operator watches on
//! `/metrics` to tell a pool that is exhausted or a cache that keeps growing.

/// A snapshot, read without touching the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStatus {
    /// Connections the store holds at most.
    pub max_connections: u64,
    /// Connections open now.
    pub open_connections: u64,
    /// Open connections not in use at this instant.
    pub idle_connections: u64,
    /// Requests waiting for a connection, where the pool counts them (PostgreSQL).
    pub waiting: Option<u64>,
    /// Heap bytes the embedded database holds now (its page caches, prepared
    /// statements): SQLite only; PostgreSQL's memory is the database server's.
    pub embedded_memory_bytes: Option<u64>,
}

/// The store's own state, for monitoring.
pub trait StatusStore: Send + Sync {
    fn status(&self) -> StoreStatus;
}
