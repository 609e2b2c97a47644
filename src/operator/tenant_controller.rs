//! The Tenant controller: finalizer, reconcile, status by server-side apply, events, requeue.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};
use tracing::Instrument;

use super::FIELD_MANAGER;
use super::access::ACCESS_READY;
use super::conclude::{Conditions, Next, READY, RECONCILING, Report};
use super::conditions::merge;
use super::context::{Context, namespace_of};
use super::credentials::{CredentialError, refresh};
use super::tenant_sync::sync;
use super::writes::{Note, apply_status, publish};
use crate::engine::apply::apply_tenant;
use crate::engine::diff::{Observation, PlanOptions, plan_tenant};
use crate::engine::observe::observe_tenant;
use crate::engine::resolve::{ActiveException, TenantDesired};
use crate::graph::client::WriteFence;
use crate::model::Tenant;
use crate::model::status::{ExceptionStatus, TenantStatus};
use crate::model::tenant::DeletionPolicy;

/// Finalizer that holds a deleted Tenant until its deletion policy has been carried out.
pub const FINALIZER: &str = "tenantctl.dev/deletion-policy";

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("Kubernetes API: {0}")]
    Kubernetes(#[from] kube::Error),
    #[error("{0}")]
    Cleanup(String),
}

impl ReconcileError {
    pub fn category(&self) -> &'static str {
        match self {
            ReconcileError::Kubernetes(_) => "kubernetes",
            ReconcileError::Cleanup(_) => "cleanup",
        }
    }
}

fn key(tenant: &Tenant) -> String {
    format!("{}/{}", namespace_of(tenant), tenant.name_any())
}

pub async fn reconcile(tenant: Arc<Tenant>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    // Another replica's shard: it reconciles the tenant. Should this replica take the shard, every
    // tenant in it is reconciled then; the tenant is looked at again after an interval all the same,
    // so that a tenant is never left unreconciled for longer than that, whatever happened to a trigger.
    let elsewhere = Action::requeue(ctx.settings.sync_interval);
    if !ctx.shards.owns(&tenant.spec.tenant_id) {
        return Ok(elsewhere);
    }
    // A turn first, then the claim on the shard: a reconcile waiting for its turn must not hold up
    // the shard's hand-over.
    let Ok(_turn) = ctx.reconcile_turns.acquire().await else { return Ok(elsewhere) };
    let Some(mut hold) = ctx.shards.hold(&tenant.spec.tenant_id).await else {
        return Ok(elsewhere);
    };
    // A lost shard does not drop the reconcile: a write already sent would land all the same, unseen,
    // while this replica (should it take the shard again) or the new owner read the tenant. The fence
    // stops further writes, the status is left to the new owner, and the reconcile ends by itself.
    let fence = hold.fence();
    let reconcile = reconcile_owned(tenant.clone(), ctx.clone(), fence);
    tokio::pin!(reconcile);
    tokio::select! {
        biased;
        result = &mut reconcile => result,
        () = hold.lost() => {
            tracing::warn!(tenant = %key(&tenant), "shard lost: no further write; the new owner takes over");
            reconcile.await
        }
    }
}

async fn reconcile_owned(tenant: Arc<Tenant>, ctx: Arc<Context>, fence: WriteFence) -> Result<Action, ReconcileError> {
    if tenant.meta().deletion_timestamp.is_some() {
        ctx.metrics.tenant_ready(&key(&tenant), None);
    }
    let span = tracing::info_span!("reconcile", tenant = %key(&tenant));
    let mut timer = ctx.metrics.timer("tenant");
    let result = async {
        match tenant.meta().deletion_timestamp {
            Some(_) if has_finalizer(&tenant) => match cleanup(&tenant, &ctx, &fence).await.inspect(|_| {
                ctx.observations.forget(&tenant.spec.tenant_id);
                ctx.licences.forget(&tenant.spec.tenant_id);
            }) {
                Ok(action) => set_finalizer(&ctx, &tenant, false).await.map(|()| (action, true)),
                Err(error) => Err(error),
            },
            Some(_) => Ok((Action::await_change(), true)),
            None => match set_finalizer(&ctx, &tenant, true).await {
                Ok(()) => reconcile_live(&tenant, &ctx, &fence).await,
                Err(error) => Err(error),
            },
        }
    }
    .instrument(span)
    .await;
    ctx.metrics.graph_counts(ctx.graph.counts());
    // A reconcile that ran but could not do its job (Graph refused, resources invalid) is a failure.
    timer.succeeded(matches!(result, Ok((_, true))));
    result.map(|(action, _)| action)
}

fn has_finalizer(tenant: &Tenant) -> bool {
    tenant.finalizers().iter().any(|f| f == FINALIZER)
}

