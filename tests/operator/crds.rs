//! `kubectl apply -f crds/` against the real API server: every CRD is accepted, established and
//! structural; the kinds whose status the operator writes have the status subresource.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::ResourceExt;
use kube::api::Api;

use super::cluster::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_crd_is_accepted_established_and_structural() {
    let cluster = Cluster::shared().await;
    let crds: Api<CustomResourceDefinition> = Api::all(cluster.admin().await);
    let ours: Vec<CustomResourceDefinition> = crds
        .list(&Default::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter(|crd| crd.name_any().ends_with(".tenantctl.dev"))
        .collect();
    assert_eq!(ours.len(), std::fs::read_dir(super::support::root().join("crds")).expect("crds/").count());
    for crd in ours {
        let conditions = crd.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
        let is = |type_: &str| conditions.iter().any(|c| c.type_ == type_ && c.status == "True");
        assert!(is("Established"), "{} not established: {conditions:?}", crd.name_any());
        assert!(!is("NonStructuralSchema"), "{} is not structural: {conditions:?}", crd.name_any());
        let has_status = crd.spec.versions[0].subresources.as_ref().and_then(|s| s.status.as_ref()).is_some();
        let writes_status =
            ["Tenant", "DistributionProfile", "NotificationPolicy", "Case"].contains(&crd.spec.names.kind.as_str());
        assert_eq!(has_status, writes_status, "{}: status subresource", crd.name_any());
    }
}
