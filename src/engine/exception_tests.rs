//! Exceptions in the plan: an object left alone is neither written nor drift, one kept on prune is
//! not deleted, and an expired exception holds nothing back.

use super::diff::{Observation, PlanOptions, plan_tenant};
use super::memory::{MemoryTenant, run};
use super::observe::observe_tenant;
use super::plan::{Action, Plan, TenantPlan};
use super::resolve::{TenantDesired, resolve_at};
use crate::manifest::load::{Loaded, load_text};

const MANIFESTS: &str = r#"
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
kind: DistributionProfile
metadata: {name: base}
spec:
  tenants: [t1]
  policies: [{kind: FirewallPolicy, name: fw}]
  assignments: {allDevices: true}
  prune: {enabled: true, maxDeletePercent: 100}
---
apiVersion: tenantctl.dev/v1alpha1
kind: PolicyException
metadata: {name: migration}
spec:
  tenants: [t1]
  target: {kind: FirewallPolicy, name: fw}
  allow: ALLOW
  owner: netops
  reason: Firewall migration
  expires: "2027-01-31"
"#;

fn desired(text: &str, day: &str) -> TenantDesired {
    let mut loaded = Loaded::default();
    load_text(&mut loaded, "t.yaml".into(), text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let now: jiff::Timestamp = day.parse().expect("time");
    resolve_at(&loaded.set, now).desired.tenants.remove(0)
}

fn plan(tenant: &MemoryTenant, desired: &TenantDesired) -> TenantPlan {
    let live = run(observe_tenant(tenant, desired)).expect("observed");
    plan_tenant(desired, Some(&Observation::Observed(live)), PlanOptions::default())
}

#[test]
fn left_alone_until_it_expires() {
    let tenant = MemoryTenant::default();
    let text = MANIFESTS.replace("ALLOW", "leaveAlone");
    let held = plan(&tenant, &desired(&text, "2027-01-31T12:00:00Z"));
    assert_eq!(held.changes.len(), 1);
    assert!(!held.changes[0].is_write());
    let excepted = held.changes[0].excepted.as_ref().expect("excepted");
    assert_eq!((excepted.exception.as_str(), excepted.expires.as_str()), ("PolicyException/migration", "2027-01-31"));
    let summary = Plan::new(vec![held]).summary;
    assert_eq!((summary.create, summary.drifted, summary.excepted), (0, 0, 1));

    let enforced = plan(&tenant, &desired(&text, "2027-02-01T00:00:00Z"));
    assert!(enforced.changes[0].is_write(), "expired: enforced again");
    assert_eq!(enforced.changes[0].action(), Action::Create);
}

#[test]
fn kept_on_prune_is_not_deleted_but_other_changes_go_on() {
    let tenant = MemoryTenant::default();
    let text = MANIFESTS.replace("ALLOW", "keepOnPrune");
    let kept = desired(&text, "2026-12-01T00:00:00Z");
    assert!(plan(&tenant, &kept).changes[0].is_write(), "a create is not held back by keepOnPrune");
    run(super::apply::apply_tenant(&tenant, &plan(&tenant, &kept), false));
    let without = desired(
        &text.replace("  policies: [{kind: FirewallPolicy, name: fw}]\n", "  policies: []\n"),
        "2026-12-01T00:00:00Z",
    );
    let pruning = plan(&tenant, &without);
    assert_eq!(pruning.changes[0].action(), Action::Delete);
    assert!(!pruning.changes[0].is_write(), "kept");
    let later = desired(
        &text.replace("  policies: [{kind: FirewallPolicy, name: fw}]\n", "  policies: []\n"),
        "2027-03-01T00:00:00Z",
    );
    assert!(plan(&tenant, &later).changes[0].is_write(), "expired: pruned");
}
