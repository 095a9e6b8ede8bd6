//! `healthcode upload`: a department's uploader for bulk feeds. It asks the server where
//! the batch stands, skips the lines already stored, streams the rest of the file
//! (never reading it whole), shows progress, and prints the batch's report.
//!
//! Exit code: 0 the batch is stored whole and none of its rows stands rejected; 1 the
//! batch is stored whole but some rows were rejected (listed; fix them and upload them
//! as a new batch); 2 the upload could not finish (the reason is printed; run the same
//! command again to resume where the server stands).

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::Args;
use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(Args)]
pub struct UploadArgs {
    /// The batch: NDJSON (`.ndjson`, `.jsonl`) or CSV (`.csv`), in UTF-8.
    file: PathBuf,
    /// The server, e.g. `https://feeds.example.gov.cn` or `http://127.0.0.1:8080`. HTTPS
    /// certificates are checked against the system's trusted roots and `--ca-cert`.
    #[arg(long, env = "HEALTHCODE_URL")]
    url: String,
    /// Also trust this root certificate (PEM), e.g. a provincial government CA that is
    /// not among the system's roots.
    #[arg(long, value_name = "PEM_FILE")]
    ca_cert: Option<PathBuf>,
    /// The data source's API key (`healthcode accounts add … --role data_source --api-key …`).
    #[arg(long, env = "HEALTHCODE_API_KEY", hide_env_values = true)]
    key: String,
    /// The batch's id. Default: the file's name and the start of its SHA-256, so that
    /// running the command again resumes the same batch, and another file with the same
    /// name is another batch.
    #[arg(long)]
    batch_id: Option<String>,
    /// How many times to resume by itself after an interruption before giving up.
    #[arg(long, default_value_t = 3)]
    retries: u32,
    /// Print the server's report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Csv,
}

