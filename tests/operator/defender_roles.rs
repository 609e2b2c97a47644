//! Defender XDR roles applied with kubectl reach the corporate tenants through the operator, with
//! their assignments' groups resolved by name; a permission added in the cluster updates the role in
//! place.

use super::cluster::kubectl;
use super::harness::World;

const LITWARE_US: &str = "8e0a2c4f-6b93-4d1e-b5a7-3f9b1d5e7a99";

fn stored(world: &World, collection: &str) -> Vec<serde_json::Value> {
    let mut all = world.stored(LITWARE_US, collection);
    all.sort_by(|a, b| a["displayName"].as_str().cmp(&b["displayName"].as_str()));
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defender_roles_applied_with_kubectl_reach_the_tenants_and_follow_changes() {
    let world = World::new("op-defender").await;
    world.apply_contoso().await;
    let listed = kubectl(&["get", "drole", "-n", &world.namespace], None).expect("kubectl get drole");
    assert!(listed.contains("defender-soc-tier1") && listed.contains("SOC tier 2 responder"), "{listed}");
    let _operator = world.operator("defender-0", "defender");
    world.wait_condition("litware-us", "Ready", "True", "Reconciled").await;
    world
        .eventually("two roles and their assignments in the lab", 30, || async {
            let (roles, assignments) =
                (stored(&world, "defenderRoleDefinitions"), stored(&world, "defenderRoleAssignments"));
            if roles.len() == 2 && assignments.len() == 2 { Ok(()) } else { Err(format!("{roles:?} {assignments:?}")) }
        })
        .await;
    let groups = stored(&world, "groups");
    let tier1 = groups.iter().find(|g| g["displayName"] == "SG-SOC-Tier1").expect("group");
    assert_eq!(stored(&world, "defenderRoleAssignments")[0]["principalIds"][0], tier1["id"]);
    let id = stored(&world, "defenderRoleDefinitions")[0]["id"].clone();

    let file = super::support::root().join("examples/contoso/policies/defender-soc-tier1.yaml");
    let text = std::fs::read_to_string(file).expect("role");
    let anchor = "    securityData: manage\n";
    assert!(text.contains(anchor));
    world.apply(&text.replacen(anchor, &format!("{anchor}    response: true\n"), 1)).await;
    world
        .eventually("the response permission in the lab", 45, || async {
            let roles = stored(&world, "defenderRoleDefinitions");
            let actions = roles[0]["rolePermissions"][0]["allowedResourceActions"].to_string();
            if actions.contains("securitydata/response/manage") { Ok(()) } else { Err(actions) }
        })
        .await;
    assert_eq!(stored(&world, "defenderRoleDefinitions")[0]["id"], id, "updated in place");
}
