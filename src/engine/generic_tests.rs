//! The generic observe → plan → apply path, for every managed family, against an in-memory tenant:
//! convergence, create-once after lost answers, field-level updates, prune order, adoption, failures
//! reported per object. Milliseconds, no HTTP.

use std::sync::Arc;

use super::api::ApiError;
use super::apply::apply_tenant;
use super::diff::{Observation, PlanOptions, plan_tenant};
use super::memory::{MemoryTenant, first_tenant_desired, run};
use super::observe::observe_tenant;
use super::plan::{Action, Field, TenantPlan, TenantState};
use super::problem::Category;
use super::resolve::TenantDesired;
use crate::wire::rbac::RoleDefinition;

const MANIFESTS: &str = "
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: t1}
spec: {tenantId: 00000000-0000-0000-0000-000000000001, displayName: T1}
---
apiVersion: tenantctl.dev/v1alpha1
kind: FirewallPolicy
metadata: {name: fw}
spec: {displayName: FW, public: {enabled: true, defaultInboundAction: block}}
---
apiVersion: tenantctl.dev/v1alpha1
kind: IntuneRole
metadata: {name: soc}
spec:
  displayName: SOC
  allowedResourceActions: [Microsoft.Intune_ManagedDevices_Read]
  assignments:
    - {displayName: SOC on pilots, members: [SOC], scopeGroups: [Pilot]}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: base}
spec:
  tenants: [t1]
  policies: [{kind: FirewallPolicy, name: fw}]
  roles: [soc]
  assignments: {groups: [Pilot]}
  prune: {enabled: true, maxDeletePercent: 100}
";

fn desired(text: &str) -> TenantDesired {
    first_tenant_desired(text)
}

fn plan(tenant: &MemoryTenant, desired: &TenantDesired, options: PlanOptions) -> TenantPlan {
    let live = run(observe_tenant(tenant, desired)).expect("observed");
    plan_tenant(desired, Some(&Observation::Observed(live)), options)
}

fn actions(plan: &TenantPlan) -> Vec<(Action, String)> {
    plan.changes.iter().map(|c| (c.action(), c.object.to_string())).collect()
}

fn calls(tenant: &MemoryTenant) -> Vec<&'static str> {
    tenant.edit(|state| std::mem::take(&mut state.calls))
}

#[test]
fn an_empty_tenant_converges_in_one_apply_and_then_plans_nothing() {
    let tenant = MemoryTenant::with_groups(&["Pilot", "SOC"]);
    let desired = desired(MANIFESTS);
    let first = plan(&tenant, &desired, PlanOptions::default());
    assert_eq!(
        actions(&first),
        vec![(Action::Create, "FirewallPolicy/fw".into()), (Action::Create, "IntuneRole/soc".into())]
    );
    let outcome = run(apply_tenant(&tenant, &first, false));
    assert_eq!((outcome.created, outcome.errors.len()), (2, 0), "{:?}", outcome.errors);
    tenant.edit(|state| {
        assert_eq!(state.policies.len(), 1);
        assert_eq!(state.policies[0].assignments.as_ref().map(Vec::len), Some(1), "assigned to Pilot");
        assert_eq!(state.assignments.len(), 1, "the role's assignment");
        assert_eq!(state.assignments[0].members, vec!["group-SOC".to_string()]);
    });
    let second = plan(&tenant, &desired, PlanOptions::default());
    assert!(second.changes.is_empty(), "{:#?}", second.changes);
    assert_eq!(second.unchanged.len(), 2);
}

#[test]
fn creates_whose_answers_are_lost_are_found_by_marker_not_repeated() {
    let tenant = MemoryTenant::with_groups(&["Pilot", "SOC"]);
    let desired = desired(MANIFESTS);
    let first = plan(&tenant, &desired, PlanOptions::default());
    // Every create commits but answers as a dropped connection: the policy, the role, its assignment.
    tenant.edit(|state| state.lose_create_answers = 3);
    let outcome = run(apply_tenant(&tenant, &first, false));
    assert_eq!((outcome.created, outcome.errors.len()), (2, 0), "{:?}", outcome.errors);
    tenant.edit(|state| {
        assert_eq!((state.policies.len(), state.definitions.len(), state.assignments.len()), (1, 1, 1));
        let creates = state.calls.iter().filter(|c| c.starts_with("create_")).count();
        assert_eq!(creates, 3, "one attempt each: {:?}", state.calls);
    });
    assert!(plan(&tenant, &desired, PlanOptions::default()).changes.is_empty());
}

