//! `security/rules/detectionRules`: Defender custom detection rules. The client chooses each rule's
//! id; a second create under a taken id or display name answers 409, a taken alert title 400, and
//! what Defender refuses at create time (a query that starts with no table, `let` in a near-real-time
//! rule, no asset mapped, a mapped column the query's last `project` leaves out) answers 400 here.
//! Creates are limited per tenant and app (the `detectionCreateBudget` knob, handled by dispatch).

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value};

use super::call::Call;
use super::policies::{persistence_failed, timestamp};
use super::reply::Reply;
use super::route::Route;
use super::store::TenantData;
use crate::model::detection::Frequency;
use crate::model::kql::QueryShape;

const COLLECTION: &str = "security/rules/detectionRules";
const RULE_TYPE: &str = "#microsoft.graph.security.detectionRule";
/// What a client may send.
const WRITABLE: &[&str] = &[
    "@odata.type",
    "id",
    "displayName",
    "description",
    "status",
    "isEnabled",
    "queryCondition",
    "schedule",
    "detectionAction",
];
/// What Defender sets; ignored on create, refused on update.
const READ_ONLY: &[&str] =
    &["createdBy", "createdDateTime", "lastModifiedBy", "lastModifiedDateTime", "detectorId", "lastRunDetails"];
/// Who the lab says created and changed rules.
const AUTHOR: &str = "tenantctl lab application";

pub fn handle(tenant: &mut TenantData, route: &Route, call: &Call) -> Reply {
    let method = &call.request.method;
    match route {
        Route::DetectionRules if method == Method::POST => create(tenant, call),
        Route::DetectionRules => call.list_page(COLLECTION, tenant.detection_rules.iter().cloned().collect()),
        Route::DetectionRule(id) => {
            let Some(existing) = tenant.detection_rules.get(id).cloned() else {
                let message = format!("Detection rule '{id}' was not found.");
                return Reply::error(call.context, StatusCode::NOT_FOUND, "NotFound", &message);
            };
            match method.clone() {
                Method::GET => call.entity(COLLECTION, Value::Object(existing)),
                Method::PATCH => update(tenant, call, id, existing),
                _ => match tenant.detection_rules.remove(id) {
                    Ok(_) => Reply::no_content().committed(),
                    Err(error) => persistence_failed(call, &error),
                },
            }
        }
        _ => call.bad_request("Unsupported request."),
    }
}

fn body_object(call: &Call) -> Result<Map<String, Value>, Reply> {
    match call.body()? {
        Value::Object(object) => Ok(object.clone()),
        _ => Err(call.bad_request("The request body must be a JSON object.")),
    }
}

fn create(tenant: &mut TenantData, call: &Call) -> Reply {
    let mut rule = match body_object(call) {
        Ok(rule) => rule,
        Err(reply) => return reply,
    };
    rule.retain(|key, _| !READ_ONLY.contains(&key.as_str()));
    let id = rule.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    if id.is_empty() {
        return call.bad_request("The property 'id' is required: the client chooses the rule's id.");
    }
    if !is_rule_id(&id) {
        return call.bad_request(&format!(
            "Invalid rule identifier format '{id}': use letters, digits, '-' and '_', starting with a letter, at most 100 characters."
        ));
    }
    if tenant.detection_rules.get(&id).is_some() {
        return conflict(call, &format!("A detection rule with id '{id}' already exists."));
    }
    if let Err(reply) = check(tenant, &rule, &id, call) {
        return reply;
    }
    let now = timestamp(call);
    rule.insert("@odata.type".into(), RULE_TYPE.into());
    rule.entry("description").or_insert(Value::String(String::new()));
    rule.entry("status").or_insert(Value::String("enabled".into()));
    for (key, value) in [("createdBy", AUTHOR), ("lastModifiedBy", AUTHOR)] {
        rule.insert(key.into(), value.into());
    }
    rule.insert("createdDateTime".into(), Value::String(now.clone()));
    rule.insert("lastModifiedDateTime".into(), Value::String(now));
    if let Err(error) = tenant.detection_rules.put(&id, rule.clone()) {
        return persistence_failed(call, &error);
    }
    let mut reply = call.entity(COLLECTION, Value::Object(rule));
    reply.status = StatusCode::CREATED;
    reply.committed()
}

fn update(tenant: &mut TenantData, call: &Call, id: &str, mut rule: Map<String, Value>) -> Reply {
    let changes = match body_object(call) {
        Ok(changes) => changes,
        Err(reply) => return reply,
    };
    if let Some(key) = changes.keys().find(|k| READ_ONLY.contains(&k.as_str()) || k.as_str() == "id") {
        return call.bad_request(&format!("Property '{key}' is read-only and cannot be set."));
    }
    for (key, value) in changes {
        if key != "@odata.type" {
            rule.insert(key, value);
        }
    }
    if let Err(reply) = check(tenant, &rule, id, call) {
        return reply;
    }
    rule.insert("lastModifiedBy".into(), AUTHOR.into());
    rule.insert("lastModifiedDateTime".into(), Value::String(timestamp(call)));
    match tenant.detection_rules.put(id, rule.clone()) {
        Ok(()) => call.entity(COLLECTION, Value::Object(rule)).committed(),
        Err(error) => persistence_failed(call, &error),
    }
}

fn conflict(call: &Call, message: &str) -> Reply {
    Reply::error(call.context, StatusCode::CONFLICT, "Conflict", message)
}

