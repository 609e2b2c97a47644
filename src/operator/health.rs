//! `/healthz`, `/readyz` and `/metrics` on one small HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::task::JoinHandle;

use super::metrics::Metrics;
use super::watch::WatchHealth;

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
    /// How the watches are doing.
    pub watches: WatchHealth,
}

/// How long a watch may fail before the leader says it is not ready: it reconciles from a cache that
/// no longer follows the cluster.
const WATCH_FAILING_BOUND: Duration = Duration::from_secs(30);

/// Serves the health endpoints (and `/metrics` when `with_metrics`) on `addr`; returns the bound
/// address and the server task.
pub async fn serve(
    addr: SocketAddr,
    health: Health,
    with_metrics: bool,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for /healthz and /readyz: {e}"))?;
    let bound = listener.local_addr()?;
    let mut app = Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(readyz));
    if with_metrics {
        app = app.route("/metrics", get(metrics));
    }
    let app = app.with_state(health);
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
    } else if let Some((kind, failing)) = health
        .leading
        .load(Ordering::Relaxed)
        .then(|| health.watches.failing_longer_than(WATCH_FAILING_BOUND).into_iter().next())
        .flatten()
    {
        let message = format!("leading; the watch of {kind} has been failing for {} s", failing.as_secs());
        (StatusCode::SERVICE_UNAVAILABLE, message)
    } else if health.leading.load(Ordering::Relaxed) && !health.synced.load(Ordering::Relaxed) {
        let pending = health.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).join(", ");
        (StatusCode::SERVICE_UNAVAILABLE, format!("leading; caches not synced yet: {pending}"))
    } else {
        (StatusCode::OK, "ok".to_string())
    }
}

async fn metrics(State(health): State<Health>) -> impl IntoResponse {
    health.metrics.watches(&health.watches.states());
    exposition(&health.metrics)
}

fn exposition(metrics: &Metrics) -> impl IntoResponse + use<> {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], metrics.render())
}

/// Serves `/metrics` alone on `addr`.
pub async fn serve_metrics(addr: SocketAddr, metrics: Arc<Metrics>) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for /metrics: {e}"))?;
    let bound = listener.local_addr()?;
    let app = Router::new().route("/metrics", get(move || std::future::ready(exposition(&metrics))));
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "metrics server stopped");
        }
    });
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: String) -> (u16, String) {
        let reply = reqwest::get(url).await.expect("request");
        (reply.status().as_u16(), reply.text().await.expect("body"))
    }

    #[tokio::test]
    async fn metrics_can_move_to_an_address_of_their_own() {
        let metrics = Arc::new(Metrics::new());
        let health = Health {
            metrics: metrics.clone(),
            connected: Arc::new(AtomicBool::new(true)),
            leading: Arc::new(AtomicBool::new(true)),
            synced: Arc::new(AtomicBool::new(false)),
            pending: Arc::new(std::sync::Mutex::new(vec!["Tenant".into(), "IntuneRole".into()])),
            watches: WatchHealth::default(),
        };
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let (health_addr, _h) = serve(loopback, health, false).await.expect("health");
        let (metrics_addr, _m) = serve_metrics(loopback, metrics).await.expect("metrics");
        assert_eq!(get(format!("http://{health_addr}/metrics")).await.0, 404);
        let (status, text) = get(format!("http://{metrics_addr}/metrics")).await;
        assert_eq!(status, 200);
        assert!(text.contains("tenantctl_build_info"), "{text}");
        let (status, text) = get(format!("http://{health_addr}/readyz")).await;
        assert_eq!((status, text.as_str()), (503, "leading; caches not synced yet: Tenant, IntuneRole"));
    }
}
