//! Status that tells the truth about Graph between reconciles. A tenant whose reads hang (Graph
//! answering slowly, a reconcile stuck in retries) never concludes, so its status would keep saying
//! `Ready`: a Tenant not read successfully for several sync intervals is marked not ready (`Stale`).
//! And when the Graph endpoint refuses connections — every tenant is behind it — every Ready Tenant is
//! marked `Unreachable` at once, instead of one by one as their next reconciles find out.

use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{Resource, ResourceExt};

use super::conclude::READY;
use super::conditions::{Verdict, merge};
use super::context::{Context, namespace_of};
use super::writes::apply_status;

/// How many sync intervals without a successful read make a tenant stale.
const STALE_AFTER_INTERVALS: u32 = 3;

/// How long past the bound a tenant last read at `last_read` is at `now`, when it is.
pub fn stale_for(now: Instant, last_read: Instant, sync_interval: Duration) -> Option<Duration> {
    let age = now.saturating_duration_since(last_read);
    (age > sync_interval * STALE_AFTER_INTERVALS).then_some(age)
}

/// Whether the Graph endpoint refuses TCP connections right now (the host answers, nothing listens):
/// the one failure that is certain and cheap to see. A timeout or a name that does not resolve says
/// nothing certain, and is left to the reconciles.
pub async fn graph_refuses(ctx: &Context) -> bool {
    let url = &ctx.graph.config().graph_url;
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let connect = tokio::net::TcpStream::connect((host, port));
    matches!(
        tokio::time::timeout(Duration::from_secs(1), connect).await,
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused
    )
}

/// Marks not ready every Ready Tenant whose last successful read is too old, or all of them when Graph
/// refuses connections.
pub async fn sweep(ctx: &Context, refused: bool) {
    let now = Instant::now();
    let last_reads = ctx.last_reads();
    // Only this replica's tenants: the others' are judged by the replicas that read them.
    for tenant in ctx.stores.tenants.state().into_iter().filter(|t| ctx.shards.owns(&t.spec.tenant_id)) {
        let key = format!("{}/{}", namespace_of(tenant.as_ref()), tenant.name_any());
        let stale = last_reads.get(&key).and_then(|at| stale_for(now, *at, ctx.settings.sync_interval));
        let (reason, message) = match (refused, stale) {
            (true, _) => (
                "Unreachable",
                format!(
                    "Microsoft Graph at {} refuses connections: nothing is read or written until it answers",
                    ctx.graph.config().graph_url
                ),
            ),
            (false, Some(age)) => (
                "Stale",
                format!(
                    "not read successfully for {} s ({STALE_AFTER_INTERVALS} sync intervals or more): Graph may be \
                     slow or unreachable; the last good read is in lastSyncTime",
                    age.as_secs()
                ),
            ),
            (false, None) => continue,
        };
        let mut status = tenant.status.clone().unwrap_or_default();
        let ready = status.conditions.iter().find(|c| c.type_ == READY);
        if tenant.spec.suspend || ready.is_none_or(|c| c.status != "True") {
            continue;
        }
        let verdict = Verdict::new(READY, false, reason, message);
        let generation = tenant.meta().generation;
        let others: Vec<_> = status.conditions.iter().filter(|c| c.type_ != READY).cloned().collect();
        status.conditions = merge(&status.conditions, vec![verdict], generation, &Time(jiff::Timestamp::now()));
        status.conditions.extend(others);
        if let Err(error) = apply_status(&ctx.kube, tenant.as_ref(), &status).await {
            tracing::warn!(tenant = %key, %error, "cannot mark the tenant stale");
        } else {
            tracing::warn!(tenant = %key, reason, "tenant marked not ready between reconciles");
            ctx.metrics.tenant_ready(&key, Some("False"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_only_past_several_intervals() {
        let interval = Duration::from_secs(10);
        let now = Instant::now() + Duration::from_secs(100);
        assert_eq!(stale_for(now, now - Duration::from_secs(25), interval), None, "within three intervals");
        assert_eq!(stale_for(now, now - Duration::from_secs(31), interval), Some(Duration::from_secs(31)));
    }
}
