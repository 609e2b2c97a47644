//! An IntuneRole delivered by a profile in the cluster reaches the tenant through the operator, with
//! its assignment's groups resolved by name.

use super::harness::World;
use super::support::FABRIKAM_EMEA;

const RESOURCES: &str = r#"
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: fabrikam-emea, labels: {business-group: retail}}
spec: {tenantId: 4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11, displayName: Fabrikam Retail EMEA}
---
apiVersion: tenantctl.dev/v1alpha1
kind: IntuneRole
metadata: {name: soc-readers}
spec:
  displayName: SOC readers
  allowedResourceActions: [Microsoft.Intune_DeviceConfigurations_Read]
  assignments:
    - {displayName: SOC on retail devices, members: [SG-Break-Glass-Devices], scopeGroups: [SG-Retail-Devices]}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: rbac}
spec:
  tenantSelector: {matchLabels: {business-group: retail}}
  roles: [soc-readers]
"#;

fn stored(world: &World, collection: &str) -> Vec<serde_json::Value> {
    world.stored(FABRIKAM_EMEA, collection)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_delivered_in_the_cluster_reaches_the_tenant() {
    let world = World::new("op-roles").await;
    world.apply(RESOURCES).await;
    let _operator = world.operator("roles-0", "roles");
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
    world
        .eventually("the role and its assignment in the lab", 30, || async {
            let (roles, assignments) = (stored(&world, "roleDefinitions"), stored(&world, "roleAssignments"));
            if roles.len() == 1 && assignments.len() == 1 { Ok(()) } else { Err(format!("{roles:?} {assignments:?}")) }
        })
        .await;
    assert_eq!(stored(&world, "roleDefinitions")[0]["displayName"], "SOC readers");
    let events = world.event_reasons("fabrikam-emea").await;
    assert!(events.contains(&"Created".to_string()), "{events:?}");
    // Synced again and again: the role stays single.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(stored(&world, "roleDefinitions").len(), 1);
    assert_eq!(stored(&world, "roleAssignments").len(), 1);
}
