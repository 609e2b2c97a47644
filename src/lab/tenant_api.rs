//! The tenant's directory and security endpoints: groups, Defender incidents and their alerts, and
//! advanced hunting.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::call::{Call, selected};
use super::defaults::{ALERT, GROUP, INCIDENT, with_defaults};
use super::reply::Reply;
use super::store::TenantData;

/// `GET /groups` (v1.0 and beta), with the default property set unless `$select` names others.
pub fn groups(tenant: &TenantData, call: &Call) -> Reply {
    let select = call.query.select.as_deref();
    if let Err(reply) = no_expand(call) {
        return reply;
    }
    call.collection_page("groups", &tenant.groups, |group| selected(&with_defaults(group, &GROUP), select))
}

/// `GET /groups/{id}` (v1.0 and beta).
pub fn group(tenant: &TenantData, id: &str, call: &Call) -> Reply {
    if let Err(reply) = no_expand(call) {
        return reply;
    }
    match tenant.groups.get(id) {
        Some(group) => call.entity("groups", selected(&with_defaults(group, &GROUP), call.query.select.as_deref())),
        None => {
            let message = format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            );
            Reply::error(call.context, StatusCode::NOT_FOUND, "Request_ResourceNotFound", &message)
        }
    }
}

/// `GET /security/incidents`, with `$expand=alerts`.
pub fn incidents(tenant: &TenantData, call: &Call) -> Reply {
    let expand_alerts = match expands_alerts(call) {
        Ok(expand) => expand,
        Err(reply) => return reply,
    };
    let select = call.query.select.as_deref();
    call.collection_page("security/incidents", &tenant.incidents, |incident| {
        shown_incident(tenant, incident, expand_alerts, select)
    })
}

/// `GET /security/incidents/{id}`, with `$expand=alerts`.
pub fn incident(tenant: &TenantData, id: &str, call: &Call) -> Reply {
    let expand_alerts = match expands_alerts(call) {
        Ok(expand) => expand,
        Err(reply) => return reply,
    };
    match tenant.incidents.get(id) {
        Some(incident) => {
            let shown = shown_incident(tenant, incident, expand_alerts, call.query.select.as_deref());
            call.entity("security/incidents", shown)
        }
        None => not_found(call, "incident", id),
    }
}

/// `GET /security/alerts_v2`: the tenant's alerts, each incident's and those stored on their own.
pub fn alerts(tenant: &TenantData, call: &Call) -> Reply {
    if let Err(reply) = no_expand(call) {
        return reply;
    }
    let select = call.query.select.as_deref();
    call.collection_page("security/alerts_v2", &tenant.alerts, |alert| selected(&with_defaults(alert, &ALERT), select))
}

/// `GET /security/alerts_v2/{id}`.
pub fn alert(tenant: &TenantData, id: &str, call: &Call) -> Reply {
    if let Err(reply) = no_expand(call) {
        return reply;
    }
    match tenant.alerts.get(id) {
        Some(alert) => {
            let shown = selected(&with_defaults(alert, &ALERT), call.query.select.as_deref());
            call.entity("security/alerts_v2", shown)
        }
        None => not_found(call, "alert", id),
    }
}

fn shown_incident(
    tenant: &TenantData,
    incident: &Map<String, Value>,
    expand_alerts: bool,
    select: Option<&[String]>,
) -> Value {
    let mut shown = match selected(&with_defaults(incident, &INCIDENT), select) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if expand_alerts {
        let id = incident.get("id").and_then(Value::as_str).unwrap_or_default();
        let alerts: Vec<Value> = tenant
            .alerts
            .iter()
            .filter(|alert| alert.get("incidentId").and_then(Value::as_str) == Some(id))
            .map(|alert| Value::Object(with_defaults(alert, &ALERT)))
            .collect();
        shown.insert("alerts".into(), Value::Array(alerts));
    }
    Value::Object(shown)
}

/// Whether `$expand` asks for an incident's alerts; any other relation is refused.
fn expands_alerts(call: &Call) -> Result<bool, Reply> {
    let mut alerts = false;
    for relation in &call.query.expand {
        if relation.eq_ignore_ascii_case("alerts") {
            alerts = true;
        } else {
            return Err(call.expand_refused(relation));
        }
    }
    Ok(alerts)
}

fn no_expand(call: &Call) -> Result<(), Reply> {
    match call.query.expand.first() {
        None => Ok(()),
        Some(relation) => Err(call.expand_refused(relation)),
    }
}

fn not_found(call: &Call, what: &str, id: &str) -> Reply {
    let message = format!("No {what} found with id '{id}'.");
    Reply::error(call.context, StatusCode::NOT_FOUND, "NotFound", &message)
}

/// `POST /security/runHuntingQuery`: rows of the tenant's event tables for a query over one of them
/// (see `hunting_tables`), or the tenant's canned `hunting.json` answer for any other.
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
    let timespan = body.get("Timespan").or_else(|| body.get("timespan")).and_then(Value::as_str);
    let tables = tenant.hunting.as_ref().and_then(|h| h.get("tables")).and_then(Value::as_object);
    let from_tables =
        tables.and_then(|tables| super::hunting_tables::answer(tables, query, timespan, call.context.now));
    let mut stored =
        from_tables.or_else(|| tenant.hunting.clone()).unwrap_or_else(|| json!({"schema": [], "results": []}));
    if let Some(stored) = stored.as_object_mut() {
        stored.remove("tables");
    }
    // The context names this lab and version, whatever the stored response was captured from.
    let mut results = Map::new();
    results.insert("@odata.context".into(), call.context_url("microsoft.graph.security.huntingQueryResults").into());
    if let Value::Object(stored) = stored {
        results.extend(stored.into_iter().filter(|(key, _)| key != "@odata.context"));
    }
    Reply::json(StatusCode::OK, Value::Object(results))
}
