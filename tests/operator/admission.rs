//! The CRDs refuse at admission what `tenantctl validate` refuses in one object: kubectl says why, and
//! nothing reaches the operator.

use super::cluster::kubectl;
use super::harness::World;

fn refused(world: &World, yaml: &str) -> String {
    match kubectl(&["apply", "-n", &world.namespace, "-f", "-"], Some(yaml)) {
        Ok(out) => panic!("admitted: {out}"),
        Err(error) => error,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_objects_are_refused_at_admission_with_the_reason() {
    let world = World::new("op-admission").await;
    let tenant = |tenant_id: &str, display_name: &str| {
        format!(
            "apiVersion: tenantctl.dev/v1alpha1\nkind: Tenant\nmetadata: {{name: t}}\nspec: {{tenantId: '{tenant_id}', displayName: '{display_name}'}}\n"
        )
    };
    let error = refused(&world, &tenant("not-a-guid", "T"));
    assert!(error.contains("spec.tenantId") && error.contains("should match"), "{error}");
    let error = refused(&world, &tenant("00000000-0000-0000-0000-000000000001", ""));
    assert!(error.contains("spec.displayName") && error.contains("at least 1"), "{error}");
    let profile = "apiVersion: tenantctl.dev/v1alpha1\nkind: DistributionProfile\nmetadata: {name: p}\nspec:\n  tenants: [t]\n  policies: []\n  assignments: {groups: [Pilot], excludeGroups: [Pilot]}\n  prune: {enabled: true, maxDeletePercent: 150}\n";
    let error = refused(&world, profile);
    assert!(error.contains("a group cannot be both included and excluded"), "{error}");
    assert!(error.contains("spec.prune.maxDeletePercent"), "{error}");
    let policy = "apiVersion: tenantctl.dev/v1alpha1\nkind: AntivirusPolicy\nmetadata: {name: av}\nspec:\n  displayName: AV\n  settings: {cpuLoadFactorPercent: 150, networkProtection: 'of'}\n";
    let error = refused(&world, policy);
    assert!(error.contains("spec.settings.cpuLoadFactorPercent") && error.contains("networkProtection"), "{error}");
    kubectl(&["apply", "-n", &world.namespace, "-f", "-"], Some(&tenant("00000000-0000-0000-0000-000000000001", "T")))
        .expect("a valid Tenant is admitted");
}
