//! `deviceManagement/roleDefinitions` and `deviceManagement/roleAssignments` (v1.0): Intune RBAC.
//! Built-in role definitions are served read-only beside the tenant's own; assignments are bound to
//! a definition with `roleDefinition@odata.bind`, name existing groups, and come back with their
//! definition under `$expand=roleDefinition`. Every change reaches the state directory first.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::call::Call;
use super::ids::random_guid;
use super::policies::persistence_failed;
use super::reply::Reply;
use super::route::Route;
use super::store::TenantData;

const DEFINITIONS: &str = "deviceManagement/roleDefinitions";
const ASSIGNMENTS: &str = "deviceManagement/roleAssignments";
const DEFINITION_TYPE: &str = "#microsoft.graph.deviceAndAppManagementRoleDefinition";
const ASSIGNMENT_TYPE: &str = "#microsoft.graph.deviceAndAppManagementRoleAssignment";
/// Where an assignment keeps the id of its definition (not shown: Graph shows it only expanded).
const DEFINITION_ID: &str = "_roleDefinitionId";

/// Microsoft's built-in roles the lab knows (read-only in every tenant).
fn built_in() -> Vec<Map<String, Value>> {
    let role = |id: &str, name: &str, description: &str, actions: &[&str]| {
        let value = json!({
            "@odata.type": DEFINITION_TYPE,
            "id": id,
            "displayName": name,
            "description": description,
            "rolePermissions": [{"resourceActions": [{"allowedResourceActions": actions, "notAllowedResourceActions": []}]}],
            "isBuiltIn": true
        });
        value.as_object().cloned().unwrap_or_default()
    };
    // Ids as Intune lists them (the seven whose ids are known from public sources).
    vec![
        role(
            "0bd113fe-6be5-400c-a28f-ae5553f9c0be",
            "Policy and Profile manager",
            "Policy and Profile Manager manages compliance policy, configuration profiles, Apple enrollment, corporate device identifiers, and security baselines.",
            &["Microsoft.Intune_DeviceConfigurations_Read", "Microsoft.Intune_DeviceConfigurations_Create"],
        ),
        role(
            "2f9f4f7e-2d13-427b-adf2-361a1eef7ae8",
            "School Administrator",
            "School Administrators manage apps and settings for their groups in Intune for Education.",
            &["Microsoft.Intune_MobileApps_Read", "Microsoft.Intune_DeviceConfigurations_Read"],
        ),
        role(
            "9e0cc482-82df-4ab2-a24c-0c23a3f52e1e",
            "Help Desk Operator",
            "Help Desk Operators perform remote tasks on users and devices, and can assign applications or policies to users or devices.",
            &["Microsoft.Intune_ManagedDevices_Read", "Microsoft.Intune_RemoteTasks_RebootNow"],
        ),
        role(
            "c1d9fcbb-cba5-40b0-bf6b-527006585f4b",
            "Application Manager",
            "Application Managers manage mobile and managed applications, can read device information and can view device configuration profiles.",
            &["Microsoft.Intune_MobileApps_Read", "Microsoft.Intune_MobileApps_Create"],
        ),
        role(
            "c56d53a2-73d0-4502-b6bd-4a9d3dba28d5",
            "Endpoint Security Manager",
            "Endpoint Security Managers manage security and compliance features such as security baselines, device compliance, conditional access, and Microsoft Defender for Endpoint.",
            &["Microsoft.Intune_SecurityBaselines_Read", "Microsoft.Intune_SecurityBaselines_Create"],
        ),
        role(
            "fa1d7878-e8cb-41a1-8254-0142355c9f84",
            "Read Only Operator",
            "Read Only Operators view user, device, enrollment, configuration and application information and cannot make changes to Intune.",
            &["Microsoft.Intune_Organization_Read", "Microsoft.Intune_DeviceConfigurations_Read"],
        ),
        role(
            "fb2603eb-3c87-4be3-8b5b-d58a5b4a0bc0",
            "Intune Role Administrator",
            "Intune Role Administrators manage custom Intune roles and add assignments for built-in Intune roles.",
            &["Microsoft.Intune_Roles_Read", "Microsoft.Intune_Roles_Create"],
        ),
    ]
}