#[test]
fn updates_write_only_the_parts_that_differ() {
    let tenant = MemoryTenant::with_groups(&["Pilot", "SOC", "Other"]);
    let desired = desired(MANIFESTS);
    run(apply_tenant(&tenant, &plan(&tenant, &desired, PlanOptions::default()), false));

    let moved = desired.clone();
    let mut moved = moved;
    Arc::make_mut(&mut moved.roles[0].spec).assignments[0].members = vec!["Other".into()];
    moved.policies[0].assignments.groups = vec!["Other".into()];
    let planned = plan(&tenant, &moved, PlanOptions::default());
    let fields: Vec<Vec<Field>> = planned.changes.iter().map(|c| c.fields().to_vec()).collect();
    assert_eq!(fields, vec![vec![Field::Assignments], vec![Field::Assignments]]);
    calls(&tenant);
    let outcome = run(apply_tenant(&tenant, &planned, false));
    assert_eq!(outcome.updated, 2);
    let writes: Vec<&str> = calls(&tenant).into_iter().filter(|c| !c.starts_with("list_")).collect();
    assert_eq!(writes, vec!["assign_policy", "update_role_assignment"], "no policy or definition rewrite");
    assert!(plan(&tenant, &moved, PlanOptions::default()).changes.is_empty());
}

#[test]
fn prune_deletes_an_assigned_role_after_its_assignments() {
    let tenant = MemoryTenant::with_groups(&["Pilot", "SOC"]);
    run(apply_tenant(&tenant, &plan(&tenant, &desired(MANIFESTS), PlanOptions::default()), false));
    let without_role = desired(&MANIFESTS.replace("  roles: [soc]\n", ""));
    let planned = plan(&tenant, &without_role, PlanOptions::default());
    assert_eq!(actions(&planned), vec![(Action::Delete, "IntuneRole/soc".into())]);
    let outcome = run(apply_tenant(&tenant, &planned, false));
    assert_eq!((outcome.deleted, outcome.errors.len()), (1, 0), "{:?}", outcome.errors);
    tenant.edit(|state| assert!(state.definitions.is_empty() && state.assignments.is_empty()));
}

#[test]
fn an_unmanaged_role_of_the_same_name_is_adopted_only_when_asked() {
    let tenant = MemoryTenant::with_groups(&["Pilot", "SOC"]);
    tenant.edit(|state| {
        state.definitions.push(RoleDefinition {
            id: Some("hand-made".into()),
            display_name: "SOC".into(),
            ..RoleDefinition::default()
        });
        state.definitions.push(RoleDefinition {
            id: Some("builtin".into()),
            display_name: "SOC".into(),
            is_built_in: true,
            ..RoleDefinition::default()
        });
    });
    let desired = desired(MANIFESTS);
    let planned = plan(&tenant, &desired, PlanOptions::default());
    let role = planned.changes.iter().find(|c| c.object.to_string() == "IntuneRole/soc").expect("role change");
    assert_eq!(role.action(), Action::Create);
    assert_eq!(planned.unmanaged, 1, "built-in roles are not counted as unmanaged");

    let adopt = PlanOptions { adopt: true, ..PlanOptions::default() };
    let planned = plan(&tenant, &desired, adopt);
    let role = planned.changes.iter().find(|c| c.object.to_string() == "IntuneRole/soc").expect("role change");
    assert_eq!((role.action(), role.id()), (Action::Adopt, Some("hand-made")));
    run(apply_tenant(&tenant, &planned, false));
    tenant.edit(|state| assert_eq!(state.definitions.len(), 2, "adopted in place, nothing created"));
    assert!(plan(&tenant, &desired, PlanOptions::default()).changes.is_empty());
}

