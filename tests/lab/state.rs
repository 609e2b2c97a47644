//! The state directory: persistence across restarts, Microsoft's documented payloads loading
//! unchanged, and the request statistics.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::support::{TestLab, firewall_request, handmade_state, sample, write};

const POLICIES: &str = "/beta/deviceManagement/configurationPolicies";
const TENANT: &str = "4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11";
const APP: &str = "2b4d6f8a-0c1e-4a3b-9d5f-7e9a1c3b5d88";

#[tokio::test]
async fn changes_survive_a_restart() {
    let lab = TestLab::generated(1, 3, |_| {}).await;
    let tenant = lab.tenants()[0].clone();
    let token = lab.token(&tenant).await;
    let existing = lab.stored_policy_ids(&tenant);
    let (_, created) = lab.send(Method::POST, &token, POLICIES, Some(&firewall_request())).await;
    let created_id = created["id"].as_str().expect("id").to_string();
    let patched = format!("{POLICIES}/{}", existing[0]);
    assert_eq!(
        lab.send(Method::PATCH, &token, &patched, Some(&json!({"description": "edited"}))).await.0,
        StatusCode::OK
    );
    let deleted = format!("{POLICIES}/{}", existing[1]);
    assert_eq!(lab.send(Method::DELETE, &token, &deleted, None).await.0, StatusCode::NO_CONTENT);
    let assign =
        json!({"assignments": [{"target": {"@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget"}}]});
    assert_eq!(
        lab.send(Method::POST, &token, &format!("{POLICIES}/{created_id}/assign"), Some(&assign)).await.0,
        StatusCode::OK
    );

    let lab = lab.restart().await;
    let token = lab.token(&tenant).await;
    let (items, _) = lab.get_all(&token, &format!("{POLICIES}?$expand=assignments")).await;
    let ids: Vec<&str> = items.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&created_id.as_str()) && !ids.contains(&existing[1].as_str()));
    let find = |id: &str| items.iter().find(|p| p["id"] == id).expect("policy").clone();
    assert_eq!(find(&existing[0])["description"], "edited");
    assert_eq!(find(&created_id)["assignments"].as_array().map(Vec::len), Some(1));
    assert_eq!(find(&created_id)["createdDateTime"], created["createdDateTime"]);
}

/// A stored or served object without the fields the lab adds to objects that lack them.
fn without_server_fields(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        let server_owned = ["settingCount", "isAssigned", "disableEntraGroupPolicyAssignment"];
        for key in ["@odata.context", "id", "settings", "assignments"].into_iter().chain(server_owned) {
            object.remove(key);
        }
    }
    value
}

