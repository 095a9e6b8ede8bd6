//! `healthcode bench national`: a national key-person list synced into a region (issue
//! 15). The hub (a server in this process, on loopback, SQLite) publishes `records`
//! records submitted by another region in submissions of 10,000; the region (SQLite)
//! follows it from nothing, as its sync task does — checkpoint by checkpoint, every batch
//! checked against the hub's signed root, every record parked (its persons are not known
//! in the region) — then follows a delta of `delta` records. Baseline, same run: the same
//! pages fetched and parsed without checking or storing anything.
//!
//! Bytes are counted twice: as decoded (the answers' bodies once inflated, what the sync
//! round counts) and on the wire (everything the hub wrote to its connections: headers,
//! framing and bodies as sent). The region's client asks for compressed answers, as the
//! sync task's does; with `--plain` it does not, as a region from before the compact
//! exchange, and the hub answers plain JSON.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use healthcode_service::national::Role;
use healthcode_service::{Clock, HealthService, ManualClock, Pseudonymiser};
use healthcode_store_sqlite::SqliteStore;

pub struct NationalArgs {
    pub records: u64,
    pub delta: u64,
    pub plain: bool,
}

const SUBMISSION: u64 = 10_000;

pub async fn run(args: NationalArgs) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    // 2022-05-01T08:00:00+08:00: a day of the seeds' time.
    let clock = Arc::new(ManualClock::new(healthcode_domain::Timestamp::from_millis(1_651_363_200_000)));
    let open = |dir: &str, role: Role| {
        let path = temp.path().join(dir);
        let clock = clock.clone();
        async move {
            std::fs::create_dir_all(&path)?;
            let store = Arc::new(SqliteStore::open(&path.join("healthcode.sqlite3"))?);
            let pseudonyms = Pseudonymiser::new(b"bench".to_vec()).with_national_key(b"national".to_vec());
            let service = HealthService::open(store, clock, pseudonyms, healthcode_rules::RuleSet::reference()).await?;
            anyhow::Ok(Arc::new(service.with_national_role(role)))
        }
    };
    let hub = open("hub", Role::Hub).await?;
    let region = open("region", Role::Region { region: "33".into(), hub: Box::new(hub.log().verifier()) }).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let state = healthcode_server::AppState::new(hub.clone());
    let wire = Arc::new(AtomicU64::new(0));
    let counting = Counting { inner: listener, sent: wire.clone() };
    tokio::spawn(async move { axum::serve(counting, healthcode_server::router(state).into_make_service()).await });
    let on_wire = || wire.load(Ordering::Relaxed);
    let plain = args.plain;
    println!(
        "exchange: {}",
        if plain {
            "plain (--plain: the region asks for no compression, as one from before the compact exchange)"
        } else {
            "compact (the region asks for zstd or gzip, as the sync task does; the hub answers zstd)"
        }
    );

    let started = Instant::now();
    publish(&hub, 0, args.records).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "hub: {} records published in {seconds:.1} s ({:.0} records/s: checked, logged, checkpoint per 10,000)",
        args.records,
        args.records as f64 / seconds
    );

    // reqwest's `zstd` and `gzip` features (healthcode-server's) make every client ask;
    // `no_zstd`/`no_gzip` make this one not ask.
    let http = if plain { reqwest::Client::builder().no_zstd().no_gzip().build()? } else { reqwest::Client::new() };
    let size = hub.log().size().await?;
    let started = Instant::now();
    let sent = on_wire();
    let (leaves, baseline_bytes) = healthcode_server::national_sync::fetch_only(&http, &url, 0, size).await?;
    let baseline = started.elapsed().as_secs_f64();
    let baseline_wire = on_wire() - sent;
    println!(
        "baseline: fetching and parsing the {leaves} entries only: {baseline:.1} s ({:.0} entries/s), {:.0} MB \
         decoded, {:.0} MB on the wire",
        leaves as f64 / baseline,
        baseline_bytes as f64 / 1e6,
        baseline_wire as f64 / 1e6
    );

    let link = healthcode_server::national_sync::HubLink {
        url: url.clone(),
        key: String::new(),
        peers: Vec::new(),
        every: std::time::Duration::from_secs(1),
    };
    let started = Instant::now();
    let sent = on_wire();
    let round = healthcode_server::national_sync::sync_once(&region, &http, &link).await?;
    let first = started.elapsed().as_secs_f64();
    let first_wire = on_wire() - sent;
    anyhow::ensure!(round.parked as u64 == args.records, "parked {} of {}", round.parked, args.records);
    let per_record = |bytes: u64| bytes as f64 / round.received.max(1) as f64;
    println!(
        "first sync: {} entries in {first:.1} s ({:.0} records/s), {:.0} MB decoded ({:.0} bytes/record), \
         {:.0} MB on the wire ({:.0} bytes/record), {} parked; {:.2}x the baseline's time",
        round.received,
        round.received as f64 / first,
        round.bytes as f64 / 1e6,
        per_record(round.bytes),
        first_wire as f64 / 1e6,
        per_record(first_wire),
        round.parked,
        first / baseline
    );

    publish(&hub, args.records, args.delta).await?;
    let started = Instant::now();
    let sent = on_wire();
    let round = healthcode_server::national_sync::sync_once(&region, &http, &link).await?;
    let delta = started.elapsed().as_secs_f64();
    let delta_wire = on_wire() - sent;
    println!(
        "delta sync: {} entries in {delta:.1} s ({:.0} records/s), {:.1} MB decoded, {:.1} MB on the wire \
         ({:.0} bytes/record)",
        round.received,
        round.received as f64 / delta,
        round.bytes as f64 / 1e6,
        delta_wire as f64 / 1e6,
        delta_wire as f64 / round.received.max(1) as f64
    );
    conversions(&hub, &region, &http, &link).await?;
    verify_rates(&hub, &region, &http, &link, clock).await?;
    println!("peak resident memory of this process: {} MiB", crate::bench::peak_rss_mib());
    Ok(())
}

