//! Deciding, apart from doing: what a Tenant's reconcile concluded — conditions, per-policy states,
//! events, writes made, when to look again — from what was observed, planned and applied. Pure, and
//! unit-tested without a cluster or a tenant.

use super::conditions::Verdict;
use super::writes::Note;
use crate::engine::apply::TenantOutcome;
use crate::engine::managed::{DetectionRules, LiveTenant, Managed, Policies};
use crate::engine::plan::{Action, Change, TenantPlan};
use crate::engine::problem::Problem;
use crate::engine::resolve::{DesiredDetectionRule, DesiredPolicy, TenantDesired};
use crate::model::profile::Mode;
use crate::model::status::{DetectionRuleSyncStatus, IncidentSummary, PolicySyncState, PolicySyncStatus};
use crate::model::{ObjectRef, PolicyRef};

pub const READY: &str = "Ready";
pub const SYNCED: &str = "Synced";
pub const DRIFTED: &str = "Drifted";
pub const CONFLICT: &str = "Conflict";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";

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

/// The Tenant's conditions, each by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conditions {
    pub ready: Verdict,
    pub synced: Verdict,
    pub drifted: Verdict,
    pub conflict: Verdict,
    /// kstatus: work is under way (True only while writes are in flight).
    pub reconciling: Verdict,
    /// kstatus: the reconcile cannot progress until the resources change.
    pub stalled: Verdict,
}

impl Conditions {
    pub fn into_vec(self) -> Vec<Verdict> {
        vec![self.ready, self.synced, self.drifted, self.conflict, self.reconciling, self.stalled]
    }

    /// While the writes of a plan are being made: not ready yet, reconciling; the rest as before.
    pub fn writing(writes: usize) -> (Verdict, Verdict) {
        let message = format!("making {} in the tenant", crate::util::plural::count(writes, "write"));
        (
            Verdict::new(READY, false, "Reconciling", message.clone()),
            Verdict::new(RECONCILING, true, "Writing", message),
        )
    }
}

fn not_reconciling() -> Verdict {
    Verdict::new(RECONCILING, false, "Idle", "")
}

/// Writes a reconcile made, by action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Writes {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
}

/// What a reconcile concluded.
#[derive(Debug)]
pub struct Report {
    pub conditions: Conditions,
    pub policies: Vec<PolicySyncStatus>,
    pub detection_rules: Vec<DetectionRuleSyncStatus>,
    /// The tenant was read (and written as needed) successfully.
    pub synced: bool,
    pub events: Vec<Note>,
    pub writes: Writes,
    pub next: Next,
    /// Error category for metrics, when the reconcile failed: a problem's category, or what stopped it.
    pub failure: Option<&'static str>,
    /// Active high-severity incidents, when a NotificationPolicy wants them and they could be read.
    pub incidents: Option<Vec<IncidentSummary>>,
    /// Digest of what was planned from, when the tenant was reconciled.
    pub inputs: Option<String>,
    /// The status was marked `Reconciling` before the writes: the final status must be written.
    pub marked_reconciling: bool,
    /// `AccessReady`, when the reconcile got as far as checking it (else the last one stands).
    pub access: Option<Verdict>,
    /// Where the tenant stands in its profiles' rollouts, when it was read.
    pub rollouts: Vec<crate::model::rollout::TenantRollout>,
}

/// Digest of what a tenant is planned from: every desired object with its payload, assignments, mode
/// and profile, pruning, credentials reference.
pub fn inputs_digest(desired: &TenantDesired) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("{desired:?}").as_bytes());
    digest.as_ref().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

impl Report {
    /// Nothing was reconciled: `reason` says why, in the Ready condition and a warning event.
    pub fn blocked(reason: &'static str, message: String, next: Next, failure: &'static str) -> Report {
        Report {
            conditions: Conditions {
                ready: Verdict::new(READY, false, reason, message.clone()),
                synced: Verdict::unknown(SYNCED, reason, "not reconciled"),
                drifted: Verdict::unknown(DRIFTED, reason, "not observed"),
                conflict: Verdict::new(CONFLICT, false, "NoConflict", ""),
                reconciling: not_reconciling(),
                // Waiting for a change of the resources is being stuck until somebody makes one;
                // a transient failure retries by itself.
                stalled: if next == Next::AwaitChange || failure == "credentials" {
                    Verdict::new(STALLED, true, reason, message.clone())
                } else {
                    Verdict::new(STALLED, false, "Retrying", "")
                },
            },
            policies: Vec::new(),
            detection_rules: Vec::new(),
            synced: false,
            events: vec![Note::warning(reason, message)],
            writes: Writes::default(),
            next,
            failure: Some(failure),
            incidents: None,
            inputs: None,
            marked_reconciling: false,
            access: None,
            rollouts: Vec::new(),
        }
    }

