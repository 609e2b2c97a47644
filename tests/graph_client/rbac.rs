//! Intune RBAC (v1.0 roleDefinitions and roleAssignments) between the client and the lab: built-in
//! roles are listed and read-only, custom roles and their assignments are created, read back with
//! `$expand=roleDefinition`, changed and deleted, and the lab refuses what Graph refuses.

use tenantctl::graph::client::GraphError;
use tenantctl::wire::rbac::{
    ROLE_ASSIGNMENT_TYPE, ROLE_DEFINITION_TYPE, ResourceAction, RoleAssignment, RoleDefinition, RolePermission,
};

use super::support::{Lab, TENANT_A, TENANT_B, state};

const POLICY_AND_PROFILE_MANAGER: &str = "0bd113fe-6be5-400c-a28f-ae5553f9c0be";

fn status(error: GraphError) -> u16 {
    match error {
        GraphError::Api(api) => api.status,
        other => panic!("expected an API error, got {other}"),
    }
}

#[tokio::test]
async fn roles_and_assignments_round_trip_and_refuse_what_graph_refuses() {
    let lab = Lab::serve(state(), &[]);
    let graph = lab.client().tenant(TENANT_A);

    let built_in = graph.list_role_definitions().await.expect("list");
    assert!(built_in.iter().any(|r| r.id.as_deref() == Some(POLICY_AND_PROFILE_MANAGER) && r.is_built_in));
    let mut renamed = built_in[0].clone();
    renamed.display_name = "Mine now".into();
    assert_eq!(
        status(graph.update_role_definition(POLICY_AND_PROFILE_MANAGER, &renamed).await.expect_err("built-in")),
        400
    );

    let role = RoleDefinition {
        odata_type: Some(ROLE_DEFINITION_TYPE.into()),
        display_name: "SOC readers".into(),
        description: "Read device configurations [managed-by tenantctl: IntuneRole/soc-readers]".into(),
        role_permissions: vec![RolePermission {
            resource_actions: vec![ResourceAction {
                allowed_resource_actions: vec!["Microsoft.Intune_DeviceConfigurations_Read".into()],
                not_allowed_resource_actions: vec![],
            }],
        }],
        ..RoleDefinition::default()
    };
    let created = graph.create_role_definition(&role).await.expect("create role");
    let role_id = created.id.clone().expect("id");
    assert!(!created.is_built_in);
    assert_eq!(created.role_permissions, role.role_permissions);

    let group = format!("{}-0001", &TENANT_A[..8]);
    let assignment = RoleAssignment {
        odata_type: Some(ROLE_ASSIGNMENT_TYPE.into()),
        display_name: "SOC readers on pilot devices".into(),
        members: vec![group.clone()],
        resource_scopes: vec![group.clone()],
        role_definition_bind: Some(graph.role_definition_bind(&role_id).expect("bind")),
        ..RoleAssignment::default()
    };
    let made = graph.create_role_assignment(&assignment).await.expect("create assignment");
    let assignment_id = made.id.clone().expect("id");
    let listed = graph.list_role_assignments().await.expect("list assignments");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].members, std::slice::from_ref(&group));
    assert_eq!(listed[0].role_definition.as_ref().and_then(|r| r.id.clone()), Some(role_id.clone()));
    assert_eq!(listed[0].role_definition.as_ref().map(|r| r.display_name.as_str()), Some("SOC readers"));

    // Another tenant sees none of it.
    assert!(lab.client().tenant(TENANT_B).list_role_assignments().await.expect("list").is_empty());

    // Groups must exist; the definition cannot go while assigned; a bound definition must exist.
    let mut stranger = assignment.clone();
    stranger.members = vec!["00000000-0000-0000-0000-000000000000".into()];
    assert_eq!(status(graph.create_role_assignment(&stranger).await.expect_err("unknown group")), 400);
    let mut unbound = assignment.clone();
    unbound.role_definition_bind = Some(graph.role_definition_bind("no-such-role").expect("bind"));
    assert_eq!(status(graph.create_role_assignment(&unbound).await.expect_err("unknown role")), 400);
    assert_eq!(status(graph.delete_role_definition(&role_id).await.expect_err("assigned")), 400);

    let mut changed = RoleAssignment { members: vec![], ..RoleAssignment::default() };
    changed.display_name = "SOC readers, nobody yet".into();
    graph.update_role_assignment(&assignment_id, &changed).await.expect("patch");
    let after = graph.list_role_assignments().await.expect("list");
    assert_eq!((after[0].display_name.as_str(), after[0].members.len()), ("SOC readers, nobody yet", 0));

    graph.delete_role_assignment(&assignment_id).await.expect("delete assignment");
    graph.delete_role_definition(&role_id).await.expect("delete role");
    let left = graph.list_role_definitions().await.expect("list");
    assert!(left.iter().all(|r| r.is_built_in));
}