pub fn handle(tenant: &mut TenantData, route: &Route, call: &Call) -> Reply {
    let method = &call.request.method;
    match route {
        Route::RoleDefinitions if method == Method::POST => create_definition(tenant, call),
        Route::RoleDefinitions => {
            let mut all = built_in();
            all.extend(tenant.role_definitions.iter().cloned());
            call.list_page(DEFINITIONS, all)
        }
        Route::RoleDefinition(id) => {
            let Some(existing) = definition(tenant, id) else { return not_found(call, "roleDefinitions", id) };
            let read_only = existing.get("isBuiltIn").and_then(Value::as_bool).unwrap_or(false);
            match method.clone() {
                Method::GET => call.entity(DEFINITIONS, Value::Object(existing)),
                _ if read_only => call.bad_request("Built-in role definitions cannot be changed or deleted."),
                Method::PATCH => patch(tenant, call, id, existing, Kind::Definition),
                _ if tenant
                    .role_assignments
                    .iter()
                    .any(|a| a.get(DEFINITION_ID) == Some(&Value::String(id.clone()))) =>
                {
                    call.bad_request("The role definition has assignments; delete them first.")
                }
                _ => remove(call, tenant.role_definitions.remove(id)),
            }
        }
        Route::RoleAssignments if method == Method::POST => create_assignment(tenant, call),
        Route::RoleAssignments => {
            let expand = call.query.expand.iter().any(|e| e.eq_ignore_ascii_case("roleDefinition"));
            let all = tenant.role_assignments.iter().map(|a| shown(tenant, a, expand)).collect();
            call.list_page(ASSIGNMENTS, all)
        }
        Route::RoleAssignment(id) => {
            let Some(existing) = tenant.role_assignments.get(id).cloned() else {
                return not_found(call, "roleAssignments", id);
            };
            match method.clone() {
                Method::GET => {
                    let expand = call.query.expand.iter().any(|e| e.eq_ignore_ascii_case("roleDefinition"));
                    call.entity(ASSIGNMENTS, Value::Object(shown(tenant, &existing, expand)))
                }
                Method::PATCH => patch(tenant, call, id, existing, Kind::Assignment),
                _ => remove(call, tenant.role_assignments.remove(id)),
            }
        }
        _ => call.bad_request("Unsupported request."),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Definition,
    Assignment,
}

fn definition(tenant: &TenantData, id: &str) -> Option<Map<String, Value>> {
    built_in()
        .into_iter()
        .find(|d| d.get("id").and_then(Value::as_str) == Some(id))
        .or_else(|| tenant.role_definitions.get(id).cloned())
}

/// An assignment as Graph shows it: without the bookkeeping, with its definition when expanded.
fn shown(tenant: &TenantData, assignment: &Map<String, Value>, expand: bool) -> Map<String, Value> {
    let mut shown = assignment.clone();
    let definition_id = shown.remove(DEFINITION_ID);
    if expand
        && let Some(definition) = definition_id.as_ref().and_then(Value::as_str).and_then(|id| definition(tenant, id))
    {
        shown.insert("roleDefinition".into(), Value::Object(definition));
    }
    shown
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

/// Checks the fields a client may set; returns the message of a 400 for the first problem.
fn check(tenant: &TenantData, object: &Map<String, Value>, kind: Kind, creating: bool) -> Result<(), String> {
    let (allowed, required): (&[&str], &[&str]) = match kind {
        Kind::Definition => {
            (&["@odata.type", "displayName", "description", "rolePermissions", "isBuiltIn"], &["displayName"])
        }
        Kind::Assignment => (
            &["@odata.type", "displayName", "description", "members", "resourceScopes", "roleDefinition@odata.bind"],
            &["displayName", "roleDefinition@odata.bind"],
        ),
    };
    if let Some(unknown) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("Property '{unknown}' does not exist or cannot be set."));
    }
    if creating && let Some(missing) = required.iter().find(|r| object.get(**r).is_none_or(|v| v.as_str() == Some("")))
    {
        return Err(format!("The property '{missing}' is required."));
    }
    if object.get("isBuiltIn").and_then(Value::as_bool) == Some(true) {
        return Err("A role definition created through the API cannot be built in.".into());
    }
    for field in ["members", "resourceScopes"] {
        let Some(value) = object.get(field) else { continue };
        let ids = value.as_array().ok_or(format!("'{field}' must be an array of group ids."))?;
        for id in ids {
            let id = id.as_str().ok_or(format!("'{field}' must be an array of group ids."))?;
            if tenant.groups.get(id).is_none() {
                return Err(format!("Group '{id}' in '{field}' does not exist."));
            }
        }
    }
    if let Some(permissions) = object.get("rolePermissions")
        && !permissions
            .as_array()
            .is_some_and(|p| p.iter().all(|p| p.get("resourceActions").is_some_and(Value::is_array)))
    {
        return Err("'rolePermissions' must be an array of {resourceActions: […]}.".into());
    }
    Ok(())
}

