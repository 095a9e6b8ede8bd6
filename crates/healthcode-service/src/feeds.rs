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

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use healthcode_domain::{PersonId, PersonKind, PersonRef, Timestamp, ValidationError};
use healthcode_store::{
    FeedBatch, FeedChunk, FeedCommit, FeedCounts, FeedRejectedRow, FeedRejection, FeedRow, PersonRecord,
};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::ingest::{parse_row, Admitted};
use crate::redact::{kept_input, kept_parsed_input, mask_numbers};
use crate::{AtPolicy, HealthService, RefreshReport, ServiceError, Source};

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

/// A line of a body as the splitter hands it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawLine {
    Text(String),
    /// Refused before parsing; the row is rejected with this reason.
    Refused {
        reason: String,
        start: String,
    },
}

/// Splits a byte stream into lines (`\n`, with an optional `\r` before it), wherever the
/// chunks of the stream happen to break. A line longer than `MAX_LINE_BYTES` is not kept:
/// it becomes a refused line and the rest of it is skipped.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
    /// Bytes of an over-long line seen so far, while skipping to its end.
    overlong: Option<usize>,
}

impl LineSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes of the stream; complete lines are appended to `out`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<RawLine>) {
        while !data.is_empty() {
            let newline = data.iter().position(|&b| b == b'\n');
            let (piece, rest, ends) = match newline {
                Some(i) => (&data[..i], &data[i + 1..], true),
                None => (data, &data[data.len()..], false),
            };
            data = rest;
            if let Some(seen) = &mut self.overlong {
                *seen += piece.len() + usize::from(ends);
            } else if self.partial.len() + piece.len() > MAX_LINE_BYTES {
                let seen = self.partial.len() + piece.len();
                self.partial.extend_from_slice(&piece[..piece.len().min(200)]);
                self.overlong = Some(seen);
            } else {
                self.partial.extend_from_slice(piece);
            }
            if ends {
                out.push(self.take());
            }
        }
    }

    /// The last line, if the stream did not end with a line break.
    pub fn finish(&mut self, out: &mut Vec<RawLine>) {
        if !self.partial.is_empty() || self.overlong.is_some() {
            out.push(self.take());
        }
    }

    fn take(&mut self) -> RawLine {
        let mut bytes = std::mem::take(&mut self.partial);
        if let Some(seen) = self.overlong.take() {
            let start = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
            return RawLine::Refused {
                reason: format!(
                    "the line is longer than {MAX_LINE_BYTES} bytes ({seen} bytes or more); an event is one line: \
                     check that the file has a line break after each event"
                ),
                start,
            };
        }
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        match String::from_utf8(bytes) {
            Ok(text) => RawLine::Text(text),
            Err(e) => {
                let at = e.utf8_error().valid_up_to() + 1;
                RawLine::Refused {
                    reason: format!(
                        "the line is not UTF-8 text (invalid byte at byte {at}); send the file as UTF-8 (convert a \
                         GBK file first, e.g. with iconv -f GBK -t UTF-8)"
                    ),
                    start: String::from_utf8_lossy(e.as_bytes()).chars().take(200).collect(),
                }
            }
        }
    }
}

/// The CSV columns a feed may use: the event's envelope and the fields of the evidence a
/// department submits. Cells are text except `days` (a number); an empty cell is a field
/// left out. Which columns a row needs depends on its `type` (README, "Bulk feeds").
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "type",
    "person_id",
    "id_type",
    "id_number",
    "at",
    "source",
    "note",
    "comment",
    "description",
    "onset_at",
    "result",
    "sampled_at",
    "status",
    "exposure_at",
    "country",
    "entered_at",
    "area",
    "from",
    "to",
    "mode",
    "days",
];

/// The columns of a CSV batch, from its header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvHeader {
    columns: Vec<&'static str>,
}

