//! One tenant's reconcile: observe it through Graph, diff against every profile that selects it, apply
//! (or only report, for audit-mode profiles), and let [`conclude`] decide conditions, per-policy states
//! and events. Nothing here writes to Kubernetes.

use kube::ResourceExt;

use super::access;
use super::conclude::{CONFLICT, Next, Report, STALLED, conclude};
use super::conditions::Verdict;
use super::context::{Context, namespace_of};
use super::credentials::{CredentialError, refresh};
use crate::engine::access::{Purpose, licensed_features, needs_for};
use crate::engine::apply::apply_tenant;
use crate::engine::diff::PlanOptions;
use crate::engine::observe::observe_and_plan_tenant;
use crate::engine::policy_cache::CacheStore;
use crate::engine::resolve::TenantDesired;
use crate::engine::rollout::{RolloutReport, hold_tenant, undecided};
use crate::graph::client::{TenantClient, WriteFence};
use crate::graph::readiness::{self, Readiness};
use crate::model::Tenant;
use crate::model::status::IncidentSummary;

/// Reconciles one tenant against Graph.
/// Writes go through `fence`: none starts once the tenant is no longer this replica's.
pub async fn sync(ctx: &Context, tenant: &Tenant, fence: &WriteFence) -> Report {
    let others = ctx.same_tenant_id(tenant);
    if !others.is_empty() {
        let message = format!(
            "tenant {} is also declared by {}: nothing is written until one declaration remains",
            tenant.spec.tenant_id,
            others.join(", ")
        );
        return Report::conflicted("DuplicateTenant", message.clone(), message);
    }
    if tenant.spec.suspend {
        let mut report = Report::blocked("Suspended", "spec.suspend is set".into(), Next::AwaitChange, "suspended");
        report.events.clear();
        report.failure = None;
        report.conditions.stalled = Verdict::new(STALLED, false, "Suspended", "");
        return report;
    }

    let name = tenant.name_any();
    let resolved = ctx.resolved(&namespace_of(tenant));
    // Only mistakes in what this tenant depends on hold it back: its own, and those of the profiles
    // that select it and of what they deliver. Another Tenant's, or an unused policy's, do not.
    let errors: Vec<String> = resolved.errors_for(&name).into_iter().map(ToString::to_string).collect();
    if !errors.is_empty() {
        let shown: Vec<&str> = errors.iter().take(3).map(String::as_str).collect();
        let more = if errors.len() > 3 { format!(" (and {} more)", errors.len() - 3) } else { String::new() };
        let message = format!("nothing is written while the resources are invalid: {}{more}", shown.join("; "));
        let mut report = Report::blocked("InvalidResources", message, Next::AwaitChange, "invalid_resources");
        if let Some(conflict) = resolved.conflicts.first() {
            report.conditions.conflict = Verdict::new(CONFLICT, true, "ProfileConflict", conflict.to_string());
        }
        return report;
    }
    let Some(desired) = resolved.tenants.get(&name).cloned() else {
        return Report::blocked("Internal", "the tenant did not resolve".into(), Next::Backoff, "internal");
    };

    match refresh(ctx, tenant).await {
        Ok(()) => {}
        Err(CredentialError::Unusable(problem)) => {
            // Secrets are not watched: look again after the sync interval.
            let access = access::credentials_unavailable(&problem);
            let mut report = Report::blocked("CredentialsUnavailable", problem, Next::Resync, "credentials");
            report.access = Some(access);
            return report;
        }
        Err(error @ CredentialError::Kubernetes { .. }) => {
            return Report::blocked("CredentialsUnavailable", error.to_string(), Next::Backoff, "kubernetes");
        }
    }

    let reason = format!("tenantctl operator sync of Tenant {}/{name}", namespace_of(tenant));
    let api = ctx.graph.tenant(&desired.tenant_id).requesting_approval(reason).fenced(fence.clone());
    let readiness = check_access(ctx, &api, &desired).await;
    let mut report = sync_accessible(ctx, tenant, &desired, &api, &readiness).await;
    report.access = Some(access::verdict(&readiness));
    report
}

