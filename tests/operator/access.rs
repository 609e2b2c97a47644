//! The operator reports each Tenant's access as `tenants check` does: `AccessReady` names a missing
//! permission with the consent link (and nothing is written there), a licence the Defender features
//! lack, and turns True once the permission is granted — the next sync asks for a new token.

use serde_json::json;

use super::harness::World;
use super::support::{NORTHWIND_US, markers};

async fn withhold(world: &World, withheld: serde_json::Value) {
    let config = format!("{}/_lab/config", world.lab.url);
    let reply = reqwest::Client::new().put(config).json(&json!({"withheld": withheld})).send().await;
    assert!(reply.expect("lab config").status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_ready_names_what_is_missing_and_follows_a_grant() {
    let world = World::new("op-access").await;
    withhold(&world, json!({NORTHWIND_US: ["DeviceManagementConfiguration.ReadWrite.All"]})).await;
    let before = markers(world.lab_state(), NORTHWIND_US);
    world.apply_contoso().await;
    let _operator = world.operator("access-0", "access");

    let refused = world.wait_condition("northwind-us", "AccessReady", "False", "MissingPermission").await;
    assert!(refused.message.contains("DeviceManagementConfiguration.ReadWrite.All"), "{}", refused.message);
    assert!(refused.message.contains(&format!("/{NORTHWIND_US}/adminconsent?client_id=")), "{}", refused.message);
    let ready = world.condition("northwind-us", "Ready").await.expect("Ready");
    assert_eq!(ready.status, "False", "{ready:?}");
    assert_eq!(markers(world.lab_state(), NORTHWIND_US), before, "nothing written without the permission");

    let unlicensed = world.wait_condition("tailspin-apac", "AccessReady", "False", "MissingLicence").await;
    assert!(unlicensed.message.contains("Microsoft Defender for Endpoint Plan 2"), "{}", unlicensed.message);
    let fine = world.wait_condition("fabrikam-us", "AccessReady", "True", "Ready").await;
    assert!(fine.message.contains("SPE_E5"), "{}", fine.message);

    // The permission is granted: the tenant is reconciled without a restart.
    withhold(&world, json!({})).await;
    world.wait_condition("northwind-us", "AccessReady", "True", "Ready").await;
    world.wait_condition("northwind-us", "Ready", "True", "Reconciled").await;
}
