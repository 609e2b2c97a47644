//! `/healthz`, `/readyz` and `/metrics` on one small HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::task::JoinHandle;

use super::metrics::Metrics;

/// What the endpoints report.
#[derive(Clone)]
pub struct Health {
    pub metrics: Arc<Metrics>,
    /// Set once the API server answered. A standby replica is ready: it is healthy and waiting, and a
    /// rollout must be able to proceed past it.
    pub connected: Arc<AtomicBool>,
    /// Set while this replica leads.
    pub leading: Arc<AtomicBool>,
    /// Set once the leader's caches are filled.
    pub synced: Arc<AtomicBool>,
    /// The kinds whose caches are not filled yet, for the answer of `/readyz`.
    pub pending: Arc<std::sync::Mutex<Vec<String>>>,
}

/// Serves the endpoints on `addr`; returns the bound address and the server task.
pub async fn serve(addr: SocketAddr, health: Health) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for /metrics, /healthz and /readyz: {e}"))?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(health);
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "health server stopped");
        }
    });
    Ok((bound, task))
}

async fn readyz(State(health): State<Health>) -> impl IntoResponse {
    if !health.connected.load(Ordering::Relaxed) {
        (StatusCode::SERVICE_UNAVAILABLE, "not connected to the Kubernetes API server yet".to_string())
    } else if health.leading.load(Ordering::Relaxed) && !health.synced.load(Ordering::Relaxed) {
        let pending = health.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).join(", ");
        (StatusCode::SERVICE_UNAVAILABLE, format!("leading; caches not synced yet: {pending}"))
    } else {
        (StatusCode::OK, "ok".to_string())
    }
}

async fn metrics(State(health): State<Health>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], health.metrics.render())
}
