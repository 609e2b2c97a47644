//! The operator's service account, bound by `deploy/rbac.yaml`, may do what the operator needs (every
//! other case runs the operator with it) and no more.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use tenantctl::model::{DistributionProfile, Tenant};

use super::cluster::{CREDENTIALS_SECRET, OPERATOR_NAMESPACE};
use super::harness::World;

fn code<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> u16 {
    match result {
        Ok(_) => 200,
        Err(kube::Error::Api(status)) => status.code,
        Err(other) => panic!("unexpected error: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_account_may_do_what_the_operator_needs_and_no_more() {
    let world = World::new("op-rbac").await;
    world.apply_contoso().await;
    let operator = world.cluster.as_operator().await;
    let tenants: Api<Tenant> = Api::namespaced(operator.clone(), &world.namespace);
    let profiles: Api<DistributionProfile> = Api::namespaced(operator.clone(), &world.namespace);
    let secrets: Api<Secret> = Api::namespaced(operator.clone(), &world.namespace);
    let own_secrets: Api<Secret> = Api::namespaced(operator.clone(), OPERATOR_NAMESPACE);

    // Needed: read every kind, write status, read a named Secret.
    assert_eq!(code(tenants.list(&ListParams::default()).await), 200);
    assert_eq!(code(profiles.list(&ListParams::default()).await), 200);
    assert_eq!(code(own_secrets.get(CREDENTIALS_SECRET).await), 200);
    let status = json!({"apiVersion": "tenantctl.dev/v1alpha1", "kind": "Tenant", "status": {"observedGeneration": 1}});
    let apply = PatchParams::apply("tenantctl-operator").force();
    assert_eq!(code(tenants.patch_status("fabrikam-emea", &apply, &Patch::Apply(&status)).await), 200);

    // Not needed, so refused.
    assert_eq!(code(secrets.list(&ListParams::default()).await), 403, "list Secrets");
    assert_eq!(code(own_secrets.list(&ListParams::default()).await), 403, "list Secrets");
    let secret: Secret = serde_json::from_value(json!({"metadata": {"name": "stolen"}})).expect("secret");
    assert_eq!(code(secrets.create(&PostParams::default(), &secret).await), 403, "create Secrets");
    let tenant: Tenant = serde_json::from_value(json!({
        "apiVersion": "tenantctl.dev/v1alpha1", "kind": "Tenant", "metadata": {"name": "intruder"},
        "spec": {"tenantId": "11111111-2222-3333-4444-555555555555", "displayName": "Intruder"}
    }))
    .expect("tenant");
    assert_eq!(code(tenants.create(&PostParams::default(), &tenant).await), 403, "create Tenants");
    assert_eq!(code(tenants.delete("fabrikam-emea", &DeleteParams::default()).await), 403, "delete Tenants");
    let spec = json!({"spec": {"mode": "audit"}});
    assert_eq!(
        code(profiles.patch("baseline", &PatchParams::default(), &Patch::Merge(&spec)).await),
        403,
        "edit profiles"
    );
    let pods: Api<Pod> = Api::namespaced(operator.clone(), &world.namespace);
    assert_eq!(code(pods.list(&ListParams::default()).await), 403, "list Pods");
    let foreign_leases: Api<Lease> = Api::namespaced(operator.clone(), &world.namespace);
    assert_eq!(code(foreign_leases.list(&ListParams::default()).await), 403, "Leases outside its namespace");
}
