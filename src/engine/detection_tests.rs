//! Detection rules through the generic observe → plan → apply path, against an in-memory tenant:
//! created once under the id tenantctl chose, a changed query is an update of that one field,
//! pruning, audit mode, and creates whose answers were lost or that a racing writer made first.

use std::sync::Arc;

use super::api::TenantApi;
use super::apply::apply_tenant;
use super::diff::{Observation, PlanOptions, plan_tenant};
use super::managed::{DetectionRules, Managed};
use super::memory::{MemoryTenant, first_tenant_desired, run};
use super::observe::observe_tenant;
use super::plan::{Action, Field, TenantPlan};
use super::resolve::TenantDesired;

const MANIFESTS: &str = r#"
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: t1}
spec: {tenantId: 00000000-0000-0000-0000-000000000001, displayName: T1}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DetectionRule
metadata: {name: office-child}
spec:
  displayName: Office spawned a script host
  frequency: PT1H
  query: |
    DeviceProcessEvents
    | where InitiatingProcessFileName in~ ("winword.exe", "excel.exe")
    | project Timestamp, ReportId, DeviceId
  alert:
    title: Office spawned a script host
    description: An Office application started a script interpreter.
    severity: medium
    tactic: Execution
    techniques: [T1204.002]
    entities: {hosts: [{deviceIdColumn: DeviceId}]}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: base}
spec:
  tenants: [t1]
  detectionRules: [office-child]
  prune: {enabled: true, maxDeletePercent: 100}
"#;

fn plan(tenant: &MemoryTenant, desired: &TenantDesired) -> TenantPlan {
    let live = run(observe_tenant(tenant, desired)).expect("observed");
    plan_tenant(desired, Some(&Observation::Observed(live)), PlanOptions::default())
}

fn actions(plan: &TenantPlan) -> Vec<(Action, String)> {
    plan.changes.iter().map(|c| (c.action(), c.object.to_string())).collect()
}

#[test]
fn a_rule_is_created_once_under_its_id_and_a_changed_query_is_an_update() {
    let tenant = MemoryTenant::default();
    let desired = first_tenant_desired(MANIFESTS);
    let id = desired.detection_rules[0].id.clone();
    assert!(id.starts_with("tenantctl-") && id.len() <= 100, "{id}");
    let first = plan(&tenant, &desired);
    assert_eq!(actions(&first), vec![(Action::Create, "DetectionRule/office-child".to_string())]);
    let outcome = run(apply_tenant(&tenant, &first, false));
    assert_eq!((outcome.created, outcome.errors.len()), (1, 0), "{:?}", outcome.errors);
    let stored = tenant.edit(|state| state.detection_rules.clone());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id.as_deref(), Some(id.as_str()));
    assert!(plan(&tenant, &desired).changes.is_empty(), "converged");

    let mut changed = desired.clone();
    Arc::make_mut(&mut changed.detection_rules[0].spec).query.push_str("| where DeviceId != \"\"\n");
    let update = plan(&tenant, &changed);
    assert_eq!(actions(&update), vec![(Action::Update, "DetectionRule/office-child".to_string())]);
    assert_eq!(update.changes[0].fields(), &[Field::Query]);
    run(apply_tenant(&tenant, &update, false));
    let stored = tenant.edit(|state| state.detection_rules.clone());
    assert_eq!((stored.len(), stored[0].id.as_deref()), (1, Some(id.as_str())), "updated in place");
    assert!(stored[0].query_condition.query_text.contains("DeviceId != \"\""));
}

