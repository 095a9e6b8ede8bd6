//! One upload of a batch: lines in, chunks handed on to a pipeline that parses the next
//! chunk on the blocking pool while the one before it commits, in order.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use healthcode_domain::{PersonId, ValidationError};
use healthcode_store::FeedCounts;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::chunk::{commit, parse_chunk};
use super::csv::CsvRecords;
use super::{CsvHeader, FeedFormat, FeedReport, RawLine, Spec, UploadSummary, FEED_CHUNK_ROWS, IN_FLIGHT};
use crate::{Evidence, ServiceError};

/// The batches being uploaded in this process: a second upload of the same batch waits
/// for the first to end (its chunks would find the mark moved).
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    busy: Mutex<HashSet<(String, String)>>,
    settled: [AtomicU64; 3],
}

/// How feed uploads stand in this process since it started: what `/metrics` shows as feed
/// progress. Rows count when their chunk commits, whether or not the upload finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedProgress {
    /// Batches being uploaded now.
    pub uploads_in_progress: u64,
    pub rows_accepted: u64,
    pub rows_duplicate: u64,
    pub rows_rejected: u64,
}

impl Uploads {
    pub(crate) fn progress(&self) -> FeedProgress {
        let [accepted, duplicate, rejected] = &self.settled;
        FeedProgress {
            uploads_in_progress: self.busy.lock().unwrap_or_else(|p| p.into_inner()).len() as u64,
            rows_accepted: accepted.load(Ordering::Relaxed),
            rows_duplicate: duplicate.load(Ordering::Relaxed),
            rows_rejected: rejected.load(Ordering::Relaxed),
        }
    }

    fn count(&self, committed: &FeedCounts) {
        let [accepted, duplicate, rejected] = &self.settled;
        accepted.fetch_add(committed.accepted, Ordering::Relaxed);
        duplicate.fetch_add(committed.duplicates, Ordering::Relaxed);
        rejected.fetch_add(committed.rejected, Ordering::Relaxed);
    }

    /// Marks the batch as being uploaded for as long as the guard (and its clones) live;
    /// a conflict if another upload holds it.
    pub(super) fn claim(service: &Arc<Evidence>, owner: &str, batch: &str) -> Result<Arc<BusyGuard>, ServiceError> {
        let key = (owner.to_string(), batch.to_string());
        if !service.uploads.busy.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone()) {
            return Err(ServiceError::Conflict(format!(
                "batch `{batch}` is being uploaded already; wait for that upload to end, then ask where the batch \
                 stands (GET) and resume"
            )));
        }
        Ok(Arc::new(BusyGuard { service: service.clone(), key }))
    }
}

/// Held by an upload and each of its chunks: the batch is free when the last one ends.
pub(super) struct BusyGuard {
    service: Arc<Evidence>,
    key: (String, String),
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.service.uploads.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.key);
    }
}

/// One upload of a batch in progress. Feed it the body's lines in order (`push`), then
/// `finish`. Dropping it mid-way (the client went away) leaves every chunk already handed
/// on to be committed: the batch's mark says where to resume.
pub struct FeedUpload {
    service: Arc<Evidence>,
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
    /// The lines of a CSV record whose quoted field is still open.
    csv_records: CsvRecords,
    skipped: u64,
    seen_any: bool,
    in_flight: VecDeque<JoinHandle<Result<FeedCounts, ServiceError>>>,
    previous_commit: Option<oneshot::Receiver<bool>>,
    chunk_rows: usize,
    summary: UploadSummary,
    started: std::time::Instant,
}

impl FeedUpload {
    pub(super) fn new(
        service: Arc<Evidence>,
        spec: Spec,
        guard: Arc<BusyGuard>,
        first_line: u64,
        stored_through: u64,
    ) -> FeedUpload {
        FeedUpload {
            service,
            spec: Arc::new(spec),
            guard,
            header: None,
            next_line: first_line,
            stored_through,
            after: stored_through,
            pending: Vec::with_capacity(FEED_CHUNK_ROWS),
            csv_records: CsvRecords::default(),
            skipped: 0,
            seen_any: false,
            in_flight: VecDeque::new(),
            previous_commit: None,
            chunk_rows: FEED_CHUNK_ROWS,
            started: std::time::Instant::now(),
            summary: UploadSummary { first_line, ..UploadSummary::default() },
        }
    }

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

    /// Turns lines into records: an NDJSON line is one; CSV lines are joined where a
    /// quoted field spans them (`CsvRecords`).
    fn records(&mut self, number: u64, line: RawLine, out: &mut Vec<(u64, RawLine)>) {
        match self.spec.format {
            FeedFormat::Ndjson => out.push((number, line)),
            FeedFormat::Csv => self.csv_records.push(number, line, out),
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
        self.csv_records.give_up_all(&mut records);
        self.take_records(records).await?;
        self.hand_on(true).await?;
        while let Some(chunk) = self.in_flight.pop_front() {
            self.add(chunk.await)?;
        }
        self.summary.storing_ms = self.started.elapsed().as_millis() as u64;
        // Every person the batch touched is on the queue, due now: evaluated once each.
        let evaluating = std::time::Instant::now();
        self.summary.codes = self.service.codes.run_due().await?;
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
        let last_read = self.csv_records.first_open_line().map_or(self.next_line - 1, |first| first - 1);
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
            let mut known = service.registered(&wanted).await?;
            // Chunks commit in order: the mark moves line by line.
            if let Some(previous) = previous {
                if previous.await != Ok(true) {
                    return Err(ServiceError::Background("an earlier chunk of the upload failed".into()));
                }
            }
            let missing: Vec<PersonId> = wanted.into_iter().filter(|p| !known.contains(p)).collect();
            known.extend(service.registered(&missing).await?);
            let committed = commit(&service, &spec, parsed, &known, after, through, complete, now).await;
            if let Ok(counts) = &committed {
                service.uploads.count(counts);
            }
            let _ = committed_tx.send(committed.is_ok());
            committed
        }));
        Ok(())
    }
}