    /// Blocked because of a conflict: the Conflict condition says which.
    pub fn conflicted(reason: &'static str, message: String, conflict: String) -> Report {
        let mut report = Report::blocked(reason, message, Next::AwaitChange, "conflict");
        report.conditions.conflict = Verdict::new(CONFLICT, true, reason, conflict);
        report
    }

    /// The tenant could not be read: every desired policy's state is unknown.
    pub fn unreachable(desired: &TenantDesired, error: &str) -> Report {
        let message = format!("cannot read the tenant, so nothing is written: {error}");
        let mut report = Report::blocked("Unreachable", message, Next::Backoff, "graph_read");
        report.policies =
            desired.policies.iter().map(|p| policy_status(p, None, PolicySyncState::Unknown, None)).collect();
        report.detection_rules =
            desired.detection_rules.iter().map(|r| rule_status(r, None, PolicySyncState::Unknown, None)).collect();
        report
    }
}

/// Conditions, per-policy states, events and writes from a plan and what applying it did.
pub fn conclude(
    desired: &TenantDesired,
    live: &LiveTenant,
    plan: &TenantPlan,
    outcome: Option<&TenantOutcome>,
) -> Report {
    // A problem about the whole tenant stopped the apply before its first write.
    let refused = outcome.and_then(|o| o.errors.iter().find(|p| p.object.is_none()));
    let failure = |change: &Change| outcome.and_then(|o| o.failure_of(change)).or(refused);
    let held = |change: &Change| outcome.and_then(|o| o.held_for_approval(change));
    let mut events = Vec::new();
    let mut drifted = Vec::new();
    let mut writes = Writes::default();
    for change in &plan.changes {
        if change.excepted.is_some() || change.waiting.is_some() {
            continue;
        }
        if !change.is_write() {
            drifted.push(change.object.to_string());
            continue;
        }
        if let Some(problem) = failure(change) {
            if problem.object.is_some() {
                let reason = if change.action() == Action::Delete { "DeleteFailed" } else { "WriteFailed" };
                events.push(Note::warning(reason, problem.to_string()).about(&change.object));
            }
            continue;
        }
        if let Some(problem) = held(change) {
            events.push(Note::normal("AwaitingApproval", problem.to_string()).about(&change.object));
            continue;
        }
        let (reason, verb, count) = match change.action() {
            Action::Create => ("Created", "Created", &mut writes.created),
            Action::Update => ("Updated", "Updated", &mut writes.updated),
            Action::Adopt => ("Adopted", "Adopted", &mut writes.updated),
            Action::Delete => ("Deleted", "Deleted", &mut writes.deleted),
        };
        *count += 1;
        let note = match change.action() {
            Action::Delete => format!("{verb} {} \"{}\" (no profile delivers it)", change.object, change.display_name),
            _ if change.fields().is_empty() => format!("{verb} {} \"{}\"", change.object, change.display_name),
            _ => format!("{verb} {} \"{}\" ({})", change.object, change.display_name, change.fields_text()),
        };
        events.push(Note::normal(reason, note).about(&change.object));
    }
    let policies = desired.policies.iter().map(|policy| policy_state(policy, live, plan, outcome)).collect();
    let detection_rules = desired.detection_rules.iter().map(|rule| rule_state(rule, live, plan, outcome)).collect();

    let mut failures: Vec<&Problem> = Vec::new();
    for problem in outcome.map(|o| o.errors.iter()).into_iter().flatten().chain(&plan.problems) {
        if !failures.contains(&problem) {
            failures.push(problem);
        }
    }
    let failed_text = failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    for problem in &plan.problems {
        let note = Note::warning(problem.category.reason(), problem.to_string());
        events.push(match &problem.object {
            Some(object) => note.about(object),
            None => note,
        });
    }
    if !drifted.is_empty() {
        events.push(Note::warning("Drifted", format!("audit mode, not written: {}", drifted.join(", "))));
    }
    let clean = failures.is_empty();
    let awaiting: Vec<String> =
        outcome.map(|o| o.awaiting_approval.iter().map(ToString::to_string).collect()).unwrap_or_default();
    let ready = if clean && !awaiting.is_empty() {
        Verdict::new(READY, false, "AwaitingApproval", awaiting.join("; "))
    } else if clean {
        let message = format!("{} policies from {} profiles", desired.policies.len(), plan.profiles.len());
        Verdict::new(READY, true, "Reconciled", message)
    } else {
        Verdict::new(READY, false, "SyncFailed", failed_text.clone())
    };
    let synced = match (clean, drifted.is_empty()) {
        (true, _) if !awaiting.is_empty() => Verdict::new(
            SYNCED,
            false,
            "AwaitingApproval",
            format!("{} held for Multi Admin Approval", crate::util::plural::count(awaiting.len(), "write")),
        ),
        (true, true) => Verdict::new(SYNCED, true, "InSync", "live policies match the desired state"),
        (false, _) => Verdict::new(SYNCED, false, "SyncFailed", failed_text),
        (true, false) => Verdict::new(SYNCED, false, "Drifted", "audit-mode policies differ from the desired state"),
    };
    let drift = if drifted.is_empty() {
        Verdict::new(DRIFTED, false, "NoDrift", "")
    } else {
        Verdict::new(DRIFTED, true, "DriftDetected", format!("audit mode, not written: {}", drifted.join(", ")))
    };
    Report {
        conditions: Conditions {
            ready,
            synced,
            drifted: drift,
            conflict: Verdict::new(CONFLICT, false, "NoConflict", ""),
            reconciling: not_reconciling(),
            stalled: Verdict::new(STALLED, false, "Progressing", ""),
        },
        policies,
        detection_rules,
        synced: true,
        events,
        writes,
        next: if clean { Next::Resync } else { Next::Backoff },
        failure: failures.first().map(|problem| problem.category.as_str()),
        incidents: None,
        inputs: Some(inputs_digest(desired)),
        marked_reconciling: false,
        access: None,
        rollouts: plan.rollouts.clone(),
    }
}

