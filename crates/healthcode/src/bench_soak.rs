//! `healthcode bench soak`: a real server (this binary's `serve`, a child process) driven
//! for minutes with a province's daily mix at a fraction of its measured peak, reporting
//! each minute what a province's operators watch: errors, p50/p99 per kind of request, the
//! server's resident memory, the scheduler's lag and the log's size (issue 17).
//!
//! Method: set-up (accounts on the machine, residents and 1,000 venues over HTTP, each with a
//! gate device approved by an officer); a peak measured closed-loop over `--peak-seconds` with 64
//! concurrent clients; then `--minutes` open-loop at `--fraction` of that peak, 64 clients
//! each keeping its share of the rate. Beside the mix: a department's NDJSON batch every
//! minute (close contacts and negative tests), an area designation proposed and approved
//! every two minutes. Latency is measured from each request's send to its answer.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::sync::{mpsc, RwLock};

pub struct SoakArgs {
    pub minutes: u64,
    pub fraction: f64,
    pub peak_seconds: u64,
    pub residents: usize,
    pub database_url: Option<String>,
}

/// Venues, each with an approved gate device: enough that none goes over a device's 120
/// reads a minute (an anti-abuse limit) at the rates measured here, about 42 a minute each
/// at 7,000 req/s (gate checks are a tenth of the mix).
const GATES: usize = 1_000;

/// The kinds of request, with their share of the mix (per thousand).
const MIX: [(Kind, u32); 7] = [
    (Kind::CodeDisplay, 400),
    (Kind::Verify, 200),
    (Kind::CheckIn, 150),
    (Kind::Gate, 100),
    (Kind::Explanation, 50),
    (Kind::Page, 50),
    (Kind::Trivial, 50),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    CodeDisplay,
    Verify,
    CheckIn,
    Gate,
    Explanation,
    Page,
    Trivial,
    Feed,
    Designation,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::CodeDisplay => "code display",
            Kind::Verify => "verification",
            Kind::CheckIn => "venue check-in",
            Kind::Gate => "gate check",
            Kind::Explanation => "explanation",
            Kind::Page => "page view",
            Kind::Trivial => "healthz",
            Kind::Feed => "bulk feed (2,000 rows)",
            Kind::Designation => "designation",
        }
    }
}

struct Sample {
    kind: Kind,
    micros: u64,
    ok: bool,
}

/// What the clients share: the server, the keys, the current venue codes.
struct World {
    base: String,
    client: reqwest::Client,
    residents: Vec<(String, String)>,
    tokens: Vec<String>,
    venues: Vec<(String, String)>,
    venue_codes: RwLock<Vec<String>>,
    devices: Vec<String>,
    officers: [String; 2],
    feed: String,
}

/// The server child, killed when dropped.
struct ServerProcess {
    child: Child,
    base: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn run(args: SoakArgs) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = temp.path();
    let backend = match &args.database_url {
        Some(_) => "PostgreSQL",
        None => "SQLite",
    };
    println!(
        "soak: {backend}, {} min at {:.0}% of the peak, {} residents",
        args.minutes,
        args.fraction * 100.0,
        args.residents
    );
    let feed = account(dir, &args, &["cdc-feed", "--role", "data_source", "--department", "health"])?;
    let officers = [
        account(dir, &args, &["zhao", "--role", "provincial_office", "--jurisdiction", "330000"])?,
        account(dir, &args, &["qian", "--role", "provincial_office", "--jurisdiction", "330000"])?,
    ];
    let server = start_server(dir, &args)?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(128).build()?;
    let world = Arc::new(set_up(&server.base, client, officers, feed, args.residents).await?);
    println!("set up: {} residents, {} venues with a gate each", world.residents.len(), world.venues.len());

    let peak = measure_peak(&world, Duration::from_secs(args.peak_seconds)).await;
    let rate = peak * args.fraction;
    println!("peak (closed loop, 64 clients, {} s): {peak:.0} req/s; soak at {rate:.0} req/s", args.peak_seconds);

