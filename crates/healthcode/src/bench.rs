//! `healthcode bench`: figures that need the whole stack. Method and results are in
//! BENCHMARKS.md; each prints what it measured and a baseline from the same run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Subcommand;
use healthcode_service::{AtPolicy, HealthService, ManualClock, Pseudonymiser};
use healthcode_store::Store;
use healthcode_synth::RegionConfig;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Bulk re-evaluation through the SQLite store after an area designation that covers
    /// every resident: persons per second, end to end.
    Refresh {
        #[arg(long, default_value_t = 1_000_000)]
        persons: u64,
        /// Keep the SQLite database here (reused by later runs) instead of a temporary folder.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Run against this PostgreSQL database instead of SQLite (reused by later runs).
        #[arg(long)]
        database_url: Option<String>,
        /// SQLite only: its page caches together, in MiB (as `serve --sqlite-cache-mib`).
        #[arg(long, default_value_t = healthcode_store_sqlite::DEFAULT_CACHE_BYTES >> 20)]
        sqlite_cache_mib: u64,
    },
    /// A department's NDJSON batch into the store end to end (parsing, validation,
    /// storage in chunks, re-evaluation of the codes it touches): events per second.
    Ingest {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Registered persons the rows are spread over.
        #[arg(long, default_value_t = 200_000)]
        persons: u64,
        /// Keep the SQLite database here instead of a temporary folder.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Run against this PostgreSQL database instead of SQLite.
        #[arg(long)]
        database_url: Option<String>,
        /// Also upload the batch over HTTP (the server in this process, loopback).
        #[arg(long)]
        http: bool,
        /// Rows per store transaction (the service's default: 100,000).
        #[arg(long, default_value_t = healthcode_service::FEED_CHUNK_ROWS)]
        chunk_rows: usize,
        /// Instead: store `--rows` events straight into the store through this many
        /// writers at once (as many servers ingesting), in transactions of 2,000 rows,
        /// against one writer in the same run. Storage only: no parsing, no evaluation.
        #[arg(long)]
        writers: Option<usize>,
    },
    /// Signed codes in process, one core: the raw Ed25519 sign and verify rates (the
    /// baseline), then issuing and verifying codes, measured in the same run.
    Tokens {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// A real server (a child process) driven for minutes with the daily mix at a fraction
    /// of its measured peak: errors, p50/p99 per kind, memory, scheduler lag and log size
    /// each minute (issue 17; method in `bench_soak.rs`). Fails on any error or on memory
    /// growing more than 10% from the second minute to the last.
    Soak {
        #[arg(long, default_value_t = 10)]
        minutes: u64,
        /// The rate to hold, as a fraction of the peak measured first.
        #[arg(long, default_value_t = 0.8)]
        fraction: f64,
        #[arg(long, default_value_t = 15)]
        peak_seconds: u64,
        #[arg(long, default_value_t = 2_000)]
        residents: usize,
        /// Run against this PostgreSQL database (an empty one, or an empty schema through
        /// `?options=-c%20search_path%3D…`) instead of SQLite.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// A national key-person list synced into a region (issue 15): the hub publishes
    /// `records`, a region follows it from nothing, then a delta; time and bytes, against
    /// fetching the same pages alone.
    National {
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        #[arg(long, default_value_t = 100_000)]
        delta: u64,
        /// The region asks for plain answers, as one from before the compact exchange
        /// (the bytes on the wire without compression).
        #[arg(long)]
        plain: bool,
    },
    /// Contact tracing over millions of check-ins: the latency of tracing random cases
    /// over 14 days (issue 7: p99 ≤ 50 ms over 10 million check-ins).
    Tracing {
        #[arg(long, default_value_t = 10_000_000)]
        checkins: u64,
        #[arg(long, default_value_t = 1_000_000)]
        persons: u64,
        #[arg(long, default_value_t = 20_000)]
        venues: u64,
        /// How many random cases to trace.
        #[arg(long, default_value_t = 500)]
        cases: usize,
        /// Keep the SQLite database here (reused by later runs).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Run against this PostgreSQL database instead of SQLite (reused by later runs).
        #[arg(long)]
        database_url: Option<String>,
    },
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    // Warnings only (`RUST_LOG` to see more): the benches print their own figures.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .try_init();
    match command {
        BenchCommand::Refresh { persons, data_dir, database_url, sqlite_cache_mib } => {
            refresh(persons, data_dir, database_url, sqlite_cache_mib << 20).await
        }
        BenchCommand::Tracing { checkins, persons, venues, cases, data_dir, database_url } => {
            let args = crate::bench_tracing::TracingArgs { checkins, persons, venues, cases, data_dir, database_url };
            crate::bench_tracing::run(args).await
        }
        BenchCommand::Ingest { rows, persons, data_dir, database_url, http, chunk_rows, writers } => {
            let args =
                crate::bench_ingest::IngestArgs { rows, persons, data_dir, database_url, http, chunk_rows, writers };
            crate::bench_ingest::run(args).await
        }
        BenchCommand::Soak { minutes, fraction, peak_seconds, residents, database_url } => {
            let args = crate::bench_soak::SoakArgs { minutes, fraction, peak_seconds, residents, database_url };
            crate::bench_soak::run(args).await
        }
        BenchCommand::National { records, delta, plain } => {
            crate::bench_national::run(crate::bench_national::NationalArgs { records, delta, plain }).await
        }
        BenchCommand::Tokens { seconds } => {
            crate::bench_tokens::run(seconds);
            Ok(())
        }
    }
}

async fn refresh(
    persons: u64,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    sqlite_cache_bytes: u64,
) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = data_dir.unwrap_or_else(|| temp.path().to_path_buf());
    let store = crate::serve::open_store_with(&dir, database_url.as_deref(), sqlite_cache_bytes).await?;
    healthcode_synth::load::claim_synthetic(&*store).await?;
    println!("backend: {}", if database_url.is_some() { "PostgreSQL" } else { "SQLite" });
    let config = RegionConfig::bench(persons);
    let fresh = !healthcode_synth::load::holds(&*store, persons).await?;
    if fresh {
        let started = Instant::now();
        let events = load(&*store, &config).await?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "loaded {persons} persons and {events} events in {seconds:.1} s ({:.0} events/s, store only)",
            events as f64 / seconds
        );
    }
    // Opened after loading, so that it reads the designations just stored.
    let service = HealthService::open(
        store.clone(),
        Arc::new(ManualClock::new(config.end())),
        Pseudonymiser::new(b"bench".to_vec()),
        healthcode_rules::RuleSet::reference(),
    )
    .await?;
    // Also a store `generate` loaded, which holds no codes yet: everyone is queued.
    if fresh || service.overview().stats().await?.queue > 0 {
        let started = Instant::now();
        let report = service.codes().run_due().await?;
        println!(
            "initial evaluation: {} persons in {:.1} s ({:.0} persons/s)",
            report.evaluated,
            started.elapsed().as_secs_f64(),
            report.evaluated as f64 / started.elapsed().as_secs_f64()
        );
    }

    let started = Instant::now();
    let read = healthcode_synth::load::read_all_evidence(&*store, persons).await?;
    let baseline = started.elapsed().as_secs_f64();
    println!(
        "baseline: reading every person's evidence from the store: {persons} persons ({read} events) in {baseline:.2} s ({:.0} persons/s)",
        persons as f64 / baseline
    );

    // A designation of the whole province: every resident with a recent stay is affected.
    let province = format!("{}0000", config.province);
    let row = format!(
        r#"{{"id":"bench-province-{}","type":"area_risk","area":"{province}","level":"medium","at":"{}"}}"#,
        Instant::now().elapsed().as_nanos() ^ u128::from(std::process::id()),
        config.end()
    );
    let started = Instant::now();
    let database = database_url.as_deref().and_then(database_name);
    let cpu_before = CpuTimes::now(database.as_deref());
    let report = service.evidence().ingest(&[row], AtPolicy::Supplied, "bench").await?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = CpuTimes::now(database.as_deref()).since(&cpu_before);
    anyhow::ensure!(report.accepted == 1, "the designation was not accepted: {:?}", report.rows);
    let counts = service.overview().colour_counts().await?;
    let evaluated = report.codes.evaluated;
    println!(
        "bulk re-evaluation after the designation: {seconds:.2} s end to end for {persons} residents \
         ({:.0} residents/s); {evaluated} of them could be affected and were re-evaluated ({:.0} persons/s), \
         {} changed colour; {:.2}x the baseline's time; colours now {counts:?}",
        persons as f64 / seconds,
        evaluated as f64 / seconds,
        report.codes.changed,
        seconds / baseline
    );
    println!(
        "CPU during the bulk: this process {:.2} s, PostgreSQL serving it on this machine {:.2} s \
         (of {:.2} s of two cores' time)",
        cpu.this_process,
        cpu.postgres,
        2.0 * seconds
    );
    println!("peak resident memory of this process: {} MiB", peak_rss_mib());
    drop(temp);
    Ok(())
}

