//! One tenant's reconcile, as a report: observe it through Graph, diff against every profile that
//! selects it, apply (or only report, for audit-mode profiles), and conclude conditions, per-policy
//! states and events. Nothing here writes to Kubernetes.

use kube::ResourceExt;
use kube::runtime::events::EventType;

use super::conditions::Verdict;
use super::context::{Context, namespace_of};
use super::credentials::{CredentialError, refresh};
use crate::engine::apply::apply;
use crate::engine::diff::{Observation, PlanOptions, plan_tenant};
use crate::engine::observe::observe_tenant;
use crate::engine::ownership::split_marker;
use crate::engine::plan::{Action, Plan, TenantPlan};
use crate::graph::wire::ConfigurationPolicy;
use crate::manifest::Diagnostic;
use crate::model::profile::Mode;
use crate::model::status::{IncidentSummary, PolicySyncState, PolicySyncStatus};
use crate::model::{PolicyRef, Tenant};

pub const READY: &str = "Ready";
pub const SYNCED: &str = "Synced";
pub const DRIFTED: &str = "Drifted";
pub const CONFLICT: &str = "Conflict";

/// When to look at the tenant again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Healthy: after the sync interval, to catch drift.
    Resync,
    /// A transient failure: soon, backing off.
    Backoff,
    /// Waiting for a change of the resources (the watch brings it).
    AwaitChange,
}

