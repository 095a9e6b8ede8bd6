//! A region's link to the national hub: a task that, every few seconds, submits the
//! region's queued records, follows the hub's log checkpoint by checkpoint (each batch
//! checked before use: `National::receive`), and compares the hub checkpoint it holds
//! with other regions'. Only the scheduler's leader does it (one region, one follower).
//! When the hub cannot be reached the region goes on with what it has; its pages say
//! how current the national data is.
//!
//! Compact exchange: the client asks for compressed answers (`Accept-Encoding: gzip,
//! zstd`, reqwest's own decoders) and a hub that compresses (`healthcode_server::router`)
//! answers the log's pages in zstd; an older hub answers plain JSON, read the same way.
//! The leaves inside are the same bytes either way, checked against the signed root as
//! before. Submissions are compressed too (zstd) when the hub says it takes them (its
//! answers' `Accept-Encoding`, RFC 7694); an older hub gets them plain.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use healthcode_log::Hash;
use healthcode_service::national::Comparison;
use healthcode_service::HealthService;
use serde::Deserialize;

/// Where the hub is and how this region speaks to it.
#[derive(Debug, Clone)]
pub struct HubLink {
    /// The hub's base URL (`http://hub.example:8080`).
    pub url: String,
    /// This region's API key at the hub (a `region` account there).
    pub key: String,
    /// Other regions' base URLs, whose view of the hub this region compares with its own.
    pub peers: Vec<String>,
    pub every: Duration,
}

/// Submission lines per request, and leaves per page (the hub's log page).
const SUBMIT_LINES: usize = 5_000;
const LEAF_PAGE: u64 = 1_000;
/// The most leaves one sync step holds in memory (one checkpoint's worth: ~300 MB of
/// records at most).
const MAX_BATCH_LEAVES: u64 = 1_000_000;
/// The most bytes one answer of the hub may inflate to.
const MAX_ANSWER_BYTES: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the hub at {url} cannot be reached: {error}")]
    Unreachable { url: String, error: String },
    #[error("the hub answered {status} to {what}: {body}")]
    Refused { what: String, status: u16, body: String },
    /// An answer that arrived damaged or cut short (a compressed stream that does not
    /// decode or ends early, a page that is not the expected JSON or not the leaves asked
    /// for): none of it is used, what was synced before stays, and the next round asks again.
    #[error("the hub's answer to {url} is damaged or incomplete ({error}); none of it was used")]
    Damaged { url: String, error: String },
    #[error(transparent)]
    Service(#[from] healthcode_service::ServiceError),
}

/// What one round did, for the log line and the tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncRound {
    pub submitted: usize,
    pub received: u64,
    pub admitted: usize,
    pub parked: usize,
    /// Records of other regions withdrawn here (evidence retracted, parked ones dropped)
    /// because their region's newer trust list no longer vouches for the key that signed
    /// them; and those such a key signed that cannot be withdrawn here (in the alarm).
    pub withdrawn: usize,
    pub dropped: usize,
    pub not_withdrawn: usize,
    pub equivocations: usize,
    /// Bytes of the hub's answers while following it (checkpoints and entries), as
    /// decoded: a compressed answer counts its inflated size.
    pub bytes: u64,
}

pub fn spawn_national_sync(service: Arc<HealthService>, link: HubLink) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // With reqwest's `zstd` and `gzip` features, every request asks for a compressed
        // answer and every compressed answer is inflated as it arrives.
        let http =
            reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("a default HTTP client builds");
        let mut ticks = tokio::time::interval(link.every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if !service.coordination().leads() {
                continue;
            }
            match sync_once(&service, &http, &link).await {
                Ok(round) if round != SyncRound::default() => tracing::info!(?round, "synced with the national hub"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "national sync failed; will retry"),
            }
        }
    })
}

/// At the hub: follows its own log every `every`, so that the national code (path 3) of
/// persons registered at the hub takes in what regions publish. Only the leader does it.
pub fn spawn_hub_follower(service: Arc<HealthService>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if !service.coordination().leads() {
                continue;
            }
            // A rotation or revocation of the hub's keys is published at the next tick.
            if let Err(e) = service.national().publish_own_keys(&service.tokens().key_ring()).await {
                tracing::warn!(error = %e, "the hub could not publish its own keys; will retry");
            }
            if let Err(e) = service.national().follow_own_log().await {
                tracing::warn!(error = %e, "the hub could not follow its own log; will retry");
            }
        }
    })
}

