//! Overrides through the generic path: a role, a Defender role and a detection rule are patched for
//! the covered tenant only, the plan names the override, and applying converges.

use super::diff::{Observation, PlanOptions, plan_tenant};
use super::memory::{MemoryTenant, run};
use super::observe::observe_tenant;
use super::plan::{Action, TenantPlan};
use super::resolve::{DesiredState, resolve};
use crate::manifest::load::{Loaded, load_text};

fn manifests() -> String {
    let library = |path: &str| std::fs::read_to_string(format!("{}/policies/{path}", env!("CARGO_MANIFEST_DIR")));
    let tenants = "
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: t1}
spec: {tenantId: 00000000-0000-0000-0000-000000000001, displayName: T1}
---
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: t2}
spec: {tenantId: 00000000-0000-0000-0000-000000000002, displayName: T2}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: soc}
spec:
  tenants: [t1, t2]
  policies: []
  roles: [soc-read-only, defender-soc-tier1]
  detectionRules: [new-local-admin]
---
apiVersion: tenantctl.dev/v1alpha1
kind: PolicyOverride
metadata: {name: t1-more}
spec:
  tenants: [t1]
  target: {kind: IntuneRole, name: soc-read-only}
  reason: T1's SOC also reads apps
  append:
    allowedResourceActions: [Microsoft.Intune_MobileApps_Read]
---
apiVersion: tenantctl.dev/v1alpha1
kind: PolicyOverride
metadata: {name: t1-severity}
spec:
  tenants: [t1]
  target: {kind: DetectionRule, name: new-local-admin}
  reason: T1 treats local admins as high severity
  set:
    alert.severity: high
---
apiVersion: tenantctl.dev/v1alpha1
kind: PolicyOverride
metadata: {name: t1-name}
spec:
  tenants: [t1]
  target: {kind: DefenderRole, name: defender-soc-tier1}
  reason: T1 names its roles in its own language
  set:
    displayName: SOC niveau 1
";
    let files = ["roles/soc-read-only.yaml", "roles/defender-soc-tier1.yaml", "detections/new-local-admin.yaml"];
    let mut text = tenants.to_string();
    for file in files {
        text.push_str("---\n");
        text.push_str(&library(file).expect("library file"));
    }
    text
}

fn desired() -> DesiredState {
    let mut loaded = Loaded::default();
    load_text(&mut loaded, "t.yaml".into(), &manifests());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let resolution = resolve(&loaded.set);
    assert!(resolution.diagnostics.is_empty(), "{:?}", resolution.diagnostics);
    resolution.desired
}

fn plan(tenant: &MemoryTenant, desired: &super::resolve::TenantDesired) -> TenantPlan {
    let live = run(observe_tenant(tenant, desired)).expect("observed");
    plan_tenant(desired, Some(&Observation::Observed(live)), PlanOptions::default())
}

#[test]
fn roles_and_rules_are_patched_for_the_covered_tenant_only() {
    let desired = desired();
    let (t1, t2) = (&desired.tenants[0], &desired.tenants[1]);
    assert!(t1.roles[0].spec.allowed_resource_actions.contains(&"Microsoft.Intune_MobileApps_Read".to_string()));
    assert!(!t2.roles[0].spec.allowed_resource_actions.contains(&"Microsoft.Intune_MobileApps_Read".to_string()));
    assert_eq!(t1.defender_roles[0].spec.display_name, "SOC niveau 1");
    assert_ne!(t2.defender_roles[0].spec.display_name, "SOC niveau 1");
    assert_eq!(format!("{:?}", t1.detection_rules[0].spec.alert.severity), "High");
    assert_eq!(format!("{:?}", t2.detection_rules[0].spec.alert.severity), "Low");
    assert_eq!(t1.detection_rules[0].overridden[0].edits, vec!["set alert.severity"]);
    assert!(t2.detection_rules[0].overridden.is_empty());
}

#[test]
fn the_plan_names_the_override_and_an_applied_override_converges() {
    let desired = desired();
    let t1 = &desired.tenants[0];
    let tenant = MemoryTenant::with_groups(&["SG-SOC-Analysts", "SG-All-Managed-Devices", "SG-SOC-Tier1"]);
    let actions = t1.defender_roles[0].spec.actions();
    tenant.edit(|state| state.defender_actions = actions.iter().map(ToString::to_string).collect());
    let first = plan(&tenant, t1);
    assert!(first.problems.is_empty(), "{:?}", first.problems);
    let role = first.changes.iter().find(|c| c.object.to_string() == "IntuneRole/soc-read-only").expect("role");
    assert_eq!(role.action(), Action::Create);
    assert_eq!(role.overridden[0].r#override, "PolicyOverride/t1-more");
    run(super::apply::apply_tenant(&tenant, &first, false));
    let again = plan(&tenant, t1);
    assert!(again.changes.is_empty(), "converged: {:?}", again.changes);
}
