//! A region's link to the national hub: a task that, every few seconds, submits the
//! region's queued records, follows the hub's log checkpoint by checkpoint (each batch
//! checked before use: `National::receive`), and compares the hub checkpoint it holds
//! with other regions'. Only the scheduler's leader does it (one region, one follower).
//! When the hub cannot be reached the region goes on with what it has; its pages say
//! how current the national data is.

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

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the hub at {url} cannot be reached: {error}")]
    Unreachable { url: String, error: String },
    #[error("the hub answered {status} to {what}: {body}")]
    Refused { what: String, status: u16, body: String },
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
    /// Bytes of the hub's answers while following it (checkpoints and entries).
    pub bytes: u64,
}

pub fn spawn_national_sync(service: Arc<HealthService>, link: HubLink) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
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
        let view = national.view().await?;
        let Some(target) = next_checkpoint(http, hub, view.size, &mut round.bytes).await? else { break };
        heard = true;
        let mut leaves = Vec::with_capacity((target.size - view.size) as usize);
        while (view.size + leaves.len() as u64) < target.size {
            let from = view.size + leaves.len() as u64;
            let page = entries(http, hub, from, LEAF_PAGE.min(target.size - from), &mut round.bytes).await?;
            if page.is_empty() {
                break;
            }
            leaves.extend(page);
        }
        let received = national.receive(&target.note, &leaves).await?;
        round.received += leaves.len() as u64;
        round.admitted += received.admitted;
        round.parked += received.parked;
        round.withdrawn += received.withdrawn;
        round.dropped += received.dropped;
        round.not_withdrawn += received.not_withdrawn;
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
        let response = http
            .post(&url)
            .bearer_auth(&link.key)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable(&url, e))?;
        ok(response, "a submission").await?;
        national.submitted(&queued.iter().map(|q| q.seq).collect::<Vec<_>>()).await?;
        round.submitted += queued.len();
    }
    Ok(())
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
    let ours = service.national().view().await?.size;
    let (from, to) = (ours.min(theirs.size), ours.max(theirs.size));
    let proof = if from == to || from == 0 { Vec::new() } else { consistency(http, hub, from, to).await? };
    Ok(Some(service.national().compare(&note, &proof).await?))
}

#[derive(Deserialize)]
struct PeerView {
    size: u64,
    checkpoint: Option<String>,
}

#[derive(Deserialize)]
struct StoredCheckpoint {
    size: u64,
    note: String,
}

/// The smallest checkpoint the hub stored above `size`, or its current one if it stored
/// none yet; `None` if the hub has nothing new.
async fn next_checkpoint(
    http: &reqwest::Client,
    hub: &str,
    size: u64,
    bytes: &mut u64,
) -> Result<Option<StoredCheckpoint>, SyncError> {
    #[derive(Deserialize)]
    struct List {
        checkpoints: Vec<StoredCheckpoint>,
    }
    let url = format!("{hub}/v1/log/checkpoints?after={size}");
    let response = http.get(&url).send().await.map_err(|e| unreachable(&url, e))?;
    let body = ok(response, "the checkpoint list").await?.bytes().await.map_err(|e| unreachable(&url, e))?;
    *bytes += body.len() as u64;
    let list: List = serde_json::from_slice(&body).map_err(|e| malformed(&url, e))?;
    if let Some(first) = list.checkpoints.into_iter().next() {
        return Ok(Some(first));
    }
    let url = format!("{hub}/v1/log/checkpoint");
    let response = http.get(&url).send().await.map_err(|e| unreachable(&url, e))?;
    let note = ok(response, "the checkpoint").await?.text().await.map_err(|e| unreachable(&url, e))?;
    *bytes += note.len() as u64;
    let current = note.lines().nth(1).and_then(|l| l.parse::<u64>().ok()).unwrap_or(0);
    Ok((current > size).then_some(StoredCheckpoint { size: current, note }))
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
        data: String,
    }
    let url = format!("{hub}/v1/log/entries?from={from}&limit={limit}");
    let response = http.get(&url).send().await.map_err(|e| unreachable(&url, e))?;
    let body = ok(response, "log entries").await?.bytes().await.map_err(|e| unreachable(&url, e))?;
    *bytes += body.len() as u64;
    let page: Page = serde_json::from_slice(&body).map_err(|e| malformed(&url, e))?;
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
    let proof: Proof = ok(response, "a consistency proof").await?.json().await.map_err(|e| unreachable(&url, e))?;
    let engine = base64::engine::general_purpose::STANDARD;
    Ok(proof.proof.iter().filter_map(|h| engine.decode(h).ok().and_then(|b| <[u8; 32]>::try_from(b).ok())).collect())
}

async fn ok(response: reqwest::Response, what: &str) -> Result<reqwest::Response, SyncError> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default().chars().take(500).collect();
    Err(SyncError::Refused { what: what.to_string(), status, body })
}

fn malformed(url: &str, e: serde_json::Error) -> SyncError {
    SyncError::Refused { what: url.to_string(), status: 200, body: format!("not the expected JSON: {e}") }
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
