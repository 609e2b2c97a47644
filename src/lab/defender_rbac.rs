//! `roleManagement/defender` (beta): Defender XDR unified RBAC. Role definitions allow actions of the
//! tenant's catalogue (`resourceNamespaces?$expand=resourceActions`; an unknown action is a 400);
//! assignments give a role to existing principals over scopes. Defender refuses an assignment body
//! that carries `@odata.type`, and so does the lab.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::call::Call;
use super::ids::random_guid;
use super::policies::persistence_failed;
use super::reply::Reply;
use super::route::Route;
use super::store::TenantData;
use crate::model::defender_role::covers;

const DEFINITIONS: &str = "roleManagement/defender/roleDefinitions";
const ASSIGNMENTS: &str = "roleManagement/defender/roleAssignments";
const NAMESPACES: &str = "roleManagement/defender/resourceNamespaces";
const DEFINITION_TYPE: &str = "#microsoft.graph.unifiedRoleDefinition";
const ASSIGNMENT_TYPE: &str = "#microsoft.graph.unifiedRoleAssignmentMultiple";

/// Defender XDR's actions as the lab's tenants list them: the portal's permissions, and the
/// wildcards roles made in the portal use.
pub const ACTIONS: &[(&str, &str)] = &[
    ("microsoft.xdr/secops/securitydata/basics/read", "Security data basics"),
    ("microsoft.xdr/secops/securitydata/alerts/manage", "Alerts"),
    ("microsoft.xdr/secops/securitydata/response/manage", "Response"),
    ("microsoft.xdr/secops/securitydata/liveresponse-basic/manage", "Basic live response"),
    ("microsoft.xdr/secops/securitydata/liveresponse-advanced/manage", "Advanced live response"),
    ("microsoft.xdr/secops/securitydata/filecollection/manage", "File collection"),
    ("microsoft.xdr/secops/securitydata/emailquarantine/manage", "Email & collaboration quarantine"),
    ("microsoft.xdr/secops/securitydata/emailadvancedactions/manage", "Email & collaboration advanced actions"),
    ("microsoft.xdr/secops/rawdata/emailcontent/read", "Email & collaboration content"),
    ("microsoft.xdr/securityposture/posturemanagement/vulnerabilitymanagement/read", "Vulnerability management"),
    ("microsoft.xdr/securityposture/posturemanagement/exceptionhandling/manage", "Exception handling"),
    ("microsoft.xdr/securityposture/posturemanagement/remediationhandling/manage", "Remediation handling"),
    ("microsoft.xdr/securityposture/posturemanagement/applicationhandling/manage", "Application handling"),
    (
        "microsoft.xdr/securityposture/posturemanagement/baselineassessmentprofiles/manage",
        "Security baseline assessment",
    ),
    ("microsoft.xdr/securityposture/posturemanagement/securescore/read", "Secure Score (read)"),
    ("microsoft.xdr/securityposture/posturemanagement/securescore/manage", "Secure Score (manage)"),
    ("microsoft.xdr/configuration/authorization/read", "Authorization (read)"),
    ("microsoft.xdr/configuration/authorization/manage", "Authorization (manage)"),
    ("microsoft.xdr/configuration/security/core/read", "Core security settings (read)"),
    ("microsoft.xdr/configuration/security/core/manage", "Core security settings (manage)"),
    ("microsoft.xdr/configuration/security/detectiontuning/manage", "Detection tuning"),
    ("microsoft.xdr/configuration/system/read", "System settings (read)"),
    ("microsoft.xdr/configuration/system/manage", "System settings (manage)"),
    ("microsoft.xdr/secops/*/read", "SecOps - All read"),
    ("microsoft.xdr/secops/*/manage", "SecOps - All manage"),
    ("microsoft.xdr/securityposture/*/read", "Security posture - All read"),
    ("microsoft.xdr/securityposture/*/manage", "Security posture - All manage"),
    ("microsoft.xdr/configuration/*/read", "Configuration - All read"),
    ("microsoft.xdr/configuration/*/manage", "Configuration - All manage"),
];

/// Data sources an assignment may name besides `/` (all).
const APP_SCOPES: &[&str] = &["Mde", "Mdo", "Mdi", "Mda", "Mdc", "SecureScoreExternal"];