impl CsvHeader {
    pub fn parse(line: &str) -> Result<CsvHeader, ValidationError> {
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        let cells = split_csv(line).map_err(|e| ValidationError::new(format!("line 1 (the CSV header): {e}")))?;
        let mut columns = Vec::with_capacity(cells.len());
        for cell in cells {
            let name = cell.trim();
            let known = CSV_COLUMNS.iter().find(|c| **c == name).ok_or_else(|| {
                ValidationError::field(
                    name,
                    format!(
                        "line 1 (the CSV header): unknown column `{}`; the columns are {}",
                        name.chars().take(64).collect::<String>(),
                        CSV_COLUMNS.join(", ")
                    ),
                )
            })?;
            if columns.contains(known) {
                return Err(ValidationError::field(
                    name,
                    format!("line 1 (the CSV header): column `{name}` is named twice"),
                ));
            }
            columns.push(*known);
        }
        if !columns.contains(&"type") {
            return Err(ValidationError::missing_column("type"));
        }
        Ok(CsvHeader { columns })
    }

    /// One CSV row as the JSON object an NDJSON row would be.
    pub fn row(&self, line: &str) -> Result<Value, ValidationError> {
        let cells = split_csv(line).map_err(ValidationError::new)?;
        if cells.len() != self.columns.len() {
            return Err(ValidationError::new(format!(
                "the row has {} fields and the header {}; quote a field that holds a comma (\"a,b\")",
                cells.len(),
                self.columns.len()
            )));
        }
        let mut object = Map::new();
        for (column, cell) in self.columns.iter().zip(cells) {
            if cell.is_empty() {
                continue;
            }
            let value = match (*column, cell.parse::<u64>()) {
                ("days", Ok(n)) => Value::from(n),
                _ => Value::String(cell),
            };
            object.insert((*column).to_string(), value);
        }
        Ok(Value::Object(object))
    }
}

trait MissingColumn {
    fn missing_column(name: &str) -> ValidationError;
}

impl MissingColumn for ValidationError {
    fn missing_column(name: &str) -> ValidationError {
        ValidationError::field(name, format!("line 1 (the CSV header): the column `{name}` is required"))
    }
}

/// The fields of one CSV record (RFC 4180 quoting: `"a,b"`, `""` for a quote, line
/// breaks inside quotes).
fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(format!(
                            "field {} opens a quote that is not closed on this line or the {MAX_RECORD_LINES} after it",
                            fields.len() + 1
                        ))
                    }
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => {}
                Some(c) => {
                    return Err(format!(
                        "field {} has `{c}` after its closing quote; write a quote inside a field as \"\"",
                        fields.len() + 1
                    ))
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
        }
        fields.push(field);
    }
}

/// Where a batch stands, with its first rejected rows: the answer to an upload and to
/// `GET` of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// The batches being uploaded in this process: a second upload of the same batch waits
/// for the first to end (its chunks would find the mark moved).
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    busy: Mutex<HashSet<(String, String)>>,
}

/// Held by an upload and each of its chunks: the batch is free when the last one ends.
struct BusyGuard {
    service: Arc<HealthService>,
    key: (String, String),
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.service.feeds.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.key);
    }
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

/// One upload of a batch in progress. Feed it the body's lines in order (`push`), then
/// `finish`. Dropping it mid-way (the client went away) leaves every chunk already handed
/// on to be committed: the batch's mark says where to resume.
pub struct FeedUpload {
    service: Arc<HealthService>,
    spec: Arc<Spec>,
    guard: Arc<BusyGuard>,
    header: Option<Arc<CsvHeader>>,
    /// The line number of the next line pushed (after a CSV header).
    next_line: u64,
    /// The batch's stored mark when the upload began: lines up to it are skipped.
    stored_through: u64,
    /// The mark the next chunk continues from.
    after: u64,
    pending: Vec<(u64, RawLine)>,
    /// The lines of a CSV record whose quoted field is still open (RFC 4180 allows line
    /// breaks inside quotes), with their numbers.
    open_record: Vec<(u64, String)>,
    skipped: u64,
    seen_any: bool,
    in_flight: VecDeque<JoinHandle<Result<FeedCounts, ServiceError>>>,
    previous_commit: Option<oneshot::Receiver<bool>>,
    chunk_rows: usize,
    summary: UploadSummary,
    started: std::time::Instant,
}

