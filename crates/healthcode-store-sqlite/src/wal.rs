//! Copies the write-ahead log back into the database on its own thread and connection.
//!
//! SQLite's automatic write-back (its "checkpoint", a word this code base keeps for the
//! transparency log's signed checkpoints) runs inside the commit that crosses its
//! threshold, so the single writer stops for it (a fifth of a bulk feed chunk's commit
//! time). Here a passive write-back runs a few times a second beside the writer instead;
//! it never blocks the writer or a reader, and copies only what no reader still needs.

use std::path::Path;
use std::sync::Weak;
use std::time::Duration;

use healthcode_store::StoreError;
use rusqlite::Connection;

use crate::{backend, Inner};

/// How often the write-ahead log is copied back.
const INTERVAL: Duration = Duration::from_millis(250);

/// The writer copies the write-ahead log back by itself only if it grows past this many
/// pages (256 MiB of 16 KiB pages): should the write-back thread fall behind or fail,
/// the log stays bounded.
pub(crate) const WRITER_BACKSTOP_PAGES: i64 = 16_384;

/// Starts the write-back thread of the database at `path`; it stops when the store is
/// dropped.
pub(crate) fn start(path: &Path, store: Weak<Inner>) -> Result<(), StoreError> {
    let conn = Connection::open(path).map_err(backend("open the write-back connection"))?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(backend("set the busy timeout"))?;
    std::thread::Builder::new()
        .name("sqlite-wal-writeback".into())
        .spawn(move || {
            while store.strong_count() > 0 {
                std::thread::sleep(INTERVAL);
                // A failure (the disk full, say) is left to the writer's backstop and
                // tried again next time; the store's own operations report such errors.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        })
        .map_err(|e| StoreError::Backend(format!("cannot start the write-back thread: {e}")))?;
    Ok(())
}
