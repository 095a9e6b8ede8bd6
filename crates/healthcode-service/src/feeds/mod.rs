//! Bulk feeds: a department uploads a batch (NDJSON or CSV) that may hold millions of
//! rows. The rows arrive as a stream of lines and are validated and stored chunk by
//! chunk, never the whole batch at once. Each chunk is committed in one transaction with
//! the batch's mark (the last line settled), so that an upload interrupted anywhere — a
//! dropped connection, a killed server — resumes after the last stored chunk without
//! losing or repeating a row.
//!
//! The chunks go through a pipeline: while one chunk is committed, the next is parsed
//! and validated on the blocking pool. At most three chunks are in memory.
//!
//! Codes: each chunk puts the persons it touched on the re-evaluation queue in its own
//! transaction (as any evidence does), and the upload drains the queue once at its end
//! (`run_due`), so a person named on many rows of a batch is evaluated once, not once per
//! chunk. Meanwhile the server's scheduler drains the queue every few seconds, so codes
//! do not wait for a long upload to end; a crash before the drain leaves the queue to
//! the next scheduler run.
//!
//! The modules: `lines` frames the body into lines, `csv` reads a CSV body's header and
//! records, `upload` runs the pipeline of one upload, `chunk` admits and commits one chunk
//! (with the same row admission as single events, `crate::admission`).

mod chunk;
mod csv;
mod lines;
mod upload;

use std::sync::Arc;

use healthcode_domain::ValidationError;
use healthcode_store::{FeedBatch, FeedRejectedRow};
use serde::Serialize;

#[doc(hidden)]
pub use self::csv::CsvRecords;
pub use self::csv::{CsvHeader, CSV_COLUMNS};
pub use self::lines::{LineSplitter, RawLine};
pub use self::upload::FeedProgress;
pub use self::upload::FeedUpload;
pub(crate) use self::upload::Uploads;
use crate::{Evidence, RefreshReport, ServiceError, Source};

/// Rows per chunk: one store transaction each. A chunk's rows land on pages all over the
/// person-clustered evidence table, and each page is written once per commit: larger
/// chunks write fewer pages per row (BENCHMARKS.md compares 5,000 to 200,000).
/// An interruption repeats at most one chunk (about half a second of work); memory holds
/// about three (some 100 MiB).
pub const FEED_CHUNK_ROWS: usize = 100_000;
/// The longest line accepted. An event is well under 1 KiB; a longer line is refused as
/// a row (and the rest of it skipped), most likely a file without line breaks.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// The most lines a CSV record may span (a quoted field with line breaks, such as a
/// note); a quote open for longer is taken for a mistake.
pub const MAX_RECORD_LINES: usize = 20;
/// Rejected rows listed in a report; all of them are in the rejection log and can be
/// paged through with `rejected_after`.
pub const LISTED_REJECTIONS: usize = 100;
/// Chunks in the pipeline at once (parsing, committing, re-evaluating).
const IN_FLIGHT: usize = 2;

/// The format of a batch's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedFormat {
    /// One JSON event per line (`application/x-ndjson`).
    Ndjson,
    /// A header line naming the columns, then one event per line (`text/csv`).
    Csv,
}

impl FeedFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Ndjson => "ndjson",
            FeedFormat::Csv => "csv",
        }
    }

    /// The line number of a body's first row when the client does not say.
    pub fn first_row_line(self) -> u64 {
        match self {
            FeedFormat::Ndjson => 1,
            FeedFormat::Csv => 2,
        }
    }
}

/// Where a batch stands, with its first rejected rows: the answer to an upload and to
/// `GET` of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedReport {
    pub batch: String,
    pub format: String,
    /// Every line up to and including this one is settled; resume after it.
    pub committed_through_line: u64,
    /// The last upload reached the end of its body.
    pub complete: bool,
    /// Rows settled so far, over every upload of the batch:
    /// `rows = accepted + duplicates + rejected`.
    pub rows: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Rejected rows whose event id was accepted later (fixed and resubmitted).
    pub resolved: u64,
    /// Rejected rows in line order (after `rejected_after` if asked), at most
    /// `LISTED_REJECTIONS`; every one is in the rejection log.
    pub rejected_rows: Vec<FeedRejectedRow>,
    /// More rejected rows follow the listed ones.
    pub more_rejected_rows: bool,
    /// What this upload did, in an upload's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub this_upload: Option<UploadSummary>,
}

