//! `tenantctl operator`: runs the Kubernetes controller (see the `operator` module).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::graph::client::{DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, GraphConfig};
use crate::operator::{LeaseSettings, OperatorConfig};

#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// Kubeconfig file (default: KUBECONFIG, ~/.kube/config, or the in-cluster service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "TENANTCTL_WATCH_NAMESPACE", value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// How often each tenant is read again to find and repair drift (e.g. 30s, 5m, 1h).
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    pub sync_interval: Duration,
    /// Microsoft Graph endpoint (https unless loopback).
    #[arg(long, env = "TENANTCTL_GRAPH_URL", default_value = DEFAULT_GRAPH_URL, value_name = "URL")]
    pub graph_url: String,
    /// Microsoft identity platform endpoint (https unless loopback).
    #[arg(long, env = "TENANTCTL_LOGIN_URL", default_value = DEFAULT_LOGIN_URL, value_name = "URL")]
    pub login_url: String,
    /// Also trust the CA certificates of this PEM file (a proxy that inspects TLS).
    #[arg(long, env = "TENANTCTL_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Namespace the operator runs in: its Lease and its credentials Secret live there.
    #[arg(long, env = "POD_NAMESPACE", default_value = "tenantctl-system", value_name = "NAMESPACE")]
    pub operator_namespace: String,
    /// Secret in the operator's namespace with the credential of tenants that name none: `clientId`
    /// and `clientSecret` (or `tls.key`). Without it, AZURE_CLIENT_ID with AZURE_FEDERATED_TOKEN_FILE
    /// (workload identity), AZURE_CLIENT_CERTIFICATE_PATH or AZURE_CLIENT_SECRET.
    #[arg(long, env = "TENANTCTL_CREDENTIALS_SECRET", value_name = "NAME")]
    pub credentials_secret: Option<String>,
    /// Address of /healthz and /readyz (and of /metrics, unless --metrics-addr moves it).
    #[arg(long, default_value = "0.0.0.0:8080", value_name = "ADDR")]
    pub health_addr: SocketAddr,
    /// Serve /metrics on this address of its own (for example one only Prometheus reaches).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Name of the Lease used for leader election.
    #[arg(long, default_value = "tenantctl-operator", value_name = "NAME")]
    pub lease_name: String,
    /// Identity of this replica in the Lease (default: POD_NAME, else host name and process id).
    #[arg(long, env = "POD_NAME", value_name = "ID")]
    pub identity: Option<String>,
    /// How long the lease lasts without renewal; a standby takes over after it.
    #[arg(long, default_value = "15s", value_parser = parse_duration, value_name = "DURATION")]
    pub lease_duration: Duration,
    /// Split the tenants into this many shards, each owned by one replica through a Lease of its own;
    /// replicas share the shards evenly and take over those of a replica that dies (1: the leader
    /// reconciles every tenant, other replicas wait).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024), value_name = "N")]
    pub shards: u16,
    /// Tenants reconciled at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: u16,
    /// New findings must stay unchanged this long before a NotificationPolicy is told (tenants are
    /// reconciled one after another; one notification covers the whole move).
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub notification_settle: Duration,
    /// Tenants whose last observation is kept between syncs (a sync of a tenant in sync then lists its
    /// policies and reads nothing else); beyond, the tenant synced longest ago is read in full.
    #[arg(long, default_value_t = crate::operator::DEFAULT_CACHED_TENANTS, value_name = "N")]
    pub cached_tenants: usize,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let parsed: jiff::SignedDuration =
        text.parse().map_err(|e| format!("`{text}` is not a duration such as 30s, 5m or 1h: {e}"))?;
    let duration = Duration::try_from(parsed).map_err(|_| format!("`{text}` must not be negative"))?;
    if duration.is_zero() {
        return Err(format!("`{text}` must be longer than zero"));
    }
    Ok(duration)
}

fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "tenantctl".to_string());
    format!("{host}-{}", std::process::id())
}

pub fn run(args: &OperatorArgs) -> anyhow::Result<u8> {
    let lease_seconds = args.lease_duration.as_secs().max(2);
    let config = OperatorConfig {
        kubeconfig: args.kubeconfig.clone(),
        namespace: args.namespace.clone(),
        sync_interval: args.sync_interval,
        graph: GraphConfig::new(&args.graph_url, &args.login_url)?.trusting(args.ca_file.as_deref())?,
        operator_namespace: args.operator_namespace.clone(),
        credentials_secret: args.credentials_secret.clone(),
        health_addr: args.health_addr,
        metrics_addr: args.metrics_addr,
        lease: LeaseSettings {
            name: args.lease_name.clone(),
            namespace: args.operator_namespace.clone(),
            identity: args.identity.clone().unwrap_or_else(default_identity),
            duration_seconds: lease_seconds,
            // Renew with a third of the lease left, as client-go's defaults do (15 s / 10 s).
            grace_seconds: (lease_seconds / 3).max(1),
        },
        concurrency: args.concurrency.max(1),
        notification_settle: args.notification_settle,
        cached_tenants: args.cached_tenants,
        shards: usize::from(args.shards),
    };
    config.lease.check()?;
    let runtime = super::pipeline::runtime()?;
    runtime.block_on(crate::operator::run(config)).context("operator")?;
    Ok(super::EXIT_OK)
}
