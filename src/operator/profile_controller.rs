//! The DistributionProfile controller: aggregates the status of the tenants a profile selects
//! (matched, in sync, drifted, failed) from their Tenant statuses. It never talks to Graph.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use kube::{Resource, ResourceExt};

use super::conclude::READY;
use super::conditions::{Verdict, merge};
use super::context::{Context, namespace_of};
use super::metrics::Metrics;
use super::revisions;
use super::tenant_controller::ReconcileError;
use super::writes::apply_status;
use crate::engine::rollout::{Health, HealthCheck, RolloutReport, RolloutState, Staged};
use crate::engine::standing::profile_revision;
use crate::graph::health::read_health;
use crate::model::rollout::{Rollout, TenantRollout};
use crate::model::select::profile_selects;
use crate::model::status::{DistributionProfileStatus, PolicySyncState, TenantStatus};
use crate::model::{DistributionProfile, Tenant};

/// A profile's status is aggregated at most this often.
const AGGREGATE_AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

pub struct ProfileContext {
    pub kube: kube::Client,
    pub tenants: Store<Tenant>,
    pub metrics: Arc<Metrics>,
    /// The Tenant controller's context: what is wrong with a profile is found where it is resolved.
    pub resolver: Arc<Context>,
    /// Told the namespace when a rollout decision moves, so that its Tenants write by it at once.
    pub rollout_moved: tokio::sync::mpsc::UnboundedSender<String>,
    /// Health read for rollout gates, by tenant and check, with when.
    pub health: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Health)>>,
    /// When each profile (`namespace/name`) was last aggregated.
    pub aggregated: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
    /// On a replica that does not lead, the rollout decision last seen per profile.
    pub followed: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// On a replica that does not lead: a rollout decision the leader moved re-plans this replica's
/// tenants of the namespace at once, as it does on the leader.
fn follow_rollout(profile: &DistributionProfile, ctx: &ProfileContext) {
    let decision =
        profile.status.as_ref().and_then(|s| s.rollout.as_ref()).map(|r| (r.state, r.wave, r.revisions.clone()));
    let digest = format!("{decision:?}");
    let key = format!("{}/{}", namespace_of(profile), profile.name_any());
    let mut seen = ctx.followed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if seen.insert(key, digest.clone()).is_some_and(|before| before != digest) {
        let _ = ctx.rollout_moved.send(namespace_of(profile));
    }
}

/// How one selected tenant stands with respect to one profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    InSync,
    Drifted,
    Failed,
    /// Not reconciled yet.
    Pending,
}

/// The standing of a tenant for `profile`, from the tenant's status.
pub fn standing(status: Option<&TenantStatus>, profile: &str) -> Standing {
    let Some(status) = status else { return Standing::Pending };
    let ready = status.conditions.iter().find(|c| c.type_ == READY);
    let mine: Vec<_> = status.policies.iter().filter(|p| p.profile == profile).collect();
    if ready.is_some_and(|c| c.status == "False" && c.reason != "Suspended")
        || mine.iter().any(|p| matches!(p.state, PolicySyncState::Failed | PolicySyncState::Unknown))
    {
        return Standing::Failed;
    }
    if mine.iter().any(|p| p.state == PolicySyncState::Drifted) {
        return Standing::Drifted;
    }
    match ready {
        Some(c) if c.status == "True" => Standing::InSync,
        _ => Standing::Pending,
    }
}

pub async fn reconcile(profile: Arc<DistributionProfile>, ctx: Arc<ProfileContext>) -> Result<Action, ReconcileError> {
    if !ctx.resolver.leading.load(std::sync::atomic::Ordering::Relaxed) {
        follow_rollout(&profile, &ctx);
        return Ok(Action::requeue(super::FOLLOWER_RECHECK));
    }
    // Every Tenant status write wakes every profile of its namespace: aggregate at most once per
    // interval, and once more after the last change — but for a profile that rolls out, whose
    // decisions the next wave waits on.
    let key = format!("{}/{}", namespace_of(profile.as_ref()), profile.name_any());
    let now = std::time::Instant::now();
    if profile.spec.rollout.is_none() {
        let mut last = ctx.aggregated.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(wait) = last.get(&key).map(|at| AGGREGATE_AT_MOST_EVERY.saturating_sub(now - *at))
            && !wait.is_zero()
        {
            return Ok(Action::requeue(wait));
        }
        last.insert(key, now);
    }
    let mut timer = ctx.metrics.timer("profile");
    let result = aggregate(&profile, &ctx).await;
    timer.succeeded(result.is_ok());
    result
}

pub fn error_policy(profile: Arc<DistributionProfile>, error: &ReconcileError, ctx: Arc<ProfileContext>) -> Action {
    ctx.metrics.error(error.category());
    tracing::warn!(profile = %profile.name_any(), %error, "profile status not written");
    Action::requeue(std::time::Duration::from_secs(10))
}

