//! configurationPolicies: create, read, replace, patch, delete, settings, assignments, and the Intune
//! error shape.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tenantctl::wire::ConfigurationPolicy;
use tenantctl::wire::common::ErrorBody;

use super::support::{TestLab, code, firewall_request};

const POLICIES: &str = "/beta/deviceManagement/configurationPolicies";

#[tokio::test]
async fn create_read_replace_patch_delete() {
    let lab = TestLab::generated(1, 0, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;

    let (status, created) = lab.send(Method::POST, &token, POLICIES, Some(&firewall_request())).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("server-assigned id").to_string();
    assert!(
        created["@odata.context"]
            .as_str()
            .expect("context")
            .ends_with("#deviceManagement/configurationPolicies/$entity")
    );
    assert_eq!(created["settingCount"], 3);
    assert_eq!(created["isAssigned"], false);
    assert_eq!(created["templateReference"]["templateFamily"], "endpointSecurityFirewall");
    let created_at = created["createdDateTime"].as_str().expect("createdDateTime");
    assert!(
        created_at.parse::<jiff::Timestamp>().is_ok() && created_at.len() == "2025-01-01T00:00:00.0000000Z".len(),
        "{created_at}"
    );
    let typed: ConfigurationPolicy = serde_json::from_value(created.clone()).expect("the client's wire type reads it");
    assert_eq!(typed.name, "Windows Firewall Settings");

    let path = format!("{POLICIES}/{id}");
    let (status, read) = lab.get(&token, &format!("{path}?$expand=settings")).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> =
        read["settings"].as_array().expect("settings").iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, ["0", "1", "2"]);
    assert_eq!(read["settings"][0]["settingInstance"], firewall_request()["settings"][0]["settingInstance"]);

    let mut replacement = firewall_request();
    replacement["description"] = json!("Only the domain profile");
    replacement["settings"] = json!([firewall_request()["settings"][0].clone()]);
    let (status, body) = lab.send(Method::PUT, &token, &path, Some(&replacement)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (_, read) = lab.get(&token, &format!("{path}?$expand=settings")).await;
    assert_eq!((read["settingCount"].as_u64(), read["settings"].as_array().map(Vec::len)), (Some(1), Some(1)));
    assert_eq!(read["createdDateTime"], created["createdDateTime"]);
    assert_ne!(read["lastModifiedDateTime"], created["lastModifiedDateTime"]);

    let (status, patched) = lab.send(Method::PATCH, &token, &path, Some(&json!({"name": "Renamed"}))).await;
    assert_eq!(
        (status, patched["name"].as_str(), patched["description"].as_str()),
        (StatusCode::OK, Some("Renamed"), Some("Only the domain profile"))
    );
    assert!(patched.get("settings").is_none());

    assert_eq!(lab.send(Method::DELETE, &token, &path, None).await.0, StatusCode::NO_CONTENT);
    let (status, body) = lab.get(&token, &path).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "ResourceNotFound"));
    assert_eq!(lab.send(Method::DELETE, &token, &path, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(lab.send(Method::PATCH, &token, &path, Some(&json!({"name": "x"}))).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn not_found_is_intune_shaped_and_bad_bodies_are_refused() {
    let lab = TestLab::generated(1, 0, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;
    let response = lab
        .http
        .get(lab.url(&format!("{POLICIES}/00000000-0000-0000-0000-000000000000")))
        .bearer_auth(&token)
        .header("client-request-id", "5e1b2c3d-0000-4000-8000-00000000c0de")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["client-request-id"], "5e1b2c3d-0000-4000-8000-00000000c0de");
    let request_id = response.headers()["request-id"].to_str().expect("request-id").to_string();
    let body: ErrorBody = response.json().await.expect("Graph error envelope");
    assert_eq!(body.error.code, "ResourceNotFound");
    let nested: Value = serde_json::from_str(&body.error.message).expect("Intune puts JSON in the message");
    assert_eq!(nested["_version"], 3);
    assert!(nested["Message"].as_str().expect("Message").contains(&format!("Activity ID: {request_id}")));
    let inner = body.error.inner_error.expect("innerError");
    assert_eq!(inner.client_request_id.as_deref(), Some("5e1b2c3d-0000-4000-8000-00000000c0de"));

    let mut no_name = firewall_request();
    no_name.as_object_mut().expect("object").remove("name");
    let mut no_instance = firewall_request();
    no_instance["settings"][1] = json!({"@odata.type": "#microsoft.graph.deviceManagementConfigurationSetting"});
    for body in [no_name, no_instance, json!({"name": "x", "technologies": "mdm"})] {
        let (status, error) = lab.send(Method::POST, &token, POLICIES, Some(&body)).await;
        assert_eq!((status, code(&error)), (StatusCode::BAD_REQUEST, "BadRequest"), "{body}");
    }
    let raw = lab.http.post(lab.url(POLICIES)).bearer_auth(&token).body("{not json").send().await.expect("answer");
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    assert!(lab.get_all(&token, POLICIES).await.0.is_empty(), "nothing was created");
    let (status, _) = lab.get(&token, "/v1.0/deviceManagement/configurationPolicies").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "configurationPolicies is beta-only");
}

#[tokio::test]
async fn assign_replaces_the_whole_set() {
    let lab = TestLab::generated(1, 0, |_| {}).await;
    let tenant = &lab.tenants()[0];
    let token = lab.token(tenant).await;
    let (_, created) = lab.send(Method::POST, &token, POLICIES, Some(&firewall_request())).await;
    let id = created["id"].as_str().expect("id");
    let group = |type_name: &str, group_id: &str| json!({"target": {"@odata.type": format!("#microsoft.graph.{type_name}"), "groupId": group_id}});
    let assign = format!("{POLICIES}/{id}/assign");

    let first = json!({"assignments": [group("groupAssignmentTarget", "g-1"), group("groupAssignmentTarget", "g-2")]});
    let (status, body) = lab.send(Method::POST, &token, &assign, Some(&first)).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = body["value"].as_array().expect("value").iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids, [format!("{id}_g-1"), format!("{id}_g-2")]);
    assert_eq!(body["value"][0]["source"], "direct");
    assert_eq!(body["value"][0]["sourceId"], id);

    let second = json!({"assignments": [
        {"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}},
        group("exclusionGroupAssignmentTarget", "g-3")
    ]});
    assert_eq!(lab.send(Method::POST, &token, &assign, Some(&second)).await.0, StatusCode::OK);
    let (status, listed) = lab.get(&token, &format!("{POLICIES}/{id}/assignments")).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = listed["value"].as_array().expect("value").iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(
        ids,
        [format!("{id}_adadadad-808e-44e2-905a-0b7873a8a531"), format!("{id}_g-3")],
        "the first set is gone"
    );
    let (_, policy) = lab.get(&token, &format!("{POLICIES}/{id}?$expand=assignments")).await;
    assert_eq!((policy["isAssigned"].as_bool(), policy["assignments"].as_array().map(Vec::len)), (Some(true), Some(2)));

    assert_eq!(lab.send(Method::POST, &token, &assign, Some(&json!({"assignments": []}))).await.0, StatusCode::OK);
    let (_, policy) = lab.get(&token, &format!("{POLICIES}/{id}")).await;
    assert_eq!(policy["isAssigned"], false);
    let (status, _) = lab.send(Method::POST, &token, &assign, Some(&json!({"assignments": [{"target": {}}]}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let stats = lab.stats().await;
    assert_eq!(stats["tenants"][tenant]["assignments"], 0);
}