/// `^[A-Za-z][A-Za-z0-9_-]{0,99}$`.
fn is_rule_id(id: &str) -> bool {
    id.len() <= 100
        && id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn text<'a>(value: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    let (last, parents) = path.split_last()?;
    let mut object = value;
    for key in parents {
        object = object.get(*key)?.as_object()?;
    }
    object.get(*last)?.as_str()
}

/// What Defender refuses in a rule as it would be stored (`id` is the rule's own, for duplicates).
fn check(tenant: &TenantData, rule: &Map<String, Value>, id: &str, call: &Call) -> Result<(), Reply> {
    let refuse = |message: String| Err(call.bad_request(&message));
    if let Some(unknown) = rule.keys().find(|k| !WRITABLE.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str())) {
        return refuse(format!(
            "Property '{unknown}' does not exist on type 'microsoft.graph.security.detectionRule'."
        ));
    }
    let name = text(rule, &["displayName"]).unwrap_or_default();
    if name.trim().is_empty() || name.chars().count() > 256 {
        return refuse("The property 'displayName' is required and at most 256 characters long.".into());
    }
    if let Some(status) = rule.get("status").filter(|s| !s.is_null())
        && !matches!(status.as_str(), Some("enabled" | "disabled"))
    {
        return refuse(format!("Invalid value for 'status': {status}. Expected 'enabled' or 'disabled'."));
    }
    let query = text(rule, &["queryCondition", "queryText"]).unwrap_or_default();
    if query.trim().is_empty() {
        return refuse("The property 'queryCondition.queryText' is required.".into());
    }
    if let Err(problem) = super::kql::check(query) {
        return refuse(problem);
    }
    if let Some(frequency) = text(rule, &["schedule", "frequency"])
        && !frequency.starts_with('P')
    {
        return refuse(format!("'schedule.frequency' must be an ISO 8601 duration such as PT1H, not '{frequency}'."));
    }
    let frequency = text(rule, &["schedule", "frequency"]).or_else(|| text(rule, &["schedule", "period"]));
    let Some(frequency) = frequency.and_then(Frequency::from_wire) else {
        return refuse("Invalid schedule: 'schedule.frequency' must be PT0S, PT1H, PT3H, PT12H or P1D.".into());
    };
    let shape = QueryShape::parse(query);
    if frequency == Frequency::NearRealTime && shape.has_let {
        return refuse("Near real-time rules do not support the 'let' operator.".into());
    }
    let template = rule
        .get("detectionAction")
        .and_then(|a| a.get("alertTemplate"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let title = text(&template, &["title"]).unwrap_or_default();
    if title.trim().is_empty() {
        return refuse("The property 'detectionAction.alertTemplate.title' is required.".into());
    }
    let severity = text(&template, &["severity"]).unwrap_or_default();
    if !["informational", "low", "medium", "high"].contains(&severity) {
        return refuse(format!("Invalid value for 'severity': '{severity}'."));
    }
    if template.get("tactics").and_then(Value::as_array).is_some_and(|t| t.len() > 1) {
        return refuse("Multiple MITRE tactics are not supported. Specify a single tactic.".into());
    }
    check_entities(&template, &shape).map_err(|message| call.bad_request(&message))?;
    for other in tenant.detection_rules.iter() {
        if other.get("id").and_then(Value::as_str) == Some(id) {
            continue;
        }
        if text(other, &["displayName"]) == Some(name) {
            return Err(conflict(call, &format!("A detection rule named '{name}' already exists.")));
        }
        let other_title = other
            .get("detectionAction")
            .and_then(|a| a.get("alertTemplate"))
            .and_then(|t| t.get("title"))
            .and_then(Value::as_str);
        if other_title == Some(title) {
            return refuse(format!("The alert title '{title}' is already used by another detection rule."));
        }
    }
    Ok(())
}

/// An asset is mapped, and every mapped column is one the query returns (when its last `project`
/// says which).
fn check_entities(template: &Map<String, Value>, shape: &QueryShape) -> Result<(), String> {
    let mappings = template.get("entityMappings").and_then(Value::as_object);
    let legacy = template.get("impactedAssets").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    let has_asset = mappings.is_some_and(|m| {
        ["hosts", "accounts", "mailboxes", "ips"]
            .iter()
            .any(|key| m.get(*key).and_then(Value::as_array).is_some_and(|list| !list.is_empty()))
    });
    if !has_asset && !legacy {
        return Err("At least one asset entity (Machine, User, or Mailbox) or an IP entity must be included.".into());
    }
    let Some(projected) = shape.projected_columns() else { return Ok(()) };
    for (kind, list) in mappings.into_iter().flatten() {
        for entity in list.as_array().into_iter().flatten() {
            for (field, column) in entity.as_object().into_iter().flatten() {
                if let Some(column) = column.as_str().filter(|_| !field.starts_with('@'))
                    && !projected.iter().any(|p| p == column)
                {
                    return Err(format!(
                        "Entity mapping '{kind}.{field}' names column '{column}', which the query does not return."
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_letters_digits_dashes_and_underscores() {
        assert!(is_rule_id("tenantctl-0a1b"));
        assert!(is_rule_id("a"));
        assert!(!is_rule_id("0abc"));
        assert!(!is_rule_id("a b"));
        assert!(!is_rule_id(&"a".repeat(101)));
        assert!(!is_rule_id(""));
    }
}