impl HealthService {
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
        let key = (owner.to_string(), batch.to_string());
        if !self.feeds.busy.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone()) {
            return Err(ServiceError::Conflict(format!(
                "batch `{batch}` is being uploaded already; wait for that upload to end, then ask where the batch \
                 stands (GET) and resume"
            )));
        }
        let guard = Arc::new(BusyGuard { service: self.clone(), key });
        let stored = self.store.feed_batch(owner, batch).await?;
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
        Ok(FeedUpload {
            service: self.clone(),
            spec: Arc::new(Spec {
                owner: owner.to_string(),
                batch: batch.to_string(),
                format,
                source,
                origin: format!("feed {batch} ({owner})"),
            }),
            guard,
            header: None,
            next_line: first,
            stored_through,
            after: stored_through,
            pending: Vec::with_capacity(FEED_CHUNK_ROWS),
            open_record: Vec::new(),
            skipped: 0,
            seen_any: false,
            in_flight: VecDeque::new(),
            previous_commit: None,
            chunk_rows: FEED_CHUNK_ROWS,
            started: std::time::Instant::now(),
            summary: UploadSummary { first_line: first, ..UploadSummary::default() },
        })
    }

    /// Where a batch stands, with its rejected rows after line `rejected_after`.
    pub async fn feed_report(
        &self,
        owner: &str,
        batch: &str,
        rejected_after: u64,
    ) -> Result<Option<FeedReport>, ServiceError> {
        let Some(stored) = self.store.feed_batch(owner, batch).await? else { return Ok(None) };
        let mut rows = self.store.feed_rejections(owner, batch, rejected_after, LISTED_REJECTIONS + 1).await?;
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

impl FeedUpload {
    /// Rows per chunk instead of `FEED_CHUNK_ROWS` (tests, and the benchmark that
    /// compares chunk sizes).
    pub fn with_chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows.max(1);
        self
    }

    /// The next line of the body.
    pub async fn push(&mut self, line: RawLine) -> Result<(), ServiceError> {
        if self.spec.format == FeedFormat::Csv && self.header.is_none() {
            let RawLine::Text(text) = line else {
                return Err(ServiceError::Invalid(ValidationError::new(
                    "line 1 (the CSV header) is not UTF-8 text or is too long; send the header line first",
                )));
            };
            self.header = Some(Arc::new(CsvHeader::parse(&text)?));
            self.seen_any = true;
            return Ok(());
        }
        let number = self.next_line;
        self.next_line += 1;
        self.seen_any = true;
        if number <= self.stored_through {
            self.skipped += 1;
            return Ok(());
        }
        let mut records = Vec::new();
        self.records(number, line, &mut records);
        self.take_records(records).await
    }

    async fn take_records(&mut self, records: Vec<(u64, RawLine)>) -> Result<(), ServiceError> {
        for (number, record) in records {
            if matches!(&record, RawLine::Text(t) if t.trim().is_empty()) {
                continue;
            }
            self.pending.push((number, record));
            if self.pending.len() >= self.chunk_rows {
                self.hand_on(false).await?;
            }
        }
        Ok(())
    }

    /// Turns lines into records: an NDJSON line is one; a CSV line that leaves a quoted
    /// field open is held, and the lines after it joined to it (with `\n`) until the
    /// quote closes. The record counts at its first line. A quote still open after
    /// `MAX_RECORD_LINES` lines (or `MAX_LINE_BYTES`) is a mistake, not a line break: its
    /// first line is given up as a row of its own (rejected: the quote is not closed) and
    /// the lines held after it are read again, so that no row is lost inside it.
    fn records(&mut self, number: u64, line: RawLine, out: &mut Vec<(u64, RawLine)>) {
        if self.spec.format != FeedFormat::Csv {
            out.push((number, line));
            return;
        }
        let RawLine::Text(text) = line else {
            while !self.open_record.is_empty() {
                self.give_up_open_record(out);
            }
            out.push((number, line));
            return;
        };
        let quotes = |t: &str| t.bytes().filter(|b| *b == b'"').count();
        if self.open_record.is_empty() && quotes(&text).is_multiple_of(2) {
            out.push((number, RawLine::Text(text)));
            return;
        }
        self.open_record.push((number, text));
        if self.open_record.iter().map(|(_, t)| quotes(t)).sum::<usize>().is_multiple_of(2) {
            let lines = std::mem::take(&mut self.open_record);
            let first = lines[0].0;
            let text = lines.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join("\n");
            out.push((first, RawLine::Text(text)));
            return;
        }
        let bytes: usize = self.open_record.iter().map(|(_, t)| t.len() + 1).sum();
        if self.open_record.len() > MAX_RECORD_LINES || bytes > MAX_LINE_BYTES {
            self.give_up_open_record(out);
        }
    }

    fn give_up_open_record(&mut self, out: &mut Vec<(u64, RawLine)>) {
        let mut held = std::mem::take(&mut self.open_record).into_iter();
        if let Some((first, text)) = held.next() {
            out.push((first, RawLine::Text(text)));
        }
        for (number, text) in held {
            self.records(number, RawLine::Text(text), out);
        }
    }

    /// Ends the upload: the last chunk is committed, every chunk waited for, and the
    /// batch's report returned.
    pub async fn finish(mut self) -> Result<FeedReport, ServiceError> {
        if !self.seen_any && self.stored_through == 0 {
            return Err(ServiceError::Invalid(ValidationError::new(match self.spec.format {
                FeedFormat::Ndjson => "the batch is empty: send one JSON event per line (NDJSON)",
                FeedFormat::Csv => "the batch is empty: send a header line, then one event per line (CSV)",
            })));
        }
        let mut records = Vec::new();
        while !self.open_record.is_empty() {
            self.give_up_open_record(&mut records);
        }
        self.take_records(records).await?;
        self.hand_on(true).await?;
        while let Some(chunk) = self.in_flight.pop_front() {
            self.add(chunk.await)?;
        }
        self.summary.storing_ms = self.started.elapsed().as_millis() as u64;
        // Every person the batch touched is on the queue, due now: evaluated once each.
        let evaluating = std::time::Instant::now();
        self.summary.codes = self.service.run_due().await?;
        self.summary.evaluating_ms = evaluating.elapsed().as_millis() as u64;
        self.summary.skipped_lines = self.skipped;
        let mut report = self
            .service
            .feed_report(&self.spec.owner, &self.spec.batch, 0)
            .await?
            .ok_or_else(|| ServiceError::Background("the batch's record is missing after its upload".into()))?;
        report.this_upload = Some(self.summary);
        Ok(report)
    }

    fn add(
        &mut self,
        joined: Result<Result<FeedCounts, ServiceError>, tokio::task::JoinError>,
    ) -> Result<(), ServiceError> {
        let counts = joined.map_err(|e| ServiceError::Background(format!("a feed chunk failed: {e}")))??;
        let s = &mut self.summary;
        s.rows += counts.rows;
        s.accepted += counts.accepted;
        s.duplicates += counts.duplicates;
        s.rejected += counts.rejected;
        Ok(())
    }

    /// Hands the pending lines on as a chunk (the last one, with `complete`, even if empty:
    /// it marks the batch complete and covers trailing blank lines).
    async fn hand_on(&mut self, complete: bool) -> Result<(), ServiceError> {
        // Lines held in an open CSV record are not in this chunk: the mark stops before them.
        let last_read = self.open_record.first().map_or(self.next_line - 1, |(first, _)| first - 1);
        let through = last_read.max(self.after);
        if !complete && self.pending.is_empty() {
            return Ok(());
        }
        while self.in_flight.len() >= IN_FLIGHT {
            let oldest = self.in_flight.pop_front().expect("not empty");
            self.add(oldest.await)?;
        }
        let lines = std::mem::replace(&mut self.pending, Vec::with_capacity(self.chunk_rows.min(FEED_CHUNK_ROWS)));
        let after = std::mem::replace(&mut self.after, through);
        let (committed_tx, committed_rx) = oneshot::channel();
        let previous = self.previous_commit.replace(committed_rx);
        let (service, spec, header, guard) =
            (self.service.clone(), self.spec.clone(), self.header.clone(), self.guard.clone());
        self.in_flight.push_back(tokio::spawn(async move {
            let _guard = guard;
            let now = service.clock.now();
            let parsed = {
                let service = service.clone();
                let spec = spec.clone();
                tokio::task::spawn_blocking(move || parse_chunk(&service, &spec, header.as_deref(), lines, now))
                    .await
                    .map_err(|e| ServiceError::Background(format!("parsing a feed chunk failed: {e}")))?
            };
            // Who is registered, looked up while the previous chunk commits (off the
            // writer's path); those not found are looked up again after it, which may
            // have registered them by document.
            let wanted = parsed.named_by_id();
            let mut known = registered(&service, &wanted).await?;
            // Chunks commit in order: the mark moves line by line.
            if let Some(previous) = previous {
                if previous.await != Ok(true) {
                    return Err(ServiceError::Background("an earlier chunk of the upload failed".into()));
                }
            }
            let missing: Vec<PersonId> = wanted.into_iter().filter(|p| !known.contains(p)).collect();
            known.extend(registered(&service, &missing).await?);
            let committed = commit(&service, &spec, parsed, &known, after, through, complete, now).await;
            let _ = committed_tx.send(committed.is_ok());
            committed
        }));
        Ok(())
    }
}