/// Loads a synthetic region straight into the store (`healthcode_synth::load::region`);
/// returns how many events. Prints a progress line every million persons (also
/// `healthcode generate`'s loader).
pub(crate) async fn load(store: &dyn Store, config: &RegionConfig) -> anyhow::Result<u64> {
    let started = Instant::now();
    let progress = |persons: u64, events: u64| {
        println!("  {persons} persons, {events} events ({:.0} s)", started.elapsed().as_secs_f64())
    };
    Ok(healthcode_synth::load::region(store, config, progress).await?)
}

/// CPU seconds (user and system) spent so far by this process and by each PostgreSQL
/// process on this machine that serves this database (its backends, and the server's own
/// writers and checkpointer; not other databases' backends), from /proc (nothing where
/// there is none): where a bulk path's time goes when the database shares the machine.
struct CpuTimes {
    this_process: f64,
    postgres: HashMap<u32, f64>,
}

/// What `CpuTimes::since` found: seconds of this process and of the database.
struct CpuSpent {
    this_process: f64,
    postgres: f64,
}

impl CpuTimes {
    fn now(database: Option<&str>) -> Self {
        let serves_this_database = |cmdline: &str| {
            // "postgres: 15/main: checkpointer" or "postgres: USER DATABASE HOST(PORT) STATE".
            let words: Vec<&str> = cmdline.split_whitespace().collect();
            words.first() == Some(&"postgres:")
                && (words.get(1).is_some_and(|w| w.ends_with(':')) || words.get(2).copied() == database)
        };
        let postgres = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path())))
            .filter(|(_, path)| {
                std::fs::read(path.join("cmdline"))
                    .is_ok_and(|c| serves_this_database(&String::from_utf8_lossy(&c).replace('\0', " ")))
            })
            .filter_map(|(pid, path)| Some((pid, cpu_seconds_of(&std::fs::read_to_string(path.join("stat")).ok()?))))
            .collect();
        let this_process = std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| cpu_seconds_of(&s));
        CpuTimes { this_process, postgres }
    }

    /// What was spent since `before`: a process that started meanwhile counts whole, one
    /// that ended meanwhile (a retired connection) takes its time with it, so the
    /// database's figure is a lower bound.
    fn since(&self, before: &CpuTimes) -> CpuSpent {
        let postgres =
            self.postgres.iter().map(|(pid, now)| now - before.postgres.get(pid).copied().unwrap_or(0.0)).sum();
        CpuSpent { this_process: self.this_process - before.this_process, postgres }
    }
}

/// The database a PostgreSQL URL names (its path), to tell its backends from others'.
fn database_name(url: &str) -> Option<String> {
    let path = url.split_once("://")?.1.split_once('/')?.1;
    Some(path.split(['?', '#']).next()?.to_string()).filter(|d| !d.is_empty())
}

/// utime + stime of a /proc/<pid>/stat line, in seconds (clock ticks of 1/100 s, as on
/// every Linux this runs on).
fn cpu_seconds_of(stat: &str) -> f64 {
    // Fields after the command name, which may hold spaces: state is the first.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// VmHWM of /proc/self/status, in MiB (0 where there is no /proc).
pub fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1024)
}