/// What a reconcile concluded.
#[derive(Debug)]
pub struct Report {
    pub verdicts: Vec<Verdict>,
    pub policies: Vec<PolicySyncStatus>,
    /// The tenant was read (and written as needed) successfully.
    pub synced: bool,
    pub events: Vec<(EventType, &'static str, String)>,
    pub next: Next,
    /// Error category for metrics, when the reconcile failed.
    pub failure: Option<&'static str>,
    /// Active high-severity incidents, when a NotificationPolicy wants them and they could be read.
    pub incidents: Option<Vec<IncidentSummary>>,
}

impl Report {
    fn blocked(ready_reason: &'static str, message: String, next: Next, failure: &'static str) -> Report {
        Report {
            verdicts: vec![
                Verdict::new(READY, false, ready_reason, message.clone()),
                Verdict::unknown(SYNCED, ready_reason, "not reconciled"),
                Verdict::unknown(DRIFTED, ready_reason, "not observed"),
                Verdict::new(CONFLICT, false, "NoConflict", ""),
            ],
            policies: Vec::new(),
            synced: false,
            events: vec![(EventType::Warning, ready_reason, message)],
            next,
            failure: Some(failure),
            incidents: None,
        }
    }
}

/// Reconciles one tenant against Graph.
pub async fn sync(ctx: &Context, tenant: &Tenant) -> Report {
    let others = ctx.same_tenant_id(tenant);
    if !others.is_empty() {
        let message = format!(
            "tenant {} is also declared by {}: nothing is written until one declaration remains",
            tenant.spec.tenant_id,
            others.join(", ")
        );
        let mut report = Report::blocked("DuplicateTenant", message.clone(), Next::AwaitChange, "conflict");
        report.verdicts[3] = Verdict::new(CONFLICT, true, "DuplicateTenant", message);
        return report;
    }
    if tenant.spec.suspend {
        let mut report = Report::blocked("Suspended", "spec.suspend is set".into(), Next::AwaitChange, "suspended");
        report.events.clear();
        report.failure = None;
        return report;
    }

    let name = tenant.name_any();
    let resolved = ctx.resolved(&namespace_of(tenant));
    // Another Tenant's own mistakes do not hold this one back; a broken profile or policy holds back
    // every tenant of the namespace, since what it should deliver is unknown.
    let others = |d: &&Diagnostic| {
        d.resource.as_ref().is_some_and(|r| r.starts_with("Tenant/") && *r != format!("Tenant/{name}"))
    };
    let errors: Vec<String> = resolved.errors.iter().filter(|d| !others(d)).map(ToString::to_string).collect();
    if !errors.is_empty() {
        let shown: Vec<&str> = errors.iter().take(3).map(String::as_str).collect();
        let more = if errors.len() > 3 { format!(" (and {} more)", errors.len() - 3) } else { String::new() };
        let message = format!("nothing is written while the resources are invalid: {}{more}", shown.join("; "));
        let mut report = Report::blocked("InvalidResources", message, Next::AwaitChange, "invalid_resources");
        if let Some(conflict) = resolved.conflicts.first() {
            report.verdicts[3] = Verdict::new(CONFLICT, true, "ProfileConflict", conflict.to_string());
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
            return Report::blocked("CredentialsUnavailable", problem, Next::Resync, "credentials");
        }
        Err(error @ CredentialError::Kubernetes { .. }) => {
            return Report::blocked("CredentialsUnavailable", error.to_string(), Next::Backoff, "kubernetes");
        }
    }

    let live = match observe_tenant(&ctx.graph, &desired).await {
        Ok(live) => live,
        Err(error) => {
            let message = format!("cannot read the tenant, so nothing is written: {error}");
            let mut report = Report::blocked("Unreachable", message, Next::Backoff, "graph_read");
            report.policies = desired
                .policies
                .iter()
                .map(|p| policy_status(&p.reference, &p.profile, None, PolicySyncState::Unknown, None))
                .collect();
            return report;
        }
    };
    let plan = plan_tenant(&desired, Some(&Observation::Observed(live.clone())), PlanOptions::default());
    let outcome = if plan.changes.iter().any(|c| c.is_write()) {
        let applied = apply(&ctx.graph, &Plan::new(vec![plan.clone()]), 1, false, &|_| {}).await;
        applied.into_iter().next()
    } else {
        None
    };
    let errors = outcome.as_ref().map(|o| o.errors.clone()).unwrap_or_default();
    let mut report = conclude(&desired.policies, &live.policies, &plan, &errors);
    if ctx.wants_incidents(tenant) {
        report.incidents = active_high_severity(ctx, &desired.tenant_id).await;
    }
    report
}

/// The tenant's active high-severity incidents; `None` when they cannot be read (the last known
/// list stays).
async fn active_high_severity(ctx: &Context, tenant_id: &str) -> Option<Vec<IncidentSummary>> {
    match ctx.graph.tenant(tenant_id).list_incidents(None).await {
        Ok(incidents) => Some(
            incidents
                .into_iter()
                .filter(|i| i.severity.eq_ignore_ascii_case("high"))
                .filter(|i| !matches!(i.status.as_str(), "resolved" | "redirected"))
                .map(|i| IncidentSummary {
                    id: i.id,
                    display_name: i.display_name,
                    severity: i.severity,
                    status: i.status,
                })
                .collect(),
        ),
        Err(error) => {
            tracing::warn!(tenant = %tenant_id, %error, "cannot read incidents");
            None
        }
    }
}

/// Conditions, per-policy states and events from a plan and what applying it did.
fn conclude(
    desired: &[crate::engine::resolve::DesiredPolicy],
    live: &[ConfigurationPolicy],
    plan: &TenantPlan,
    apply_errors: &[String],
) -> Report {
    let failed_write = |policy: &str| apply_errors.iter().find(|e| e.starts_with(&format!("{policy}: "))).cloned();
    let problem_of = |policy: &str| plan.problems.iter().find(|p| p.starts_with(&format!("{policy}: "))).cloned();
    let live_id = |policy: &str| {
        live.iter()
            .find(|p| split_marker(&p.description).1.is_some_and(|r| r.to_string() == policy))
            .and_then(|p| p.id.clone())
    };
    let mut events = Vec::new();
    let mut policies = Vec::new();
    let mut drifted = Vec::new();
    for policy in desired {
        let name = policy.reference.to_string();
        let change = plan.changes.iter().find(|c| c.policy == name);
        let (state, message) = match (change, problem_of(&name)) {
            (_, Some(problem)) => (PolicySyncState::Failed, Some(problem)),
            (None, None) => (PolicySyncState::InSync, None),
            (Some(change), None) if change.mode == Mode::Audit => {
                drifted.push(name.clone());
                let fields = if change.fields.is_empty() { "missing".to_string() } else { change.fields.join(", ") };
                (
                    PolicySyncState::Drifted,
                    Some(format!("{:?} needed ({fields}); audit mode, nothing written", change.action)),
                )
            }
            (Some(change), None) => match failed_write(&name) {
                Some(error) => (PolicySyncState::Failed, Some(error)),
                None => {
                    let verb = if change.action == Action::Create { "Created" } else { "Updated" };
                    let fields = change.fields.join(", ");
                    let note =
                        if fields.is_empty() { format!("{verb} {name}") } else { format!("{verb} {name} ({fields})") };
                    events.push((
                        EventType::Normal,
                        if change.action == Action::Create { "Created" } else { "Updated" },
                        note,
                    ));
                    let state = if change.action == Action::Create {
                        PolicySyncState::Created
                    } else {
                        PolicySyncState::Updated
                    };
                    (state, None)
                }
            },
        };
        policies.push(policy_status(&policy.reference, &policy.profile, live_id(&name), state, message));
    }
    // Intune roles: drift in audit mode, events for what was written.
    for change in plan.changes.iter().filter(|c| c.role.is_some() && c.action != Action::Delete) {
        if change.mode == Mode::Audit {
            drifted.push(change.policy.clone());
        } else if failed_write(&change.policy).is_none() {
            let (reason, verb) =
                if change.action == Action::Create { ("Created", "Created") } else { ("Updated", "Updated") };
            events.push((EventType::Normal, reason, format!("{verb} {}", change.policy)));
        }
    }
    for change in plan.changes.iter().filter(|c| c.action == Action::Delete && c.is_write()) {
        match failed_write(&change.policy) {
            Some(error) => events.push((EventType::Warning, "DeleteFailed", error)),
            None => events.push((
                EventType::Normal,
                "Deleted",
                format!("Deleted {} (no profile delivers it)", change.policy),
            )),
        }
    }

    let failures: Vec<String> = apply_errors.iter().chain(&plan.problems).cloned().collect();
    for failure in &failures {
        events.push((EventType::Warning, "SyncFailed", failure.clone()));
    }
    if !drifted.is_empty() {
        events.push((EventType::Warning, "Drifted", format!("audit mode, not written: {}", drifted.join(", "))));
    }
    let ready = if failures.is_empty() {
        Verdict::new(
            READY,
            true,
            "Reconciled",
            format!("{} policies from {} profiles", desired.len(), plan.profiles.len()),
        )
    } else {
        Verdict::new(READY, false, "SyncFailed", failures.join("; "))
    };
    let synced = match (failures.is_empty(), drifted.is_empty()) {
        (true, true) => Verdict::new(SYNCED, true, "InSync", "live policies match the desired state"),
        (false, _) => Verdict::new(SYNCED, false, "SyncFailed", failures.join("; ")),
        (true, false) => Verdict::new(SYNCED, false, "Drifted", "audit-mode policies differ from the desired state"),
    };
    let drift = if drifted.is_empty() {
        Verdict::new(DRIFTED, false, "NoDrift", "")
    } else {
        Verdict::new(DRIFTED, true, "DriftDetected", format!("audit mode, not written: {}", drifted.join(", ")))
    };
    Report {
        verdicts: vec![ready, synced, drift, Verdict::new(CONFLICT, false, "NoConflict", "")],
        policies,
        synced: true,
        events,
        next: if failures.is_empty() { Next::Resync } else { Next::Backoff },
        failure: if failures.is_empty() { None } else { Some("graph_write") },
        incidents: None,
    }
}

fn policy_status(
    reference: &PolicyRef,
    profile: &str,
    graph_id: Option<String>,
    state: PolicySyncState,
    message: Option<String>,
) -> PolicySyncStatus {
    PolicySyncStatus { policy: reference.clone(), profile: profile.to_string(), graph_id, state, message }
}
