//! roleManagement/defender (beta): the action catalogue, role definitions limited to its actions,
//! assignments to existing principals over data sources, and the refusals Graph gives (an unknown
//! action, an assignment body with `@odata.type`, a missing principal, a role still assigned).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tenantctl::wire::defender_rbac::{UnifiedRoleAssignment, UnifiedRoleDefinition};

use super::support::TestLab;

const DEFINITIONS: &str = "/beta/roleManagement/defender/roleDefinitions";
const ASSIGNMENTS: &str = "/beta/roleManagement/defender/roleAssignments";

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn roles_allow_catalogue_actions_and_assignments_name_existing_principals() {
    let lab = TestLab::generated(1, 0, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;

    let (status, catalogue) =
        lab.get(&token, "/beta/roleManagement/defender/resourceNamespaces?$expand=resourceActions").await;
    assert_eq!(status, StatusCode::OK, "{catalogue}");
    let actions = catalogue["value"][0]["resourceActions"].as_array().expect("actions");
    assert!(actions.iter().any(|a| a["id"] == "microsoft.xdr/secops/securitydata/alerts/manage"));
    assert_eq!(
        lab.get(&token, "/v1.0/roleManagement/defender/roleDefinitions").await.0,
        StatusCode::BAD_REQUEST,
        "beta only"
    );

    let role = json!({"displayName": "Tier 1", "description": "Triage", "rolePermissions": [{"allowedResourceActions": [
        "microsoft.xdr/secops/*/read", "microsoft.xdr/secops/securitydata/basics/read", "microsoft.xdr/secops/securitydata/alerts/manage"
    ]}]});
    let (status, created) = lab.send(Method::POST, &token, DEFINITIONS, Some(&role)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let typed: UnifiedRoleDefinition =
        serde_json::from_value(created.clone()).expect("the client's wire type reads it");
    assert_eq!(
        typed.actions(),
        ["microsoft.xdr/secops/*/read", "microsoft.xdr/secops/securitydata/alerts/manage"],
        "a covered action is dropped"
    );
    assert!(!typed.is_built_in);
    let role_id = typed.id.expect("id");

    let typo = json!({"displayName": "Typo", "rolePermissions": [{"allowedResourceActions": ["microsoft.xdr/secops/alerts/manage"]}]});
    let (status, refused) = lab.send(Method::POST, &token, DEFINITIONS, Some(&typo)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&refused).contains("is not a valid permission"), "{refused}");

    let (groups, _) = lab.get_all(&token, "/v1.0/groups").await;
    let group = groups[0]["id"].as_str().expect("a group").to_string();
    let assignment = json!({"displayName": "Tier 1 analysts", "roleDefinitionId": role_id, "principalIds": [group], "appScopeIds": ["Mde"]});
    let mut annotated = assignment.clone();
    annotated["@odata.type"] = json!("#microsoft.graph.unifiedRoleAssignmentMultiple");
    let (status, refused) = lab.send(Method::POST, &token, ASSIGNMENTS, Some(&annotated)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&refused).contains("roleAssignment field is required"), "{refused}");
    let mut nobody = assignment.clone();
    nobody["principalIds"] = json!(["00000000-0000-0000-0000-00000000dead"]);
    let (status, refused) = lab.send(Method::POST, &token, ASSIGNMENTS, Some(&nobody)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&refused).contains("does not exist"), "{refused}");
    let (status, created) = lab.send(Method::POST, &token, ASSIGNMENTS, Some(&assignment)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let typed: UnifiedRoleAssignment = serde_json::from_value(created).expect("wire type");
    assert_eq!((typed.principal_ids, typed.app_scope_ids), (vec![group], vec!["Mde".to_string()]));

    let role_path = format!("{DEFINITIONS}/{role_id}");
    let (status, refused) = lab.send(Method::DELETE, &token, &role_path, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an assigned role stays: {refused}");
    let assignment_path = format!("{ASSIGNMENTS}/{}", typed.id.expect("id"));
    assert_eq!(lab.send(Method::DELETE, &token, &assignment_path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(lab.send(Method::DELETE, &token, &role_path, None).await.0, StatusCode::NO_CONTENT);

    lab.configure(json!({"withheld": {lab.tenants()[0].clone(): ["RoleManagement.ReadWrite.Defender"]}})).await;
    let without = lab.token(&lab.tenants()[0]).await;
    let (status, body) = lab.get(&without, DEFINITIONS).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(message(&body).contains("RoleManagement.Read.Defender"), "{body}");
}
