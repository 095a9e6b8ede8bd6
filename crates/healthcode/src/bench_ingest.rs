//! `healthcode bench ingest`: a department's NDJSON batch into the store, end to end —
//! the file read in blocks, split into lines, each row parsed and validated (JSON, the
//! event's fields, the department's rights, the person registered), stored in chunks
//! with the batch's mark, and the codes of the persons it touched re-evaluated. In
//! process (the service's feed pipeline, as the HTTP handler drives it), and over HTTP
//! (`--http`: the server in this process on a loopback port, the file streamed to it).
//! Baseline in the same run: reading the file and parsing every line as JSON, nothing else.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use healthcode_domain::{Department, Role, Timestamp};
use healthcode_service::{
    FeedFormat, FeedReport, HealthService, LineSplitter, ManualClock, NewAccount, Pseudonymiser, RawLine, Source,
};
use healthcode_store::Store;

pub struct IngestArgs {
    pub rows: u64,
    pub persons: u64,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub http: bool,
    pub chunk_rows: usize,
    pub writers: Option<usize>,
}

pub async fn run(args: IngestArgs) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = args.data_dir.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let store = crate::serve::open_store(&dir, args.database_url.as_deref()).await?;
    healthcode_synth::load::claim_synthetic(store.as_ref()).await?;
    println!("backend: {}", if args.database_url.is_some() { "PostgreSQL" } else { "SQLite" });
    let now = Timestamp::parse("2026-11-25T08:00:00+08:00").expect("a valid time");
    let service = Arc::new(
        HealthService::open(
            store.clone(),
            Arc::new(ManualClock::new(now)),
            Pseudonymiser::new(b"bench".to_vec()),
            healthcode_rules::RuleSet::reference(),
        )
        .await?,
    );
    register(&*store, args.persons, now).await?;

    // Each run's event ids are new, so that reruns on a kept store measure inserts.
    let run = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
    if let Some(writers) = args.writers {
        for (label, n) in [("one writer (baseline)", 1), ("writers at once", writers.max(1))] {
            let started = Instant::now();
            store_concurrently(&store, &format!("{run}-w{n}"), args.rows, args.persons, n, now).await?;
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{n} {label}: {} events stored in {seconds:.2} s = {:.0} events/s (transactions of {WRITER_ROWS})",
                args.rows,
                args.rows as f64 / seconds
            );
        }
        return Ok(());
    }
    let file = temp.path().join("batch.ndjson");
    let bytes = write_batch(&file, &format!("{run}a"), args.rows, args.persons)?;
    println!(
        "batch: {} rows, {:.1} MiB, about {} persons (tests, close contacts, fevers by person_id)",
        args.rows,
        bytes as f64 / 1048576.0,
        args.persons
    );

    let started = Instant::now();
    let parsed = baseline(&file)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "baseline: reading and JSON-parsing every line: {parsed} rows in {seconds:.2} s ({:.0} rows/s)",
        parsed as f64 / seconds
    );

    let started = Instant::now();
    let report = in_process(&service, &file, &format!("bench-{run}-a"), args.chunk_rows).await?;
    let what = format!("in process (feed pipeline, chunks of {})", args.chunk_rows);
    report_line(&what, &report, started.elapsed().as_secs_f64(), args.rows);

    if args.http {
        write_batch(&file, &format!("{run}b"), args.rows, args.persons)?;
        let started = Instant::now();
        let report = over_http(service.clone(), &file, &format!("bench-{run}-b")).await?;
        report_line("over HTTP (POST /v1/feeds, loopback)", &report, started.elapsed().as_secs_f64(), args.rows);
    }
    println!("codes by colour now: {:?}", service.overview().colour_counts().await?);
    println!("peak resident memory of this process: {} MiB", crate::bench::peak_rss_mib());
    drop(temp);
    Ok(())
}

/// Rows per transaction of a writer in `--writers`: a department's usual batch.
const WRITER_ROWS: u64 = 2_000;