/// Visitors converting (path 2): each registers in the region, which finds what the hub
/// published about them (kept until they came), admits it as evidence and computes the
/// local code by its own rules. Against: registering as many persons about whom nothing
/// was published, in the same run.
async fn conversions(
    hub: &HealthService,
    region: &HealthService,
    http: &reqwest::Client,
    link: &healthcode_server::national_sync::HubLink,
) -> anyhow::Result<()> {
    const VISITORS: u32 = 2_000;
    let national = Pseudonymiser::new(b"bench".to_vec()).with_national_key(b"national".to_vec());
    let documents = |first: u32| {
        (first..first + VISITORS)
            .map(|i| healthcode_domain::IdDocument::parse("resident_id", &resident_id(i)))
            .collect::<Result<Vec<_>, _>>()
    };
    let (visitors, others) = (documents(0)?, documents(VISITORS)?);
    let lines: Vec<String> = visitors
        .iter()
        .enumerate()
        .map(|(i, d)| {
            format!(
                r#"{{"kind":"key_person","id":"visitor-{i}","person":"{}","status":"close_contact","since":"2022-04-30T20:00:00+08:00"}}"#,
                national.national_id(d).unwrap_or_default()
            )
        })
        .collect();
    hub.national().submit("41", "bench", &lines).await?;
    healthcode_server::national_sync::sync_once(region, http, link).await?;
    let register_all = |documents: Vec<healthcode_domain::IdDocument>| async move {
        let started = Instant::now();
        let mut coloured = 0;
        for document in documents {
            let registration = healthcode_service::Registration {
                document,
                residence_area: None,
                name: None,
                phone: None,
                international: false,
                accepted_notice: true,
            };
            let person = region.residents().register(registration).await?.0.id;
            if region.codes().current_state(&person).await?.colour != healthcode_domain::Colour::Green {
                coloured += 1;
            }
        }
        anyhow::Ok((started.elapsed().as_secs_f64(), coloured))
    };
    let (baseline, _) = register_all(others).await?;
    let (converted, coloured) = register_all(visitors).await?;
    anyhow::ensure!(coloured == VISITORS, "{coloured} of {VISITORS} visitors got the colour of their records");
    println!(
        "conversions (path 2), one at a time: {VISITORS} visitors registered with what the hub kept for them \
         admitted and their local code computed, {:.0}/s; registering {VISITORS} persons without records \
         {:.0}/s (baseline); {:.2}x the baseline's time",
        f64::from(VISITORS) / converted,
        f64::from(VISITORS) / baseline,
        converted / baseline
    );
    Ok(())
}