async fn aggregate(profile: &DistributionProfile, ctx: &ProfileContext) -> Result<Action, ReconcileError> {
    let namespace = namespace_of(profile);
    let name = profile.name_any();
    let mut status = DistributionProfileStatus { observed_generation: profile.meta().generation, ..Default::default() };
    let mut pending = 0;
    let mut selected = Vec::new();
    for tenant in ctx.tenants.state() {
        if namespace_of(tenant.as_ref()) != namespace
            || tenant.meta().deletion_timestamp.is_some()
            || !profile_selects(&profile.spec, &tenant.name_any(), tenant.labels())
        {
            continue;
        }
        status.tenants_matched += 1;
        selected.push(tenant.clone());
        match standing(tenant.status.as_ref(), &name) {
            Standing::InSync => status.tenants_in_sync += 1,
            Standing::Drifted => status.tenants_drifted += 1,
            Standing::Failed => status.tenants_failed += 1,
            Standing::Pending => pending += 1,
        }
    }
    let counts = format!(
        "{} tenants matched: {} in sync, {} drifted, {} failed, {pending} pending",
        status.tenants_matched, status.tenants_in_sync, status.tenants_drifted, status.tenants_failed
    );
    // What is wrong with the profile itself, so that it says so in its own status.
    let resource = format!("DistributionProfile/{name}");
    let problems: Vec<String> = if ctx.resolver.caches_synced() {
        let resolved = ctx.resolver.resolved(&namespace);
        resolved.errors.iter().filter(|d| d.resource.as_deref() == Some(&resource)).map(ToString::to_string).collect()
    } else {
        Vec::new()
    };
    let verdict = if !problems.is_empty() {
        Verdict::new(READY, false, "Invalid", problems.join("; "))
    } else if status.tenants_failed > 0 {
        Verdict::new(READY, false, "TenantsFailed", counts)
    } else if pending > 0 {
        Verdict::new(READY, false, "Pending", counts)
    } else if status.tenants_drifted > 0 {
        Verdict::new(READY, true, "Drifted", counts)
    } else {
        Verdict::new(READY, true, "InSync", counts)
    };
    let previous = profile.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default();
    status.conditions = merge(&previous, vec![verdict], profile.meta().generation, &Time(jiff::Timestamp::now()));
    let mut next = Action::await_change();
    if let Some(rollout) = &profile.spec.rollout
        && ctx.resolver.caches_synced()
    {
        let report = decide(ctx, &namespace, &name, rollout, &selected).await;
        next = recheck(&report, ctx.resolver.settings.sync_interval);
        record_current(ctx, profile, &namespace, &selected).await?;
        let before = profile.status.as_ref().and_then(|s| s.rollout.as_ref());
        if before.is_none_or(|b| (b.state, b.wave, &b.revisions) != (report.state, report.wave, &report.revisions)) {
            tracing::info!(profile = %name, state = report.state.as_str(), wave = report.wave, "rollout decided");
            let _ = ctx.rollout_moved.send(namespace.clone());
        }
        status.rollout = Some(report);
    }
    if profile.status.as_ref() == Some(&status) {
        // Nothing moved: no write, no new resourceVersion.
        return Ok(next);
    }
    apply_status(&ctx.kube, profile, &status).await?;
    Ok(next)
}

/// The rollout's decision, from the Tenants' statuses (the wave each is in, the revision it runs)
/// and the health of those that got the revision, read through Graph.
async fn decide(
    ctx: &ProfileContext,
    namespace: &str,
    profile: &str,
    rollout: &Rollout,
    selected: &[Arc<Tenant>],
) -> RolloutReport {
    let resolved = ctx.resolver.resolved(namespace);
    let mut waves: Vec<Vec<(String, Option<TenantRollout>)>> = vec![Vec::new(); rollout.waves.len()];
    let mut ids = BTreeMap::new();
    for tenant in selected.iter().filter(|t| !t.spec.suspend) {
        let name = tenant.name_any();
        let Some(seat) =
            resolved.tenants.get(&name).and_then(|d| d.waves.iter().find(|s| s.profile == profile).cloned())
        else {
            continue;
        };
        // A tenant whose last sync failed has not shown what it runs.
        let known = matches!(standing(tenant.status.as_ref(), profile), Standing::InSync | Standing::Drifted);
        let rollouts = tenant.status.as_ref().map(|s| s.rollouts.as_slice()).unwrap_or_default();
        let stands = rollouts.iter().find(|r| r.profile == profile).filter(|_| known).cloned();
        ids.insert(name.clone(), tenant.spec.tenant_id.clone());
        if let Some(wave) = waves.get_mut(seat.index) {
            wave.push((name, stands));
        }
    }
    let staged = Staged::new(namespace, profile, Arc::new(rollout.clone()), waves);
    let health = health_of(ctx, namespace, staged.health_checks(), &ids).await;
    let now = crate::util::clock::now().unwrap_or_else(|_| jiff::Timestamp::now());
    staged.decide(&health, now)
}

