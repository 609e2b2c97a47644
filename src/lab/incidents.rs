//! Triage writes on incidents, as Graph v1.0 takes them: `PATCH /security/incidents/{id}` sets
//! status, classification, determination, `assignedTo`, custom tags, description, summary and a
//! resolving comment, refusing enum values Graph does not know and read-only properties;
//! `POST /security/incidents/{id}/comments` appends an `alertComment` and answers the whole list.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::call::Call;
use super::policies::{persistence_failed, timestamp};
use super::reply::Reply;
use super::store::TenantData;
use crate::wire::common::{INCIDENT_CLASSIFICATIONS, INCIDENT_DETERMINATIONS, INCIDENT_STATUSES};

const COLLECTION: &str = "security/incidents";
/// Who the lab says wrote a comment: the app's service principal.
const AUTHOR: &str = "tenantctl";

/// Properties an update may set.
const WRITABLE: &[&str] = &[
    "assignedTo",
    "classification",
    "customTags",
    "determination",
    "status",
    "description",
    "summary",
    "resolvingComment",
];

/// `PATCH /security/incidents/{id}`.
pub fn update(tenant: &mut TenantData, id: &str, call: &Call) -> Reply {
    let Some(mut incident) = tenant.incidents.get(id).cloned() else { return not_found(call, id) };
    let changes = match call.body() {
        Ok(Value::Object(changes)) => changes.clone(),
        Ok(_) => return call.bad_request("The request body must be a JSON object."),
        Err(reply) => return reply,
    };
    if let Err(message) = check(&changes) {
        return call.bad_request(&message);
    }
    for (key, value) in changes {
        if key != "@odata.type" {
            incident.insert(key, value);
        }
    }
    incident.insert("lastUpdateDateTime".into(), Value::String(timestamp(call)));
    match tenant.incidents.put(id, incident.clone()) {
        Ok(()) => call.entity(COLLECTION, Value::Object(incident)).committed(),
        Err(error) => persistence_failed(call, &error),
    }
}

/// `POST /security/incidents/{id}/comments`.
pub fn comment(tenant: &mut TenantData, id: &str, call: &Call) -> Reply {
    let Some(mut incident) = tenant.incidents.get(id).cloned() else { return not_found(call, id) };
    let text = match call.body() {
        Ok(body) => body.get("comment").and_then(Value::as_str).map(str::to_string),
        Err(reply) => return reply,
    };
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return call.bad_request("The property 'comment' is required and must be a non-empty string.");
    };
    let now = timestamp(call);
    let entry = json!({
        "@odata.type": "#microsoft.graph.security.alertComment",
        "comment": text,
        "createdByDisplayName": AUTHOR,
        "createdDateTime": now,
    });
    let mut comments = incident.get("comments").and_then(Value::as_array).cloned().unwrap_or_default();
    comments.push(entry);
    incident.insert("comments".into(), Value::Array(comments.clone()));
    incident.insert("lastUpdateDateTime".into(), Value::String(now));
    if let Err(error) = tenant.incidents.put(id, incident) {
        return persistence_failed(call, &error);
    }
    let list: Vec<Map<String, Value>> = comments.into_iter().filter_map(|c| c.as_object().cloned()).collect();
    let mut reply = call.list_page(&format!("{COLLECTION}('{id}')/comments"), list);
    reply.status = StatusCode::OK;
    reply.committed()
}

/// Graph's refusals of an update body: unknown or read-only properties, enum values it does not
/// know, tags that are not strings.
fn check(changes: &Map<String, Value>) -> Result<(), String> {
    if let Some(key) = changes.keys().find(|k| !WRITABLE.contains(&k.as_str()) && k.as_str() != "@odata.type") {
        return Err(format!(
            "Property '{key}' is read-only or does not exist on type 'microsoft.graph.security.incident'."
        ));
    }
    for (key, allowed, type_name) in [
        ("status", INCIDENT_STATUSES, "microsoft.graph.security.incidentStatus"),
        ("classification", INCIDENT_CLASSIFICATIONS, "microsoft.graph.security.alertClassification"),
        ("determination", INCIDENT_DETERMINATIONS, "microsoft.graph.security.alertDetermination"),
    ] {
        match changes.get(key) {
            None => {}
            Some(Value::String(value)) if allowed.contains(&value.as_str()) => {}
            Some(value) => {
                return Err(format!("Requested value '{}' was not found in enum '{type_name}'.", text_of(value)));
            }
        }
    }
    match changes.get("assignedTo") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(_) => return Err("Property 'assignedTo' must be a string or null.".into()),
    }
    match changes.get("customTags") {
        None => Ok(()),
        Some(Value::Array(tags)) if tags.iter().all(Value::is_string) => Ok(()),
        Some(_) => Err("Property 'customTags' must be a collection of strings.".into()),
    }
}

fn text_of(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

fn not_found(call: &Call, id: &str) -> Reply {
    Reply::error(call.context, StatusCode::NOT_FOUND, "NotFound", &format!("No incident found with id '{id}'."))
}
