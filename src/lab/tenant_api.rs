//! The tenant's directory and security endpoints tenantctl reads: groups (looked up by display name),
//! Defender incidents and advanced hunting.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::call::{Call, selected};
use super::reply::Reply;
use super::store::TenantData;

/// `GET /groups` (v1.0 and beta), with `$filter=displayName eq '…'`.
pub fn groups(tenant: &TenantData, call: &Call) -> Reply {
    let select = call.query.select.as_deref();
    call.collection_page("groups", &tenant.groups, |group| selected(group, select))
}

/// `GET /groups/{id}` (v1.0 and beta).
pub fn group(tenant: &TenantData, id: &str, call: &Call) -> Reply {
    match tenant.groups.get(id) {
        Some(group) => Reply::json(StatusCode::OK, selected(group, call.query.select.as_deref())),
        None => {
            let message = format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            );
            Reply::error(call.context, StatusCode::NOT_FOUND, "Request_ResourceNotFound", &message)
        }
    }
}

/// `GET /security/incidents`, with `$filter` on `severity`/`status`.
pub fn incidents(tenant: &TenantData, call: &Call) -> Reply {
    let select = call.query.select.as_deref();
    call.collection_page("security/incidents", &tenant.incidents, |incident| selected(incident, select))
}

/// `POST /security/runHuntingQuery`: the tenant's `hunting.json` for any query.
pub fn hunting_query(tenant: &TenantData, call: &Call) -> Reply {
    let body = match call.body() {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let query = body.get("Query").or_else(|| body.get("query")).and_then(Value::as_str);
    let Some(query) = query.filter(|q| !q.trim().is_empty()) else {
        return call.bad_request("The 'Query' parameter is required.");
    };
    if let Err(problem) = super::kql::check(query) {
        return call.bad_request(&problem);
    }
    let mut results = tenant.hunting.clone().unwrap_or_else(|| json!({"schema": [], "results": []}));
    if let Some(object) = results.as_object_mut()
        && !object.contains_key("@odata.context")
    {
        let mut with_context = serde_json::Map::new();
        with_context
            .insert("@odata.context".into(), call.context_url("microsoft.graph.security.huntingQueryResults").into());
        with_context.extend(std::mem::take(object));
        *object = with_context;
    }
    Reply::json(StatusCode::OK, results)
}
