//! The compact national exchange (issue 15) over real HTTP: a hub server and regions in
//! this process, each over its own SQLite store. The hub compresses the log's pages for a
//! client that asks, and only then; a compressed page carries the same leaves as a plain
//! one and both sync to the same signed root; a region compresses its submissions only
//! for a hub that says it takes them; a body that inflates past the hub's limit is
//! refused; a damaged or cut page is refused with what was synced before kept.
//!
//! A small proxy between a region and the hub (`Proxy`) records what each side said
//! (codings asked for and answered) and can play an older hub (no `Accept-Encoding` in
//! its answers) or damage one page.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use healthcode_domain::{AreaCode, Department, Role as AccountRole, Timestamp};
use healthcode_server::national_sync::{sync_once, HubLink, SyncError, SyncRound};
use healthcode_service::national::Role;
use healthcode_service::{AtPolicy, HealthService, ManualClock, Pseudonymiser, Source};
use healthcode_store_sqlite::SqliteStore;
use serde_json::Value;

const NATIONAL_KEY: &[u8] = b"the national pseudonym key, 32 bytes or more";

fn now() -> Timestamp {
    Timestamp::parse("2022-05-01T08:00:00+08:00").unwrap()
}

/// A service over its own SQLite store (kept in `dirs`).
async fn service(role: Role, dirs: &mut Vec<tempfile::TempDir>) -> Arc<HealthService> {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("healthcode.sqlite3")).unwrap());
    dirs.push(dir);
    let pseudonyms = Pseudonymiser::new(b"a local key".to_vec()).with_national_key(NATIONAL_KEY.to_vec());
    let clock = Arc::new(ManualClock::new(now()));
    let service = HealthService::open(store, clock, pseudonyms, healthcode_rules::RuleSet::reference()).await.unwrap();
    Arc::new(service.with_national_role(role))
}

/// Serves a service's router on a loopback port; its base URL.
async fn serve(service: Arc<HealthService>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = healthcode_server::AppState::new(service);
    tokio::spawn(healthcode_server::serve(listener, state, std::future::pending()));
    url
}

/// The hub, served, with a `region` account per province and its API key.
struct Hub {
    service: Arc<HealthService>,
    url: String,
    keys: std::collections::HashMap<&'static str, String>,
}

async fn hub(dirs: &mut Vec<tempfile::TempDir>) -> Hub {
    let service = service(Role::Hub, dirs).await;
    let mut keys = std::collections::HashMap::new();
    for (name, province) in [("henan", "410000"), ("zhejiang", "330000")] {
        let account = healthcode_service::NewAccount {
            username: name.to_string(),
            password: None,
            role: AccountRole::Region,
            jurisdiction: Some(AreaCode::parse(province).unwrap()),
            department: None,
        };
        service.accounts().create(account).await.unwrap();
        keys.insert(name, service.accounts().issue_api_key(name, "tests").await.unwrap());
    }
    let url = serve(service.clone()).await;
    Hub { service, url, keys }
}

async fn region(code: &str, hub: &Hub, dirs: &mut Vec<tempfile::TempDir>) -> Arc<HealthService> {
    service(Role::Region { region: code.into(), hub: Box::new(hub.service.log().verifier()) }, dirs).await
}

/// A key-person line about its own person, whose pseudonym looks like a real one (as
/// random as an HMAC's output, not a counter, so that compression is not flattered).
fn line(i: u64) -> String {
    // splitmix64, twice: 128 well-mixed bits per record.
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let person = format!("{:016x}{:016x}", mix(2 * i + 1), mix(2 * i + 2));
    format!(
        r#"{{"kind":"key_person","id":"41-{i}","person":"n{person}","status":"close_contact","since":"2022-04-30T20:00:00+08:00"}}"#
    )
}