impl Format {
    fn of(path: &Path) -> anyhow::Result<Format> {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match extension.as_str() {
            "ndjson" | "jsonl" => Ok(Format::Ndjson),
            "csv" => Ok(Format::Csv),
            _ => bail!(
                "{} is neither .ndjson / .jsonl (one JSON event per line) nor .csv (a header line, then one event per \
                 line); rename it to say which it is",
                path.display()
            ),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Why an upload attempt did not finish: worth trying again, or not.
enum Failure {
    /// The connection broke, the server went away or was busy with the batch.
    Interrupted(anyhow::Error),
    /// The server refused the request; trying again would not help.
    Refused(anyhow::Error),
}

pub async fn run(args: UploadArgs) -> anyhow::Result<i32> {
    let format = Format::of(&args.file)?;
    let size = std::fs::metadata(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?.len();
    let batch = match &args.batch_id {
        Some(id) => id.clone(),
        None => default_batch_id(&args.file)?,
    };
    let base = args.url.trim_end_matches('/').to_string();
    let client = client(args.ca_cert.as_deref())?;
    let mut attempt = 0;
    loop {
        match attempt_upload(&client, &base, &args, &batch, format, size).await {
            Ok(report) => return Ok(finish(&report, &batch, args.json)),
            Err(Failure::Refused(e)) => {
                eprintln!("error: {e:#}");
                return Ok(2);
            }
            Err(Failure::Interrupted(e)) if attempt < args.retries => {
                attempt += 1;
                let wait = Duration::from_secs(2 * u64::from(attempt));
                eprintln!(
                    "interrupted: {e:#}; resuming in {} s (attempt {attempt} of {})",
                    wait.as_secs(),
                    args.retries
                );
                tokio::time::sleep(wait).await;
            }
            Err(Failure::Interrupted(e)) => {
                eprintln!(
                    "error: {e:#}\nthe upload of batch `{batch}` did not finish; the rows the server stored are kept: \
                     run the same command again to resume"
                );
                return Ok(2);
            }
        }
    }
}

/// The HTTP client: TLS by rustls, trusting the system's roots and `ca_cert`'s.
fn client(ca_cert: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder().connect_timeout(Duration::from_secs(10));
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path).with_context(|| format!("cannot read the CA certificate {}", path.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("{} is not a PEM certificate (BEGIN CERTIFICATE)", path.display()))?;
        if certificates.is_empty() {
            bail!("{} holds no certificate: give a PEM file with a BEGIN CERTIFICATE block", path.display());
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().context("cannot set up the HTTP client")
}

/// `{file name}-{first 12 hex digits of the file's SHA-256}`, in the batch id alphabet.
fn default_batch_id(path: &Path) -> anyhow::Result<String> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    let digest = hasher.finalize();
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let stem: String = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("batch")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(60)
        .collect();
    Ok(format!("{stem}-{hex}"))
}

async fn attempt_upload(
    client: &reqwest::Client,
    base: &str,
    args: &UploadArgs,
    batch: &str,
    format: Format,
    size: u64,
) -> Result<Value, Failure> {
    let url = format!("{base}/v1/feeds/{batch}");
    // Where the batch stands.
    let response = client.get(&url).bearer_auth(&args.key).send().await.map_err(|e| interrupted(e, base))?;
    let stored = match response.status().as_u16() {
        404 => 0,
        200 => {
            let report: Value = response.json().await.map_err(|e| Failure::Interrupted(e.into()))?;
            report["committed_through_line"].as_u64().unwrap_or(0)
        }
        _ => return Err(refusal(response).await),
    };

    // The file from the first line not yet stored (a CSV's header is always sent).
    let mut reader =
        BufReader::with_capacity(1 << 20, std::fs::File::open(&args.file).map_err(|e| Failure::Refused(e.into()))?);
    let mut head = Vec::new();
    let mut line = 0u64;
    let mut skipped_bytes = 0u64;
    if format == Format::Csv {
        reader.read_until(b'\n', &mut head).map_err(|e| Failure::Refused(e.into()))?;
        line = 1;
    }
    let mut scratch = Vec::new();
    while line < stored {
        scratch.clear();
        let n = reader.read_until(b'\n', &mut scratch).map_err(|e| Failure::Refused(e.into()))?;
        if n == 0 {
            break;
        }
        skipped_bytes += n as u64;
        line += 1;
    }
    let first_line = stored.max(if format == Format::Csv { 1 } else { 0 }) + 1;
    if stored > 0 {
        eprintln!("batch `{batch}` is stored through line {stored}; resuming at line {first_line}");
    }

    let sent = Arc::new(AtomicU64::new(0));
    let to_send = size.saturating_sub(skipped_bytes + head.len() as u64) + head.len() as u64;
    let body = body_stream(head, reader, sent.clone());
    let progress = Progress::start(sent.clone(), to_send);
    let result = client
        .post(format!("{url}?first_line={first_line}"))
        .bearer_auth(&args.key)
        .header("content-type", format.content_type())
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await;
    progress.stop();
    let response = result.map_err(|e| interrupted(e, base))?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    response.json().await.map_err(|e| Failure::Interrupted(anyhow!("the server's report broke off: {e}")))
}

/// A request that got no answer: the connection failed or broke (worth resuming), or the
/// server's TLS certificate is not trusted (resuming would not help).
fn interrupted(e: reqwest::Error, base: &str) -> Failure {
    let mut causes = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        causes.push_str(": ");
        causes.push_str(&cause.to_string());
        source = cause.source();
    }
    if causes.contains("certificate") {
        return Failure::Refused(anyhow!(
            "the server at {base} showed a TLS certificate this machine does not trust ({causes}); if it is issued \
             by your own certificate authority, give that CA's certificate with --ca-cert FILE.pem"
        ));
    }
    Failure::Interrupted(anyhow!("cannot reach the server at {base} or the connection broke: {causes}"))
}

/// A refusal from the server: its message; a batch busy with another upload, or a server
/// error, is worth waiting for.
async fn refusal(response: reqwest::Response) -> Failure {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(String::from))
        .unwrap_or(text);
    let e = anyhow!("the server answered {status}: {message}");
    if status.is_server_error() || (status.as_u16() == 409 && message.contains("being uploaded already")) {
        Failure::Interrupted(e)
    } else {
        Failure::Refused(e)
    }
}

/// The body: the CSV header if any, then the rest of the file in 256 KiB blocks, read on
/// a blocking thread as the connection takes them (a bounded channel: flat memory).
pub(crate) fn body_stream(
    head: Vec<u8>,
    mut reader: impl Read + Send + 'static,
    sent: Arc<AtomicU64>,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    tokio::task::spawn_blocking(move || {
        if !head.is_empty() && tx.blocking_send(Ok(head)).is_err() {
            return;
        }
        loop {
            let mut block = vec![0u8; 256 * 1024];
            match reader.read(&mut block) {
                Ok(0) => return,
                Ok(n) => {
                    block.truncate(n);
                    if tx.blocking_send(Ok(block)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    futures_util::stream::unfold((rx, sent), |(mut rx, sent)| async move {
        let block = rx.recv().await?;
        if let Ok(b) = &block {
            sent.fetch_add(b.len() as u64, Ordering::Relaxed);
        }
        Some((block, (rx, sent)))
    })
}

/// Progress on standard error: a bar redrawn in place on a terminal, a plain line every
/// ten seconds otherwise (logs). Hand-written: one bar does not need a dependency tree.
struct Progress {
    task: tokio::task::JoinHandle<()>,
    tty: bool,
}

impl Progress {
    fn start(sent: Arc<AtomicU64>, total: u64) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let started = Instant::now();
        let task = tokio::spawn(async move {
            let every = if tty { Duration::from_millis(200) } else { Duration::from_secs(10) };
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let done = sent.load(Ordering::Relaxed).min(total);
                let fraction = if total == 0 { 1.0 } else { done as f64 / total as f64 };
                let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
                let eta = if rate > 0.0 { (total - done) as f64 / rate } else { 0.0 };
                let mib = |n: u64| n as f64 / (1024.0 * 1024.0);
                if tty {
                    let filled = (fraction * 30.0) as usize;
                    eprint!(
                        "\r[{}{}] {:5.1}%  {:.1} / {:.1} MiB  {:.1} MiB/s  {:.0} s left ",
                        "#".repeat(filled),
                        "-".repeat(30 - filled),
                        fraction * 100.0,
                        mib(done),
                        mib(total),
                        mib(rate as u64),
                        eta
                    );
                } else {
                    eprintln!(
                        "uploaded {:.1} of {:.1} MiB ({:.0}%), {:.1} MiB/s",
                        mib(done),
                        mib(total),
                        fraction * 100.0,
                        mib(rate as u64)
                    );
                }
                let _ = std::io::stderr().flush();
            }
        });
        Progress { task, tty }
    }

    fn stop(self) {
        self.task.abort();
        if self.tty {
            eprintln!();
        }
    }
}

/// Prints the report and chooses the exit code.
fn finish(report: &Value, batch: &str, json: bool) -> i32 {
    let n = |key: &str| report[key].as_u64().unwrap_or(0);
    let open = n("rejected").saturating_sub(n("resolved"));
    if json {
        println!("{report}");
    } else {
        println!(
            "batch {batch}: {} rows stored through line {}{}",
            n("rows"),
            n("committed_through_line"),
            if report["complete"] == true { "" } else { " (not complete)" }
        );
        println!(
            "  accepted {}  duplicates {}  rejected {} ({} since fixed)",
            n("accepted"),
            n("duplicates"),
            n("rejected"),
            n("resolved")
        );
        let upload = &report["this_upload"];
        let again = match upload["skipped_lines"].as_u64().unwrap_or(0) {
            0 => String::new(),
            n => format!(" ({n} lines sent were stored already and skipped)"),
        };
        println!(
            "  this upload: {} rows from line {}{again}, {} codes re-evaluated",
            upload["rows"].as_u64().unwrap_or(0),
            upload["first_line"].as_u64().unwrap_or(0),
            upload["codes"]["evaluated"].as_u64().unwrap_or(0)
        );
        let rows = report["rejected_rows"].as_array().cloned().unwrap_or_default();
        if !rows.is_empty() {
            println!("  rejected rows (the first {}; every one is in GET /v1/rejections):", rows.len());
            for r in rows {
                let field = r["field"].as_str().map(|f| format!("{f}: ")).unwrap_or_default();
                let fixed = r["resolved_by"].as_str().map(|by| format!("  [fixed by {by}]")).unwrap_or_default();
                println!("    line {}  {field}{}{fixed}", r["line"], r["error"].as_str().unwrap_or(""));
            }
        }
        if open > 0 {
            println!("  fix the rejected rows and upload them as a new batch (same event ids)");
        }
    }
    if report["complete"] != true {
        2
    } else if open > 0 {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_batch_id_names_the_file_and_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts 2026-11-25.csv");
        std::fs::write(&path, "type\n").unwrap();
        let id = default_batch_id(&path).unwrap();
        assert!(id.starts_with("contacts_2026-11-25-") && id.len() == "contacts_2026-11-25-".len() + 12, "{id}");
        std::fs::write(&path, "type\nfever\n").unwrap();
        assert_ne!(default_batch_id(&path).unwrap(), id, "another content, another batch");
    }
}