#[test]
fn a_refused_write_is_a_typed_problem_about_its_object_and_the_rest_goes_on() {
    let tenant = MemoryTenant::with_groups(&["Pilot", "SOC"]);
    tenant.edit(|state| {
        state.refuse.insert("create_policy", ApiError::new("forbidden", "Forbidden: approval required"));
    });
    let planned = plan(&tenant, &desired(MANIFESTS), PlanOptions::default());
    let outcome = run(apply_tenant(&tenant, &planned, false));
    assert_eq!(outcome.created, 1, "the role is still created");
    let problem = &outcome.errors[0];
    assert_eq!(problem.category, Category::WriteFailed);
    assert_eq!(problem.cause.as_deref(), Some("forbidden"));
    assert_eq!(problem.to_string(), "FirewallPolicy/fw: Forbidden: approval required");
    assert!(outcome.failure_of(&planned.changes[0]).is_some());
    assert!(outcome.failure_of(&planned.changes[1]).is_none());
}

#[test]
fn a_failed_read_makes_the_tenant_unknown_and_nothing_is_planned() {
    let tenant = MemoryTenant::default();
    tenant.edit(|state| {
        state.refuse.insert("list_policies", ApiError::new("throttled", "Too many requests"));
    });
    let desired = desired(MANIFESTS);
    let observation = match run(observe_tenant(&tenant, &desired)) {
        Ok(_) => panic!("the read was refused"),
        Err(error) => Observation::Unknown(error.to_string()),
    };
    let planned = plan_tenant(&desired, Some(&observation), PlanOptions::default());
    assert_eq!((planned.state, planned.changes.len()), (TenantState::Unknown, 0));
    assert_eq!(planned.problems[0].category, Category::Unreadable);
}

#[test]
fn a_cached_observation_reads_only_what_moved_and_looks_groups_up_again_before_writing() {
    use super::observe::observe_and_plan_tenant;
    use super::policy_cache::PolicyCache;

    let tenant = MemoryTenant::with_groups(&["Pilot", "SOC"]);
    let desired = desired(MANIFESTS);
    let mut cache = PolicyCache::default();
    let cycle = |cache: &mut PolicyCache| {
        tenant.edit(|state| state.calls.clear());
        let (_, plan) =
            run(observe_and_plan_tenant(&tenant, &desired, cache, PlanOptions::default())).expect("observed");
        (plan, tenant.edit(|state| state.calls.clone()))
    };
    let (first, _) = cycle(&mut cache);
    run(apply_tenant(&tenant, &first, false));
    let (in_sync, calls) = cycle(&mut cache);
    assert!(in_sync.changes.is_empty());
    assert!(calls.contains(&"read_policies"), "the policy created since is read: {calls:?}");
    assert!(!calls.contains(&"find_groups"), "the groups are those of the last lookup: {calls:?}");
    let (in_sync, calls) = cycle(&mut cache);
    assert!(in_sync.changes.is_empty());
    assert!(!calls.contains(&"read_policies") && !calls.contains(&"find_groups"), "nothing moved: {calls:?}");

    // Someone changes the firewall policy: its version moves, it alone is read again, and since the
    // plan then writes, the groups are looked up again rather than taken from the cache.
    tenant.edit(|state| {
        let policy = state.policies.iter_mut().find(|p| p.name == "FW").expect("FW");
        let text = serde_json::to_string(&policy.settings).expect("json");
        assert!(text.contains("defaultinboundaction_1"), "{text}");
        policy.settings =
            serde_json::from_str(&text.replace("defaultinboundaction_1", "defaultinboundaction_0")).expect("settings");
        policy.last_modified_date_time = Some("2026-03-03T00:00:00Z".into());
    });
    let (drifted, calls) = cycle(&mut cache);
    assert_eq!(actions(&drifted), vec![(Action::Update, "FirewallPolicy/fw".to_string())]);
    assert!(calls.contains(&"read_policies") && calls.contains(&"find_groups"), "{calls:?}");

    // Repaired; then the role goes missing. The plan writes (the role), so the firewall policy, known
    // in sync from the cache alone, is read again before anything is written.
    run(apply_tenant(&tenant, &drifted, false));
    cycle(&mut cache);
    let (_, calls) = cycle(&mut cache);
    assert!(!calls.contains(&"read_policies"), "in sync again: {calls:?}");
    tenant.edit(|state| {
        state.assignments.clear();
        state.definitions.clear();
    });
    let (role_missing, calls) = cycle(&mut cache);
    assert_eq!(actions(&role_missing), vec![(Action::Create, "IntuneRole/soc".to_string())]);
    assert!(calls.contains(&"read_policies"), "what the cache vouched for is read before a write: {calls:?}");
}