/// `rows` events through `writers` tasks at once, each inserting its share in
/// transactions of `WRITER_ROWS`, as servers ingesting different feeds at once do.
async fn store_concurrently(
    store: &Arc<dyn Store>,
    ids: &str,
    rows: u64,
    persons: u64,
    writers: usize,
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..writers as u64 {
        let (store, ids) = (store.clone(), ids.to_string());
        tasks.spawn(async move {
            let mine: Vec<u64> = (0..rows).filter(|i| i % writers as u64 == w).collect();
            for chunk in mine.chunks(WRITER_ROWS as usize) {
                let batch: Vec<healthcode_store::NewEvidence> = chunk
                    .iter()
                    .map(|&i| healthcode_store::NewEvidence {
                        person: healthcode_synth::person_id(i.wrapping_mul(2_654_435_761) % persons),
                        id: healthcode_domain::EventId::parse(&format!("{ids}-{i}")).expect("a valid event id"),
                        at: now,
                        evidence: healthcode_domain::Evidence::Fever { onset_at: now },
                        hub_line: None,
                    })
                    .collect();
                store.insert_evidence(&batch).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

fn report_line(what: &str, report: &FeedReport, seconds: f64, rows: u64) {
    let upload = report.this_upload.unwrap_or_default();
    let stored = upload.storing_ms as f64 / 1000.0;
    let evaluated = upload.evaluating_ms as f64 / 1000.0;
    println!(
        "{what}: {rows} rows in {seconds:.2} s = {:.0} events/s end to end, codes included; stored (validated, \
         committed, queued) in {stored:.2} s = {:.0} events/s, then {} codes re-evaluated in {evaluated:.2} s \
         ({:.0} persons/s, {} changed colour); accepted {}, duplicates {}, rejected {}",
        rows as f64 / seconds,
        rows as f64 / stored.max(0.001),
        upload.codes.evaluated,
        upload.codes.evaluated as f64 / evaluated.max(0.001),
        upload.codes.changed,
        report.accepted,
        report.duplicates,
        report.rejected,
    );
}

/// Registers `p00000000`… (as the synthetic region names them) if the store has fewer.
async fn register(store: &dyn Store, persons: u64, now: Timestamp) -> anyhow::Result<()> {
    let started = Instant::now();
    if healthcode_synth::load::persons(store, persons, now).await? {
        println!("registered {persons} persons in {:.1} s (not part of the figure)", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The batch a health department sends: negative tests, close contacts and fevers of
/// persons spread over the whole population, in no particular order.
fn write_batch(path: &Path, ids: &str, rows: u64, persons: u64) -> anyhow::Result<u64> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut bytes = 0u64;
    for i in 0..rows {
        // A multiplicative hash spreads consecutive rows over the persons.
        let person = healthcode_synth::person_id(i.wrapping_mul(2_654_435_761) % persons);
        let line = match i % 4 {
            0 | 1 => format!(
                r#"{{"id":"{ids}-{i}","person_id":"{person}","type":"test","result":"negative","sampled_at":"2026-11-24T09:30:00+08:00"}}"#
            ),
            2 => format!(
                r#"{{"id":"{ids}-{i}","person_id":"{person}","type":"close_contact","exposure_at":"2026-11-23T19:00:00+08:00"}}"#
            ),
            _ => format!(
                r#"{{"id":"{ids}-{i}","person_id":"{person}","type":"fever","onset_at":"2026-11-24T07:00:00+08:00"}}"#
            ),
        };
        writeln!(out, "{line}")?;
        bytes += line.len() as u64 + 1;
    }
    out.flush()?;
    Ok(bytes)
}

fn baseline(path: &Path) -> anyhow::Result<u64> {
    let mut rows = 0;
    for_each_block(path, |block, splitter, lines| {
        splitter.push(block, lines);
        for line in lines.drain(..) {
            if let RawLine::Text(text) = line {
                let value: serde_json::Value = serde_json::from_str(&text)?;
                rows += u64::from(value.is_object());
            }
        }
        Ok(())
    })?;
    Ok(rows)
}

fn for_each_block(
    path: &Path,
    mut f: impl FnMut(&[u8], &mut LineSplitter, &mut Vec<RawLine>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let (mut splitter, mut lines) = (LineSplitter::new(), Vec::new());
    let mut block = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            break;
        }
        f(&block[..n], &mut splitter, &mut lines)?;
    }
    splitter.finish(&mut lines);
    f(&[], &mut splitter, &mut lines)
}

async fn in_process(
    service: &Arc<HealthService>,
    path: &Path,
    batch: &str,
    chunk_rows: usize,
) -> anyhow::Result<FeedReport> {
    let source = Source::Department(Department::Health);
    let upload = service.evidence().open_feed(source, "bench-feed", batch, FeedFormat::Ndjson, None).await?;
    let mut upload = upload.with_chunk_rows(chunk_rows);
    let mut file = std::fs::File::open(path)?;
    let (mut splitter, mut lines) = (LineSplitter::new(), Vec::new());
    let mut block = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            break;
        }
        splitter.push(&block[..n], &mut lines);
        for line in lines.drain(..) {
            upload.push(line).await?;
        }
    }
    splitter.finish(&mut lines);
    for line in lines {
        upload.push(line).await?;
    }
    Ok(upload.finish().await?)
}

async fn over_http(service: Arc<HealthService>, path: &Path, batch: &str) -> anyhow::Result<FeedReport> {
    let account = NewAccount {
        username: format!("feed-{batch}"),
        password: None,
        role: Role::DataSource,
        jurisdiction: None,
        department: Some(Department::Health),
    };
    service.accounts().create(account).await?;
    let key = service.accounts().issue_api_key(&format!("feed-{batch}"), "bench").await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(healthcode_server::serve(listener, healthcode_server::AppState::new(service), async {
        let _ = stopped.await;
    }));
    // Streamed from the file as the uploader streams it.
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let body = crate::upload::body_stream(Vec::new(), file, Default::default());
    let response = reqwest::Client::new()
        .post(format!("http://{address}/v1/feeds/{batch}"))
        .bearer_auth(key)
        .header("content-type", "application/x-ndjson")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "the upload failed: {}", response.text().await?);
    let report: serde_json::Value = response.json().await?;
    let _ = stop.send(());
    let _ = server.await;
    let n = |k: &str| report[k].as_u64().unwrap_or(0);
    let codes = &report["this_upload"]["codes"];
    Ok(FeedReport {
        batch: batch.to_string(),
        format: "ndjson".into(),
        committed_through_line: n("committed_through_line"),
        complete: report["complete"] == true,
        rows: n("rows"),
        accepted: n("accepted"),
        duplicates: n("duplicates"),
        rejected: n("rejected"),
        resolved: n("resolved"),
        rejected_rows: Vec::new(),
        more_rejected_rows: false,
        this_upload: Some(healthcode_service::UploadSummary {
            codes: healthcode_service::RefreshReport {
                evaluated: codes["evaluated"].as_u64().unwrap_or(0),
                changed: codes["changed"].as_u64().unwrap_or(0),
            },
            storing_ms: report["this_upload"]["storing_ms"].as_u64().unwrap_or(0),
            evaluating_ms: report["this_upload"]["evaluating_ms"].as_u64().unwrap_or(0),
            ..Default::default()
        }),
    })
}
