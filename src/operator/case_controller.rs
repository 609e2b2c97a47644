//! The Case controller: reads the incidents of the tenants a case can reach, writes the case onto its
//! members (the `case:<name>` tag, the owner where nobody owns the incident, one linking comment, and
//! on a closed case the resolution its `close` asks), and shows every member's live state in the
//! Case's status. It looks again every sync interval: incidents move in the portal too.

use std::sync::Arc;

use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use serde_json::Value;

use super::context::{Context, namespace_of};
use super::credentials::refresh;
use super::tenant_controller::ReconcileError;
use super::writes::{Note, apply_status, publish};
use crate::model::case::{CaseMember, CaseStatus};
use crate::model::{Case, Tenant};
use crate::security::TenantAnswer;
use crate::security::cases::{member, members, reconcile as reconcile_member};
use crate::wire::common::Incident;

pub async fn reconcile(case: Arc<Case>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    if !ctx.leading.load(std::sync::atomic::Ordering::Relaxed) {
        // The leader keeps cases; this replica looks again in case it comes to lead.
        return Ok(Action::requeue(super::FOLLOWER_RECHECK));
    }
    if !ctx.caches_synced() {
        return Ok(Action::requeue(std::time::Duration::from_secs(1)));
    }
    let mut timer = ctx.metrics.timer("case");
    let result = sync(&case, &ctx).await;
    timer.succeeded(result.is_ok());
    result
}

pub fn error_policy(case: Arc<Case>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    ctx.metrics.error(error.category());
    tracing::warn!(case = %case.name_any(), %error, "case not reconciled");
    Action::requeue(std::time::Duration::from_secs(30))
}

/// The tenants whose incidents can belong to the case: those its references name, and those its
/// selector covers (every tenant of the namespace when it names none). Suspended ones are not read.
fn reachable(case: &Case, ctx: &Context) -> Vec<Arc<Tenant>> {
    let namespace = namespace_of(case);
    let spec = &case.spec;
    let named: Vec<&str> = spec.incidents.iter().filter_map(|r| r.split_once('/').map(|(t, _)| t)).collect();
    let mut tenants: Vec<Arc<Tenant>> = ctx
        .stores
        .tenants
        .state()
        .into_iter()
        .filter(|t| namespace_of(t.as_ref()) == namespace && !t.spec.suspend)
        .filter(|t| {
            let name = t.name_any();
            named.contains(&name.as_str())
                || spec.selector.as_ref().is_some_and(|s| s.tenants.is_empty() || s.tenants.contains(&name))
        })
        .collect();
    tenants.sort_by_key(|t| t.name_any());
    tenants
}

async fn sync(case: &Case, ctx: &Context) -> Result<Action, ReconcileError> {
    let name = case.name_any();
    let mut answers: Vec<TenantAnswer<Vec<Incident>>> = Vec::new();
    for tenant in reachable(case, ctx) {
        let answer = match refresh(ctx, &tenant).await {
            Ok(()) => ctx.graph.tenant(&tenant.spec.tenant_id).list_incidents(None).await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        answers.push(TenantAnswer { tenant: tenant.name_any(), tenant_id: tenant.spec.tenant_id.clone(), answer });
    }
    let (found, unknown) = members(&name, &case.spec, &answers);
    let mut shown: Vec<CaseMember> = Vec::new();
    let mut notes = Vec::new();
    let mut failed = 0;
    for (tenant, incident) in found {
        let update = reconcile_member(&name, &case.spec, tenant, incident);
        let mut now = member(&tenant.tenant, incident);
        if !update.is_noop() {
            let client = ctx.graph.tenant(&tenant.tenant_id);
            let mut result = Ok(());
            if !update.changes.is_empty() {
                result = client.update_incident(&update.id, &update.changes).await.map(|_| ());
            }
            if let (Ok(()), Some(comment)) = (&result, &update.comment) {
                result = client.add_incident_comment(&update.id, comment).await;
            }
            match result {
                Ok(()) => {
                    for (key, value) in &update.changes {
                        match (key.as_str(), value) {
                            ("status", Value::String(status)) => now.status.clone_from(status),
                            ("assignedTo", Value::String(owner)) => now.assigned_to = Some(owner.clone()),
                            _ => {}
                        }
                    }
                    notes.push(Note::normal("Linked", format!("{}/{}: {}", update.tenant, update.id, update.words())));
                }
                Err(error) => {
                    failed += 1;
                    notes.push(Note::warning("LinkFailed", format!("{}/{}: {error}", update.tenant, update.id)));
                }
            }
        }
        shown.push(now);
    }
    let status = CaseStatus {
        observed_generation: case.meta().generation,
        member_count: u32::try_from(shown.len()).unwrap_or(u32::MAX),
        open_tasks: u32::try_from(case.spec.open_tasks()).unwrap_or(u32::MAX),
        members: shown,
        unknown_tenants: unknown.iter().map(|a| a.tenant.clone()).collect(),
        message: (failed > 0).then(|| format!("{failed} incident(s) could not be written; tried again")),
    };
    if case.status.as_ref() != Some(&status) {
        apply_status(&ctx.kube, case, &status).await?;
    }
    publish(&ctx.recorder, case, "Reconcile", &notes).await;
    Ok(Action::requeue(if failed > 0 { std::time::Duration::from_secs(30) } else { ctx.settings.sync_interval }))
}