/// Henan's records published at the hub in submissions of these sizes (a checkpoint each).
async fn publish(hub: &Hub, sizes: &[u64]) -> u64 {
    let mut next = 0;
    for &size in sizes {
        let lines: Vec<String> = (next..next + size).map(line).collect();
        let report = hub.service.national().submit("41", "henan", &lines).await.unwrap();
        assert_eq!(report.accepted, lines.len(), "{:?}", report.rows.first());
        next += size;
    }
    hub.service.log().size().await.unwrap()
}

/// The `national_record` entries of the hub's log (its other entries: an account's first
/// use, alarms).
async fn records_at_hub(hub: &Hub) -> usize {
    let size = hub.service.log().size().await.unwrap();
    let entries = hub.service.log().entries(0, size as usize).await.unwrap();
    entries.iter().filter(|(_, leaf)| leaf.starts_with(br#"{"type":"national_record""#)).count()
}

/// The sizes of the checkpoints the hub stored, smallest first.
async fn checkpoint_sizes(hub: &Hub) -> Vec<u64> {
    hub.service.log().checkpoints(0, 1000).await.unwrap().iter().map(|c| c.size).collect()
}

/// A client that inflates nothing and asks for nothing by itself: the test sets
/// `Accept-Encoding` and reads the bytes as they came.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder().no_zstd().no_gzip().build().unwrap()
}

fn link(url: &str, key: &str) -> HubLink {
    HubLink { url: url.to_string(), key: key.to_string(), peers: Vec::new(), every: Duration::from_secs(1) }
}

/// What the proxy saw of one exchange.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    /// The request's `Accept-Encoding` and `Content-Encoding`.
    asked: Option<String>,
    sent: Option<String>,
    /// The answer's `Content-Encoding` and its bytes on the wire.
    answered: Option<String>,
    bytes: usize,
}

/// What the proxy does to the hub's answers.
#[derive(Debug, Clone, Default)]
struct Mischief {
    /// Plays a hub from before the compact exchange: its answers never say what codings
    /// it takes in requests.
    older_hub: bool,
    /// Plays a hub that says it takes compressed submissions but refuses them (415), as a
    /// proxy in front of it might.
    refuse_compressed: bool,
    /// Cuts the answer to `GET /v1/log/entries?from=<n>` to half its bytes, as they came
    /// (compressed or not).
    cut_page_from: Option<u64>,
    /// Answers `GET /v1/log/entries?from=<n>` with 96 MiB of zstd-compressed spaces.
    bomb_page_from: Option<u64>,
    /// Lists the hub's checkpoints with sizes a trillion above what their notes sign.
    lie_about_sizes: bool,
}

#[derive(Clone)]
struct Proxy {
    hub: String,
    client: reqwest::Client,
    seen: Arc<Mutex<Vec<Seen>>>,
    mischief: Arc<Mutex<Mischief>>,
}

impl Proxy {
    async fn start(hub: &str) -> (Proxy, String) {
        let proxy = Proxy {
            hub: hub.to_string(),
            client: raw_client(),
            seen: Default::default(),
            mischief: Default::default(),
        };
        let app = axum::Router::new().fallback(forward).with_state(proxy.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (proxy, url)
    }

    fn seen(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.method == method && s.path == path).cloned().collect()
    }

    fn forget(&self) {
        self.seen.lock().unwrap().clear();
    }
}