    let (tx, mut rx) = mpsc::unbounded_channel::<Sample>();
    let running = Arc::new(AtomicBool::new(true));
    let mut tasks = Vec::new();
    const CLIENTS: usize = 64;
    for n in 0..CLIENTS {
        let (world, tx, running) = (world.clone(), tx.clone(), running.clone());
        let period = Duration::from_secs_f64(CLIENTS as f64 / rate);
        tasks.push(tokio::spawn(async move {
            let mut random = rand::rngs::SmallRng::seed_from_u64(n as u64);
            let mut next = tokio::time::Instant::now() + period.mul_f64(random.gen::<f64>());
            while running.load(Ordering::Relaxed) {
                tokio::time::sleep_until(next).await;
                next += period;
                let kind = pick(&mut random);
                let started = Instant::now();
                let ok = request(&world, kind, &mut random).await;
                let _ = tx.send(Sample { kind, micros: started.elapsed().as_micros() as u64, ok });
            }
        }));
    }
    tasks.push(tokio::spawn(background(world.clone(), tx.clone(), running.clone())));
    tasks.push(tokio::spawn(refresh_venue_codes(world.clone(), running.clone())));
    drop(tx);

    let pid = server.child.id();
    let started = Instant::now();
    let mut minute = Vec::new();
    let mut memory = Vec::new();
    let mut errors = 0usize;
    let mut total = 0usize;
    println!("| minute | kind | requests | errors | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    for m in 1..=args.minutes {
        let until = started + Duration::from_secs(60 * m);
        while let Ok(Some(sample)) = tokio::time::timeout_at(until.into(), rx.recv()).await {
            minute.push(sample);
        }
        let (rss, lag, log, cache, connections) = (
            resident_kib(pid),
            metric(&world, "healthcode_scheduler_lag_seconds").await,
            metric(&world, "healthcode_log_size").await,
            metric(&world, "healthcode_db_embedded_memory_bytes").await,
            // Each open connection keeps buffers as large as the largest message it carried:
            // shown so that memory can be read against the pool's size.
            metric(&world, "healthcode_db_connections{state=\"open\"}").await,
        );
        let cache_kib = cache.map_or(0, |bytes| (bytes / 1024.0) as u64);
        memory.push((rss, cache_kib));
        let mut by_kind: BTreeMap<Kind, Vec<&Sample>> = BTreeMap::new();
        for s in &minute {
            by_kind.entry(s.kind).or_default().push(s);
        }
        for (kind, samples) in by_kind {
            let failed = samples.iter().filter(|s| !s.ok).count();
            let mut micros: Vec<u64> = samples.iter().map(|s| s.micros).collect();
            micros.sort_unstable();
            let at = |q: f64| micros[((micros.len() as f64 * q) as usize).min(micros.len() - 1)] as f64 / 1000.0;
            println!("| {m} | {} | {} | {failed} | {:.1} | {:.1} |", kind.name(), micros.len(), at(0.50), at(0.99));
            errors += failed;
            total += micros.len();
        }
        let caches = match cache {
            Some(_) => format!(
                " (SQLite page caches {:.0} MiB, the rest {:.0} MiB)",
                cache_kib as f64 / 1024.0,
                rss.saturating_sub(cache_kib) as f64 / 1024.0
            ),
            None => String::new(),
        };
        println!(
            "| {m} | server | RSS {:.0} MiB{caches} | scheduler lag {} s | log size {} | {} connections open |",
            rss as f64 / 1024.0,
            lag.map_or("?".into(), |l| format!("{l:.1}")),
            log.map_or("?".into(), |l| format!("{l:.0}")),
            connections.map_or("?".into(), |c| format!("{c:.0}"))
        );
        minute.clear();
    }
    running.store(false, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    println!("total: {total} requests, {errors} errors");
    if memory.len() >= 3 {
        let ((second, second_cache), (last, last_cache)) = (memory[1], memory[memory.len() - 1]);
        let growth = (last as f64 - second as f64) / second as f64 * 100.0;
        println!(
            "resident memory: minute 2 {:.0} MiB, last minute {:.0} MiB ({growth:+.1}%)",
            second as f64 / 1024.0,
            last as f64 / 1024.0
        );
        // What is not SQLite's page caches (bounded by their `cache_size`): where a leak
        // would show.
        let (second_rest, last_rest) = (second.saturating_sub(second_cache), last.saturating_sub(last_cache));
        if second_cache > 0 {
            println!(
                "outside SQLite's page caches: minute 2 {:.0} MiB, last minute {:.0} MiB ({:+.1}%)",
                second_rest as f64 / 1024.0,
                last_rest as f64 / 1024.0,
                (last_rest as f64 - second_rest as f64) / second_rest.max(1) as f64 * 100.0
            );
        }
        if growth > 10.0 {
            bail!("resident memory grew {growth:.1}% from the second minute to the last (over 10%)");
        }
    }
    if errors > 0 {
        bail!("{errors} requests failed");
    }
    Ok(())
}

fn pick(random: &mut impl Rng) -> Kind {
    let mut roll = random.gen_range(0..1000);
    for (kind, share) in MIX {
        if roll < share {
            return kind;
        }
        roll -= share;
    }
    Kind::Trivial
}

/// One request of the mix; true if it was answered as it should be.
async fn request(world: &World, kind: Kind, random: &mut impl Rng) -> bool {
    let n = random.gen_range(0..world.residents.len());
    let (person, key) = &world.residents[n];
    let base = &world.base;
    let answer = match kind {
        Kind::CodeDisplay => {
            world.client.get(format!("{base}/v1/persons/{person}/token")).bearer_auth(key).send().await
        }
        Kind::Explanation => world.client.get(format!("{base}/v1/persons/{person}/code")).bearer_auth(key).send().await,
        Kind::Verify => {
            let token = &world.tokens[n % world.tokens.len()];
            world.client.post(format!("{base}/v1/verify")).json(&json!({"token": token})).send().await
        }
        Kind::CheckIn => {
            let venue_code = {
                let codes = world.venue_codes.read().await;
                codes[random.gen_range(0..codes.len())].clone()
            };
            let body = json!({"person_id": person, "venue_code": venue_code});
            world.client.post(format!("{base}/v1/checkins")).bearer_auth(key).json(&body).send().await
        }
        Kind::Gate => {
            let device = &world.devices[random.gen_range(0..world.devices.len())];
            let token = &world.tokens[n % world.tokens.len()];
            world
                .client
                .post(format!("{base}/v1/gate/check"))
                .bearer_auth(device)
                .json(&json!({"code": token}))
                .send()
                .await
        }
        Kind::Page => world.client.get(format!("{base}/")).send().await,
        Kind::Trivial | Kind::Feed | Kind::Designation => world.client.get(format!("{base}/healthz")).send().await,
    };
    match answer {
        Ok(response) if response.status().is_success() => response.bytes().await.is_ok(),
        Ok(response) => {
            report_failure(kind, &format!("{} {}", response.status(), response.text().await.unwrap_or_default()));
            false
        }
        Err(e) => {
            report_failure(kind, &e.to_string());
            false
        }
    }
}

/// Says what the first few failures were (the counts are in the minute's table).
fn report_failure(kind: Kind, what: &str) {
    static SHOWN: AtomicUsize = AtomicUsize::new(0);
    if SHOWN.fetch_add(1, Ordering::Relaxed) < 5 {
        eprintln!("{} failed: {}", kind.name(), what.chars().take(300).collect::<String>());
    }
}

/// The closed-loop rate of the mix with 64 clients.
async fn measure_peak(world: &Arc<World>, length: Duration) -> f64 {
    let done = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + length;
    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let (world, done) = (world.clone(), done.clone());
            tokio::spawn(async move {
                let mut random = rand::rngs::SmallRng::seed_from_u64(1000 + n);
                while Instant::now() < until {
                    let kind = pick(&mut random);
                    request(&world, kind, &mut random).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    done.load(Ordering::Relaxed) as f64 / length.as_secs_f64()
}

/// A department's batch every minute; a designation every two.
async fn background(world: Arc<World>, tx: mpsc::UnboundedSender<Sample>, running: Arc<AtomicBool>) {
    let mut round = 0u64;
    let mut ticks = tokio::time::interval(Duration::from_secs(60));
    ticks.tick().await;
    while running.load(Ordering::Relaxed) {
        ticks.tick().await;
        if !running.load(Ordering::Relaxed) {
            break;
        }
        round += 1;
        let rows: Vec<String> = (0..2000)
            .map(|i| {
                let (person, _) = &world.residents[(round as usize * 2000 + i) % world.residents.len()];
                let id = format!("soak-{round}-{i}");
                if i % 10 == 0 {
                    json!({"id": id, "person_id": person, "type": "close_contact", "exposure_at": "2026-12-01T08:00:00+08:00"})
                } else {
                    json!({"id": id, "person_id": person, "type": "test", "result": "negative", "sampled_at": "2026-12-04T08:00:00+08:00"})
                }
                .to_string()
            })
            .collect();
        let started = Instant::now();
        let sent = world
            .client
            .post(format!("{}/v1/events/batch", world.base))
            .bearer_auth(&world.feed)
            .header("content-type", "application/x-ndjson")
            .body(rows.join("\n"))
            .send()
            .await;
        let ok = match sent {
            Ok(r) => r.status().is_success() && r.json::<Value>().await.is_ok_and(|v| v["rejected"] == 0),
            Err(_) => false,
        };
        let _ = tx.send(Sample { kind: Kind::Feed, micros: started.elapsed().as_micros() as u64, ok });
        if round.is_multiple_of(2) {
            let started = Instant::now();
            let ok = designate(&world, round).await;
            let _ = tx.send(Sample { kind: Kind::Designation, micros: started.elapsed().as_micros() as u64, ok });
        }
    }
}

async fn designate(world: &World, round: u64) -> bool {
    let level = if round.is_multiple_of(4) { "low" } else { "medium" };
    let body = json!({"id": format!("soak-d{round}"), "area": "330106002", "level": level});
    let proposed = world
        .client
        .post(format!("{}/v1/designations", world.base))
        .bearer_auth(&world.officers[0])
        .json(&body)
        .send()
        .await;
    let Ok(proposed) = proposed else { return false };
    if proposed.status() != 202 {
        return false;
    }
    let Ok(proposal) = proposed.json::<Value>().await else { return false };
    let Some(id) = proposal["proposal"]["id"].as_str() else { return false };
    let approved = world
        .client
        .post(format!("{}/v1/designations/proposals/{id}/approve", world.base))
        .bearer_auth(&world.officers[1])
        .send()
        .await;
    approved.is_ok_and(|r| r.status().is_success())
}

/// Venue codes change with their window: the operators' displays fetch them again.
async fn refresh_venue_codes(world: Arc<World>, running: Arc<AtomicBool>) {
    while running.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_secs(20)).await;
        if let Ok(codes) = venue_codes(&world.client, &world.base, &world.venues).await {
            *world.venue_codes.write().await = codes;
        }
    }
}

/// Every venue's current code, 32 fetches at a time: one after another, the 1,000 took
/// longer than a 60-second window on a loaded machine, and check-ins then presented codes
/// whose window had ended (refused, rightly, as `replayed`: 105 errors in one run).
async fn venue_codes(client: &reqwest::Client, base: &str, venues: &[(String, String)]) -> anyhow::Result<Vec<String>> {
    let mut codes = Vec::with_capacity(venues.len());
    for chunk in venues.chunks(32) {
        let answers = futures_util::future::join_all(chunk.iter().map(|(venue, operator)| async move {
            let answer: Value =
                client.get(format!("{base}/v1/venues/{venue}/code")).bearer_auth(operator).send().await?.json().await?;
            anyhow::Ok(answer["code"]["token"].as_str().context("a venue code")?.to_string())
        }))
        .await;
        for answer in answers {
            codes.push(answer?);
        }
    }
    Ok(codes)
}

async fn set_up(
    base: &str,
    client: reqwest::Client,
    officers: [String; 2],
    feed: String,
    residents: usize,
) -> anyhow::Result<World> {
    // Residents of 西湖区's 北山街道, registered 32 at a time.
    let mut registered = Vec::with_capacity(residents);
    for chunk in (0..residents).collect::<Vec<_>>().chunks(32) {
        let answers = futures_util::future::join_all(chunk.iter().map(|i| {
            let first17 = format!("3301061985{:07}", 1_000_000 + i);
            let id_number = format!("{first17}{}", healthcode_domain::resident_id_check_char(&first17));
            let body = json!({"id_type": "resident_id", "id_number": id_number, "residence_area": "330106002"});
            let client = client.clone();
            async move { client.post(format!("{base}/v1/persons")).json(&body).send().await?.json::<Value>().await }
        }))
        .await;
        for answer in answers {
            let answer = answer?;
            let (Some(person), Some(key)) = (answer["person_id"].as_str(), answer["resident_key"].as_str()) else {
                bail!("a registration was refused: {answer}");
            };
            registered.push((person.to_string(), key.to_string()));
        }
    }
    let mut tokens = Vec::new();
    for (person, key) in registered.iter().take(200) {
        let answer: Value =
            client.get(format!("{base}/v1/persons/{person}/token")).bearer_auth(key).send().await?.json().await?;
        tokens.push(answer["token"].as_str().context("a resident's code")?.to_string());
    }
    let mut venues = Vec::new();
    let mut devices = Vec::new();
    for i in 0..GATES {
        let body = json!({"name": format!("西湖文化广场 {i}"), "category": "supermarket", "area": "330106002"});
        let venue: Value = client.post(format!("{base}/v1/venues")).json(&body).send().await?.json().await?;
        let (id, operator) = (
            venue["venue"]["id"].as_str().context("a venue")?.to_string(),
            venue["operator_key"].as_str().context("an operator key")?.to_string(),
        );
        let device: Value = client
            .post(format!("{base}/v1/venues/{id}/devices"))
            .bearer_auth(&operator)
            .json(&json!({"label": "东门"}))
            .send()
            .await?
            .json()
            .await?;
        let device_id = device["device"]["id"].as_str().context("a device")?;
        let approved =
            client.post(format!("{base}/v1/devices/{device_id}/approve")).bearer_auth(&officers[0]).send().await?;
        if !approved.status().is_success() {
            bail!("the gate device was not approved: {}", approved.text().await?);
        }
        devices.push(device["device_key"].as_str().context("a device key")?.to_string());
        venues.push((id, operator));
    }
    let codes = venue_codes(&client, base, &venues).await?;
    Ok(World {
        base: base.to_string(),
        client,
        residents: registered,
        tokens,
        venues,
        venue_codes: RwLock::new(codes),
        devices,
        officers,
        feed,
    })
}

/// A value from the server's `/metrics` (scraped with an officer's key).
async fn metric(world: &World, name: &str) -> Option<f64> {
    let text = world
        .client
        .get(format!("{}/metrics", world.base))
        .bearer_auth(&world.officers[0])
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines().find(|l| l.starts_with(name) && !l.starts_with('#'))?.split_whitespace().last()?.parse().ok()
}

fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn key_args(dir: &Path, args: &SoakArgs) -> Vec<String> {
    let mut list = vec![
        "--data-dir".to_string(),
        dir.join("data").display().to_string(),
        "--signing-keys-file".into(),
        dir.join("keys/signing.json").display().to_string(),
        "--log-key-file".into(),
        dir.join("keys/log.key").display().to_string(),
        "--pseudonym-key-file".into(),
        dir.join("keys/pseudonym.key").display().to_string(),
        "--vault-key-file".into(),
        dir.join("keys/vault.key").display().to_string(),
    ];
    if let Some(url) = &args.database_url {
        list.extend(["--database-url".to_string(), url.clone()]);
    }
    list
}

/// An account made on the machine, as an operator would (`healthcode accounts add`); its API key.
fn account(dir: &Path, args: &SoakArgs, what: &[&str]) -> anyhow::Result<String> {
    let mut command = Command::new(std::env::current_exe()?);
    command.args(["accounts", "add"]).args(what).args(["--api-key", "soak", "--data-dir"]).arg(dir.join("data"));
    if let Some(url) = &args.database_url {
        command.args(["--database-url", url]);
    }
    let out = command.output()?;
    if !out.status.success() {
        bail!("accounts add {what:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8(out.stdout)?.lines().nth(1).map(str::to_string).context("the account's API key")
}

fn start_server(dir: &Path, args: &SoakArgs) -> anyhow::Result<ServerProcess> {
    let log: PathBuf = dir.join("serve.log");
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--registrations-per-minute",
            "100000000",
            "--scheduler-seconds",
            "5",
        ])
        .args(key_args(dir, args))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log)?)
        .spawn()?;
    let stdout = child.stdout.take().context("the server's output")?;
    let line = BufReader::new(stdout).lines().next().context("the server printed nothing")??;
    let address = line.split("http://").nth(1).and_then(|a| a.split('/').next()).context("the server's address")?;
    Ok(ServerProcess { child, base: format!("http://{address}") })
}
