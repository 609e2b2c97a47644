//! The Kubernetes operator: the same engine as the CLI, run continuously by kube-runtime controllers
//! against the resources of a cluster. The Tenant is the unit of reconciliation: tenants are split into
//! shards, each owned by one replica through a Lease (`--shards 1`: the leader owns the only one);
//! the leader also keeps profiles' aggregated status, notifications and cases.

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
mod lease_lock;
mod metrics;
mod names;
mod notification_controller;
mod observations;
mod pin;

pub use observations::DEFAULT_CACHED_TENANTS;
mod profile_controller;
mod revisions;
mod sharding;
mod shards;
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

/// How often a replica that does not lead looks again at profiles, notification policies and cases,
/// in case it has come to lead.
const FOLLOWER_RECHECK: Duration = Duration::from_secs(5);

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
    /// Tenant shards, each owned by one replica through a Lease of its own; 1: the leader reconciles
    /// every tenant.
    pub shards: usize,
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

    let shards = Arc::new(shards::ShardTable::new(config.shards));
    let leading = Arc::new(AtomicBool::new(false));
    let sharded = config.shards > 1;
    let lease_name = format!("{}/{}", config.lease.namespace, config.lease.name);
    // One shard: the leader reconciles every tenant, and a standby waits here, reading nothing.
    let leadership = if sharded {
        None
    } else {
        tracing::info!(lease = %lease_name, identity = %config.lease.identity, "waiting to lead");
        let leadership = tokio::select! {
            leadership = leader::acquire(kube.clone(), &config.lease) => leadership?,
            () = until_stopped(stopped.clone()) => return Ok(()),
        };
        tracing::info!(identity = %config.lease.identity, "leading");
        shards.own(0, None);
        Some(leadership)
    };
    let on_lead = {
        let (metrics, leading, health_leading) = (metrics.clone(), leading.clone(), health.leading.clone());
        move || {
            metrics.set_leader(true);
            leading.store(true, Ordering::Relaxed);
            health_leading.store(true, Ordering::Relaxed);
        }
    };
    if sharded {
        // Every replica watches and reconciles its shards from the start.
        health.leading.store(true, Ordering::Relaxed);
    } else {
        on_lead();
    }
    let leader_duty = {
        let (kube, settings, stopped) = (kube.clone(), config.lease.clone(), stopped.clone());
        async move {
            let leadership = match leadership {
                Some(leadership) => leadership,
                None => tokio::select! {
                    leadership = leader::acquire(kube, &settings) => {
                        let leadership = leadership?;
                        tracing::info!(identity = %settings.identity, "leading: profiles, notifications and cases");
                        on_lead();
                        leadership
                    }
                    () = until_stopped(stopped.clone()) => return Ok(()),
                },
            };
            leadership.lead_until(until_stopped(stopped)).await
        }
    };

    let (acquired, shards_acquired) = tokio::sync::mpsc::unbounded_channel();
    let coordinator = sharded.then(|| {
        let coordinator = sharding::Coordinator {
            locks: lease_lock::LeaseLocks::new(
                kube.clone(),
                &config.lease.namespace,
                &config.lease.name,
                &config.lease.identity,
                Duration::from_secs(config.lease.duration_seconds),
            ),
            group: config.lease.name.clone(),
            table: shards.clone(),
            duration: Duration::from_secs(config.lease.duration_seconds),
            acquired,
            metrics: metrics.clone(),
            synced: health.synced.clone(),
        };
        tracing::info!(shards = config.shards, identity = %config.lease.identity, "sharing tenant shards with the other replicas");
        tokio::spawn(coordinator.run(until_stopped(stopped.clone())))
    });

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
            identity: config.lease.identity.clone(),
        },
        metrics: metrics.clone(),
        recorder: Recorder::new(kube.clone(), reporter),
        namespace: config.namespace.clone(),
        concurrency: config.concurrency,
        notification_settle: config.notification_settle,
        ready: health.synced.clone(),
        pending: health.pending.clone(),
        watches,
        shards,
        shards_acquired,
        leading,
    };
    let controllers = controllers::run(wiring, until_stopped(stopped));
    tokio::pin!(controllers, leader_duty);
    tokio::select! {
        // Stopped: the leader lease is given back so that another replica takes over at once.
        () = &mut controllers => {
            let _ = leader_duty.await;
        }
        outcome = &mut leader_duty => {
            if let Err(error) = outcome {
                metrics.set_leader(false);
                anyhow::bail!("{error:#}; stopping so that only the new leader writes");
            }
            controllers.await;
        }
    }
    metrics.set_leader(false);
    // The shards too (drained first).
    if let Some(coordinator) = coordinator {
        let _ = coordinator.await;
    }
    tracing::info!("stopped; leases released");
    Ok(())
}
