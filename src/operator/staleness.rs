//! A tenant whose reads hang (Graph answering slowly, a reconcile stuck in retries) never concludes,
//! so its status would keep saying `Ready`. This sweep says otherwise: a Tenant not read successfully
//! for several sync intervals is marked not ready (`Stale`), with when it was last read.

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

/// Marks every Ready Tenant whose last successful read is too old as not ready. Runs every interval.
pub async fn sweep(ctx: &Context) {
    let now = Instant::now();
    let last_reads = ctx.last_reads();
    for tenant in ctx.stores.tenants.state() {
        let key = format!("{}/{}", namespace_of(tenant.as_ref()), tenant.name_any());
        let Some(age) = last_reads.get(&key).and_then(|at| stale_for(now, *at, ctx.settings.sync_interval)) else {
            continue;
        };
        let mut status = tenant.status.clone().unwrap_or_default();
        let ready = status.conditions.iter().find(|c| c.type_ == READY);
        if tenant.spec.suspend || ready.is_none_or(|c| c.status != "True") {
            continue;
        }
        let message = format!(
            "not read successfully for {} s ({} sync intervals or more): Graph may be slow or unreachable; \
             the last good read is in lastSyncTime",
            age.as_secs(),
            STALE_AFTER_INTERVALS
        );
        let verdict = Verdict::new(READY, false, "Stale", message);
        let generation = tenant.meta().generation;
        let others: Vec<_> = status.conditions.iter().filter(|c| c.type_ != READY).cloned().collect();
        status.conditions = merge(&status.conditions, vec![verdict], generation, &Time(jiff::Timestamp::now()));
        status.conditions.extend(others);
        if let Err(error) = apply_status(&ctx.kube, tenant.as_ref(), &status).await {
            tracing::warn!(tenant = %key, %error, "cannot mark the tenant stale");
        } else {
            tracing::warn!(tenant = %key, age_s = age.as_secs(), "tenant stale: no successful read");
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
