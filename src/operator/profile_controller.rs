//! The DistributionProfile controller: aggregates the status of the tenants a profile selects
//! (matched, in sync, drifted, failed) from their Tenant statuses. It never talks to Graph.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use kube::{Resource, ResourceExt};

use super::conclude::READY;
use super::conditions::{Verdict, merge};
use super::context::{Context, namespace_of};
use super::metrics::Metrics;
use super::tenant_controller::ReconcileError;
use super::writes::apply_status;
use crate::model::select::profile_selects;
use crate::model::status::{DistributionProfileStatus, PolicySyncState, TenantStatus};
use crate::model::{DistributionProfile, Tenant};

pub struct ProfileContext {
    pub kube: kube::Client,
    pub tenants: Store<Tenant>,
    pub metrics: Arc<Metrics>,
    /// The Tenant controller's context: what is wrong with a profile is found where it is resolved.
    pub resolver: Arc<Context>,
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
    let mut timer = ctx.metrics.timer("profile");
    let result = aggregate(&profile, &ctx).await;
    timer.succeeded(result.is_ok());
    result.map(|()| Action::await_change())
}

pub fn error_policy(profile: Arc<DistributionProfile>, error: &ReconcileError, ctx: Arc<ProfileContext>) -> Action {
    ctx.metrics.error(error.category());
    tracing::warn!(profile = %profile.name_any(), %error, "profile status not written");
    Action::requeue(std::time::Duration::from_secs(10))
}

async fn aggregate(profile: &DistributionProfile, ctx: &ProfileContext) -> Result<(), ReconcileError> {
    let namespace = namespace_of(profile);
    let name = profile.name_any();
    let mut status = DistributionProfileStatus { observed_generation: profile.meta().generation, ..Default::default() };
    let mut pending = 0;
    for tenant in ctx.tenants.state() {
        if namespace_of(tenant.as_ref()) != namespace
            || tenant.meta().deletion_timestamp.is_some()
            || !profile_selects(&profile.spec, &tenant.name_any(), tenant.labels())
        {
            continue;
        }
        status.tenants_matched += 1;
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
    if profile.status.as_ref() == Some(&status) {
        // Nothing moved: no write, no new resourceVersion.
        return Ok(());
    }
    apply_status(&ctx.kube, profile, &status).await?;
    Ok(())
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