/// One round: submit, follow, compare.
pub async fn sync_once(
    service: &HealthService,
    http: &reqwest::Client,
    link: &HubLink,
) -> Result<SyncRound, SyncError> {
    let mut round = SyncRound::default();
    let national = service.national();
    let hub = link.url.trim_end_matches('/');

    if !link.key.is_empty() {
        push(service, http, link, &mut round).await?;
    }

    let mut heard = false;
    loop {
        let mut size = national.view().await?.size;
        // Every stored checkpoint above what was checked, smallest first, each followed
        // in turn: the list is asked for again only once it is used up.
        let targets: Vec<StoredCheckpoint> =
            next_checkpoints(http, hub, size, &mut round.bytes).await?.into_iter().filter(|t| t.size > size).collect();
        if targets.is_empty() {
            break;
        }
        heard = true;
        for target in targets {
            // The size the hub signed, not the list's word for it; and no more leaves at
            // once than a sync holds (a hub's checkpoints are a submission apart).
            if note_size(&target.note) != Some(target.size) {
                return Err(damaged(hub, format!("a checkpoint listed at size {} signs another size", target.size)));
            }
            if target.size - size > MAX_BATCH_LEAVES {
                return Err(damaged(
                    hub,
                    format!(
                        "the hub's next checkpoint is {} entries ahead; a sync takes at most {MAX_BATCH_LEAVES} at once",
                        target.size - size
                    ),
                ));
            }
            let mut leaves = Vec::with_capacity((target.size - size) as usize);
            while (size + leaves.len() as u64) < target.size {
                let from = size + leaves.len() as u64;
                let page = entries(http, hub, from, LEAF_PAGE.min(target.size - from), &mut round.bytes).await?;
                if page.is_empty() {
                    break;
                }
                leaves.extend(page);
            }
            let received = national.receive(&target.note, &leaves).await?;
            size = received.size;
            round.received += leaves.len() as u64;
            round.admitted += received.admitted;
            round.parked += received.parked;
            round.withdrawn += received.withdrawn;
            round.dropped += received.dropped;
            round.not_withdrawn += received.not_withdrawn;
        }
    }
    if !heard {
        // Answered, nothing new: the data here is current as of now.
        national.heard_from_hub().await?;
    }

    for peer in &link.peers {
        match compare_with(service, http, hub, peer).await {
            Ok(Some(Comparison::Equivocation { .. })) => round.equivocations += 1,
            Ok(_) => {}
            Err(e) => tracing::warn!(%peer, error = %e, "cannot compare hub checkpoints with this region"),
        }
    }
    Ok(round)
}

/// What this region sends: its keys first, so that a rotation or revocation reaches the
/// others at their next sync (a hub that has not registered the region's root yet refuses
/// them; the records still go), then its queued records.
async fn push(
    service: &HealthService,
    http: &reqwest::Client,
    link: &HubLink,
    round: &mut SyncRound,
) -> Result<(), SyncError> {
    let national = service.national();
    let hub = link.url.trim_end_matches('/');
    let url = format!("{hub}/v1/hub/trust-list");
    let list = service.tokens().key_ring().signed_trust_list().to_json();
    let sent = http
        .post(&url)
        .bearer_auth(&link.key)
        .header("content-type", "application/json")
        .body(list)
        .send()
        .await
        .map_err(|e| unreachable(&url, e))?;
    // A hub that takes compressed submissions says so in its answers (RFC 7694).
    let mut compress = takes_zstd(sent.headers());
    if let Err(e) = ok(sent, "the trust list").await {
        tracing::warn!(error = %e, "the hub did not take this region's trust list");
    }

    loop {
        let queued = national.queued_submissions(SUBMIT_LINES).await?;
        if queued.is_empty() {
            break;
        }
        let lines: Vec<String> = queued.iter().map(|q| q.line.clone()).collect();
        let body = national.sign_lines(&lines, &service.tokens().key_ring()).join("\n");
        let url = format!("{hub}/v1/hub/records");
        let mut response = send_lines(http, &url, &link.key, &body, compress).await?;
        if compress && response.status() == reqwest::StatusCode::UNSUPPORTED_MEDIA_TYPE {
            // Said it took them, then did not (a proxy in between?): plain from now on.
            compress = false;
            response = send_lines(http, &url, &link.key, &body, false).await?;
        }
        ok(response, "a submission").await?;
        national.submitted(&queued.iter().map(|q| q.seq).collect::<Vec<_>>()).await?;
        round.submitted += queued.len();
    }
    Ok(())
}