/// One desired policy's state after the reconcile.
fn policy_state(
    policy: &DesiredPolicy,
    live: &LiveTenant,
    plan: &TenantPlan,
    outcome: Option<&TenantOutcome>,
) -> PolicySyncStatus {
    let live_id =
        live.policies.iter().find(|p| Policies::owner(p).as_ref() == Some(&policy.object)).and_then(|p| p.id.clone());
    let (state, message) = sync_state(&policy.object, plan, outcome);
    policy_status(policy, live_id, state, message)
}

/// One desired detection rule's state after the reconcile.
fn rule_state(
    rule: &DesiredDetectionRule,
    live: &LiveTenant,
    plan: &TenantPlan,
    outcome: Option<&TenantOutcome>,
) -> DetectionRuleSyncStatus {
    let live_id = live
        .detection_rules
        .iter()
        .flatten()
        .find(|r| DetectionRules::owner(r).as_ref() == Some(&rule.object))
        .and_then(|r| r.id.clone());
    let (state, message) = sync_state(&rule.object, plan, outcome);
    rule_status(rule, live_id, state, message)
}

fn rule_status(
    rule: &DesiredDetectionRule,
    graph_id: Option<String>,
    state: PolicySyncState,
    message: Option<String>,
) -> DetectionRuleSyncStatus {
    DetectionRuleSyncStatus { rule: rule.object.name.clone(), profile: rule.profile.clone(), graph_id, state, message }
}

