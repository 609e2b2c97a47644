//! Two replicas: one leads and writes, the standby reads nothing from Graph and writes nothing;
//! when the leader dies (SIGKILL, no release), the standby takes over after the lease expires.

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;

use super::cluster::OPERATOR_NAMESPACE;
use super::harness::{CONTOSO_TENANTS, World};
use super::support::{FABRIKAM_EMEA, stored_policies};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_writes_and_the_standby_takes_over() {
    let world = World::new("op-replicas").await;
    world.apply_contoso().await;
    let mut first = world.operator("replica-a", "replicas");
    world
        .eventually("replica-a to lead", 30, || async {
            if first.metric("tenantctl_leader").await == 1.0 { Ok(()) } else { Err("not leading".to_string()) }
        })
        .await;
    let second = world.operator("replica-b", "replicas");
    for tenant in CONTOSO_TENANTS {
        world.wait_condition(tenant, "Ready", "True", "Reconciled").await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(second.metric("tenantctl_leader").await, 0.0);
    assert_eq!(second.metric("tenantctl_reconciles_total").await, 0.0, "the standby reconciled");
    assert_eq!(second.metric("tenantctl_graph_requests_total").await, 0.0, "the standby called Graph");
    assert_eq!(second.get("/readyz").await.0, 200, "a standby is ready: rollouts must pass it");
    let leases: Api<Lease> = Api::namespaced(world.admin.clone(), OPERATOR_NAMESPACE);
    let holder = |lease: Lease| lease.spec.and_then(|s| s.holder_identity).unwrap_or_default();
    assert_eq!(holder(leases.get("replicas").await.expect("lease")), "replica-a");

    first.kill();
    let av = std::fs::read_to_string(super::support::root().join("examples/contoso/policies/av-standard.yaml"))
        .expect("av-standard.yaml")
        .replace("description: Defender Antivirus standard protection", "description: Changed after failover.");
    world.apply(&av).await;
    world
        .eventually("replica-b to take over and apply the change", 60, || async {
            let patched = stored_policies(world.lab_state(), FABRIKAM_EMEA)
                .values()
                .any(|p| p["description"].as_str().unwrap_or_default().starts_with("Changed after failover."));
            if patched { Ok(()) } else { Err("not applied yet".to_string()) }
        })
        .await;
    assert_eq!(second.metric("tenantctl_leader").await, 1.0);
    assert_eq!(holder(leases.get("replicas").await.expect("lease")), "replica-b");
}
