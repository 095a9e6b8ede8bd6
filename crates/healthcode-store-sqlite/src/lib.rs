#![doc = include_str!("../README.md")]

mod accounts;
mod codec;
mod codes;
mod doors;
mod evidence;
mod federation;
mod feeds;
mod governance;
mod leases;
mod log;
mod migrate;
mod residents;
mod status;
mod wal;

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use healthcode_store::StoreError;
use rusqlite::Connection;

/// The SQLite backend. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    /// Empty for an in-memory database, whose only connection is the writer.
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Each connection's page cache in bytes (the writer's first), as of its last use:
    /// read by `/metrics` without waiting for a busy connection.
    cache_bytes: Vec<AtomicU64>,
}

impl Inner {
    fn new(writer: Connection, readers: Vec<Mutex<Connection>>) -> Inner {
        let cache_bytes = (0..=readers.len()).map(|_| AtomicU64::new(0)).collect();
        Inner { writer: Mutex::new(writer), readers, next_reader: AtomicUsize::new(0), cache_bytes }
    }

    fn note_cache(&self, connection: usize, conn: &Connection) {
        self.cache_bytes[connection].store(status::cache_used(conn), Ordering::Relaxed);
    }
}

const READERS: usize = 4;
/// The page caches' bound unless given: 256 MiB for the writer, 64 MiB per reader.
pub const DEFAULT_CACHE_BYTES: u64 = 512 * 1024 * 1024;
const PAGE_SIZE: i64 = 16_384;

impl SqliteStore {
    /// Opens (creating if need be) the database file at `path` and brings its schema up
    /// to date, with `DEFAULT_CACHE_BYTES` of page caches.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with_caches(path, DEFAULT_CACHE_BYTES)
    }

    /// As `open`, with the page caches bounded to `cache_bytes` together: half for the
    /// writer, which does the bulk work, the rest shared by the readers. Each cache fills
    /// up to its bound as the database is read, then recycles its pages: what the
    /// server's memory grows to.
    pub fn open_with_caches(path: &Path, cache_bytes: u64) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut writer = Connection::open(path).map_err(backend("open the database"))?;
        configure(&writer)?;
        // Takes effect only on a new database (before its first page is written). Bulk
        // feeds insert all over the person-clustered evidence table: 16 KiB pages mean
        // fewer page splits and a shallower tree per row (measured in BENCHMARKS.md: +20%
        // on the feed benchmark over 4 KiB), at no cost to a person's range scan.
        writer.pragma_update(None, "page_size", PAGE_SIZE).map_err(backend("set the page size"))?;
        writer.pragma_update(None, "journal_mode", "WAL").map_err(backend("switch to WAL"))?;
        // Deleted and rewritten rows are zeroed where that costs no extra write (a queue
        // entry, an old code): without it their bytes stay in the pages' free space, and a
        // person erased later (`erase_person`) would still be found in the file.
        writer.pragma_update(None, "secure_delete", SECURE_DELETE).map_err(backend("set secure delete"))?;
        set_cache(&writer, cache_bytes / 2)?;
        // Copying the write-ahead log back is the write-back thread's job (`wal`), off the
        // writer's path; the writer's own is a backstop should it fall behind.
        writer
            .pragma_update(None, "wal_autocheckpoint", wal::WRITER_BACKSTOP_PAGES)
            .map_err(backend("set the write-back backstop"))?;
        // Under a long bulk load with readers busy the log is not rewound and can grow to
        // gigabytes (seen: 3.6 GB after loading 3 million residents); once it is rewound,
        // the file is cut back to this size instead of keeping its high-water mark.
        writer
            .pragma_update(None, "journal_size_limit", 256 * 1024 * 1024)
            .map_err(backend("set the log size limit"))?;
        migrate::run(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = Connection::open(path).map_err(backend("open a reader connection"))?;
                configure(&conn)?;
                set_cache(&conn, cache_bytes / 2 / READERS as u64)?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let inner = Arc::new(Inner::new(writer, readers));
        wal::start(path, Arc::downgrade(&inner))?;
        Ok(SqliteStore { inner })
    }

    /// A private database in memory, for tests and scenario runs.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let mut writer = Connection::open_in_memory().map_err(backend("open an in-memory database"))?;
        configure(&writer)?;
        migrate::run(&mut writer)?;
        Ok(SqliteStore { inner: Arc::new(Inner::new(writer, Vec::new())) })
    }

    /// Runs `f` with the writer connection on the blocking pool.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let done = f(&mut conn);
            inner.note_cache(0, &conn);
            done
        })
        .await
    }

    /// Runs `f` with a reader connection (the writer for an in-memory database).
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            if inner.readers.is_empty() {
                let conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
                let done = f(&conn);
                inner.note_cache(0, &conn);
                return done;
            }
            let i = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let conn = inner.readers[i].lock().unwrap_or_else(|p| p.into_inner());
            let done = f(&conn);
            inner.note_cache(i + 1, &conn);
            done
        })
        .await
    }
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn_blocking(f).await.map_err(|e| StoreError::Backend(format!("a storage task failed: {e}")))?
        }
        // Outside a runtime (plain tests, tools): just run it.
        Err(_) => f(),
    }
}

/// Zero deleted content where it costs no extra write; an erasure turns it fully on.
pub(crate) const SECURE_DELETE: &str = "FAST";

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "foreign_keys", "ON").map_err(backend("enable foreign keys"))?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(backend("set synchronous"))?;
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(backend("set temp_store"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(backend("set the busy timeout"))?;
    rusqlite::vtab::array::load_module(conn).map_err(backend("load the rarray module"))?;
    Ok(())
}

/// Bounds `conn`'s page cache to `bytes` (1 MiB at the least).
fn set_cache(conn: &Connection, bytes: u64) -> Result<(), StoreError> {
    let kib = (bytes / 1024).max(1024) as i64;
    conn.pragma_update(None, "cache_size", -kib).map_err(backend("set the cache size"))
}

/// Maps a rusqlite error to a backend error saying what was being done.
pub(crate) fn backend(doing: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| match e.sqlite_error_code() {
        // A full disk is an outage the operator ends by freeing space: the write was rolled
        // back whole, and the same request succeeds once there is room (`Unavailable`: 503
        // with a retry hint, the detail in the server's log).
        Some(rusqlite::ErrorCode::DiskFull) => {
            StoreError::Unavailable(format!("cannot {doing}: the database's disk is full ({e}); free space"))
        }
        _ => StoreError::Backend(format!("cannot {doing}: {e}")),
    }
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cache_kib(conn: &Mutex<Connection>) -> i64 {
        let conn = conn.lock().unwrap();
        -conn.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0)).unwrap()
    }

    #[test]
    fn the_caches_share_the_limit_half_to_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.sqlite3")).unwrap();
        assert_eq!(cache_kib(&store.inner.writer), 256 * 1024, "opened: 256 MiB for the writer");
        assert_eq!(cache_kib(&store.inner.readers[0]), 64 * 1024, "and 64 MiB per reader");
        drop(store);
        let store = SqliteStore::open_with_caches(&dir.path().join("t.sqlite3"), 64 * 1024 * 1024).unwrap();
        assert_eq!(cache_kib(&store.inner.writer), 32 * 1024);
        for reader in &store.inner.readers {
            assert_eq!(cache_kib(reader), 32 * 1024 / READERS as i64);
        }
    }
}