/// Adds or removes the finalizer by server-side apply: the operator owns that one list entry, so
/// nobody else's finalizers are touched and no read-modify-write race exists.
async fn set_finalizer(ctx: &Context, tenant: &Tenant, present: bool) -> Result<(), ReconcileError> {
    if has_finalizer(tenant) == present {
        return Ok(());
    }
    // Applying without the entry gives up its ownership, which removes it.
    let metadata = if present {
        serde_json::json!({ "name": tenant.name_any(), "finalizers": [FINALIZER] })
    } else {
        serde_json::json!({ "name": tenant.name_any() })
    };
    let patch =
        serde_json::json!({ "apiVersion": Tenant::api_version(&()), "kind": Tenant::kind(&()), "metadata": metadata });
    let api: Api<Tenant> = Api::namespaced(ctx.kube.clone(), &namespace_of(tenant));
    api.patch(&tenant.name_any(), &PatchParams::apply(FIELD_MANAGER), &Patch::Apply(&patch)).await?;
    Ok(())
}

pub fn error_policy(tenant: Arc<Tenant>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    ctx.metrics.error(error.category());
    let delay = ctx.backoff(&key(&tenant));
    tracing::warn!(tenant = %key(&tenant), %error, retry_in_s = delay.as_secs(), "reconcile failed");
    Action::requeue(delay)
}

/// Reconciles a live Tenant; the action, and whether the reconcile did its job.
async fn reconcile_live(tenant: &Tenant, ctx: &Context, fence: &WriteFence) -> Result<(Action, bool), ReconcileError> {
    if !ctx.caches_synced() {
        // Resolving against half-filled caches would report policies missing that are not.
        return Ok((Action::requeue(std::time::Duration::from_secs(1)), true));
    }
    let report = sync(ctx, tenant, fence).await;
    if !fence.is_open() {
        // The tenant is another replica's now: its status and events are that replica's to write.
        return Ok((Action::requeue(ctx.settings.sync_interval), true));
    }
    let desired = ctx.resolved(&namespace_of(tenant)).tenants.get(&tenant.name_any()).cloned();
    let exceptions = desired.as_ref().map(exception_statuses).unwrap_or_default();
    write_status(ctx, tenant, &report, exceptions).await?;
    publish(&ctx.recorder, tenant, "Reconcile", &report.events).await;
    ctx.metrics.wrote("create", report.writes.created);
    ctx.metrics.wrote("update", report.writes.updated);
    ctx.metrics.wrote("delete", report.writes.deleted);
    if let Some(category) = report.failure {
        ctx.metrics.error(category);
    }
    ctx.metrics.tenant_ready(&key(tenant), Some(report.conditions.ready.status));
    let key = key(tenant);
    tracing::info!(
        tenant = %key,
        ready = report.conditions.ready.status,
        reason = report.conditions.ready.reason,
        "reconciled"
    );
    // Suspension is what was asked for, not a failure.
    let did_its_job = report.failure.is_none();
    let action = match report.next {
        Next::Resync => {
            ctx.succeeded(&key);
            // Enforcement resumes the instant an exception ends, not at the next sync after it.
            let until_expiry = desired.as_ref().and_then(until_next_expiry);
            Action::requeue(until_expiry.map_or(ctx.settings.sync_interval, |d| d.min(ctx.settings.sync_interval)))
        }
        Next::Backoff => Action::requeue(ctx.backoff(&key)),
        Next::AwaitChange => {
            ctx.succeeded(&key);
            Action::await_change()
        }
    };
    Ok((action, did_its_job))
}

/// Writes the report as the Tenant's status. Server-side apply with the operator's field manager:
/// the operator owns `status` and nothing else.
async fn write_status(
    ctx: &Context,
    tenant: &Tenant,
    report: &Report,
    exceptions: Vec<ExceptionStatus>,
) -> Result<(), kube::Error> {
    let now = Time(jiff::Timestamp::now());
    // The status as stored now: it may have moved since the reconcile started (marked stale, or
    // reconciling), and what is written is compared with what is there.
    let latest = ctx.stores.tenants.get(&kube::runtime::reflector::ObjectRef::from_obj(tenant));
    let previous = latest.and_then(|t| t.status.clone()).or_else(|| tenant.status.clone()).unwrap_or_default();
    let generation = tenant.meta().generation;
    let status = TenantStatus {
        observed_generation: generation,
        conditions: conditions(&previous.conditions, report, generation, &now),
        policies: if report.policies.is_empty() && !report.synced {
            previous.policies.clone()
        } else {
            report.policies.clone()
        },
        detection_rules: if report.detection_rules.is_empty() && !report.synced {
            previous.detection_rules.clone()
        } else {
            report.detection_rules.clone()
        },
        last_sync_time: if report.synced { Some(now) } else { previous.last_sync_time.clone() },
        incidents: report.incidents.clone().or(previous.incidents.clone()),
        observed_inputs: if report.synced { report.inputs.clone() } else { previous.observed_inputs.clone() },
        exceptions,
        rollouts: if report.synced { report.rollouts.clone() } else { previous.rollouts.clone() },
        reconciled_by: Some(ctx.settings.identity.clone()),
    };
    if !report.marked_reconciling && !worth_writing(&previous, &status, ctx.settings.sync_interval) {
        return Ok(());
    }
    apply_status(&ctx.kube, tenant, &status).await
}

