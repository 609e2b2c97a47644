//! Defender XDR roles through the generic observe → plan → apply path, against an in-memory tenant:
//! a role and its assignment created with groups resolved, an action added is an update in place, an
//! action the tenant's catalogue lacks is refused at plan time with nothing written, and pruning.

use std::sync::Arc;

use super::apply::apply_tenant;
use super::diff::{Observation, PlanOptions, plan_tenant};
use super::memory::{MemoryTenant, first_tenant_desired, run};
use super::observe::observe_tenant;
use super::plan::{Action, Field, TenantPlan, TenantState};
use super::problem::Category;
use super::resolve::TenantDesired;

const MANIFESTS: &str = r#"
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: t1}
spec: {tenantId: 00000000-0000-0000-0000-000000000001, displayName: T1}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DefenderRole
metadata: {name: tier1}
spec:
  displayName: SOC tier 1
  securityOperations: {securityData: manage}
  assignments:
    - {displayName: Tier 1 analysts, members: [SOC], dataSources: [endpoint]}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: base}
spec:
  tenants: [t1]
  roles: [tier1]
  prune: {enabled: true, maxDeletePercent: 100}
"#;

const CATALOGUE: &[&str] = &[
    "microsoft.xdr/secops/securitydata/basics/read",
    "microsoft.xdr/secops/securitydata/alerts/manage",
    "microsoft.xdr/secops/securitydata/response/manage",
];

fn tenant() -> MemoryTenant {
    let tenant = MemoryTenant::with_groups(&["SOC"]);
    tenant.edit(|state| state.defender_actions = CATALOGUE.iter().map(|a| a.to_string()).collect());
    tenant
}

fn plan(tenant: &MemoryTenant, desired: &TenantDesired) -> TenantPlan {
    let live = run(observe_tenant(tenant, desired)).expect("observed");
    plan_tenant(desired, Some(&Observation::Observed(live)), PlanOptions::default())
}

#[test]
fn a_role_is_created_with_its_assignment_and_an_added_action_is_an_update() {
    let tenant = tenant();
    let desired = first_tenant_desired(MANIFESTS);
    let first = plan(&tenant, &desired);
    assert_eq!(first.changes.len(), 1);
    assert_eq!(first.changes[0].action(), Action::Create);
    let outcome = run(apply_tenant(&tenant, &first, false));
    assert_eq!((outcome.created, outcome.errors.len()), (1, 0), "{:?}", outcome.errors);
    let (definitions, assignments) = tenant.edit(|s| (s.defender_definitions.clone(), s.defender_assignments.clone()));
    assert_eq!(definitions.len(), 1);
    assert_eq!(
        definitions[0].actions(),
        ["microsoft.xdr/secops/securitydata/alerts/manage", "microsoft.xdr/secops/securitydata/basics/read"]
    );
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0].principal_ids, ["group-SOC"]);
    assert_eq!(assignments[0].app_scope_ids, ["Mde"]);
    assert_eq!(assignments[0].role_definition_id, definitions[0].id.clone().unwrap_or_default());
    assert!(plan(&tenant, &desired).changes.is_empty(), "converged");

    let mut more = desired.clone();
    Arc::make_mut(&mut more.defender_roles[0].spec).security_operations.response = true;
    let update = plan(&tenant, &more);
    assert_eq!(update.changes.len(), 1);
    assert_eq!(update.changes[0].fields(), &[Field::Definition]);
    run(apply_tenant(&tenant, &update, false));
    let definitions = tenant.edit(|s| s.defender_definitions.clone());
    assert_eq!(definitions.len(), 1, "updated in place");
    assert!(definitions[0].actions().contains(&"microsoft.xdr/secops/securitydata/response/manage".to_string()));
}

#[test]
fn an_action_the_tenant_lacks_is_refused_before_any_write_and_removed_roles_are_pruned() {
    let tenant = tenant();
    let mut desired = first_tenant_desired(MANIFESTS);
    Arc::make_mut(&mut desired.defender_roles[0].spec)
        .actions
        .push("microsoft.xdr/secops/securitydata/typo/manage".into());
    let refused = plan(&tenant, &desired);
    assert_eq!(refused.state, TenantState::Failed);
    assert!(refused.changes.is_empty());
    let problem = &refused.problems[0];
    assert_eq!(problem.category, Category::UnknownInTenant);
    assert!(problem.message.contains("microsoft.xdr/secops/securitydata/typo/manage"), "{problem}");
    run(apply_tenant(&tenant, &refused, false));
    assert!(tenant.edit(|s| s.defender_definitions.is_empty()), "nothing written");

    let desired = first_tenant_desired(MANIFESTS);
    run(apply_tenant(&tenant, &plan(&tenant, &desired), false));
    let without = first_tenant_desired(&MANIFESTS.replace("  roles: [tier1]\n", ""));
    assert!(without.manages_defender_roles);
    let prune = plan(&tenant, &without);
    assert_eq!(prune.changes.len(), 1);
    assert_eq!(prune.changes[0].action(), Action::Delete);
    let outcome = run(apply_tenant(&tenant, &prune, false));
    assert_eq!((outcome.deleted, outcome.errors.len()), (1, 0), "{:?}", outcome.errors);
    assert!(tenant.edit(|s| s.defender_definitions.is_empty() && s.defender_assignments.is_empty()));
}