/// Whether an answer's `Accept-Encoding` (RFC 7694: the codings the server takes in
/// requests) names zstd.
fn takes_zstd(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get_all(reqwest::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| coding.split(';').next().is_some_and(|c| c.trim().eq_ignore_ascii_case("zstd")))
}

/// Posts a submission, zstd-compressed when `compress` (level 3, zstd's default: a few
/// milliseconds for 5,000 lines).
async fn send_lines(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    body: &str,
    compress: bool,
) -> Result<reqwest::Response, SyncError> {
    let request = http.post(url).bearer_auth(key).header("content-type", "application/x-ndjson");
    let request = match compress.then(|| zstd::bulk::compress(body.as_bytes(), 3)) {
        Some(Ok(compressed)) => request.header("content-encoding", "zstd").body(compressed),
        _ => request.body(body.to_string()),
    };
    request.send().await.map_err(|e| unreachable(url, e))
}

/// Fetches the other region's view and the hub's proof between the two sizes, and lets
/// the service judge.
async fn compare_with(
    service: &HealthService,
    http: &reqwest::Client,
    hub: &str,
    peer: &str,
) -> Result<Option<Comparison>, SyncError> {
    let url = format!("{}/v1/national/view", peer.trim_end_matches('/'));
    let response = http.get(&url).send().await.map_err(|e| unreachable(&url, e))?;
    let theirs: PeerView = ok(response, "a region's view").await?.json().await.map_err(|e| unreachable(&url, e))?;
    let Some(note) = theirs.checkpoint else { return Ok(None) };
    // The size their checkpoint signs (the service checks the signature), not the size
    // their view says: a wrong one would fetch a proof that fails, and accuse the hub.
    let theirs_size = note_size(&note).ok_or_else(|| damaged(&url, "the region's checkpoint names no size"))?;
    let ours = service.national().view().await?.size;
    let (from, to) = (ours.min(theirs_size), ours.max(theirs_size));
    let proof = if from == to || from == 0 { Vec::new() } else { consistency(http, hub, from, to).await? };
    Ok(Some(service.national().compare(&note, &proof).await?))
}

#[derive(Deserialize)]
struct PeerView {
    checkpoint: Option<String>,
}

/// The tree size a checkpoint note names (its second line, C2SP signed-note checkpoints).
fn note_size(note: &str) -> Option<u64> {
    note.lines().nth(1).and_then(|l| l.parse().ok())
}

#[derive(Deserialize)]
struct StoredCheckpoint {
    size: u64,
    note: String,
}

/// The checkpoints the hub stored above `size`, smallest first (a page of them), or its
/// current one if it stored none yet; empty if the hub has nothing new.
async fn next_checkpoints(
    http: &reqwest::Client,
    hub: &str,
    size: u64,
    bytes: &mut u64,
) -> Result<Vec<StoredCheckpoint>, SyncError> {
    #[derive(Deserialize)]
    struct List {
        checkpoints: Vec<StoredCheckpoint>,
    }
    let url = format!("{hub}/v1/log/checkpoints?after={size}");
    let response = http.get(&url).send().await.map_err(|e| unreachable(&url, e))?;
    let body = read(ok(response, "the checkpoint list").await?, &url).await?;
    *bytes += body.len() as u64;
    let list: List = serde_json::from_slice(&body).map_err(|e| malformed(&url, e))?;
    if !list.checkpoints.is_empty() {
        return Ok(list.checkpoints);
    }
    let url = format!("{hub}/v1/log/checkpoint");
    let response = http.get(&url).send().await.map_err(|e| unreachable(&url, e))?;
    let body = read(ok(response, "the checkpoint").await?, &url).await?;
    *bytes += body.len() as u64;
    let note = String::from_utf8(body).map_err(|e| damaged(&url, e))?;
    let current = note_size(&note).unwrap_or(0);
    Ok(if current > size { vec![StoredCheckpoint { size: current, note }] } else { Vec::new() })
}

