//! `deviceManagement/configurationPolicies` (beta): list, get, create, replace, patch, delete, the
//! `settings` and `assignments` sub-collections and the `assign` action. Every change reaches the state
//! directory before the response is sent.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value};

use super::call::Call;
use super::ids::random_guid;
use super::policy_document::{Expansion, assigned, created, patched, rendered, replaced, with_text_property};
use super::reply::{Reply, ReplyBody};
use super::route::Route;
use super::store::{POLICY_SETTINGS, TenantData};

pub(super) const COLLECTION: &str = "deviceManagement/configurationPolicies";

pub fn handle(tenant: &mut TenantData, route: &Route, call: &Call) -> Reply {
    let expansion = match Expansion::parse(&call.query.expand) {
        Ok(expansion) => expansion,
        Err(message) => return call.bad_request(&message),
    };
    let method = &call.request.method;
    match route {
        Route::Policies if method == Method::POST => create(tenant, call),
        Route::Policies => list(tenant, call, expansion),
        // Reads borrow the stored policy: a copy of every policy read was a fifth of the lab's work.
        Route::Policy(id) if method == Method::GET => read(tenant, id, call, expansion),
        Route::PolicyAssignments(id) => match tenant.policies.get(id) {
            Some(policy) => assignments(call, id, policy),
            None => not_found(id, call),
        },
        Route::Policy(id) => match policy_or_not_found(tenant, id, call) {
            Err(reply) => reply,
            Ok(existing) if method == Method::PUT => replace(tenant, id, &existing, call),
            Ok(existing) if method == Method::PATCH => patch(tenant, id, &existing, call),
            Ok(_) => delete(tenant, id, call),
        },
        Route::PolicyAssign(id) => {
            policy_or_not_found(tenant, id, call).map_or_else(|r| r, |p| assign(tenant, id, &p, call))
        }
        _ => call.bad_request("Unsupported request."),
    }
}

fn list(tenant: &TenantData, call: &Call, expansion: Expansion) -> Reply {
    let select = call.query.select.as_deref();
    let context = format!("{COLLECTION}{}", expansion.context_suffix());
    let policies = &tenant.policies;
    call.collection_page(&context, policies, |policy| {
        let settings = policy.get("id").and_then(Value::as_str).and_then(|id| policies.deferred(id));
        Value::Object(rendered(policy, settings, expansion, select))
    })
}

/// One stored policy by id. Its settings, when expanded, are the text kept at load, spliced into the
/// body: most of what a plan reads, served without being parsed or printed again.
fn read(tenant: &TenantData, id: &str, call: &Call, expansion: Expansion) -> Reply {
    let Some(policy) = tenant.policies.get(id) else { return not_found(id, call) };
    let settings = tenant.policies.deferred(id);
    let without_settings = Expansion { settings: false, ..expansion };
    let shown = rendered(policy, settings, without_settings, call.query.select.as_deref());
    let reply = call.entity(&format!("{COLLECTION}{}", expansion.context_suffix()), Value::Object(shown));
    let (true, Some(ReplyBody::Json(body))) = (expansion.settings, &reply.body) else { return reply };
    match with_text_property(body, POLICY_SETTINGS, settings) {
        Ok(text) => Reply::text(reply.status, text),
        Err(error) => {
            let message = format!("The lab could not serve the stored settings: {error}");
            Reply::error(call.context, StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", &message)
        }
    }
}

fn entity(call: &Call, policy: &Map<String, Value>, expansion: Expansion) -> Reply {
    let shown = rendered(policy, None, expansion, call.query.select.as_deref());
    call.entity(&format!("{COLLECTION}{}", expansion.context_suffix()), Value::Object(shown))
}

fn create(tenant: &mut TenantData, call: &Call) -> Reply {
    let body = match call.body() {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let id = random_guid();
    let policy = match created(body, &id, &timestamp(call)) {
        Ok(policy) => policy,
        Err(message) => return invalid(call, &message),
    };
    if let Err(reply) = persist(tenant, &id, policy.clone(), call) {
        return reply;
    }
    let mut reply = entity(call, &policy, Expansion::default());
    reply.status = StatusCode::CREATED;
    reply.committed()
}

fn replace(tenant: &mut TenantData, id: &str, existing: &Map<String, Value>, call: &Call) -> Reply {
    let body = match call.body() {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    match replaced(existing, body, &timestamp(call)) {
        Ok(policy) => persist(tenant, id, policy, call).map_or_else(|r| r, |()| Reply::no_content().committed()),
        Err(message) => invalid(call, &message),
    }
}

fn patch(tenant: &mut TenantData, id: &str, existing: &Map<String, Value>, call: &Call) -> Reply {
    let body = match call.body() {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let policy = match patched(existing, body, &timestamp(call)) {
        Ok(policy) => policy,
        Err(message) => return invalid(call, &message),
    };
    if let Err(reply) = persist(tenant, id, policy.clone(), call) {
        return reply;
    }
    entity(call, &policy, Expansion::default()).committed()
}

fn delete(tenant: &mut TenantData, id: &str, call: &Call) -> Reply {
    match tenant.policies.remove(id) {
        Ok(_) => Reply::no_content().committed(),
        Err(error) => persistence_failed(call, &error),
    }
}

fn assignments(call: &Call, id: &str, policy: &Map<String, Value>) -> Reply {
    let all = policy.get("assignments").and_then(Value::as_array).cloned().unwrap_or_default();
    let total = all.len();
    Reply::json(StatusCode::OK, call.page(&format!("{COLLECTION}('{id}')/assignments"), all, None, Some(total)))
}

fn assign(tenant: &mut TenantData, id: &str, existing: &Map<String, Value>, call: &Call) -> Reply {
    let body = match call.body() {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let (policy, assignments) = match assigned(existing, id, body) {
        Ok(result) => result,
        Err(message) => return invalid(call, &message),
    };
    if let Err(reply) = persist(tenant, id, policy, call) {
        return reply;
    }
    let context = "Collection(microsoft.graph.deviceManagementConfigurationPolicyAssignment)";
    Reply::json(StatusCode::OK, call.page(context, assignments, None, None)).committed()
}

pub(super) fn policy_or_not_found(tenant: &TenantData, id: &str, call: &Call) -> Result<Map<String, Value>, Reply> {
    tenant.policies.full(id).ok_or_else(|| not_found(id, call))
}

fn not_found(id: &str, call: &Call) -> Reply {
    let path = format!("/DeviceConfigV2/DCV2GraphService/deviceManagement/configurationPolicies('{id}')");
    Reply::intune_error(call.context, StatusCode::NOT_FOUND, "ResourceNotFound", "An error has occurred", &path)
}

pub(super) fn invalid(call: &Call, message: &str) -> Reply {
    let path = "/DeviceConfigV2/DCV2GraphService/deviceManagement/configurationPolicies";
    Reply::intune_error(call.context, StatusCode::BAD_REQUEST, "BadRequest", message, path)
}

pub(super) fn persist(tenant: &mut TenantData, id: &str, policy: Map<String, Value>, call: &Call) -> Result<(), Reply> {
    tenant.policies.put(id, policy).map_err(|error| persistence_failed(call, &error))
}

pub(super) fn persistence_failed(call: &Call, error: &super::LabError) -> Reply {
    tracing::error!(%error, "lab: cannot persist a change");
    let message = format!("The lab could not persist the change: {error}");
    Reply::error(call.context, StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", &message)
}

/// Graph's timestamp form: RFC 3339, UTC, seven fractional digits.
pub(super) fn timestamp(call: &Call) -> String {
    format!("{:.7}", call.context.now)
}