/// What one upload of a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadSummary {
    /// The line number of the body's first row.
    pub first_line: u64,
    /// Lines of the body already stored by an earlier upload, skipped unread.
    pub skipped_lines: u64,
    pub rows: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// The re-evaluation at the end of the upload: every person due, those the batch
    /// touched among them (the scheduler may have done some of them already).
    pub codes: RefreshReport,
    /// Milliseconds from the upload's start until its last chunk was stored, and then
    /// until the codes were re-evaluated.
    pub storing_ms: u64,
    pub evaluating_ms: u64,
}

/// Who uploads what: shared by the chunks of one upload.
struct Spec {
    owner: String,
    batch: String,
    format: FeedFormat,
    source: Source,
    origin: String,
}

/// A batch id: chosen by the client, so kept to a safe alphabet.
pub fn check_batch_id(id: &str) -> Result<(), ValidationError> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !id.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::field(
            "batch_id",
            "a batch id is 1 to 100 letters, digits, `-`, `_` or `.` (not first), e.g. cdc-2026-11-25-001",
        ))
    }
}

impl Evidence {
    /// Begins an upload of `batch` by `owner` (an account: batch ids are per account).
    /// `first_line` is the line number of the body's first row (default: the start of the
    /// file); it may not leave a gap after the stored lines.
    pub async fn open_feed(
        self: &Arc<Self>,
        source: Source,
        owner: &str,
        batch: &str,
        format: FeedFormat,
        first_line: Option<u64>,
    ) -> Result<FeedUpload, ServiceError> {
        check_batch_id(batch)?;
        let guard = Uploads::claim(self, owner, batch)?;
        let stored = self.feed_store.feed_batch(owner, batch).await?;
        if let Some(stored) = &stored {
            if stored.format != format.as_str() {
                return Err(ServiceError::Conflict(format!(
                    "batch `{batch}` was begun as {}; resume it in that format, or upload this file as a new batch",
                    stored.format
                )));
            }
        }
        let stored_through = stored.as_ref().map_or(0, |b| b.committed_through);
        let first = first_line.unwrap_or(format.first_row_line());
        if first < format.first_row_line() {
            return Err(ServiceError::Invalid(ValidationError::field(
                "first_line",
                "a CSV body starts with its header, line 1: its first row is line 2 or later",
            )));
        }
        if first > stored_through + 1 && first > format.first_row_line() {
            return Err(ServiceError::Conflict(format!(
                "batch `{batch}` is stored through line {stored_through}; an upload starting at line {first} would \
                 leave lines {}–{} out: start at line {} or earlier",
                stored_through + 1,
                first - 1,
                stored_through + 1
            )));
        }
        let spec = Spec {
            owner: owner.to_string(),
            batch: batch.to_string(),
            format,
            source,
            origin: format!("feed {batch} ({owner})"),
        };
        Ok(FeedUpload::new(self.clone(), spec, guard, first, stored_through))
    }

    /// Where a batch stands, with its rejected rows after line `rejected_after`.
    pub async fn feed_report(
        &self,
        owner: &str,
        batch: &str,
        rejected_after: u64,
    ) -> Result<Option<FeedReport>, ServiceError> {
        let Some(stored) = self.feed_store.feed_batch(owner, batch).await? else { return Ok(None) };
        let mut rows = self.feed_store.feed_rejections(owner, batch, rejected_after, LISTED_REJECTIONS + 1).await?;
        let more = rows.len() > LISTED_REJECTIONS;
        rows.truncate(LISTED_REJECTIONS);
        Ok(Some(report(stored, rows, more)))
    }
}

fn report(b: FeedBatch, rejected_rows: Vec<FeedRejectedRow>, more_rejected_rows: bool) -> FeedReport {
    FeedReport {
        batch: b.batch,
        format: b.format,
        committed_through_line: b.committed_through,
        complete: b.complete,
        rows: b.rows,
        accepted: b.accepted,
        duplicates: b.duplicates,
        rejected: b.rejected,
        resolved: b.resolved,
        rejected_rows,
        more_rejected_rows,
        this_upload: None,
    }
}
