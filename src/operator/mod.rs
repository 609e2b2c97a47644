//! The Kubernetes operator: the same engine as the CLI, run continuously by kube-runtime controllers
//! against the resources of a cluster. One replica leads (a Lease) and reconciles; the Tenant is the
//! unit of reconciliation, profiles get an aggregated status.

mod access;
mod case_controller;
mod conclude;
mod conditions;
mod context;
mod controllers;
mod credentials;
mod health;
mod inputs;
mod leader;
mod metrics;
mod names;
mod notification_controller;
mod observations;
mod pin;

pub use observations::DEFAULT_CACHED_TENANTS;
mod profile_controller;
mod revisions;
mod staleness;
mod tenant_controller;
mod tenant_sync;
mod watch;
mod writes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use kube::runtime::events::{Recorder, Reporter};

pub use conditions::{Verdict, merge};
pub use leader::LeaseSettings;
pub use profile_controller::{Standing, standing};
pub use tenant_controller::FINALIZER;

use crate::graph::client::{Credentials, GraphClient, GraphConfig};

/// Field manager of every write the operator makes to Kubernetes (server-side apply).
pub const FIELD_MANAGER: &str = "tenantctl-operator";

/// How the operator runs.
#[derive(Clone, Debug)]
pub struct OperatorConfig {
    /// Kubeconfig file; else `KUBECONFIG`, `~/.kube/config` or the in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    /// Watch one namespace, or all.
    pub namespace: Option<String>,
    pub sync_interval: Duration,
    pub graph: GraphConfig,
    /// Namespace the operator runs in (its Lease and credentials Secret live there).
    pub operator_namespace: String,
    pub credentials_secret: Option<String>,
    pub health_addr: SocketAddr,
    /// Where /metrics is served when not with the health endpoints.
    pub metrics_addr: Option<SocketAddr>,
    pub lease: LeaseSettings,
    pub concurrency: u16,
    pub notification_settle: Duration,
    /// Tenants whose last observation is kept between syncs.
    pub cached_tenants: usize,
}

async fn kube_client(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("kubeconfig {}", path.display()))?
        }
        None => kube::Config::infer().await.context("no Kubernetes configuration found")?,
    };
    Ok(kube::Client::try_from(config)?)
}

/// Resolves on SIGTERM or Ctrl-C.
async fn termination() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// Runs until SIGTERM, or until the lease is lost (an error: the replica must restart as a standby).
pub async fn run(config: OperatorConfig) -> anyhow::Result<()> {
    let kube = kube_client(config.kubeconfig.as_deref()).await?;
    let version = kube.apiserver_version().await.context("cannot reach the Kubernetes API server")?;
    tracing::info!(kubernetes = %version.git_version, "connected to the Kubernetes API server");

    let metrics = Arc::new(metrics::Metrics::new());
    let watches = watch::Watches::default();
    let health = health::Health {
        watches: watches.health.clone(),
        metrics: metrics.clone(),
        connected: Arc::new(AtomicBool::new(true)),
        leading: Arc::new(AtomicBool::new(false)),
        synced: Arc::new(AtomicBool::new(false)),
        pending: Default::default(),
    };
    let (addr, _server) = health::serve(config.health_addr, health.clone(), config.metrics_addr.is_none()).await?;
    let _metrics_server = match config.metrics_addr {
        Some(metrics_addr) => {
            let (bound, server) = health::serve_metrics(metrics_addr, metrics.clone()).await?;
            tracing::info!(addr = %bound, "serving /metrics");
            Some(server)
        }
        None => None,
    };
    tracing::info!(%addr, "serving /metrics, /healthz and /readyz");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        termination().await;
        tracing::info!("stopping");
        let _ = stop.send(true);
    });
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };

    tracing::info!(lease = %format!("{}/{}", config.lease.namespace, config.lease.name), identity = %config.lease.identity, "waiting to lead");
    let mut leadership = tokio::select! {
        leadership = leader::acquire(kube.clone(), &config.lease) => leadership?,
        () = until_stopped(stopped.clone()) => return Ok(()),
    };
    tracing::info!(identity = %config.lease.identity, "leading");
    metrics.set_leader(true);
    health.leading.store(true, Ordering::Relaxed);

    let graph = GraphClient::new(config.graph.clone(), Credentials::default())?;
    let reporter = Reporter { controller: FIELD_MANAGER.into(), instance: Some(config.lease.identity.clone()) };
    let wiring = controllers::Wiring {
        kube: kube.clone(),
        graph,
        settings: context::Settings {
            sync_interval: config.sync_interval,
            operator_namespace: config.operator_namespace.clone(),
            credentials_secret: config.credentials_secret.clone(),
            cached_tenants: config.cached_tenants,
        },
        metrics: metrics.clone(),
        recorder: Recorder::new(kube.clone(), reporter),
        namespace: config.namespace.clone(),
        concurrency: config.concurrency,
        notification_settle: config.notification_settle,
        ready: health.synced.clone(),
        pending: health.pending.clone(),
        watches,
    };
    tokio::select! {
        () = controllers::run(wiring, until_stopped(stopped)) => {
            leadership.release().await;
            metrics.set_leader(false);
            tracing::info!("stopped; lease released");
            Ok(())
        }
        () = leadership.lost() => {
            metrics.set_leader(false);
            anyhow::bail!("lost the leader lease; stopping so that only the new leader writes")
        }
    }
}