/// The exceptions that cover a tenant, for its status: those in force, then those expired.
fn exception_statuses(desired: &TenantDesired) -> Vec<ExceptionStatus> {
    let status = |e: &ActiveException, in_force: bool| ExceptionStatus {
        name: e.name.trim_start_matches("PolicyException/").to_string(),
        target: e.object.to_string(),
        allow: e.allow.as_str().to_string(),
        owner: e.owner.clone(),
        expires: e.expires.clone(),
        in_force,
    };
    let active = desired.exceptions.iter().map(|e| status(e, true));
    active.chain(desired.expired_exceptions.iter().map(|e| status(e, false))).collect()
}

/// The time until the first of the tenant's exceptions ends (a moment past it, so that the clock has
/// crossed it when the tenant is resolved again).
fn until_next_expiry(desired: &TenantDesired) -> Option<std::time::Duration> {
    let now = crate::util::clock::now().ok()?;
    let end = desired.exceptions.iter().filter_map(|e| crate::model::exception::ends_at(&e.expires)).min()?;
    let left = end.as_millisecond().saturating_sub(now.as_millisecond()).max(0);
    Some(std::time::Duration::from_millis(u64::try_from(left).unwrap_or(0) + 250))
}

/// The conditions a report decides; `AccessReady` stays as it was when the reconcile did not check it.
fn conditions(previous: &[Condition], report: &Report, generation: Option<i64>, now: &Time) -> Vec<Condition> {
    let mut verdicts = report.conditions.clone().into_vec();
    verdicts.extend(report.access.clone());
    let mut conditions = merge(previous, verdicts, generation, now);
    if report.access.is_none() {
        conditions.extend(previous.iter().filter(|c| c.type_ == ACCESS_READY).cloned());
    }
    conditions
}

/// Whether a new status says anything the stored one does not: a resync that changed nothing writes
/// nothing, but for `lastSyncTime`, refreshed on a coarse period (ten sync intervals) so that it still
/// says the tenant is being read.
fn worth_writing(previous: &TenantStatus, next: &TenantStatus, sync_interval: std::time::Duration) -> bool {
    let without_time = |status: &TenantStatus| TenantStatus { last_sync_time: None, ..status.clone() };
    if without_time(previous) != without_time(next) {
        return true;
    }
    match (&previous.last_sync_time, &next.last_sync_time) {
        (Some(before), Some(now)) => {
            let age = now.0.duration_since(before.0).as_secs_f64();
            age >= (sync_interval * 10).as_secs_f64()
        }
        (before, now) => before != now,
    }
}

/// Says, before a plan's writes are made, that the tenant is not ready yet: a GitOps tool waiting on
/// it sees `Reconciling` until the writes are done, not the previous `Ready`.
pub async fn mark_writing(ctx: &Context, tenant: &Tenant, writes: usize) {
    let now = Time(jiff::Timestamp::now());
    let mut status = tenant.status.clone().unwrap_or_default();
    let (ready, reconciling) = Conditions::writing(writes);
    status.conditions = merge(&status.conditions, vec![ready, reconciling], tenant.meta().generation, &now)
        .into_iter()
        .chain(status.conditions.iter().filter(|c| c.type_ != READY && c.type_ != RECONCILING).cloned())
        .collect();
    if let Err(error) = apply_status(&ctx.kube, tenant, &status).await {
        tracing::warn!(tenant = %key(tenant), %error, "cannot mark the tenant as reconciling");
    }
}

