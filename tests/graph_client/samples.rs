//! Microsoft's documented payloads, dropped into a lab state folder, are served by the lab and read
//! back by the client unchanged.

use serde_json::{Value, json};
use tenantctl::graph::client::GraphError;
use tenantctl::wire::{ConfigurationPolicy, PolicyAssignment};

use super::support::{Lab, TENANT_A, state};

fn sample(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("json")
}

/// Every property of the sample that the client's typed form has reads back equal.
fn assert_read_back(sample: &Value, policy: &ConfigurationPolicy) {
    let mut sample = sample.clone();
    // The annotation on the nested template reference is not part of the typed form.
    if let Some(reference) = sample.get_mut("templateReference").and_then(Value::as_object_mut) {
        reference.remove("@odata.type");
    }
    let read = serde_json::to_value(policy).expect("serialize");
    for (key, value) in read.as_object().expect("object") {
        if sample.get(key).is_none() {
            // Added by the server (read-only, server-owned) or by `$expand`: not part of the sample.
            assert!(!["name", "platforms", "technologies"].contains(&key.as_str()), "{key} is read back");
            continue;
        }
        assert_eq!(Some(value), sample.get(key), "property {key}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn documented_list_response_and_create_request_load_and_read_back_unchanged() {
    let dir = state();
    let policies = dir.path().join(format!("tenants/{TENANT_A}/configurationPolicies"));
    std::fs::copy(
        format!("{}/tests/fixtures/graph/configurationPolicies-list.docs-beta.json", env!("CARGO_MANIFEST_DIR")),
        policies.join("documented-list.json"),
    )
    .expect("copy");
    let mut firewall = sample("configurationPolicy-create-firewall.request.json");
    firewall["id"] = json!("6a1f2b3c-0000-4000-8000-00000000f1e2");
    super::support::write(dir.path(), &format!("tenants/{TENANT_A}/configurationPolicies/firewall.json"), &firewall);
    let lab = Lab::serve(dir, &[]);
    let client = lab.client();
    let read = client.tenant(TENANT_A).list_policies_in_full().await.expect("list");
    assert_eq!(read.len(), 2);
    let documented =
        read.iter().find(|p| p.id.as_deref() == Some("3ffd7cd0-7cd0-3ffd-d07c-fd3fd07cfd3f")).expect("listed");
    assert_read_back(&sample("configurationPolicies-list.docs-beta.json")["value"][0], documented);
    let fw = read.iter().find(|p| p.name == "Windows Firewall Settings").expect("firewall");
    assert_read_back(&firewall, fw);
    assert_eq!(serde_json::to_value(&fw.settings).expect("settings"), firewall["settings"], "settings verbatim");
}

#[tokio::test(flavor = "multi_thread")]
async fn documented_assign_request_hunting_response_and_intune_errors() {
    let dir = state();
    super::support::write(
        dir.path(),
        &format!("tenants/{TENANT_A}/hunting.json"),
        &sample("security-runHuntingQuery.response.json"),
    );
    let lab = Lab::serve(dir, &[]);
    let client = lab.client();
    let tenant = client.tenant(TENANT_A);

    let created = tenant.create_policy(&super::support::policy("fw")).await.expect("create");
    let id = created.id.expect("id");
    let request = sample("configurationPolicy-assign.request.json");
    let assignments: Vec<PolicyAssignment> = serde_json::from_value(request["assignments"].clone()).expect("sample");
    let assigned = tenant.assign(&id, assignments.clone()).await.expect("assign");
    let group_ids = |list: &[PolicyAssignment]| -> Vec<String> {
        list.iter()
            .map(|a| match &a.target {
                tenantctl::wire::AssignmentTarget::Group { group_id, .. } => group_id.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(group_ids(&assigned), group_ids(&assignments));
    assert_eq!(assigned[0].id.as_deref(), Some(format!("{id}_00000000000000000000").as_str()));

    let hunting = tenant.run_hunting_query("DeviceProcessEvents | take 2", None).await.expect("hunting");
    assert_eq!(
        serde_json::to_value(&hunting).expect("json")["results"],
        sample("security-runHuntingQuery.response.json")["results"]
    );
    assert_eq!(hunting.schema[0].name, "Timestamp");

    match tenant.get_policy("00000000-0000-0000-0000-00000000dead").await {
        Err(GraphError::Api(error)) => {
            assert_eq!((error.status, error.code.as_str()), (404, "ResourceNotFound"));
            assert!(error.activity_id.is_some() && error.request_id.is_some(), "{error:?}");
        }
        other => panic!("expected an Intune 404: {other:?}"),
    }
}