/// The definition id an `@odata.bind` URL names, if that definition exists.
fn bound_definition(tenant: &TenantData, object: &Map<String, Value>) -> Result<Option<String>, String> {
    let Some(bind) = object.get("roleDefinition@odata.bind") else { return Ok(None) };
    let url = bind.as_str().ok_or("'roleDefinition@odata.bind' must be a URL.")?;
    let id = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .map(|last| {
            last.trim_start_matches("roleDefinitions(")
                .trim_start_matches('\'')
                .trim_end_matches(')')
                .trim_end_matches('\'')
        })
        .unwrap_or_default();
    if !url.contains("roleDefinitions") || definition(tenant, id).is_none() {
        return Err(format!("'roleDefinition@odata.bind' names no role definition: {url}"));
    }
    Ok(Some(id.to_string()))
}

fn create_definition(tenant: &mut TenantData, call: &Call) -> Reply {
    let mut object = match body_object(call) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    if let Err(message) = check(tenant, &object, Kind::Definition, true) {
        return call.bad_request(&message);
    }
    let id = random_guid();
    object.insert("@odata.type".into(), DEFINITION_TYPE.into());
    object.insert("id".into(), Value::String(id.clone()));
    object.insert("isBuiltIn".into(), Value::Bool(false));
    object.entry("description").or_insert(Value::String(String::new()));
    object.entry("rolePermissions").or_insert(Value::Array(Vec::new()));
    if let Err(error) = tenant.role_definitions.put(&id, object.clone()) {
        return persistence_failed(call, &error);
    }
    let mut reply = call.entity(DEFINITIONS, Value::Object(object));
    reply.status = StatusCode::CREATED;
    reply.committed()
}

fn create_assignment(tenant: &mut TenantData, call: &Call) -> Reply {
    let mut object = match body_object(call) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    if let Err(message) = check(tenant, &object, Kind::Assignment, true) {
        return call.bad_request(&message);
    }
    let definition_id = match bound_definition(tenant, &object) {
        Ok(id) => id,
        Err(message) => return call.bad_request(&message),
    };
    let id = random_guid();
    object.remove("roleDefinition@odata.bind");
    object.insert("@odata.type".into(), ASSIGNMENT_TYPE.into());
    object.insert("id".into(), Value::String(id.clone()));
    object.entry("description").or_insert(Value::String(String::new()));
    object.entry("members").or_insert(Value::Array(Vec::new()));
    object.entry("resourceScopes").or_insert(Value::Array(Vec::new()));
    object.insert(DEFINITION_ID.into(), definition_id.map(Value::String).unwrap_or(Value::Null));
    if let Err(error) = tenant.role_assignments.put(&id, object.clone()) {
        return persistence_failed(call, &error);
    }
    let mut reply = call.entity(ASSIGNMENTS, Value::Object(shown(tenant, &object, false)));
    reply.status = StatusCode::CREATED;
    reply.committed()
}

fn patch(tenant: &mut TenantData, call: &Call, id: &str, mut existing: Map<String, Value>, kind: Kind) -> Reply {
    let changes = match body_object(call) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    if let Err(message) = check(tenant, &changes, kind, false) {
        return call.bad_request(&message);
    }
    let definition_id = match bound_definition(tenant, &changes) {
        Ok(id) => id,
        Err(message) => return call.bad_request(&message),
    };
    for (key, value) in changes {
        if key != "roleDefinition@odata.bind" && key != "@odata.type" {
            existing.insert(key, value);
        }
    }
    if let Some(definition_id) = definition_id {
        existing.insert(DEFINITION_ID.into(), Value::String(definition_id));
    }
    let stored = match kind {
        Kind::Definition => tenant.role_definitions.put(id, existing),
        Kind::Assignment => tenant.role_assignments.put(id, existing),
    };
    match stored {
        Ok(()) => Reply::no_content().committed(),
        Err(error) => persistence_failed(call, &error),
    }
}
