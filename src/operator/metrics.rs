//! Prometheus metrics of the operator: reconciles, errors by category, durations, writes and Graph
//! calls, served on `/metrics` in the OpenMetrics text format.

use std::sync::{Mutex, PoisonError};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::graph::client::ClientCounts;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    pub controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub controller: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CategoryLabels {
    pub category: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    pub action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReadyLabels {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: String,
}

/// Every metric, and the registry that serves them.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ResultLabels, Counter>,
    errors: Family<CategoryLabels, Counter>,
    durations: Family<ControllerLabels, Histogram>,
    writes: Family<ActionLabels, Counter>,
    graph_requests: Counter,
    graph_token_requests: Counter,
    graph_throttled: Counter,
    graph_retries: Counter,
    leader: Gauge,
    shards_owned: Gauge,
    in_flight: Gauge,
    watch_restarts: Family<KindLabels, Gauge>,
    watch_event_age: Family<KindLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    tenants: Family<ReadyLabels, Gauge>,
    /// The `Ready` status last concluded for each Tenant (`namespace/name`).
    ready_of: Mutex<std::collections::HashMap<String, &'static str>>,
    /// The client's counters at the last update, to turn its totals into increments.
    last_counts: Mutex<ClientCounts>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tenantctl");
        let reconciles = Family::<ResultLabels, Counter>::default();
        registry.register("reconciles", "Reconciles by controller and result", reconciles.clone());
        let errors = Family::<CategoryLabels, Counter>::default();
        registry.register("reconcile_errors", "Failed reconciles by category of error", errors.clone());
        let durations = Family::<ControllerLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.01, 2.0, 14))
        });
        registry.register("reconcile_duration_seconds", "Duration of reconciles", durations.clone());
        let writes = Family::<ActionLabels, Counter>::default();
        registry.register("policy_writes", "Policies created, updated and deleted in tenants", writes.clone());
        let graph_requests = Counter::default();
        registry.register("graph_requests", "Requests sent to Microsoft Graph", graph_requests.clone());
        let graph_token_requests = Counter::default();
        registry.register("graph_token_requests", "Token requests", graph_token_requests.clone());
        let graph_throttled = Counter::default();
        registry.register("graph_throttled", "Replies 429 from Microsoft Graph", graph_throttled.clone());
        let graph_retries = Counter::default();
        registry.register("graph_retries", "Retried Graph requests", graph_retries.clone());
        let leader = Gauge::default();
        registry.register("leader", "1 while this replica holds the leader lease", leader.clone());
        let shards_owned = Gauge::default();
        registry.register("shards_owned", "Tenant shards this replica owns and reconciles", shards_owned.clone());
        let in_flight = Gauge::default();
        registry.register("reconciles_in_flight", "Reconciles running now", in_flight.clone());
        let watch_restarts = Family::<KindLabels, Gauge>::default();
        registry.register(
            "watch_restarts",
            "Watch errors after which a watch restarted, by kind",
            watch_restarts.clone(),
        );
        let watch_event_age = Family::<KindLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "watch_last_event_age_seconds",
            "Time since the last event of each watch, by kind",
            watch_event_age.clone(),
        );
        let tenants = Family::<ReadyLabels, Gauge>::default();
        registry.register("tenants", "Tenants by the status of their Ready condition", tenants.clone());
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").into() }).set(1);
        registry.register("build_info", "The running tenantctl's version", build);
        Metrics {
            registry,
            reconciles,
            errors,
            durations,
            writes,
            graph_requests,
            graph_token_requests,
            graph_throttled,
            graph_retries,
            leader,
            shards_owned,
            in_flight,
            watch_restarts,
            watch_event_age,
            tenants,
            ready_of: Mutex::default(),
            last_counts: Mutex::new(ClientCounts::default()),
        }
    }

    pub fn reconciled(&self, controller: &str, result: &str, seconds: f64) {
        let labels = ResultLabels { controller: controller.into(), result: result.into() };
        self.reconciles.get_or_create(&labels).inc();
        self.durations.get_or_create(&ControllerLabels { controller: controller.into() }).observe(seconds);
    }

    /// A guard that records a reconcile's duration and result when dropped, however the reconcile
    /// ends (one cancelled or that panicked counts as an error unless [`ReconcileTimer::succeeded`]).
    pub fn timer<'a>(&'a self, controller: &'static str) -> ReconcileTimer<'a> {
        self.in_flight.inc();
        ReconcileTimer { metrics: self, controller, started: std::time::Instant::now(), ok: false }
    }

    /// Brings the watch gauges up to date (at each scrape).
    pub fn watches(&self, states: &std::collections::BTreeMap<String, super::watch::WatchState>) {
        for (kind, state) in states {
            let labels = KindLabels { kind: kind.clone() };
            self.watch_restarts.get_or_create(&labels).set(state.restarts as i64);
            if let Some(last) = state.last_event {
                self.watch_event_age.get_or_create(&labels).set(last.elapsed().as_secs_f64());
            }
        }
    }

    /// Records the `Ready` status of a Tenant (`None`: the Tenant is gone) for the tenants gauge.
    pub fn tenant_ready(&self, tenant: &str, status: Option<&'static str>) {
        let mut ready_of = self.ready_of.lock().unwrap_or_else(PoisonError::into_inner);
        match status {
            Some(status) => ready_of.insert(tenant.to_string(), status),
            None => ready_of.remove(tenant),
        };
        for status in ["True", "False", "Unknown"] {
            let count = ready_of.values().filter(|s| **s == status).count();
            self.tenants.get_or_create(&ReadyLabels { status: status.into() }).set(count as i64);
        }
    }

    pub fn error(&self, category: &str) {
        self.errors.get_or_create(&CategoryLabels { category: category.into() }).inc();
    }

    pub fn wrote(&self, action: &str, count: usize) {
        self.writes.get_or_create(&ActionLabels { action: action.into() }).inc_by(count as u64);
    }

    pub fn set_shards_owned(&self, shards: usize) {
        self.shards_owned.set(i64::try_from(shards).unwrap_or(i64::MAX));
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// Brings the Graph counters up to the client's totals.
    pub fn graph_counts(&self, now: ClientCounts) {
        let mut last = self.last_counts.lock().unwrap_or_else(PoisonError::into_inner);
        self.graph_requests.inc_by(now.requests.saturating_sub(last.requests));
        self.graph_token_requests.inc_by(now.token_requests.saturating_sub(last.token_requests));
        self.graph_throttled.inc_by(now.throttled.saturating_sub(last.throttled));
        self.graph_retries.inc_by(now.retries.saturating_sub(last.retries));
        *last = now;
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail; an empty page is the worst case.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// See [`Metrics::timer`].
pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    controller: &'static str,
    started: std::time::Instant,
    ok: bool,
}

impl ReconcileTimer<'_> {
    /// Marks the reconcile as successful (or not).
    pub fn succeeded(&mut self, ok: bool) {
        self.ok = ok;
    }
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.metrics.in_flight.dec();
        let result = if self.ok { "success" } else { "error" };
        self.metrics.reconciled(self.controller, result, self.started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconciles_tenants_and_the_build_are_counted() {
        let metrics = Metrics::new();
        {
            let mut ok = metrics.timer("tenant");
            ok.succeeded(true);
            let _failed = metrics.timer("tenant");
            assert!(metrics.render().contains("tenantctl_reconciles_in_flight 2"));
        }
        metrics.tenant_ready("ns/a", Some("True"));
        metrics.tenant_ready("ns/b", Some("False"));
        metrics.tenant_ready("ns/b", Some("True"));
        metrics.tenant_ready("ns/c", Some("False"));
        metrics.tenant_ready("ns/c", None);
        let text = metrics.render();
        for line in [
            "tenantctl_reconciles_in_flight 0",
            "tenantctl_reconciles_total{controller=\"tenant\",result=\"success\"} 1",
            "tenantctl_reconciles_total{controller=\"tenant\",result=\"error\"} 1",
            "tenantctl_tenants{status=\"True\"} 2",
            "tenantctl_tenants{status=\"False\"} 0",
            &format!("tenantctl_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION")),
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
    }
}
