//! `GET /metrics` in Prometheus's text format, for a province's monitoring (seed 001:
//! 实时监控): requests and their latency per route, and at each scrape the state the
//! service is in — registered persons and codes by colour, the re-evaluation queue, the
//! scheduler's lag and last run, the transparency log's size and the age of its last
//! signed checkpoint, complaints by where they stand, alarms, feed uploads and the rows
//! they settled, the database's connections (and SQLite's own memory). Counts only: no metric
//! carries a person, a key or a path with an id in it (routes are their templates). Exact
//! counts scraped often would still let someone watching tell one person's colour change
//! (a red count going up by one after a known event), so scraping takes the key of an
//! account that may read alarms (the provincial office, auditors: a monitoring account).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ColourLabels {
    colour: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StandingLabels {
    standing: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// For what only one backend can tell: the series exists only where it means something.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: &'static str,
}

/// When the scheduler last finished a run, and what it did: written by the scheduler,
/// read by `/metrics`.
#[derive(Debug, Default)]
pub struct SchedulerBeat {
    /// Milliseconds since the epoch of the last run's end (0: none yet).
    pub(crate) finished_at: AtomicI64,
    pub(crate) evaluated: AtomicU64,
    pub(crate) failures: AtomicU64,
}

impl SchedulerBeat {
    pub(crate) fn ran(&self, evaluated: Option<u64>) {
        self.finished_at.store(now_millis(), Ordering::Relaxed);
        match evaluated {
            Some(n) => self.evaluated.store(n, Ordering::Relaxed),
            None => {
                self.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Every metric the server exposes, registered once.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    persons: Gauge,
    codes: Family<ColourLabels, Gauge>,
    queue: Gauge,
    log_size: Gauge,
    checkpoint_age: Gauge<f64, AtomicU64>,
    scheduler_lag: Gauge<f64, AtomicU64>,
    scheduler_evaluated: Gauge,
    scheduler_failures: Gauge,
    scheduler_leader: Gauge,
    complaints: Family<StandingLabels, Gauge>,
    alarms: Gauge,
    feed_uploads: Gauge,
    feed_rows: Family<OutcomeLabels, Gauge>,
    db_connections: Family<StateLabels, Gauge>,
    db_waiting: Family<BackendLabels, Gauge>,
    db_memory: Family<BackendLabels, Gauge>,
    pub(crate) beat: Arc<SchedulerBeat>,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s, doubling.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("healthcode");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by method, route template and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("http_request_duration_seconds", "Time to answer, by method and route", latency.clone());
        let persons = Gauge::default();
        registry.register("persons", "Registered persons", persons.clone());
        let codes = Family::<ColourLabels, Gauge>::default();
        registry.register("codes", "Current codes by colour", codes.clone());
        let queue = Gauge::default();
        registry.register("reevaluation_queue", "Persons waiting in the re-evaluation queue", queue.clone());
        let log_size = Gauge::default();
        registry.register("log_size", "Entries in the transparency log", log_size.clone());
        let checkpoint_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "log_checkpoint_age_seconds",
            "Seconds since the transparency log's last checkpoint was signed",
            checkpoint_age.clone(),
        );
        let scheduler_lag = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "scheduler_lag_seconds",
            "Seconds since the scheduler last finished a run (it runs every few seconds; -1 before its first)",
            scheduler_lag.clone(),
        );
        let scheduler_evaluated = Gauge::default();
        registry.register(
            "scheduler_last_evaluated",
            "Codes the scheduler's last run re-evaluated",
            scheduler_evaluated.clone(),
        );
        let scheduler_failures = Gauge::default();
        registry.register(
            "scheduler_failures",
            "Scheduler runs that failed since the server started",
            scheduler_failures.clone(),
        );
        let complaints = Family::<StandingLabels, Gauge>::default();
        registry.register(
            "complaints",
            "Complaints by where they stand (open, awaiting_department, escalated)",
            complaints.clone(),
        );
        let alarms = Gauge::default();
        registry.register("alarms", "Alarms raised (the latest 1,000 at most)", alarms.clone());
        let scheduler_leader = Gauge::default();
        registry.register(
            "scheduler_leader",
            "1 if this server holds the scheduler's lease (it runs the province's once-only jobs: checkpoints, \
             retention, rule activations), else 0; exactly one server of a province shows 1",
            scheduler_leader.clone(),
        );
        let feed_uploads = Gauge::default();
        registry.register(
            "feed_uploads_in_progress",
            "Feed batches being uploaded to this server now",
            feed_uploads.clone(),
        );
        let feed_rows = Family::<OutcomeLabels, Gauge>::default();
        registry.register(
            "feed_rows",
            "Feed rows this server settled since it started, by outcome (accepted, duplicate, rejected), counted as \
             each chunk commits",
            feed_rows.clone(),
        );
        let db_connections = Family::<StateLabels, Gauge>::default();
        registry.register(
            "db_connections",
            "Database connections: the most the server holds (max), open now, and idle among them",
            db_connections.clone(),
        );
        let db_waiting = Family::<BackendLabels, Gauge>::default();
        registry.register(
            "db_waiting",
            "Requests waiting for a database connection (PostgreSQL's pool counts them)",
            db_waiting.clone(),
        );
        let db_memory = Family::<BackendLabels, Gauge>::default();
        registry.register(
            "db_embedded_memory_bytes",
            "Heap bytes the embedded database holds in this process: SQLite's page caches and statements",
            db_memory.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            persons,
            codes,
            queue,
            log_size,
            checkpoint_age,
            scheduler_lag,
            scheduler_evaluated,
            scheduler_failures,
            scheduler_leader,
            complaints,
            alarms,
            feed_uploads,
            feed_rows,
            db_connections,
            db_waiting,
            db_memory,
            beat: Arc::default(),
        }
    }
}