/// Carries out the deletion policy of a deleted Tenant: `Orphan` leaves its policies in place,
/// `Delete` removes every tenantctl-owned policy from the tenant. The finalizer stays (and the
/// Tenant with it) until that succeeded.
async fn cleanup(tenant: &Tenant, ctx: &Context, fence: &WriteFence) -> Result<Action, ReconcileError> {
    let key = key(tenant);
    if tenant.spec.deletion_policy == DeletionPolicy::Orphan || tenant.spec.suspend {
        tracing::info!(tenant = %key, "deleted; its policies are left in the tenant (deletionPolicy Orphan)");
        return Ok(Action::await_change());
    }
    let others = ctx.same_tenant_id(tenant);
    if !others.is_empty() {
        let note = format!("policies kept: the tenant is still declared by {}", others.join(", "));
        publish(&ctx.recorder, tenant, "Delete", &[Note::normal("Orphaned", note)]).await;
        return Ok(Action::await_change());
    }
    refresh(ctx, tenant).await.map_err(|e| match e {
        CredentialError::Kubernetes { source, .. } => ReconcileError::Kubernetes(source),
        unusable => ReconcileError::Cleanup(format!("cannot delete the tenant's policies: {unusable}")),
    })?;
    let reason = format!(
        "tenantctl operator: deleting the policies of Tenant {}/{} (deletionPolicy Delete)",
        tenant.namespace().unwrap_or_default(),
        tenant.name_any()
    );
    let api = ctx.graph.tenant(&tenant.spec.tenant_id).requesting_approval(reason).fenced(fence.clone());
    let nothing = TenantDesired {
        name: tenant.name_any(),
        namespace: namespace_of(tenant),
        tenant_id: tenant.spec.tenant_id.clone(),
        display_name: tenant.spec.display_name.clone(),
        credentials: tenant.spec.credentials.clone(),
        suspended: false,
        profiles: Vec::new(),
        policies: Vec::new(),
        roles: Vec::new(),
        manages_roles: true,
        detection_rules: Vec::new(),
        // Read where the app may read them (see `observe`): none of tenantctl's exist elsewhere.
        manages_detection_rules: true,
        defender_roles: Vec::new(),
        manages_defender_roles: true,
        exceptions: Vec::new(),
        expired_exceptions: Vec::new(),
        rolled_back_from: Default::default(),
        waves: Vec::new(),
        prune_max_delete_percent: Some(100),
    };
    let live = observe_tenant(&api, &nothing)
        .await
        .map_err(|e| ReconcileError::Cleanup(format!("cannot read the tenant to delete its policies: {e}")))?;
    let options = PlanOptions { adopt: false, allow_mass_delete: true, roll_forward: false };
    let plan = plan_tenant(&nothing, Some(&Observation::Observed(live)), options);
    let outcome = apply_tenant(&api, &plan, false).await;
    ctx.metrics.wrote("delete", outcome.deleted);
    if !fence.is_open() {
        // Another replica owns the tenant now and carries the deletion on.
        return Ok(Action::await_change());
    }
    if !outcome.errors.is_empty() {
        let errors: Vec<String> = outcome.errors.iter().map(ToString::to_string).collect();
        let message = format!("deleting the tenant's policies: {}", errors.join("; "));
        publish(&ctx.recorder, tenant, "Delete", &[Note::warning("DeleteFailed", message.clone())]).await;
        return Err(ReconcileError::Cleanup(message));
    }
    if !outcome.awaiting_approval.is_empty() {
        // The finalizer stays until approvers let the deletes through: the policies are not orphaned.
        let held: Vec<String> = outcome.awaiting_approval.iter().map(ToString::to_string).collect();
        let message = format!("deleting the tenant's policies awaits approval: {}", held.join("; "));
        publish(&ctx.recorder, tenant, "Delete", &[Note::normal("AwaitingApproval", message.clone())]).await;
        return Err(ReconcileError::Cleanup(message));
    }
    let note = format!("deleted {} tenantctl-owned policies (deletionPolicy Delete)", outcome.deleted);
    tracing::info!(tenant = %key, deleted = outcome.deleted, "deleted the tenant's policies");
    publish(&ctx.recorder, tenant, "Delete", &[Note::normal("Deleted", note)]).await;
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Time {
        Time(jiff::Timestamp::from_second(seconds).expect("time"))
    }

    #[test]
    fn a_resync_that_changed_nothing_writes_nothing_but_the_coarse_sync_time() {
        let interval = std::time::Duration::from_secs(60);
        let before =
            TenantStatus { last_sync_time: Some(at(1_000)), observed_generation: Some(1), ..Default::default() };
        let resync = TenantStatus { last_sync_time: Some(at(1_060)), ..before.clone() };
        assert!(!worth_writing(&before, &resync, interval), "only the time moved");
        let much_later = TenantStatus { last_sync_time: Some(at(1_600)), ..before.clone() };
        assert!(worth_writing(&before, &much_later, interval), "ten intervals later the time is refreshed");
        let changed = TenantStatus { observed_generation: Some(2), ..resync };
        assert!(worth_writing(&before, &changed, interval));
        assert!(worth_writing(&TenantStatus::default(), &before, interval), "the first status");
    }
}
