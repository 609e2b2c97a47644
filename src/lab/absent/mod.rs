//! The Intune and Entra resources a standard backup lists that the lab holds no objects of: each
//! answers as a tenant without such objects does — an empty collection with Graph's context, the
//! built-in Default scope tag, a singleton's unconfigured object, or its 404. A tenant folder may hold
//! a singleton of its own (`singletons/<name>.json`, e.g. an APNs certificate), served instead.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

pub mod resources;

use resources::{ABSENT, ROLE_SCOPE_TAGS, Shape};

use super::call::Call;
use super::reply::Reply;
use super::store::TenantData;

pub fn handle(tenant: &TenantData, index: usize, call: &Call) -> Reply {
    let Some(absent) = ABSENT.get(index) else { return call.bad_request("Unsupported request.") };
    let stored = absent.path.rsplit('/').next().and_then(|name| tenant.singleton(name));
    match (absent.shape, stored) {
        (Shape::Collection, _) => call.list_page(absent.path, Vec::new()),
        (_, Some(object)) => call.entity(absent.path, object.clone()),
        (Shape::Unconfigured(object), None) => call.entity(absent.path, object()),
        (Shape::Missing, None) => {
            let path = format!("/StatelessDeviceManagementFEService/{}", absent.path);
            Reply::intune_error(call.context, StatusCode::NOT_FOUND, "ResourceNotFound", "An error has occurred", &path)
        }
    }
}

/// The built-in Default scope tag, the only one a tenant has until it makes its own.
fn default_scope_tag() -> Map<String, Value> {
    let tag = json!({"id": "0", "displayName": "Default", "description": "", "isBuiltIn": true});
    match tag {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `deviceManagement/roleScopeTags`: the built-in Default tag.
pub fn role_scope_tags(call: &Call) -> Reply {
    call.list_page(ROLE_SCOPE_TAGS, vec![default_scope_tag()])
}

/// `deviceManagement/roleScopeTags/{id}`.
pub fn role_scope_tag(id: &str, call: &Call) -> Reply {
    match id {
        "0" => call.entity(ROLE_SCOPE_TAGS, Value::Object(default_scope_tag())),
        _ => scope_tag_not_found(id, call),
    }
}

/// `deviceManagement/roleScopeTags/{id}/assignments`: the Default tag is assigned to no group.
pub fn role_scope_tag_assignments(id: &str, call: &Call) -> Reply {
    match id {
        "0" => call.list_page(&format!("{ROLE_SCOPE_TAGS}('0')/assignments"), Vec::new()),
        _ => scope_tag_not_found(id, call),
    }
}

fn scope_tag_not_found(id: &str, call: &Call) -> Reply {
    let path = format!("/StatelessDeviceManagementFEService/{ROLE_SCOPE_TAGS}('{id}')");
    Reply::intune_error(call.context, StatusCode::NOT_FOUND, "ResourceNotFound", "An error has occurred", &path)
}