/// An object's state from the plan and what applying it did.
fn sync_state(
    object: &ObjectRef,
    plan: &TenantPlan,
    outcome: Option<&TenantOutcome>,
) -> (PolicySyncState, Option<String>) {
    let problem = plan.problems.iter().find(|p| p.is_about(object));
    let change = plan.changes.iter().find(|c| c.object == *object && c.action() != Action::Delete);
    let (state, message) = match (change, problem) {
        (_, Some(problem)) => (PolicySyncState::Failed, Some(problem.to_string())),
        (Some(change), None) if let Some(excepted) = &change.excepted => (
            PolicySyncState::Excepted,
            Some(format!(
                "{} until {} ({}: {})",
                excepted.exception, excepted.expires, excepted.owner, excepted.reason
            )),
        ),
        (None, None) => (PolicySyncState::InSync, None),
        (Some(change), None) if let Some(waiting) = &change.waiting => {
            (PolicySyncState::Waiting, Some(waiting.clone()))
        }
        (Some(change), None) if change.mode == Mode::Audit => {
            let fields = if change.fields().is_empty() { "missing".to_string() } else { change.fields_text() };
            (
                PolicySyncState::Drifted,
                Some(format!("{:?} needed ({fields}); audit mode, nothing written", change.action())),
            )
        }
        (Some(change), None) => {
            match outcome.and_then(|o| o.failure_of(change).or_else(|| o.errors.iter().find(|p| p.object.is_none()))) {
                Some(problem) => (PolicySyncState::Failed, Some(problem.to_string())),
                None if let Some(held) = outcome.and_then(|o| o.held_for_approval(change)) => {
                    (PolicySyncState::AwaitingApproval, Some(held.to_string()))
                }
                None if change.action() == Action::Create => (PolicySyncState::Created, None),
                None => (PolicySyncState::Updated, None),
            }
        }
    };
    (state, message)
}