pub fn handle(tenant: &mut TenantData, route: &Route, call: &Call) -> Reply {
    let method = &call.request.method;
    match route {
        Route::DefenderNamespaces => namespaces(call),
        Route::DefenderRoleDefinitions if method == Method::POST => create_definition(tenant, call),
        Route::DefenderRoleDefinitions => {
            call.list_page(DEFINITIONS, tenant.defender_role_definitions.iter().cloned().collect())
        }
        Route::DefenderRoleDefinition(id) => {
            let Some(existing) = tenant.defender_role_definitions.get(id).cloned() else {
                return not_found(call, "roleDefinitions", id);
            };
            match method.clone() {
                Method::GET => call.entity(DEFINITIONS, Value::Object(existing)),
                Method::PATCH => patch_definition(tenant, call, id, existing),
                _ if tenant.defender_role_assignments.iter().any(|a| text(a, "roleDefinitionId") == Some(id)) => {
                    call.bad_request("The role definition is assigned; delete its assignments first.")
                }
                _ => remove(call, tenant.defender_role_definitions.remove(id)),
            }
        }
        Route::DefenderRoleAssignments if method == Method::POST => create_assignment(tenant, call),
        Route::DefenderRoleAssignments => {
            call.list_page(ASSIGNMENTS, tenant.defender_role_assignments.iter().cloned().collect())
        }
        Route::DefenderRoleAssignment(id) => {
            let Some(existing) = tenant.defender_role_assignments.get(id).cloned() else {
                return not_found(call, "roleAssignments", id);
            };
            match method.clone() {
                Method::GET => call.entity(ASSIGNMENTS, Value::Object(existing)),
                Method::PATCH => patch_assignment(tenant, call, id, existing),
                _ => remove(call, tenant.defender_role_assignments.remove(id)),
            }
        }
        _ => call.bad_request("Unsupported request."),
    }
}

fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

/// The catalogue: one namespace, its actions when expanded (the action in `id`, words in `name`).
fn namespaces(call: &Call) -> Reply {
    let expanded = call.query.expand.iter().any(|e| e.eq_ignore_ascii_case("resourceActions"));
    let mut namespace = Map::new();
    namespace.insert("id".into(), "microsoft.xdr".into());
    namespace.insert("name".into(), "microsoft.xdr".into());
    if expanded {
        let actions: Vec<Value> = ACTIONS
            .iter()
            .map(|(id, name)| json!({"id": id, "name": name, "actionVerb": null, "description": name, "isPrivileged": false}))
            .collect();
        namespace.insert("resourceActions".into(), Value::Array(actions));
    }
    call.list_page(NAMESPACES, vec![namespace])
}

fn not_found(call: &Call, collection: &str, id: &str) -> Reply {
    let message = format!("No {collection} object with id '{id}' was found.");
    Reply::error(call.context, StatusCode::NOT_FOUND, "ResourceNotFound", &message)
}

fn remove(call: &Call, removed: Result<bool, super::LabError>) -> Reply {
    match removed {
        Ok(_) => Reply::no_content().committed(),
        Err(error) => persistence_failed(call, &error),
    }
}

fn body_object(call: &Call) -> Result<Map<String, Value>, Reply> {
    match call.body()? {
        Value::Object(object) => Ok(object.clone()),
        _ => Err(call.bad_request("The request body must be a JSON object.")),
    }
}

/// What Defender refuses in a role definition; `id` is the definition's own, for duplicate names.
fn check_definition(tenant: &TenantData, role: &Map<String, Value>, id: Option<&str>) -> Result<(), String> {
    const ALLOWED: &[&str] =
        &["@odata.type", "id", "displayName", "description", "rolePermissions", "isBuiltIn", "isEnabled"];
    if let Some(unknown) = role.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(format!("Property '{unknown}' does not exist or cannot be set."));
    }
    let name = text(role, "displayName").unwrap_or_default();
    if name.trim().is_empty() {
        return Err("The property 'displayName' is required.".into());
    }
    if role.get("isBuiltIn").and_then(Value::as_bool) == Some(true) {
        return Err("A role definition created through the API cannot be built in.".into());
    }
    let taken = tenant
        .defender_role_definitions
        .iter()
        .any(|other| text(other, "displayName") == Some(name) && text(other, "id") != id);
    if taken {
        return Err(format!("A role definition named '{name}' already exists."));
    }
    let permissions =
        role.get("rolePermissions").and_then(Value::as_array).ok_or("The property 'rolePermissions' is required.")?;
    let actions: Vec<String> = permissions
        .iter()
        .flat_map(|p| p.get("allowedResourceActions").and_then(Value::as_array).cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    if actions.is_empty() {
        return Err("A role definition must allow at least one action.".into());
    }
    for action in &actions {
        let known = ACTIONS.iter().any(|(a, _)| a == action || covers(action, a));
        if !known {
            return Err(format!("The action '{action}' is not a valid permission."));
        }
    }
    Ok(())
}

/// Defender drops actions a wildcard of the same role covers.
fn store_actions(role: &mut Map<String, Value>) {
    let Some(permissions) = role.get_mut("rolePermissions").and_then(Value::as_array_mut) else { return };
    for permission in permissions {
        let Some(list) = permission.get("allowedResourceActions").and_then(Value::as_array) else { continue };
        let actions: Vec<String> = list.iter().filter_map(|a| a.as_str().map(str::to_string)).collect();
        let kept = crate::model::defender_role::without_covered(actions);
        permission["allowedResourceActions"] = json!(kept);
    }
}