/// Counts every routed request and its time, by the route's template (`/v1/persons/{person_id}/code`).
pub(crate) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
    let response = next.run(request).await;
    let metrics = &state.metrics;
    let labels = RouteLabels { method: method.clone(), route: route.clone() };
    metrics.latency.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    metrics.requests.get_or_create(&RequestLabels { method, route, status: response.status().as_u16() }).inc();
    response
}

/// The metrics, the service's state read now.
pub(crate) async fn scrape(
    State(state): State<AppState>,
    _monitor: crate::api::extract::Actor<crate::api::policy::may::ReadAlarms>,
) -> Response {
    match refresh(&state).await {
        Ok(()) => {}
        Err(e) => {
            tracing::error!(error = %e, "metrics: reading the service's state failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "the service's state cannot be read now; retry\n")
                .into_response();
        }
    }
    let mut text = String::new();
    if encode(&mut text, &state.metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

async fn refresh(state: &AppState) -> Result<(), healthcode_service::ServiceError> {
    let m = &state.metrics;
    let service = &state.service;
    let stats = service.overview().stats().await?;
    m.persons.set(stats.persons as i64);
    m.queue.set(stats.queue as i64);
    for (colour, n) in stats.codes {
        m.codes.get_or_create(&ColourLabels { colour: colour.as_str().to_string() }).set(n as i64);
    }
    m.log_size.set(service.log().size().await? as i64);
    let checkpoint = service.log().current_checkpoint().await?;
    let now = service.now();
    m.checkpoint_age.set((now.as_millis() - checkpoint.signed_at.as_millis()) as f64 / 1000.0);
    let finished = m.beat.finished_at.load(Ordering::Relaxed);
    m.scheduler_lag.set(if finished == 0 { -1.0 } else { (now_millis() - finished) as f64 / 1000.0 });
    m.scheduler_evaluated.set(m.beat.evaluated.load(Ordering::Relaxed) as i64);
    m.scheduler_failures.set(m.beat.failures.load(Ordering::Relaxed) as i64);
    m.scheduler_leader.set(i64::from(state.service.coordination().leads()));
    let complaints = service.overview().complaint_counts().await?;
    for (standing, n) in [
        ("open", complaints.open),
        ("awaiting_department", complaints.awaiting_department),
        ("escalated", complaints.escalated),
    ] {
        m.complaints.get_or_create(&StandingLabels { standing: standing.to_string() }).set(n as i64);
    }
    m.alarms.set(service.alarms().list(0, 1000).await?.len() as i64);
    let feeds = service.overview().feed_progress();
    m.feed_uploads.set(feeds.uploads_in_progress as i64);
    for (outcome, n) in
        [("accepted", feeds.rows_accepted), ("duplicate", feeds.rows_duplicate), ("rejected", feeds.rows_rejected)]
    {
        m.feed_rows.get_or_create(&OutcomeLabels { outcome }).set(n as i64);
    }
    let store = service.overview().store_status();
    for (state, n) in
        [("max", store.max_connections), ("open", store.open_connections), ("idle", store.idle_connections)]
    {
        m.db_connections.get_or_create(&StateLabels { state }).set(n as i64);
    }
    if let Some(waiting) = store.waiting {
        m.db_waiting.get_or_create(&BackendLabels { backend: "postgres" }).set(waiting as i64);
    }
    if let Some(bytes) = store.embedded_memory_bytes {
        m.db_memory.get_or_create(&BackendLabels { backend: "sqlite" }).set(bytes as i64);
    }
    Ok(())
}
