//! Deleting a Tenant: `Delete` removes the tenantctl-owned policies from the tenant (and nothing
//! else), `Orphan` leaves them; either way the finalizer lets the Tenant go once done.

use super::harness::World;
use super::support::{FABRIKAM_EMEA, markers, stored_policies};

const FABRIKAM_US: &str = "7a3e9c51-2d84-4f6b-8e10-3c9d2b7f4e22";
const FIREWALL_MARKER: &str = "[managed-by tenantctl: FirewallPolicy/firewall-baseline]";

const RESOURCES: &str = r#"
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: fabrikam-emea, labels: {business-group: retail}}
spec: {tenantId: 4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11, displayName: Fabrikam Retail EMEA, deletionPolicy: Delete}
---
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: fabrikam-us, labels: {business-group: retail}}
spec: {tenantId: 7a3e9c51-2d84-4f6b-8e10-3c9d2b7f4e22, displayName: Fabrikam Retail US}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: baseline}
spec:
  tenantSelector: {matchLabels: {business-group: retail}}
  policies: [{kind: FirewallPolicy, name: firewall-baseline}]
  assignments: {allDevices: true}
"#;

fn unmanaged(world: &World, tenant: &str) -> Vec<String> {
    stored_policies(world.lab_state(), tenant)
        .into_iter()
        .filter(|(_, p)| !p["description"].as_str().unwrap_or_default().contains("[managed-by tenantctl: "))
        .map(|(id, _)| id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_policy_delete_removes_owned_policies_and_orphan_keeps_them() {
    let world = World::new("op-deletion").await;
    world.apply(RESOURCES).await;
    world
        .apply(
            &std::fs::read_to_string(super::support::root().join("examples/contoso/policies/firewall-baseline.yaml"))
                .expect("policy"),
        )
        .await;
    let _operator = world.operator("deletion-0", "deletion");
    for tenant in ["fabrikam-emea", "fabrikam-us"] {
        world.wait_condition(tenant, "Ready", "True", "Reconciled").await;
    }
    assert_eq!(markers(world.lab_state(), FABRIKAM_EMEA).get(FIREWALL_MARKER), Some(&1));
    assert_eq!(markers(world.lab_state(), FABRIKAM_US).get(FIREWALL_MARKER), Some(&1));
    let unmanaged_before = unmanaged(&world, FABRIKAM_EMEA);
    assert!(!unmanaged_before.is_empty(), "the seed has unmanaged policies to leave alone");

    world.tenants().delete("fabrikam-emea", &Default::default()).await.expect("delete");
    world
        .eventually("fabrikam-emea to be gone", 30, || async {
            match world.tenants().get_opt("fabrikam-emea").await {
                Ok(None) => Ok(()),
                other => Err(format!("{:?}", other.map(|t| t.map(|t| t.metadata.finalizers)))),
            }
        })
        .await;
    assert!(markers(world.lab_state(), FABRIKAM_EMEA).is_empty(), "owned policies deleted");
    assert_eq!(unmanaged(&world, FABRIKAM_EMEA), unmanaged_before, "unmanaged policies untouched");
    assert!(world.event_reasons("fabrikam-emea").await.contains(&"Deleted".to_string()));
    // The other tenant of the profile keeps its policy.
    assert_eq!(markers(world.lab_state(), FABRIKAM_US).get(FIREWALL_MARKER), Some(&1));

    world.tenants().delete("fabrikam-us", &Default::default()).await.expect("delete");
    world
        .eventually("fabrikam-us to be gone", 30, || async {
            match world.tenants().get_opt("fabrikam-us").await {
                Ok(None) => Ok(()),
                other => Err(format!("{:?}", other.map(|t| t.is_some()))),
            }
        })
        .await;
    assert_eq!(markers(world.lab_state(), FABRIKAM_US).get(FIREWALL_MARKER), Some(&1), "orphaned, not deleted");
}