/// A chunk after validation, before the store has seen it.
struct Parsed {
    rows: Vec<FeedRow>,
    /// Which rows name their person by `person_id` (who must be registered already).
    by_id: Vec<bool>,
    persons: BTreeMap<PersonId, PersonKind>,
    rejected: Vec<FeedRejection>,
}

impl Parsed {
    /// The persons named by `person_id`, each once.
    fn named_by_id(&self) -> Vec<PersonId> {
        let named: std::collections::BTreeSet<&PersonId> =
            self.rows.iter().zip(&self.by_id).filter(|(_, by_id)| **by_id).map(|(r, _)| &r.evidence.person).collect();
        named.into_iter().cloned().collect()
    }
}

/// Which of these persons are registered.
async fn registered(service: &HealthService, persons: &[PersonId]) -> Result<HashSet<PersonId>, ServiceError> {
    if persons.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(service.store.persons(persons).await?.into_iter().map(|p| p.id).collect())
}

fn parse_chunk(
    service: &HealthService,
    spec: &Spec,
    header: Option<&CsvHeader>,
    lines: Vec<(u64, RawLine)>,
    now: Timestamp,
) -> Parsed {
    let mut parsed = Parsed {
        rows: Vec::with_capacity(lines.len()),
        by_id: Vec::with_capacity(lines.len()),
        persons: BTreeMap::new(),
        rejected: Vec::new(),
    };
    for (line, raw) in lines {
        let text = match raw {
            RawLine::Text(text) => text,
            RawLine::Refused { reason, start } => {
                let input = mask_numbers(&start);
                parsed.rejected.push(FeedRejection { line, event_id: None, field: None, reason, input });
                continue;
            }
        };
        let value = match header {
            Some(header) => header.row(&text),
            None => parse_row(&text),
        };
        let admitted = value.map(|v| {
            let admitted = service.admit_value(&v, AtPolicy::ServerClock, now, spec.source);
            (v, admitted)
        });
        // What the rejection log keeps: an NDJSON row as sent, a CSV row as its JSON
        // object; identity numbers masked in both.
        let input = |value: Option<&Value>| match value {
            Some(v) if header.is_some() => kept_parsed_input(&v.to_string(), v),
            Some(v) => kept_parsed_input(&text, v),
            None => kept_input(&text),
        };
        match admitted {
            Ok((value, Ok((Admitted::Evidence(evidence), person)))) => {
                if let Some(PersonRef::Document(doc)) = &person {
                    parsed.persons.insert(evidence.person.clone(), doc.id_type().person_kind());
                }
                parsed.by_id.push(matches!(person, Some(PersonRef::Id(_))));
                parsed.rows.push(FeedRow { line, input: input(Some(&value)), evidence });
            }
            Ok((value, Ok((Admitted::Designation(_), _)))) => parsed.rejected.push(FeedRejection {
                line,
                event_id: None,
                field: Some("type".into()),
                reason: "area designations are made by the provincial office at /v1/designations, not by data feeds"
                    .into(),
                input: input(Some(&value)),
            }),
            Ok((value, Err(e))) => parsed.rejected.push(FeedRejection {
                line,
                event_id: value.get("id").and_then(Value::as_str).map(|s| s.chars().take(200).collect()),
                field: e.field,
                reason: e.message,
                input: input(Some(&value)),
            }),
            Err(e) => parsed.rejected.push(FeedRejection {
                line,
                event_id: None,
                field: e.field,
                reason: spanning(e.message, line, &text),
                input: input(None),
            }),
        }
    }
    parsed
}