async fn forward(
    axum::extract::State(proxy): axum::extract::State<Proxy>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let header = |headers: &reqwest::header::HeaderMap, name| {
        headers.get(name).map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
    };
    let mischief = proxy.mischief.lock().unwrap().clone();
    if mischief.refuse_compressed && parts.headers.contains_key(reqwest::header::CONTENT_ENCODING) {
        proxy.seen.lock().unwrap().push(Seen {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: String::new(),
            asked: None,
            sent: header(&parts.headers, reqwest::header::CONTENT_ENCODING),
            answered: None,
            bytes: 0,
        });
        return axum::response::Response::builder()
            .status(415)
            .header("accept-encoding", "zstd, gzip")
            .body(axum::body::Body::empty())
            .unwrap();
    }
    let target = parts.uri.path_and_query().unwrap().as_str();
    let page_from = |from: Option<u64>| {
        from.is_some_and(|from| {
            parts.uri.path() == "/v1/log/entries"
                && parts.uri.query().is_some_and(|q| q.contains(&format!("from={from}&")))
        })
    };
    if page_from(mischief.bomb_page_from) {
        let bomb = zstd::bulk::compress(&vec![b' '; 96 << 20], 3).unwrap();
        return axum::response::Response::builder()
            .header("content-type", "application/json")
            .header("content-encoding", "zstd")
            .body(axum::body::Body::from(bomb))
            .unwrap();
    }
    let lie = mischief.lie_about_sizes && parts.uri.path() == "/v1/log/checkpoints";
    let mut request = proxy.client.request(parts.method.clone(), format!("{}{target}", proxy.hub)).body(body);
    for (name, value) in &parts.headers {
        let plain = lie && name == reqwest::header::ACCEPT_ENCODING;
        if name != reqwest::header::HOST && name != reqwest::header::CONTENT_LENGTH && !plain {
            request = request.header(name, value);
        }
    }
    let answer = request.send().await.unwrap();
    let status = answer.status();
    let mut headers = answer.headers().clone();
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    if mischief.older_hub {
        headers.remove(reqwest::header::ACCEPT_ENCODING);
    }
    if page_from(mischief.cut_page_from) {
        bytes.truncate(bytes.len() / 2);
    }
    if lie {
        let mut list: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for checkpoint in list["checkpoints"].as_array_mut().unwrap() {
            checkpoint["size"] = (checkpoint["size"].as_u64().unwrap() + 1_000_000_000_000).into();
        }
        bytes = list.to_string().into_bytes();
    }
    proxy.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        asked: header(&parts.headers, reqwest::header::ACCEPT_ENCODING),
        sent: header(&parts.headers, reqwest::header::CONTENT_ENCODING),
        answered: header(&headers, reqwest::header::CONTENT_ENCODING),
        bytes: bytes.len(),
    });
    let mut response = axum::response::Response::builder().status(status);
    for (name, value) in &headers {
        if name != reqwest::header::CONTENT_LENGTH && name != reqwest::header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    response.body(axum::body::Body::from(bytes)).unwrap()
}