#[tokio::test]
async fn documented_payloads_load_unchanged() {
    let dir = handmade_state(json!([{"clientId": APP, "clientSecret": "s"}]), &[(TENANT, &[APP])]);
    let tenant_dir = dir.path().join("tenants").join(TENANT);
    let list = sample("configurationPolicies-list.docs-beta.json");
    write(&tenant_dir.join("configurationPolicies/configurationPolicies-list.docs-beta.json"), &list);
    write(
        &tenant_dir.join("configurationPolicies/configurationPolicy-create-firewall.request.json"),
        &firewall_request(),
    );
    write(&tenant_dir.join("hunting.json"), &sample("security-runHuntingQuery.response.json"));
    let lab = TestLab::start_in(dir, |_| {}).await;
    let token = lab.token(TENANT).await;

    let (items, _) = lab.get_all(&token, &format!("{POLICIES}?$expand=settings")).await;
    assert_eq!(items.len(), 2);
    let documented = items.iter().find(|p| p["name"] == "Name value").expect("the documented list item");
    assert_eq!(without_server_fields(documented.clone()), without_server_fields(list["value"][0].clone()));
    assert_eq!(documented["id"], list["value"][0]["id"], "its own id is kept");
    assert_eq!(documented["settingCount"], 12, "its stored count is kept");

    let firewall = items.iter().find(|p| p["name"] == "Windows Firewall Settings").expect("the firewall request");
    assert_eq!(without_server_fields(firewall.clone()), without_server_fields(firewall_request()));
    assert_eq!(firewall["settings"], firewall_request()["settings"], "settings exactly as stored");
    let id = firewall["id"].as_str().expect("an id is given to an object stored without one").to_string();

    let (status, one) = lab.get(&token, &format!("{POLICIES}/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(without_server_fields(one), without_server_fields(firewall_request()));
    let assign = sample("configurationPolicy-assign.request.json");
    let (status, assigned) = lab.send(Method::POST, &token, &format!("{POLICIES}/{id}/assign"), Some(&assign)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(assigned["value"][0]["target"]["groupId"], "00000000000000000000");

    let query = json!({"Query": "DeviceProcessEvents | limit 2"});
    let (_, hunting) = lab.send(Method::POST, &token, "/v1.0/security/runHuntingQuery", Some(&query)).await;
    let mut documented = sample("security-runHuntingQuery.response.json");
    documented["@odata.context"] = json!(lab.url("/v1.0/$metadata#microsoft.graph.security.huntingQueryResults"));
    assert_eq!(hunting, documented, "the documented response, its context naming the lab");

    // The policy left its collection file for its own `<id>.json`; after a restart it is the same.
    let lab = lab.restart().await;
    let token = lab.token(TENANT).await;
    let (status, again) = lab.get(&token, &format!("{POLICIES}/{id}?$expand=settings")).await;
    assert_eq!((status, &again["settings"]), (StatusCode::OK, &firewall_request()["settings"]));
    let (items, _) = lab.get_all(&token, POLICIES).await;
    assert_eq!(items.len(), 2);
}

#[tokio::test]
async fn stats_count_requests_by_route_tenant_and_status() {
    let lab = TestLab::generated(1, 2, |_| {}).await;
    let tenant = lab.tenants()[0].clone();
    let policy = lab.stored_policy_ids(&tenant)[0].clone();
    let token = lab.token(&tenant).await;
    lab.get(&token, &format!("{POLICIES}/{policy}")).await;
    lab.get(&token, &format!("{POLICIES}/{policy}")).await;
    lab.get(&token, &format!("{POLICIES}/missing")).await;
    lab.get("bogus", POLICIES).await;
    let batch = json!({"requests": [
        {"id": "a", "method": "GET", "url": format!("/deviceManagement/configurationPolicies/{policy}")},
        {"id": "b", "method": "GET", "url": "/groups"}
    ]});
    lab.send(Method::POST, &token, "/beta/$batch", Some(&batch)).await;

    let stats = lab.stats().await;
    let count = |route: &str, tenant: Value, status: u64| {
        stats["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .find(|r| r["route"] == route && r["tenant"] == tenant && r["status"] == status)
            .map_or(0, |r| r["count"].as_u64().expect("count"))
    };
    let by_id = "GET /beta/deviceManagement/configurationPolicies/{id}";
    assert_eq!(count(by_id, json!(tenant), 200), 3, "two direct GETs and one inside the batch");
    assert_eq!(count(by_id, json!(tenant), 404), 1);
    assert_eq!(count("GET /beta/deviceManagement/configurationPolicies", Value::Null, 401), 1);
    assert_eq!(count("POST /{tenant}/oauth2/v2.0/token", json!(tenant), 200), 1);
    assert_eq!(count("POST /beta/$batch", json!(tenant), 200), 1);
    assert_eq!(count("GET /beta/groups", json!(tenant), 200), 1);
    assert_eq!(stats["totals"]["requests"], 8);
    assert_eq!(stats["totals"]["byStatus"]["200"], 6);
    let counts = &stats["tenants"][&tenant];
    assert_eq!(
        (&counts["configurationPolicies"], &counts["assignments"], &counts["groups"]),
        (&json!(2), &json!(2), &json!(3))
    );
    assert!((3..=5).contains(&counts["incidents"].as_u64().expect("incidents")));

    let reset = lab.http.delete(lab.url("/_lab/stats")).send().await.expect("reset");
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(lab.stats().await["totals"]["requests"], 0);
}

#[tokio::test]
async fn config_can_be_read_and_changed_while_running() {
    let lab = TestLab::generated(1, 0, |_| {}).await;
    let config: Value = lab.http.get(lab.url("/_lab/config")).send().await.expect("config").json().await.expect("JSON");
    assert_eq!((config["pageSize"].as_u64(), config["writeBudget"].is_null()), (Some(25), true));
    lab.configure(json!({"latencyMs": 30, "pageSize": 7, "writeBudget": {"writes": 5, "windowMs": 1000}})).await;
    let config: Value = lab.http.get(lab.url("/_lab/config")).send().await.expect("config").json().await.expect("JSON");
    assert_eq!(config["writeBudget"], json!({"writes": 5, "windowMs": 1000}));
    let started = std::time::Instant::now();
    lab.get("any", "/v1.0/groups").await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(30), "latency applies");
    for bad in [json!({"pageSize": 0}), json!({"faults": {"serverError": 2}}), json!({"latencyMS": 1})] {
        let response = lab.http.put(lab.url("/_lab/config")).json(&bad).send().await.expect("answer");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}