/// Whether the app may do what the tenant's manifests need: the token's permissions at every sync,
/// the licences now and then.
async fn check_access(ctx: &Context, api: &TenantClient, desired: &TenantDesired) -> Readiness {
    let needs = needs_for(Purpose::Apply, desired);
    let features = licensed_features(&[Purpose::Apply], desired);
    let readiness = readiness::check(api, &needs, &features, Some(&ctx.licences)).await;
    if !readiness.missing_permissions.is_empty() {
        // A grant made since shows in the next token only: the next sync asks for one.
        ctx.graph.forget_token(&desired.tenant_id).await;
    }
    readiness
}

/// Observes, plans and applies a tenant whose access was checked.
async fn sync_accessible(
    ctx: &Context,
    tenant: &Tenant,
    desired: &TenantDesired,
    api: &TenantClient,
    readiness: &Readiness,
) -> Report {
    let name = tenant.name_any();
    if readiness.granted_permissions.is_none() && !readiness.ready {
        // No token: reading would only ask for one again.
        return Report::unreachable(desired, readiness.message.as_deref().unwrap_or(readiness.reason));
    }
    let desired = match super::pin::pinned(ctx, desired.clone()).await {
        Ok(desired) => desired,
        Err(problem) => return Report::blocked("PinUnavailable", problem, Next::Resync, "pin"),
    };
    let mut cache = ctx.observations.load(&desired.tenant_id);
    let (live, mut plan) = match observe_and_plan_tenant(api, &desired, &mut cache, PlanOptions::default()).await {
        Ok(observed) => {
            ctx.read_succeeded(&format!("{}/{name}", namespace_of(tenant)));
            observed
        }
        Err(error) => {
            let last_read = tenant.status.as_ref().and_then(|s| s.last_sync_time.as_ref());
            let error = match last_read {
                Some(time) => format!("{error} (lastSyncTime {}: read successfully then or later)", time.0),
                None => error.to_string(),
            };
            return Report::unreachable(&desired, &error);
        }
    };
    // What the writes change is read again at the next sync: its cached settings are of the old version.
    ctx.observations.save(&desired.tenant_id, cache);
    hold_for_rollouts(ctx, &namespace_of(tenant), &mut plan);
    // A pin is a rollback: it is written whatever the rollout says.
    for change in plan.changes.iter_mut().filter(|c| desired.rolled_back_from.contains_key(&c.object)) {
        change.waiting = None;
    }
    let writes = plan.writes().count();
    let outcome = if writes > 0 {
        super::tenant_controller::mark_writing(ctx, tenant, writes).await;
        Some(apply_tenant(api, &plan, false).await)
    } else {
        None
    };
    let mut report = conclude(&desired, &live, &plan, outcome.as_ref());
    report.marked_reconciling = writes > 0;
    let severities = ctx.incident_severities(tenant);
    if !severities.is_empty() {
        report.incidents = active_incidents(ctx, &desired.tenant_id, &severities).await;
    }
    report
}

/// Holds the changes to a new revision that the rollouts of the tenant's profiles do not let through
/// yet, as each profile's status says (the DistributionProfile controller decides).
fn hold_for_rollouts(ctx: &Context, namespace: &str, plan: &mut crate::engine::plan::TenantPlan) {
    let reports: Vec<RolloutReport> = plan
        .rollouts
        .iter()
        .map(|standing| {
            let profile = ctx
                .stores
                .profiles
                .state()
                .into_iter()
                .find(|p| namespace_of(p.as_ref()) == namespace && p.name_any() == standing.profile);
            let decided = profile.and_then(|p| p.status.as_ref().and_then(|s| s.rollout.clone()));
            decided.unwrap_or_else(|| undecided(namespace, &standing.profile))
        })
        .collect();
    hold_tenant(plan, namespace, &reports);
}

/// The tenant's active incidents of these severities; `None` when they cannot be read (the last
/// known list stays).
async fn active_incidents(
    ctx: &Context,
    tenant_id: &str,
    severities: &[crate::model::notification::IncidentSeverity],
) -> Option<Vec<IncidentSummary>> {
    match ctx.graph.tenant(tenant_id).list_incidents(None).await {
        Ok(incidents) => Some(crate::security::incidents::active_summaries(incidents, |i| {
            severities.iter().any(|s| s.is(&i.severity))
        })),
        Err(error) => {
            tracing::warn!(tenant = %tenant_id, %error, "cannot read incidents");
            None
        }
    }
}
