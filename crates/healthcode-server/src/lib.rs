#![doc = include_str!("../README.md")]

mod api;
mod error;
pub mod limits;
pub mod metrics;
pub mod national_sync;
pub mod notice;
mod pages;

#[doc(hidden)]
pub mod fuzzing;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::Router;
use healthcode_service::HealthService;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// The largest request body accepted by `POST /v1/events/batch`.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The largest body of a single JSON document (one event, designation or registration).
pub const MAX_JSON_BYTES: usize = 1024 * 1024;
/// The largest body axum's own extractors read (page forms): a rule set with its
/// scenarios is the largest form, a few kilobytes.
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// The Content-Security-Policy of every response: no scripts, no external assets, inline
/// styles only, forms only to this server, never framed.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<HealthService>,
    /// The demo region is loaded: `/demo` lists sample residents and lets a visitor sign
    /// in as one. Never on a real deployment, where it would hand out residents' codes.
    pub demo: bool,
    /// Rate limits on registration and sign-in, per client address; none in tests.
    pub limits: Option<Arc<limits::Limits>>,
    /// `POST /v1/verify` checks concurrent requests' signatures in one batch (on by
    /// default; off to measure the difference).
    pub verify_in_batches: bool,
    /// The public dashboard's figures, computed at most once a minute.
    pub(crate) dashboard: pages::FiguresCache,
    /// Every cookie is marked `Secure` (served behind TLS). Without it, a request that a
    /// TLS proxy forwarded (`X-Forwarded-Proto: https`) gets `Secure` cookies anyway.
    pub secure_cookies: bool,
    /// What `/metrics` exposes; the scheduler writes its heartbeat here.
    pub(crate) metrics: Arc<metrics::Metrics>,
}

impl AppState {
    /// Starts the scheduler (`spawn_scheduler`) with its heartbeat in this state's metrics.
    pub fn spawn_scheduler(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        spawn_scheduler_beating(self.service.clone(), every, self.metrics.beat.clone())
    }

    pub fn new(service: Arc<HealthService>) -> Self {
        AppState {
            service,
            demo: false,
            limits: None,
            verify_in_batches: true,
            dashboard: Default::default(),
            secure_cookies: false,
            metrics: Default::default(),
        }
    }

    /// With rate limits on registration and sign-in (`healthcode serve` always has them).
    pub fn with_limits(mut self, settings: limits::LimitSettings) -> Self {
        self.limits = Some(limits::Limits::new(settings));
        self
    }

    /// With the demo pages on (`healthcode serve --demo`).
    pub fn with_demo(mut self) -> Self {
        self.demo = true;
        self
    }
}

/// The OpenAPI 3.1 document of the JSON API, as `GET /v1/openapi.json` serves it.
pub fn openapi_document() -> &'static str {
    api::openapi::document()
}

/// The whole HTTP surface: the JSON API, the pages, JSON fallbacks for unknown routes
/// and methods, security headers and request tracing.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(Router::from(api::routes()))
        .merge(pages::routes())
        .route("/metrics", axum::routing::get(metrics::scrape))
        // Every route above is counted and timed by its template.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        // After the merges: applies to every route above.
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        // Page forms are small; the JSON API reads its own bodies with their own limits
        // (and a batch only once its caller is authorised).
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(CatchPanicLayer::custom(error::panicked))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        // Pages with a form relax it to `same-origin` so that browsers send the Origin the
        // CSRF check reads (pages::layout::same_origin); everything else sends no referrer.
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        // Codes are personal health data: never kept by a browser or a proxy.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(axum::middleware::from_fn_with_state(state.limits.clone(), limits::limit))
        .layer(axum::middleware::from_fn_with_state(state.secure_cookies, secure_cookies))
        // The incident notice, while one stands, on every answer and page.
        .layer(axum::middleware::from_fn_with_state(state.clone(), notice::carry))
        // The exchange's answers, compressed for a client that asks (issue 15): marked
        // by path inside, compressed outside every layer that reads or rewrites a body.
        .layer(axum::middleware::from_fn(mark_exchange))
        .layer(CompressionLayer::new().compress_when(DefaultPredicate::new().and(ExchangeAnswer)))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Whether a path's answers may be compressed: the national exchange's (`/v1/hub/…`,
/// `/v1/national/…`) and the public transparency log's (`/v1/log/…`: checkpoints, proofs
/// and the pages of leaves regions follow and auditors read). A 1,000-leaf page of the
/// national list is about 280 KB of JSON, and about 35 KB in zstd. Public data only:
/// nothing secret sits in these answers beside what a client can make them echo (the
/// BREACH attack on compressed secrets), and pages and personal answers are never
/// compressed.
fn exchange_path(path: &str) -> bool {
    path.starts_with("/v1/log/") || path.starts_with("/v1/hub/") || path.starts_with("/v1/national/")
}

/// The mark `mark_exchange` leaves on an answer `ExchangeAnswer` lets be compressed.
#[derive(Clone, Copy)]
struct Exchange;

/// Marks the answers to `exchange_path`s: the compression layer sees only the answer, not
/// the path it answers.
async fn mark_exchange(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let exchange = exchange_path(request.uri().path());
    let mut response = next.run(request).await;
    if exchange {
        response.extensions_mut().insert(Exchange);
    }
    response
}

/// Compresses only marked answers (and, with `DefaultPredicate`, only those above 32 bytes
/// and not already compressed), in the coding the client prefers among zstd and gzip
/// (zstd on a tie); a client that does not ask gets the plain answer as before.
#[derive(Clone, Copy)]
struct ExchangeAnswer;

impl Predicate for ExchangeAnswer {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        response.extensions().get::<Exchange>().is_some()
    }
}