/// A valid resident ID number (GB 11643: area, birth date, sequence, check digit), the
/// `i`-th of a series born in 1990 in 郑州市金水区.
fn resident_id(i: u32) -> String {
    let day = 1 + i / 999 % 28;
    let body = format!("41010519900{}{day:02}{:03}", 1 + i / (999 * 28) % 9, 1 + i % 999);
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// A freshly signed code of a person registered with this document number.
async fn token_of(service: &HealthService, number: &str) -> anyhow::Result<String> {
    let document = healthcode_domain::IdDocument::parse("resident_id", number)?;
    let registration = healthcode_service::Registration {
        document,
        residence_area: None,
        name: None,
        phone: None,
        international: false,
        accepted_notice: true,
    };
    let person = service.residents().register(registration).await?.0.id;
    Ok(service.tokens().issue_code_token(&person).await?.token)
}

/// Path 1 at the door: Henan's keys and Zhejiang's agreement through the hub, then, on one
/// core, Zhejiang verifying its own codes and Henan's (offline, as a gate does), each for
/// three seconds, alternated and twice.
async fn verify_rates(
    hub: &HealthService,
    region: &HealthService,
    http: &reqwest::Client,
    link: &healthcode_server::national_sync::HubLink,
    clock: Arc<ManualClock>,
) -> anyhow::Result<()> {
    let now = clock.now();
    let henan_dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&henan_dir.path().join("healthcode.sqlite3"))?);
    let keys = healthcode_service::ServiceKeys {
        signing: healthcode_service::KeyRing::generate("41", now.as_millis() / 1000),
        ..healthcode_service::ServiceKeys::ephemeral(now.as_millis() / 1000)
    };
    let henan = HealthService::open_with(
        store,
        clock,
        Pseudonymiser::new(b"henan".to_vec()),
        healthcode_rules::RuleSet::reference(),
        keys,
    )
    .await?;
    let hex = |b: [u8; 32]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    hub.national().register_region("41", &hex(henan.tokens().key_ring().root_public())).await?;
    hub.national().register_region("33", &hex(region.tokens().key_ring().root_public())).await?;
    hub.national().publish_trust_list("41", &henan.tokens().key_ring().signed_trust_list().to_json()).await?;
    hub.national().agree("33", "41", now, None).await?;
    healthcode_server::national_sync::sync_once(region, http, link).await?;
    // Zhejiang's two provincial officers confirm the agreement (it counts only then).
    let mut officers = Vec::new();
    for name in ["bench-confirms-a", "bench-confirms-b"] {
        let account = healthcode_service::NewAccount {
            username: name.into(),
            role: healthcode_domain::Role::ProvincialOffice,
            jurisdiction: Some(healthcode_domain::AreaCode::parse("330000").map_err(anyhow::Error::msg)?),
            department: None,
            password: None,
        };
        officers.push(region.accounts().create(account).await?);
    }
    region.national().propose_confirmation(&officers[0], "41", None).await?;
    region.national().approve_confirmation(&officers[1], "41").await?;

    let local = token_of(region, "330106198001011235").await?;
    let visitor = token_of(&henan, "410105199001011233").await?;
    let tokens = region.tokens();
    anyhow::ensure!(tokens.verify_code_token(&visitor)?.issuer == "41", "Henan's code verifies in Zhejiang");
    let rate = |token: &str| {
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed().as_secs_f64() < 3.0 {
            for _ in 0..100 {
                std::hint::black_box(tokens.verify_code_token(std::hint::black_box(token)).is_ok());
            }
            n += 100;
        }
        n as f64 / started.elapsed().as_secs_f64()
    };
    // Alternated, each twice, so that a drift of the machine does not favour either.
    let (own_a, theirs_a, own_b, theirs_b) = (rate(&local), rate(&visitor), rate(&local), rate(&visitor));
    let (own, theirs) = ((own_a + own_b) / 2.0, (theirs_a + theirs_b) / 2.0);
    println!("  token lengths: own {}, theirs {} characters", local.len(), visitor.len());
    println!(
        "verifying at a door, one core: Zhejiang's own codes {own:.0}/s (baseline), Henan's codes under the \
         agreement {theirs:.0}/s ({:.2}x)",
        theirs / own
    );
    Ok(())
}

/// Publishes `count` records from region 41, numbered from `first`, each about its own
/// person. A pseudonym is as random as a real one (an HMAC's output), not the record's
/// number: a counter would flatter compression (and the stores' indexes).
async fn publish(hub: &HealthService, first: u64, count: u64) -> anyhow::Result<()> {
    // splitmix64: 64 well-mixed bits of a number.
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut next = first;
    while next < first + count {
        let end = (next + SUBMISSION).min(first + count);
        let lines: Vec<String> = (next..end)
            .map(|i| {
                let person = format!("n{:016x}{:016x}", mix(2 * i + 1), mix(2 * i + 2));
                format!(
                    r#"{{"kind":"key_person","id":"41-{i}","person":"{person}","status":"close_contact","since":"2022-04-30T20:00:00+08:00"}}"#
                )
            })
            .collect();
        let report = hub.national().submit("41", "bench", &lines).await?;
        anyhow::ensure!(report.accepted == lines.len(), "the hub refused records: {:?}", report.rows.first());
        next = end;
    }
    Ok(())
}

/// The hub's listener, counting what the hub writes to its connections.
struct Counting {
    inner: tokio::net::TcpListener,
    sent: Arc<AtomicU64>,
}

impl axum::serve::Listener for Counting {
    type Io = CountingStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, address)) => return (CountingStream { inner: stream, sent: self.sent.clone() }, address),
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection of the hub's, counting the bytes written to it.
struct CountingStream {
    inner: tokio::net::TcpStream,
    sent: Arc<AtomicU64>,
}

impl CountingStream {
    fn count(&self, written: &Poll<std::io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = written {
            self.sent.fetch_add(*n as u64, Ordering::Relaxed);
        }
    }
}

impl tokio::io::AsyncRead for CountingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for CountingStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.count(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.count(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