/// A reason for refusing a CSV record that spans lines says which: the lines after its
/// first were taken into it by a quote, and a stray quote is the likely mistake.
fn spanning(reason: String, line: u64, text: &str) -> String {
    match text.matches('\n').count() {
        0 => reason,
        breaks => format!(
            "{reason} (this record runs from line {line} to line {}: a quoted field takes in the line breaks until \
             its closing quote; if no field should span lines, a quote on line {line} is stray or unclosed, and the \
             rows on the lines after it are inside this record)",
            line + breaks as u64
        ),
    }
}

/// Commits a parsed chunk: evidence about persons named by `person_id` who are not
/// `known` (looked up after the previous chunk committed, so that persons it registered
/// by document count) is rejected.
#[allow(clippy::too_many_arguments)] // one chunk's place in its batch, spelled out
async fn commit(
    service: &HealthService,
    spec: &Spec,
    parsed: Parsed,
    known: &HashSet<PersonId>,
    after: u64,
    through: u64,
    complete: bool,
    now: Timestamp,
) -> Result<FeedCounts, ServiceError> {
    let Parsed { rows, by_id, persons, mut rejected } = parsed;
    let mut kept = Vec::with_capacity(rows.len());
    for (row, by_id) in rows.into_iter().zip(by_id) {
        if by_id && !known.contains(&row.evidence.person) {
            rejected.push(FeedRejection {
                line: row.line,
                event_id: Some(row.evidence.id.to_string()),
                field: Some("person_id".into()),
                reason: format!(
                    "no person is registered with person_id `{}`; register the person first",
                    row.evidence.person
                ),
                input: row.input,
            });
        } else {
            kept.push(row);
        }
    }
    let chunk = FeedChunk {
        owner: spec.owner.clone(),
        batch: spec.batch.clone(),
        format: spec.format.as_str().to_string(),
        received_at: now,
        origin: spec.origin.clone(),
        after,
        through,
        complete,
        persons: persons
            .into_iter()
            .map(|(id, kind)| PersonRecord { id, kind, registered_at: now, residence_area: None })
            .collect(),
        rows: kept,
        rejected,
    };
    let validation_rejected = chunk.rejected.len() as u64;
    match service.store.commit_feed_chunk(chunk).await? {
        FeedCommit::Committed(outcomes) => Ok(FeedCounts::from_outcomes(validation_rejected, &outcomes)),
        FeedCommit::Moved { committed_through } => Err(ServiceError::Conflict(format!(
            "batch `{}` was moved to line {committed_through} by another upload meanwhile; ask where it stands \
             (GET) and resume from there",
            spec.batch
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(pieces: &[&[u8]]) -> Vec<RawLine> {
        let mut splitter = LineSplitter::new();
        let mut out = Vec::new();
        for p in pieces {
            splitter.push(p, &mut out);
        }
        splitter.finish(&mut out);
        out
    }

    fn text(s: &str) -> RawLine {
        RawLine::Text(s.into())
    }

    #[test]
    fn lines_are_split_wherever_the_stream_breaks() {
        let whole: &[u8] = b"{\"a\":1}\r\n\n{\"b\":\"\xe5\x81\xa5\"}\nlast";
        let expected = vec![text("{\"a\":1}"), text(""), text("{\"b\":\"健\"}"), text("last")];
        assert_eq!(split(&[whole]), expected);
        for cut in 0..whole.len() {
            assert_eq!(split(&[&whole[..cut], &whole[cut..]]), expected, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(split(&bytes), expected, "one byte at a time (a character split across chunks)");
        assert_eq!(split(&[b"a\n"]), vec![text("a")], "no empty line after a final line break");
    }

    #[test]
    fn an_overlong_line_is_refused_and_the_next_one_kept() {
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let out = split(&[b"first\n", &long[..1000], &long[1000..], b"\nnext\n"]);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], text("first"));
        let RawLine::Refused { reason, start } = &out[1] else { panic!("{:?}", out[1]) };
        assert!(reason.contains("longer than 65536 bytes") && reason.contains("line break"), "{reason}");
        assert_eq!(start.len(), 200, "only the start of it is kept");
        assert_eq!(out[2], text("next"));
        let exact = vec![b'y'; MAX_LINE_BYTES];
        assert_eq!(split(&[&exact, b"\n"]), vec![RawLine::Text(String::from_utf8(exact).unwrap())], "at the limit");
    }

    #[test]
    fn a_line_that_is_not_utf8_is_refused_with_a_way_to_fix_it() {
        let out = split(&[b"ok\n\xb2\xe2\xca\xd4\nok\n"]);
        let RawLine::Refused { reason, .. } = &out[1] else { panic!("{:?}", out[1]) };
        assert!(reason.contains("not UTF-8") && reason.contains("iconv -f GBK"), "{reason}");
        assert_eq!(out[2], text("ok"));
    }

    #[test]
    fn csv_fields_are_quoted_as_in_rfc_4180() {
        assert_eq!(split_csv("a,,\"b,c\",\"say \"\"hi\"\"\"").unwrap(), ["a", "", "b,c", "say \"hi\""]);
        assert_eq!(split_csv("").unwrap(), [""]);
        assert_eq!(split_csv("a,").unwrap(), ["a", ""]);
        assert!(split_csv("\"open").unwrap_err().contains("not closed"));
        assert!(split_csv("\"a\"b").unwrap_err().contains("after its closing quote"));
    }

    #[test]
    fn a_csv_row_becomes_the_json_object_of_its_event() {
        let header = CsvHeader::parse("\u{feff}id,type,person_id,result,sampled_at,days").unwrap();
        let row = header.row("t1,test,p1,negative,2026-11-20T08:00:00+08:00,").unwrap();
        assert_eq!(
            row,
            serde_json::json!({"id": "t1", "type": "test", "person_id": "p1", "result": "negative",
                               "sampled_at": "2026-11-20T08:00:00+08:00"})
        );
        let header = CsvHeader::parse("type,id,mode,days").unwrap();
        assert_eq!(header.row("quarantine_order,q1,home,14").unwrap()["days"], 14, "days is a number");
        assert_eq!(header.row("quarantine_order,q1,home,two").unwrap()["days"], "two", "left for the parser to refuse");
        assert!(header.row("a,b").unwrap_err().message.contains("2 fields and the header 4"));
        let unknown = CsvHeader::parse("type,id,colour").unwrap_err();
        assert!(unknown.message.contains("unknown column `colour`") && unknown.message.contains("sampled_at"));
        assert!(CsvHeader::parse("type,id,id").unwrap_err().message.contains("named twice"));
        assert!(CsvHeader::parse("id,person_id").unwrap_err().message.contains("`type` is required"));
    }
}
