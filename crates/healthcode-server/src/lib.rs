#![doc = include_str!("../README.md")]

mod api;
mod error;
mod pages;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::Router;
use healthcode_service::HealthService;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// The largest request body accepted (a batch of events).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<HealthService>,
}

impl AppState {
    pub fn new(service: Arc<HealthService>) -> Self {
        AppState { service }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .fallback(error::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` completes. The listener is bound by the caller (port 0 in tests).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}

/// Re-evaluates, every `every`, the codes whose next change has come.
pub fn spawn_scheduler(service: Arc<HealthService>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match service.run_due().await {
                Ok(report) if report.evaluated > 0 => {
                    tracing::info!(evaluated = report.evaluated, changed = report.changed, "scheduled re-evaluation")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "scheduled re-evaluation failed; will retry"),
            }
        }
    })
}