#[test]
fn a_lost_create_is_found_and_a_racing_create_is_taken_by_id_not_duplicated() {
    let tenant = MemoryTenant::default();
    let desired = first_tenant_desired(MANIFESTS);
    tenant.edit(|state| state.lose_create_answers = 1);
    let outcome = run(apply_tenant(&tenant, &plan(&tenant, &desired), false));
    assert_eq!((outcome.created, outcome.errors.len()), (1, 0), "{:?}", outcome.errors);
    assert_eq!(tenant.edit(|state| state.detection_rules.len()), 1);

    // Another writer created the rule after this one read the tenant: Defender refuses the id,
    // and the refusal is answered by the rule of that id.
    let payload = DetectionRules::payload(&desired.detection_rules[0], &Default::default()).expect("payload");
    let created = run(DetectionRules::create(&tenant, &payload)).expect("the existing rule");
    assert_eq!(created.id, payload.id);
    assert_eq!(tenant.edit(|state| state.detection_rules.len()), 1);
    // A rule of that name that is somebody else's is not taken.
    tenant.edit(|state| {
        state.detection_rules[0].description = Some("hand-made".into());
    });
    let refused = run(DetectionRules::create(&tenant, &payload)).expect_err("not ours");
    assert_eq!(refused.category, super::api::CONFLICT);
    assert!(run(tenant.get_detection_rule("nope")).expect("read").is_none());
}

#[test]
fn a_tenant_that_only_prunes_is_not_held_back_by_a_rules_permission_it_does_not_need() {
    use std::collections::BTreeSet;

    use super::observe::observe_and_plan_tenant;
    use super::plan::TenantState;
    use super::policy_cache::PolicyCache;

    let manifests = MANIFESTS.replace("  detectionRules: [office-child]\n", "");
    let pruning = first_tenant_desired(&manifests);
    assert!(pruning.manages_detection_rules && pruning.detection_rules.is_empty());
    let tenant = MemoryTenant::default();
    let granted: BTreeSet<String> = ["DeviceManagementConfiguration.ReadWrite.All".to_string()].into();
    tenant.edit(|state| state.access.granted = Some(granted));
    let (live, planned) =
        run(observe_and_plan_tenant(&tenant, &pruning, &mut PolicyCache::none(), PlanOptions::default()))
            .expect("read");
    assert!(live.detection_rules.is_none(), "not read without the permission");
    assert_eq!(planned.state, TenantState::Planned);
    assert!(!tenant.edit(|state| state.calls.contains(&"list_detection_rules")));

    // A token that does not say: Graph's 403 is the answer, and the tenant still goes on.
    tenant.edit(|state| {
        state.access.granted = None;
        state.refuse.insert("list_detection_rules", super::api::ApiError::new(super::api::FORBIDDEN, "Forbidden"));
    });
    let (live, planned) =
        run(observe_and_plan_tenant(&tenant, &pruning, &mut PolicyCache::none(), PlanOptions::default()))
            .expect("read");
    assert!(live.detection_rules.is_none());
    assert_eq!(planned.state, TenantState::Planned);
    // A tenant that receives rules needs them read: a refusal there leaves it unknown.
    let receiving = first_tenant_desired(MANIFESTS);
    assert!(run(observe_tenant(&tenant, &receiving)).is_err());
}

#[test]
fn removed_rules_are_pruned_and_audit_mode_only_reports() {
    let tenant = MemoryTenant::default();
    let desired = first_tenant_desired(MANIFESTS);
    run(apply_tenant(&tenant, &plan(&tenant, &desired), false));

    let audit = first_tenant_desired(&MANIFESTS.replace("  prune: {enabled", "  mode: audit\n  prune: {enabled"));
    let mut drifted = audit.clone();
    Arc::make_mut(&mut drifted.detection_rules[0].spec).enabled = false;
    let reported = plan(&tenant, &drifted);
    assert_eq!(reported.changes[0].fields(), &[Field::Status]);
    assert!(!reported.changes[0].is_write(), "audit mode writes nothing");

    let without = first_tenant_desired(&MANIFESTS.replace("  detectionRules: [office-child]\n", ""));
    assert!(without.manages_detection_rules, "a pruning tenant reads its rules");
    let prune = plan(&tenant, &without);
    assert_eq!(actions(&prune), vec![(Action::Delete, "DetectionRule/office-child".to_string())]);
    run(apply_tenant(&tenant, &prune, false));
    assert!(tenant.edit(|state| state.detection_rules.is_empty()));
}