async fn entries(
    http: &reqwest::Client,
    hub: &str,
    from: u64,
    limit: u64,
    bytes: &mut u64,
) -> Result<Vec<Vec<u8>>, SyncError> {
    #[derive(Deserialize)]
    struct Page {
        entries: Vec<Leaf>,
    }
    #[derive(Deserialize)]
    struct Leaf {
        index: u64,
        data: String,
    }
    let url = format!("{hub}/v1/log/entries?from={from}&limit={limit}");
    let response = http.get(&url).send().await.map_err(|e| unreachable(&url, e))?;
    let body = read(ok(response, "log entries").await?, &url).await?;
    *bytes += body.len() as u64;
    let page: Page = serde_json::from_slice(&body).map_err(|e| malformed(&url, e))?;
    // The leaves asked for, in order: anything else is a damaged page, refused here
    // rather than taken for a fork of the hub's history.
    if page.entries.len() as u64 > limit {
        return Err(damaged(&url, format!("{} entries, {limit} asked for", page.entries.len())));
    }
    if let Some((i, leaf)) = page.entries.iter().enumerate().find(|(i, l)| l.index != from + *i as u64) {
        return Err(damaged(&url, format!("entry {} where {} was expected", leaf.index, from + i as u64)));
    }
    let engine = base64::engine::general_purpose::STANDARD;
    // A leaf that is not base64 is kept as its text: the follower's check refuses it.
    Ok(page.entries.into_iter().map(|l| engine.decode(&l.data).unwrap_or_else(|_| l.data.into_bytes())).collect())
}

async fn consistency(http: &reqwest::Client, hub: &str, from: u64, to: u64) -> Result<Vec<Hash>, SyncError> {
    #[derive(Deserialize)]
    struct Proof {
        proof: Vec<String>,
    }
    let url = format!("{hub}/v1/log/proof/consistency?from={from}&to={to}");
    let response = http.get(&url).send().await.map_err(|e| unreachable(&url, e))?;
    let body = read(ok(response, "a consistency proof").await?, &url).await?;
    let proof: Proof = serde_json::from_slice(&body).map_err(|e| malformed(&url, e))?;
    let engine = base64::engine::general_purpose::STANDARD;
    // A hash that does not decode is a damaged answer, not a proof that fails (which would
    // accuse the hub of equivocating).
    proof
        .proof
        .iter()
        .map(|h| engine.decode(h).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()))
        .collect::<Option<Vec<Hash>>>()
        .ok_or_else(|| damaged(&url, "a proof hash is not 32 bytes of base64"))
}

async fn ok(response: reqwest::Response, what: &str) -> Result<reqwest::Response, SyncError> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default().chars().take(500).collect();
    Err(SyncError::Refused { what: what.to_string(), status, body })
}

/// A whole answer's body, inflated if it came compressed. A body cut short, a compressed
/// stream that does not decode or ends early, or one that inflates beyond
/// `MAX_ANSWER_BYTES` (a page of leaves is far less) is a damaged answer.
async fn read(mut response: reqwest::Response, url: &str) -> Result<Vec<u8>, SyncError> {
    let failed = |e: reqwest::Error| {
        if !e.is_timeout() && (e.is_decode() || e.is_body()) {
            damaged(url, error_chain(&e))
        } else {
            unreachable(url, e)
        }
    };
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(damaged(url, format!("the answer inflates beyond {MAX_ANSWER_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An error and its sources: reqwest's own message ("error decoding response body")
/// says little without the cause beneath it.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn malformed(url: &str, e: serde_json::Error) -> SyncError {
    damaged(url, format!("not the expected JSON: {e}"))
}

fn damaged(url: &str, error: impl std::fmt::Display) -> SyncError {
    SyncError::Damaged { url: url.to_string(), error: error.to_string() }
}

fn unreachable(url: &str, e: reqwest::Error) -> SyncError {
    SyncError::Unreachable { url: url.to_string(), error: e.to_string() }
}

/// The transfer alone, for a benchmark's baseline: fetches the hub's entries from `from`
/// to `to` page by page, as a sync does, and uses none. Returns the leaves and bytes.
pub async fn fetch_only(http: &reqwest::Client, hub: &str, from: u64, to: u64) -> Result<(u64, u64), SyncError> {
    let (mut at, mut bytes) = (from, 0);
    while at < to {
        let page = entries(http, hub, at, LEAF_PAGE.min(to - at), &mut bytes).await?;
        if page.is_empty() {
            break;
        }
        at += page.len() as u64;
    }
    Ok((at - from, bytes))
}