/// `GET path` with this `Accept-Encoding` (none if `None`): the answer's
/// `Content-Encoding` and its bytes as they came.
async fn get_raw(url: &str, accept: Option<&str>) -> (Option<String>, Vec<u8>) {
    let mut request = raw_client().get(url);
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    let answer = request.send().await.unwrap();
    assert_eq!(answer.status(), 200, "{url}");
    let coding = answer.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
    (coding, answer.bytes().await.unwrap().to_vec())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_page_carries_the_plain_pages_leaves_and_both_verify() {
    let mut dirs = Vec::new();
    let hub = hub(&mut dirs).await;
    let size = publish(&hub, &[1_500, 700, 1_300]).await;
    assert_eq!(records_at_hub(&hub).await, 3_500);
    let checkpoints = checkpoint_sizes(&hub).await;
    // One per submission, and one for the alarm the first raised (more than 1,000
    // key persons from one region within an hour).
    assert_eq!((checkpoints.len(), checkpoints.last()), (4, Some(&size)));

    // The same page three ways: asked in zstd (and gzip: zstd is preferred), in gzip only,
    // and without asking.
    let page = format!("{}/v1/log/entries?from=1000&limit=1000", hub.url);
    let (zstd_coding, zstd_bytes) = get_raw(&page, Some("gzip, zstd")).await;
    let (gzip_coding, gzip_bytes) = get_raw(&page, Some("gzip")).await;
    let (plain_coding, plain_bytes) = get_raw(&page, None).await;
    assert_eq!(zstd_coding.as_deref(), Some("zstd"));
    assert_eq!(gzip_coding.as_deref(), Some("gzip"));
    assert_eq!(plain_coding, None, "a client that does not ask gets plain JSON");
    let plain: Value = serde_json::from_slice(&plain_bytes).unwrap();
    assert_eq!(plain["entries"].as_array().unwrap().len(), 1_000);
    assert_eq!(plain["entries"][0]["index"], 1000);
    // Byte for byte the same JSON once inflated: the same leaves, the same base64.
    assert!(zstd_bytes != plain_bytes);
    assert_eq!(zstd::decode_all(&zstd_bytes[..]).unwrap(), plain_bytes);
    assert_eq!(gunzip(&gzip_bytes), plain_bytes);
    assert!(
        zstd_bytes.len() * 4 < plain_bytes.len() && gzip_bytes.len() * 3 < plain_bytes.len(),
        "zstd {} and gzip {} bytes against {} plain",
        zstd_bytes.len(),
        gzip_bytes.len(),
        plain_bytes.len()
    );
    // `identity` only, or zstd refused: plain.
    assert_eq!(get_raw(&page, Some("identity")).await.0, None);
    assert_eq!(get_raw(&page, Some("zstd;q=0, br")).await.0, None);
    // The checkpoint list is compressed too; pages and the rest of the API never are.
    let list = format!("{}/v1/log/checkpoints?after=0", hub.url);
    assert_eq!(get_raw(&list, Some("zstd")).await.0.as_deref(), Some("zstd"));
    assert_eq!(get_raw(&format!("{}/", hub.url), Some("zstd, gzip")).await.0, None);
    assert_eq!(get_raw(&format!("{}/v1/openapi.json", hub.url), Some("zstd, gzip")).await.0, None);

    // Two regions follow the hub from nothing through the proxy, which sees what went
    // over the wire: Zhejiang with the sync task's client (asks for compression), Fujian
    // with a client that does not ask (as an older region). Each batch is checked
    // against the hub's signed root (`National::receive`) before use.
    let (proxy, via) = Proxy::start(&hub.url).await;
    let zhejiang = region("33", &hub, &mut dirs).await;
    let compact = sync_once(&zhejiang, &reqwest::Client::new(), &link(&via, "")).await.unwrap();
    let compact_pages = proxy.seen("GET", "/v1/log/entries");
    proxy.forget();
    let fujian = region("35", &hub, &mut dirs).await;
    let plain = sync_once(&fujian, &raw_client(), &link(&via, "")).await.unwrap();
    let plain_pages = proxy.seen("GET", "/v1/log/entries");

    assert_eq!(compact.received, size);
    assert_eq!(compact.parked, 3_500);
    assert_eq!(SyncRound { bytes: 0, ..compact.clone() }, SyncRound { bytes: 0, ..plain.clone() });
    // The same answers once inflated, byte for byte in count.
    assert_eq!(compact.bytes, plain.bytes);
    let (z, f) = (zhejiang.national().view().await.unwrap(), fujian.national().view().await.unwrap());
    assert_eq!((z.size, &z.frontier, &z.checkpoint), (size, &f.frontier, &f.checkpoint));

    // Pages of at most 1,000 leaves, each within a checkpoint (about 1,000 + 500, 700,
    // 1,000 + 300).
    let mut pages = 0;
    let mut from = 0;
    for to in checkpoints {
        pages += (to - from).div_ceil(1_000);
        from = to;
    }
    assert_eq!((compact_pages.len(), plain_pages.len()), (pages as usize, pages as usize), "{compact_pages:?}");
    assert!(compact_pages.iter().all(|s| s.asked.as_deref().is_some_and(|a| a.contains("zstd"))));
    assert!(compact_pages.iter().all(|s| s.answered.as_deref() == Some("zstd")), "{compact_pages:?}");
    assert!(plain_pages.iter().all(|s| s.asked.is_none() && s.answered.is_none()), "{plain_pages:?}");
    let wire = |seen: &[Seen]| seen.iter().map(|s| s.bytes).sum::<usize>();
    assert!(wire(&compact_pages) * 4 < wire(&plain_pages), "{} against {}", wire(&compact_pages), wire(&plain_pages));
    // The checkpoint list is asked for once per round while it lasts, not once per checkpoint.
    assert_eq!(proxy.seen("GET", "/v1/log/checkpoints").len(), 2, "the list, then the end of it");
}

/// A region's sync posting its queued records: Henan reports two close contacts by
/// document, which its sync task signs and submits.
async fn henan_with_two_records(hub: &Hub, dirs: &mut Vec<tempfile::TempDir>) -> Arc<HealthService> {
    let henan = region("41", hub, dirs).await;
    for (id, number) in [("cc-1", "410105199001011233"), ("cc-2", "410105198502020010")] {
        let row = serde_json::json!({"id": id, "type": "close_contact", "id_type": "resident_id", "id_number": number,
                                     "exposure_at": "2022-04-30T20:00:00+08:00"});
        let report = henan
            .evidence()
            .ingest_from(
                Source::Department(Department::Health),
                &[1],
                &[row.to_string()],
                AtPolicy::ServerClock,
                "test",
            )
            .await
            .unwrap();
        assert_eq!(report.accepted, 1, "{report:?}");
    }
    henan
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_compresses_its_submissions_only_for_a_hub_that_takes_them() {
    let mut dirs = Vec::new();
    let hub = hub(&mut dirs).await;
    let (proxy, via) = Proxy::start(&hub.url).await;

    // The hub says what it takes, on every answer of the exchange.
    let henan = henan_with_two_records(&hub, &mut dirs).await;
    let round = sync_once(&henan, &reqwest::Client::new(), &link(&via, &hub.keys["henan"])).await.unwrap();
    assert_eq!(round.submitted, 2);
    let posts = proxy.seen("POST", "/v1/hub/records");
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].sent.as_deref(), Some("zstd"), "{posts:?}");
    assert_eq!(records_at_hub(&hub).await, 2);

    // An older hub (its answers say nothing of what it takes): plain, and taken.
    proxy.forget();
    proxy.mischief.lock().unwrap().older_hub = true;
    let other = henan_with_two_records(&hub, &mut dirs).await;
    let older = link(&via, &hub.keys["henan"]);
    // The same ids again: duplicates at the hub, but sent all the same.
    assert_eq!(sync_once(&other, &reqwest::Client::new(), &older).await.unwrap().submitted, 2);
    let posts = proxy.seen("POST", "/v1/hub/records");
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].sent, None, "{posts:?}");

    // A hub that says it takes them and then refuses them (415): the batch goes again,
    // plain, in the same round.
    proxy.forget();
    *proxy.mischief.lock().unwrap() = Mischief { refuse_compressed: true, ..Mischief::default() };
    let third = henan_with_two_records(&hub, &mut dirs).await;
    assert_eq!(sync_once(&third, &reqwest::Client::new(), &link(&via, &hub.keys["henan"])).await.unwrap().submitted, 2);
    let sent: Vec<Option<String>> = proxy.seen("POST", "/v1/hub/records").into_iter().map(|s| s.sent).collect();
    assert_eq!(sent, [Some("zstd".to_string()), None]);
    assert!(third.national().queued_submissions(10).await.unwrap().is_empty());
    *proxy.mischief.lock().unwrap() = Mischief::default();

    // By hand: zstd and gzip bodies are taken as their plain lines would be; another
    // coding is refused with the codings the hub takes.
    let client = reqwest::Client::new();
    let post = |body: Vec<u8>, coding: Option<&'static str>| {
        let mut request = client
            .post(format!("{}/v1/hub/records", hub.url))
            .bearer_auth(&hub.keys["henan"])
            .header("content-type", "application/x-ndjson")
            .body(body);
        if let Some(coding) = coding {
            request = request.header("content-encoding", coding);
        }
        async move {
            let answer = request.send().await.unwrap();
            let takes = answer.headers().get("accept-encoding").map(|v| v.to_str().unwrap().to_string());
            (answer.status().as_u16(), takes, answer.json::<Value>().await.unwrap())
        }
    };
    let lines = format!("{}\n{}", line(100), line(101));
    let (status, takes, report) = post(zstd::encode_all(lines.as_bytes(), 3).unwrap(), Some("zstd")).await;
    assert_eq!((status, takes.as_deref(), &report["accepted"]), (200, Some("zstd, gzip"), &Value::from(2)), "{report}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("{}\n{}", line(102), line(100)).as_bytes()).unwrap();
    let (status, _, report) = post(gz.finish().unwrap(), Some("gzip")).await;
    assert_eq!(
        (status, &report["accepted"], &report["duplicates"]),
        (200, &Value::from(1), &Value::from(1)),
        "{report}"
    );
    let (status, takes, report) = post(line(103).into_bytes(), Some("br")).await;
    assert_eq!(
        (status, takes.as_deref(), &report["error"]["code"]),
        (415, Some("zstd, gzip"), &Value::from("unsupported_media_type")),
        "{report}"
    );
    assert!(report["error"]["message"].as_str().unwrap().contains("zstd, gzip"), "{report}");
    assert_eq!(records_at_hub(&hub).await, 5);
    // A stream that does not inflate: refused, nothing published.
    let (status, _, report) = post(b"\x28\xb5\x2f\xfd not zstd at all".to_vec(), Some("zstd")).await;
    assert_eq!(status, 400, "{report}");
    assert_eq!(records_at_hub(&hub).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_body_that_inflates_past_the_limit_is_refused() {
    let mut dirs = Vec::new();
    let hub = hub(&mut dirs).await;
    let client = reqwest::Client::new();

    // 256 MiB of newlines, four times the submission limit (`MAX_BODY_BYTES`, 64 MiB),
    // in a few kilobytes of zstd.
    let mut encoder = zstd::stream::Encoder::new(Vec::new(), 19).unwrap();
    let chunk = vec![b'\n'; 1 << 20];
    for _ in 0..256 {
        encoder.write_all(&chunk).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    const { assert!(healthcode_server::MAX_BODY_BYTES < 256 << 20) };
    let records = format!("{}/v1/hub/records", hub.url);
    let answer = client
        .post(&records)
        .bearer_auth(&hub.keys["henan"])
        .header("content-encoding", "zstd")
        .body(bomb.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");

    // Without a region's key the body is never inflated: refused first.
    let answer = client.post(&records).header("content-encoding", "zstd").body(bomb).send().await.unwrap();
    assert_eq!(answer.status(), 401);

    // The trust list's limit (`MAX_JSON_BYTES`, 1 MiB) counts inflated bytes too: 2 MiB
    // in a few kilobytes of gzip.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 2 << 20]).unwrap();
    let small = gz.finish().unwrap();
    assert!(small.len() < healthcode_server::MAX_JSON_BYTES / 100);
    let answer = client
        .post(format!("{}/v1/hub/trust-list", hub.url))
        .bearer_auth(&hub.keys["henan"])
        .header("content-encoding", "gzip")
        .body(small)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    assert_eq!(records_at_hub(&hub).await, 0, "nothing published");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_page_is_refused_and_what_was_synced_before_stays() {
    let mut dirs = Vec::new();
    let hub = hub(&mut dirs).await;
    publish(&hub, &[1_200, 1_000]).await;
    let checkpoints = checkpoint_sizes(&hub).await;
    // A checkpoint per submission, one for the alarm between them (more than 1,000 key
    // persons from one region within an hour).
    let [_, kept, last] = checkpoints[..] else { panic!("{checkpoints:?}") };
    assert_eq!(last - kept, 1_000);
    let (proxy, via) = Proxy::start(&hub.url).await;

    for (client, name) in [(reqwest::Client::new(), "compressed"), (raw_client(), "plain")] {
        let zhejiang = region("33", &hub, &mut dirs).await;
        // The last checkpoint's page of 1,000 leaves arrives cut in half.
        proxy.mischief.lock().unwrap().cut_page_from = Some(kept);
        let error = sync_once(&zhejiang, &client, &link(&via, "")).await.unwrap_err();
        assert!(matches!(error, SyncError::Damaged { .. }), "{name}: {error}");
        let text = error.to_string();
        assert!(
            text.contains(&format!("/v1/log/entries?from={kept}&limit=1000")) && text.contains("none of it was used"),
            "{name}: {text}"
        );
        // The records of the checkpoints before stay, checked and parked; no alarm of a
        // forked hub was raised for a page that never arrived whole.
        let view = zhejiang.national().view().await.unwrap();
        assert_eq!(view.size, kept, "{name}");
        let alarms = zhejiang.alarms().list(0, 100).await.unwrap();
        assert!(alarms.iter().all(|a| a.alarm.kind != "hub_forked"), "{name}: {alarms:?}");

        // Whole again: the next round takes the rest.
        proxy.mischief.lock().unwrap().cut_page_from = None;
        let round = sync_once(&zhejiang, &client, &link(&via, "")).await.unwrap();
        assert_eq!((round.received, round.parked), (1_000, 1_000), "{name}");
        assert_eq!(zhejiang.national().view().await.unwrap().size, last, "{name}");
    }
    // The cut pages: a zstd stream ending early, then plain JSON ending early.
    let cut: Vec<Option<String>> = proxy
        .seen("GET", "/v1/log/entries")
        .into_iter()
        .filter(|s| s.query.starts_with(&format!("from={kept}&")))
        .map(|s| s.answered)
        .collect();
    assert_eq!(cut, [Some("zstd".to_string()), Some("zstd".to_string()), None, None]);
}

/// A hub (or anyone between it and the region) that lists its checkpoints under sizes their
/// notes do not sign, or answers a page with a body that inflates to 96 MiB: the sync
/// refuses the answer as damaged, holds nothing of it, and takes the rest once the
/// answers are whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_size_the_note_does_not_sign_or_a_page_that_inflates_without_end_is_refused() {
    let mut dirs = Vec::new();
    let hub = hub(&mut dirs).await;
    let last = publish(&hub, &[300]).await;
    let (proxy, via) = Proxy::start(&hub.url).await;
    let zhejiang = region("33", &hub, &mut dirs).await;
    let client = reqwest::Client::new();

    proxy.mischief.lock().unwrap().lie_about_sizes = true;
    let error = sync_once(&zhejiang, &client, &link(&via, "")).await.unwrap_err();
    assert!(matches!(error, SyncError::Damaged { .. }) && error.to_string().contains("signs another size"), "{error}");
    assert_eq!(zhejiang.national().view().await.unwrap().size, 0);

    proxy.mischief.lock().unwrap().lie_about_sizes = false;
    proxy.mischief.lock().unwrap().bomb_page_from = Some(0);
    let error = sync_once(&zhejiang, &client, &link(&via, "")).await.unwrap_err();
    assert!(matches!(error, SyncError::Damaged { .. }) && error.to_string().contains("inflates beyond"), "{error}");
    assert_eq!(zhejiang.national().view().await.unwrap().size, 0);

    proxy.mischief.lock().unwrap().bomb_page_from = None;
    let round = sync_once(&zhejiang, &client, &link(&via, "")).await.unwrap();
    assert_eq!(round.parked, 300);
    assert_eq!(zhejiang.national().view().await.unwrap().size, last);
}