/// Marks every cookie a response sets `Secure` when the deployment is behind TLS
/// (`secure_cookies`) or the request came through a TLS proxy (`X-Forwarded-Proto:
/// https`): a session or resident key must never travel in the clear. A client that
/// claims https over plain HTTP only stops its own browser keeping the cookie.
async fn secure_cookies(
    axum::extract::State(always): axum::extract::State<bool>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let forwarded_https = request
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let mut response = next.run(request).await;
    if always || forwarded_https {
        let cookies: Vec<HeaderValue> = response.headers_mut().get_all(header::SET_COOKIE).iter().cloned().collect();
        if !cookies.is_empty() {
            response.headers_mut().remove(header::SET_COOKIE);
            for cookie in cookies {
                let text = cookie.to_str().unwrap_or_default();
                let secured = if text.to_ascii_lowercase().contains("; secure") {
                    text.to_string()
                } else {
                    format!("{text}; Secure")
                };
                if let Ok(value) = HeaderValue::from_str(&secured) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
        }
    }
    response
}

/// Serves `router(state)` on an already bound listener (port 0 in tests) until
/// `shutdown` completes; requests in flight are then finished.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The client's address reaches the rate limits.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Every `every`, re-evaluates the codes whose next change has come (`run_due`; the
/// first run is at once) and, on the one server of the province that holds the
/// scheduler's lease (`Coordination`), runs the jobs that must run once: activating
/// approved rule sets, finishing decisions and designations another server left half
/// done, signing a checkpoint of the transparency log if it has grown, retention and
/// complaints' deadlines. Errors, and even a panic inside a run, are logged and the next
/// tick tries again: the task ends only when aborted.
pub fn spawn_scheduler(service: Arc<HealthService>, every: Duration) -> tokio::task::JoinHandle<()> {
    spawn_scheduler_beating(service, every, Default::default())
}

/// How often a server reads what the others changed (designations, the rule set in
/// force) and renews the scheduler's lease: well inside the lease's length.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// Every `FOLLOW_EVERY`, brings the server's memory up to what other servers wrote and
/// renews (or takes) the scheduler's lease (`HealthService::follow`). Errors are logged
/// and the next round tries again; the task ends only when aborted.
pub fn spawn_follower(service: Arc<HealthService>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(FOLLOW_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut led = false;
        loop {
            ticks.tick().await;
            match service.follow().await {
                Ok(leads) => {
                    if leads != led {
                        let holder = service.coordination().holder();
                        if leads {
                            tracing::info!(%holder, "this server now runs the province's scheduled jobs");
                        } else {
                            tracing::info!(%holder, "another server runs the province's scheduled jobs");
                        }
                    }
                    led = leads;
                }
                Err(e) => tracing::error!(error = %e, "cannot follow the other servers' changes; will retry"),
            }
        }
    })
}

/// As `spawn_scheduler`, noting the end of each run in `beat` (for `/metrics`).
fn spawn_scheduler_beating(
    service: Arc<HealthService>,
    every: Duration,
    beat: Arc<metrics::SchedulerBeat>,
) -> tokio::task::JoinHandle<()> {
    let every = every.max(Duration::from_millis(1));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let run = tokio::spawn({
                let service = service.clone();
                async move {
                    // The lease first (the follower renews it too, between ticks), then
                    // what other servers changed.
                    let leads = service.follow().await?;
                    if leads {
                        // An approved rule set whose time has come takes effect first.
                        service.governance().activate_due_rules().await?;
                        // A decision approved and logged, then cut short by a crash, is finished.
                        service.governance().finish_interrupted_decisions(Duration::from_secs(60)).await?;
                        // So is a designation recorded and never queued.
                        service.codes().queue_unapplied_designations(Duration::from_secs(60)).await?;
                    }
                    let report = service.codes().run_due().await?;
                    if leads {
                        // What changed is signed for auditors at every tick (nothing is
                        // signed when the log has not grown), by one server at a time.
                        service.log().sign_checkpoint().await?;
                        service.residents().apply_retention().await?;
                        service.national().apply_retention().await?;
                        // Complaints whose record was retracted, or whose deadline passed.
                        service.residents().follow_up_complaints().await?;
                    }
                    Ok::<_, healthcode_service::ServiceError>(report)
                }
            });
            let outcome = run.await;
            beat.ran(match &outcome {
                Ok(Ok(report)) => Some(report.evaluated),
                _ => None,
            });
            match outcome {
                Ok(Ok(report)) if report.evaluated > 0 => {
                    tracing::info!(evaluated = report.evaluated, changed = report.changed, "scheduled re-evaluation")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "scheduled re-evaluation failed; will retry"),
                Err(e) => tracing::error!(error = %e, "scheduled re-evaluation panicked; will retry"),
            }
        }
    })
}