fn create_definition(tenant: &mut TenantData, call: &Call) -> Reply {
    let mut role = match body_object(call) {
        Ok(role) => role,
        Err(reply) => return reply,
    };
    if let Err(message) = check_definition(tenant, &role, None) {
        return call.bad_request(&message);
    }
    let id = random_guid();
    role.insert("@odata.type".into(), DEFINITION_TYPE.into());
    role.insert("id".into(), Value::String(id.clone()));
    role.insert("isBuiltIn".into(), Value::Bool(false));
    role.entry("isEnabled").or_insert(Value::Bool(true));
    role.entry("description").or_insert(Value::String(String::new()));
    store_actions(&mut role);
    if let Err(error) = tenant.defender_role_definitions.put(&id, role.clone()) {
        return persistence_failed(call, &error);
    }
    let mut reply = call.entity(DEFINITIONS, Value::Object(role));
    reply.status = StatusCode::CREATED;
    reply.committed()
}

fn patch_definition(tenant: &mut TenantData, call: &Call, id: &str, mut role: Map<String, Value>) -> Reply {
    let changes = match body_object(call) {
        Ok(changes) => changes,
        Err(reply) => return reply,
    };
    for (key, value) in changes {
        if key != "@odata.type" && key != "id" {
            role.insert(key, value);
        }
    }
    if let Err(message) = check_definition(tenant, &role, Some(id)) {
        return call.bad_request(&message);
    }
    store_actions(&mut role);
    match tenant.defender_role_definitions.put(id, role) {
        Ok(()) => Reply::no_content().committed(),
        Err(error) => persistence_failed(call, &error),
    }
}

/// What Defender refuses in an assignment.
fn check_assignment(tenant: &TenantData, assignment: &Map<String, Value>) -> Result<(), String> {
    const ALLOWED: &[&str] =
        &["id", "displayName", "description", "roleDefinitionId", "principalIds", "directoryScopeIds", "appScopeIds"];
    if assignment.contains_key("@odata.type") {
        return Err("The input was not valid. roleAssignment: The roleAssignment field is required.".into());
    }
    if let Some(unknown) = assignment.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(format!("Property '{unknown}' does not exist or cannot be set."));
    }
    if text(assignment, "displayName").unwrap_or_default().trim().is_empty() {
        return Err("The property 'displayName' is required.".into());
    }
    let role = text(assignment, "roleDefinitionId").unwrap_or_default();
    if tenant.defender_role_definitions.get(role).is_none() {
        return Err(format!("Role definition '{role}' does not exist."));
    }
    let ids = |key: &str| -> Vec<String> {
        assignment
            .get(key)
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let principals = ids("principalIds");
    if principals.is_empty() {
        return Err("The property 'principalIds' must name at least one principal.".into());
    }
    if let Some(missing) = principals.iter().find(|p| tenant.groups.get(p).is_none()) {
        return Err(format!("Principal '{missing}' does not exist in the tenant."));
    }
    let (directory, app) = (ids("directoryScopeIds"), ids("appScopeIds"));
    if directory.is_empty() && app.is_empty() {
        return Err("The request must have either directoryScopeIds or appScopeIds.".into());
    }
    if let Some(unknown) = app.iter().find(|s| *s != "/" && !APP_SCOPES.contains(&s.as_str()) && !s.starts_with('/')) {
        return Err(format!("App scope '{unknown}' does not exist."));
    }
    Ok(())
}

fn create_assignment(tenant: &mut TenantData, call: &Call) -> Reply {
    let mut assignment = match body_object(call) {
        Ok(assignment) => assignment,
        Err(reply) => return reply,
    };
    if let Err(message) = check_assignment(tenant, &assignment) {
        return call.bad_request(&message);
    }
    let id = random_guid();
    assignment.insert("@odata.type".into(), ASSIGNMENT_TYPE.into());
    assignment.insert("id".into(), Value::String(id.clone()));
    for key in ["directoryScopeIds", "appScopeIds"] {
        assignment.entry(key).or_insert(Value::Array(Vec::new()));
    }
    if let Err(error) = tenant.defender_role_assignments.put(&id, assignment.clone()) {
        return persistence_failed(call, &error);
    }
    let mut reply = call.entity(ASSIGNMENTS, Value::Object(assignment));
    reply.status = StatusCode::CREATED;
    reply.committed()
}

fn patch_assignment(tenant: &mut TenantData, call: &Call, id: &str, mut assignment: Map<String, Value>) -> Reply {
    let changes = match body_object(call) {
        Ok(changes) => changes,
        Err(reply) => return reply,
    };
    if changes.contains_key("@odata.type") {
        return call.bad_request("The input was not valid. roleAssignment: The roleAssignment field is required.");
    }
    for (key, value) in changes {
        if key != "id" {
            assignment.insert(key, value);
        }
    }
    let mut checked = assignment.clone();
    checked.remove("@odata.type");
    if let Err(message) = check_assignment(tenant, &checked) {
        return call.bad_request(&message);
    }
    match tenant.defender_role_assignments.put(id, assignment) {
        Ok(()) => Reply::no_content().committed(),
        Err(error) => persistence_failed(call, &error),
    }
}