fn policy_status(
    policy: &DesiredPolicy,
    graph_id: Option<String>,
    state: PolicySyncState,
    message: Option<String>,
) -> PolicySyncStatus {
    PolicySyncStatus {
        policy: PolicyRef { kind: policy.kind, name: policy.object.name.clone() },
        profile: policy.profile.clone(),
        graph_id,
        state,
        message,
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::engine::api::ApiError;
    use crate::engine::apply::apply_tenant;
    use crate::engine::diff::{Observation, PlanOptions, plan_tenant};
    use crate::engine::memory::{MemoryTenant, run};
    use crate::engine::observe::observe_tenant;

    fn manifests(mode: &str) -> String {
        format!(
            "
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {{name: t1}}
spec: {{tenantId: 00000000-0000-0000-0000-000000000001, displayName: T1}}
---
apiVersion: tenantctl.dev/v1alpha1
kind: FirewallPolicy
metadata: {{name: fw}}
spec: {{displayName: FW, public: {{enabled: true}}}}
---
apiVersion: tenantctl.dev/v1alpha1
kind: IntuneRole
metadata: {{name: soc}}
spec: {{displayName: SOC, allowedResourceActions: [Microsoft.Intune_ManagedDevices_Read]}}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {{name: base}}
spec: {{tenants: [t1], policies: [{{kind: FirewallPolicy, name: fw}}], roles: [soc], mode: {mode}}}
"
        )
    }

    pub(super) fn desired(mode: &str) -> TenantDesired {
        crate::engine::memory::first_tenant_desired(&manifests(mode))
    }

    /// One reconcile against the tenant, as the operator makes it, concluded.
    fn reconcile(tenant: &MemoryTenant, desired: &TenantDesired) -> Report {
        let live = run(observe_tenant(tenant, desired)).expect("observed");
        let plan = plan_tenant(desired, Some(&Observation::Observed(live.clone())), PlanOptions::default());
        let outcome = plan.writes().next().is_some().then(|| run(apply_tenant(tenant, &plan, false)));
        conclude(desired, &live, &plan, outcome.as_ref())
    }

    fn reasons(report: &Report) -> Vec<(&'static str, String)> {
        report.events.iter().map(|e| (e.reason, e.note.clone())).collect()
    }

    #[test]
    fn every_write_is_one_event_naming_its_object_and_then_the_tenant_is_in_sync() {
        let tenant = MemoryTenant::default();
        let desired = desired("enforce");
        let report = reconcile(&tenant, &desired);
        assert_eq!(
            reasons(&report),
            vec![
                ("Created", "Created FirewallPolicy/fw \"FW\"".to_string()),
                ("Created", "Created IntuneRole/soc \"SOC\"".to_string())
            ]
        );
        assert_eq!(report.writes, Writes { created: 2, updated: 0, deleted: 0 });
        assert_eq!(report.policies[0].state, PolicySyncState::Created);
        assert_eq!((report.conditions.ready.status, report.conditions.ready.reason), ("True", "Reconciled"));

        let again = reconcile(&tenant, &desired);
        assert!(again.events.is_empty(), "{:?}", again.events);
        assert_eq!(again.policies[0].state, PolicySyncState::InSync);
        assert!(again.policies[0].graph_id.is_some(), "the live id is reported");
        assert_eq!((again.conditions.synced.status, again.conditions.synced.reason), ("True", "InSync"));
        assert_eq!((again.next, again.failure), (Next::Resync, None));
        assert_eq!(again.inputs, report.inputs, "the same inputs, the same digest");
        assert_eq!((again.conditions.stalled.status, again.conditions.reconciling.status), ("False", "False"));
        let audit = super::tests::desired("audit");
        assert_ne!(again.inputs, Some(inputs_digest(&audit)), "another mode, other inputs");
    }

    #[test]
    fn audit_mode_reports_drift_and_writes_nothing() {
        let tenant = MemoryTenant::default();
        let report = reconcile(&tenant, &desired("audit"));
        assert_eq!(report.writes, Writes::default());
        assert_eq!((report.conditions.drifted.status, report.conditions.drifted.reason), ("True", "DriftDetected"));
        assert_eq!((report.conditions.synced.status, report.conditions.synced.reason), ("False", "Drifted"));
        assert_eq!(report.conditions.ready.status, "True", "drift in audit mode is not a failure");
        assert_eq!(report.policies[0].state, PolicySyncState::Drifted);
        assert_eq!(reasons(&report).last().map(|r| r.0), Some("Drifted"));
        tenant.edit(|state| assert!(state.calls.iter().all(|c| c.starts_with("list_") || *c == "find_groups")));
    }

    #[test]
    fn a_failed_write_fails_its_object_and_backs_off() {
        let tenant = MemoryTenant::default();
        tenant.edit(|state| {
            state.refuse.insert("create_policy", ApiError::new("server", "Service unavailable"));
        });
        let report = reconcile(&tenant, &desired("enforce"));
        assert_eq!(report.policies[0].state, PolicySyncState::Failed);
        assert_eq!(report.policies[0].message.as_deref(), Some("FirewallPolicy/fw: Service unavailable"));
        assert_eq!((report.conditions.ready.status, report.conditions.ready.reason), ("False", "SyncFailed"));
        assert_eq!((report.next, report.failure), (Next::Backoff, Some("writeFailed")));
        let reasons = reasons(&report);
        assert!(
            reasons.contains(&("WriteFailed", "FirewallPolicy/fw: Service unavailable".to_string())),
            "{reasons:?}"
        );
        assert!(reasons.contains(&("Created", "Created IntuneRole/soc \"SOC\"".to_string())), "{reasons:?}");
        assert_eq!(report.writes.created, 1);
    }

    #[test]
    fn blocked_reports_name_the_reason_in_ready_and_conflict() {
        let report = Report::conflicted("DuplicateTenant", "declared twice".into(), "declared twice".into());
        assert_eq!((report.conditions.ready.status, report.conditions.ready.reason), ("False", "DuplicateTenant"));
        assert_eq!((report.conditions.conflict.status, report.conditions.conflict.reason), ("True", "DuplicateTenant"));
        assert_eq!(report.conditions.synced.status, "Unknown");
        assert_eq!(report.next, Next::AwaitChange);
        assert_eq!((report.conditions.stalled.status, report.conditions.stalled.reason), ("True", "DuplicateTenant"));
        assert_eq!(report.conditions.reconciling.status, "False");
        let unreachable = Report::unreachable(&desired("enforce"), "token request failed");
        assert_eq!(unreachable.conditions.stalled.status, "False", "a read failure retries by itself");
        assert_eq!(unreachable.policies[0].state, PolicySyncState::Unknown);
        assert_eq!(unreachable.failure, Some("graph_read"));
    }
}