/// The health of the checked tenants: read through Graph, or as read less than a sync interval ago
/// for the same check (every Tenant status that moves during a rollout reconciles its profiles,
/// and the tenants of the earlier waves need not be asked each time).
async fn health_of(
    ctx: &ProfileContext,
    namespace: &str,
    checks: Vec<HealthCheck>,
    ids: &BTreeMap<String, String>,
) -> BTreeMap<String, Health> {
    let fresh = ctx.resolver.settings.sync_interval;
    let key = |check: &HealthCheck| format!("{namespace}/{}|{:?}|{:?}", check.tenant, check.since, check.hunting_query);
    let mut known = BTreeMap::new();
    let mut unread = Vec::new();
    {
        let cache = ctx.health.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for check in checks {
            match cache.get(&key(&check)).filter(|(read, _)| read.elapsed() < fresh) {
                Some((_, health)) => {
                    known.insert(check.tenant.clone(), health.clone());
                }
                None => unread.push(check),
            }
        }
    }
    let keys: BTreeMap<String, String> = unread.iter().map(|c| (c.tenant.clone(), key(c))).collect();
    let read = read_health(&ctx.resolver.graph, unread, ids, HEALTH_CONCURRENCY).await;
    let mut cache = ctx.health.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    cache.retain(|_, (read, _)| read.elapsed() < fresh);
    for (tenant, health) in read {
        if let Some(key) = keys.get(&tenant) {
            cache.insert(key.clone(), (std::time::Instant::now(), health.clone()));
        }
        known.insert(tenant, health);
    }
    known
}

/// Records the revision the manifests ask for now (the most common among the profile's tenants), so
/// that a pin can return to it later.
async fn record_current(
    ctx: &ProfileContext,
    profile: &DistributionProfile,
    namespace: &str,
    selected: &[Arc<Tenant>],
) -> Result<(), ReconcileError> {
    let name = profile.name_any();
    let resolved = ctx.resolver.resolved(namespace);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for tenant in selected.iter().filter_map(|t| resolved.tenants.get(&t.name_any())) {
        *counts.entry(profile_revision(tenant, &name)).or_default() += 1;
    }
    let Some((revision, _)) = counts.into_iter().max_by_key(|(_, n)| *n) else { return Ok(()) };
    let documents = revisions::delivered(&ctx.resolver.manifest_set(namespace), namespace, &profile.spec);
    revisions::record(&ctx.kube, profile, &revision, documents).await?;
    Ok(())
}

/// Tenants whose health is read at once.
const HEALTH_CONCURRENCY: usize = 8;

/// When to look at a rollout again by itself: as its wave's soak time ends, and at every sync
/// interval while it is not complete (health changes without any Kubernetes event).
fn recheck(report: &RolloutReport, sync_interval: std::time::Duration) -> Action {
    if report.state == RolloutState::Complete {
        return Action::await_change();
    }
    let now = crate::util::clock::now().unwrap_or_else(|_| jiff::Timestamp::now());
    let soaked = report.soaks_until.as_deref().and_then(|u| u.parse::<jiff::Timestamp>().ok()).and_then(|until| {
        let left = until.duration_since(now);
        std::time::Duration::try_from(left).ok()
    });
    let after = soaked.map_or(sync_interval, |left| (left + std::time::Duration::from_secs(1)).min(sync_interval));
    Action::requeue(after)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;
    use crate::model::status::PolicySyncStatus;
    use crate::model::{PolicyKind, PolicyRef};
    use crate::operator::conditions::{Verdict, merge};

    fn status(ready: bool, reason: &'static str, policies: &[(&str, PolicySyncState)]) -> TenantStatus {
        let now = Time(jiff::Timestamp::UNIX_EPOCH);
        TenantStatus {
            conditions: merge(&[], vec![Verdict::new(READY, ready, reason, "")], Some(1), &now),
            policies: policies
                .iter()
                .map(|(profile, state)| PolicySyncStatus {
                    policy: PolicyRef { kind: PolicyKind::FirewallPolicy, name: "fw".into() },
                    profile: profile.to_string(),
                    graph_id: None,
                    state: *state,
                    message: None,
                })
                .collect(),
            ..TenantStatus::default()
        }
    }

    #[test]
    fn a_tenant_stands_with_each_profile_by_that_profiles_policies() {
        let mixed = status(true, "Reconciled", &[("a", PolicySyncState::InSync), ("b", PolicySyncState::Drifted)]);
        assert_eq!(standing(Some(&mixed), "a"), Standing::InSync);
        assert_eq!(standing(Some(&mixed), "b"), Standing::Drifted);
        let failed = status(true, "Reconciled", &[("a", PolicySyncState::Failed)]);
        assert_eq!(standing(Some(&failed), "a"), Standing::Failed);
        let unreachable = status(false, "Unreachable", &[]);
        assert_eq!(standing(Some(&unreachable), "a"), Standing::Failed);
        let suspended = status(false, "Suspended", &[]);
        assert_eq!(standing(Some(&suspended), "a"), Standing::Pending);
        assert_eq!(standing(None, "a"), Standing::Pending);
    }
}
