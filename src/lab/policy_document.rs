//! What Intune does to a `deviceManagementConfigurationPolicy` on the server side: validation of writes,
//! server-owned fields (id, timestamps, `settingCount`, `isAssigned`, setting ids, template details),
//! assignments, and the shape of responses (`$expand`, `$select`). Pure functions over raw JSON, so
//! unknown properties pass through untouched; `lab init` uses them too.

use serde::de::IgnoredAny;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::ids::derived_guid;
use super::templates::server_template_reference;

/// Pseudo group id of the "all devices" target in assignment ids.
pub const ALL_DEVICES_ID: &str = "adadadad-808e-44e2-905a-0b7873a8a531";
/// Pseudo group id of the "all licensed users" target in assignment ids.
pub const ALL_LICENSED_USERS_ID: &str = "acacacac-9df4-4c7d-9d50-4ef0226f57a9";

const ENTITY: &str = "microsoft.graph.deviceManagementConfigurationPolicy";
/// Properties a client writes.
const WRITABLE: &[&str] =
    &["name", "description", "platforms", "technologies", "roleScopeTagIds", "templateReference", "settings"];
/// Writable properties the lab stores as sent.
const PASSED_THROUGH: &[&str] = &["disableEntraGroupPolicyAssignment"];
/// Server-owned properties: accepted in a body (clients often send back what they read) and ignored.
const READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "settingCount",
    "isAssigned",
    "creationSource",
    "priorityMetaData",
    "assignments",
];

/// Which navigation properties a response includes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expansion {
    pub settings: bool,
    pub assignments: bool,
}

impl Expansion {
    pub fn parse(items: &[String]) -> Result<Expansion, String> {
        let mut expansion = Expansion::default();
        for item in items {
            // `settings($expand=settingDefinitions)` expands the settings; their definitions are served by
            // `…/settings?$expand=settingDefinitions`.
            let name = item.split('(').next().unwrap_or_default().trim();
            if name.eq_ignore_ascii_case("settings") {
                expansion.settings = true;
            } else if name.eq_ignore_ascii_case("assignments") {
                expansion.assignments = true;
            } else {
                return Err(format!("Could not find a property named '{name}' on type '{ENTITY}'."));
            }
        }
        Ok(expansion)
    }

    /// The `@odata.context` suffix Graph gives expanded responses, e.g. `(settings(),assignments())`.
    pub fn context_suffix(&self) -> String {
        let parts: Vec<&str> = [(self.settings, "settings()"), (self.assignments, "assignments()")]
            .into_iter()
            .filter(|p| p.0)
            .map(|p| p.1)
            .collect();
        if parts.is_empty() { String::new() } else { format!("({})", parts.join(",")) }
    }
}

/// The stored policy for a create request.
pub fn created(body: &Value, id: &str, now: &str) -> Result<Map<String, Value>, String> {
    let body = checked_body(body, true)?;
    let settings = numbered_settings(body.get("settings"));
    let mut policy = Map::new();
    policy.insert("createdDateTime".into(), now.into());
    policy.insert("creationSource".into(), Value::Null);
    policy.insert("description".into(), body.get("description").cloned().unwrap_or_else(|| "".into()));
    policy.insert("lastModifiedDateTime".into(), now.into());
    policy.insert("name".into(), body["name"].clone());
    policy.insert("platforms".into(), body["platforms"].clone());
    policy.insert("priorityMetaData".into(), Value::Null);
    policy.insert("roleScopeTagIds".into(), body.get("roleScopeTagIds").cloned().unwrap_or_else(|| json!(["0"])));
    policy.insert("settingCount".into(), settings.len().into());
    policy.insert("technologies".into(), body["technologies"].clone());
    policy.insert("id".into(), id.into());
    policy.insert("isAssigned".into(), false.into());
    policy.insert("templateReference".into(), server_template_reference(body.get("templateReference")));
    for key in PASSED_THROUGH {
        if let Some(value) = body.get(*key) {
            policy.insert((*key).into(), value.clone());
        }
    }
    policy.insert("settings".into(), Value::Array(settings));
    policy.insert("assignments".into(), Value::Array(Vec::new()));
    Ok(policy)
}

/// The stored policy after a PUT: every writable property replaced (absent ones reset), server-owned
/// properties kept or recomputed.
pub fn replaced(existing: &Map<String, Value>, body: &Value, now: &str) -> Result<Map<String, Value>, String> {
    let body = checked_body(body, true)?;
    let settings = numbered_settings(body.get("settings"));
    let mut policy = existing.clone();
    policy.insert("description".into(), body.get("description").cloned().unwrap_or_else(|| "".into()));
    policy.insert("lastModifiedDateTime".into(), now.into());
    policy.insert("name".into(), body["name"].clone());
    policy.insert("platforms".into(), body["platforms"].clone());
    policy.insert("roleScopeTagIds".into(), body.get("roleScopeTagIds").cloned().unwrap_or_else(|| json!(["0"])));
    policy.insert("settingCount".into(), settings.len().into());
    policy.insert("technologies".into(), body["technologies"].clone());
    policy.insert("templateReference".into(), server_template_reference(body.get("templateReference")));
    for key in PASSED_THROUGH {
        if let Some(value) = body.get(*key) {
            policy.insert((*key).into(), value.clone());
        }
    }
    policy.insert("settings".into(), Value::Array(settings));
    Ok(policy)
}

/// The stored policy after a PATCH: the top-level properties sent are merged. Settings and the
/// template are not changed by PATCH (tools replace settings with PUT; graph-facts §1.6).
pub fn patched(existing: &Map<String, Value>, body: &Value, now: &str) -> Result<Map<String, Value>, String> {
    let body = checked_body(body, false)?;
    let mut policy = existing.clone();
    for (key, value) in body {
        let merged = (WRITABLE.contains(&key.as_str()) && key != "settings" && key != "templateReference")
            || PASSED_THROUGH.contains(&key.as_str());
        if merged {
            policy.insert(key.clone(), value.clone());
        }
    }
    policy.insert("lastModifiedDateTime".into(), now.into());
    Ok(policy)
}

/// Replaces a policy's assignments with those of an `assign` request body. Returns the stored policy
/// and the new assignments.
pub fn assigned(
    existing: &Map<String, Value>,
    policy_id: &str,
    body: &Value,
) -> Result<(Map<String, Value>, Vec<Value>), String> {
    let Some(requested) = body.get("assignments").and_then(Value::as_array) else {
        return Err("The request body must contain an 'assignments' array.".into());
    };
    let mut assignments: Vec<Value> = Vec::with_capacity(requested.len());
    for (index, item) in requested.iter().enumerate() {
        let Some(target) = item.get("target").and_then(Value::as_object) else {
            return Err(format!("assignments[{index}]: 'target' is required."));
        };
        let target_type = target.get("@odata.type").and_then(Value::as_str).unwrap_or_default();
        let group_id = target.get("groupId").and_then(Value::as_str);
        let target_id = match target_type.trim_start_matches('#') {
            "microsoft.graph.allDevicesAssignmentTarget" => ALL_DEVICES_ID.to_string(),
            "microsoft.graph.allLicensedUsersAssignmentTarget" => ALL_LICENSED_USERS_ID.to_string(),
            "microsoft.graph.groupAssignmentTarget" | "microsoft.graph.exclusionGroupAssignmentTarget" => group_id
                .filter(|g| !g.is_empty())
                .ok_or(format!("assignments[{index}]: 'groupId' is required."))?
                .to_string(),
            "" => return Err(format!("assignments[{index}]: the target's '@odata.type' is required.")),
            _ => group_id.map_or_else(|| derived_guid(&Value::Object(target.clone()).to_string()), str::to_string),
        };
        let mut target = target.clone();
        target.entry("deviceAndAppManagementAssignmentFilterId").or_insert(Value::Null);
        target.entry("deviceAndAppManagementAssignmentFilterType").or_insert_with(|| "none".into());
        let id = format!("{policy_id}_{target_id}");
        if assignments.iter().any(|a| a["id"] == id.as_str()) {
            continue;
        }
        assignments.push(json!({"id": id, "source": "direct", "sourceId": policy_id, "target": target}));
    }
    let mut policy = existing.clone();
    policy.insert("isAssigned".into(), Value::Bool(!assignments.is_empty()));
    policy.insert("assignments".into(), Value::Array(assignments.clone()));
    Ok((policy, assignments))
}

/// A stored policy as a response shows it: navigation properties only when expanded, annotations of a
/// stored GET response dropped, missing server-owned counters filled in, `$select` applied. `policy`
/// is the whole policy, or the stored one without its settings and `stored_settings` their text.
pub fn rendered(
    policy: &Map<String, Value>,
    stored_settings: Option<&RawValue>,
    expansion: Expansion,
    select: Option<&[String]>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in policy {
        let navigation = key == "settings" || key == "assignments";
        let selected = select.is_none_or(|s| s.iter().any(|name| name.eq_ignore_ascii_case(key)));
        if !navigation && selected && !is_response_annotation(key) {
            out.insert(key.clone(), value.clone());
        }
    }
    let settings = policy.get("settings").and_then(Value::as_array);
    let assignments = policy.get("assignments").and_then(Value::as_array);
    // Computed properties: in the default set, or when `$select` names them.
    let wanted = |name: &str| select.is_none_or(|s| s.iter().any(|n| n.eq_ignore_ascii_case(name)));
    if wanted("settingCount") && !out.contains_key("settingCount") {
        let count = settings.map_or_else(|| stored_settings.map_or(0, setting_count), Vec::len);
        out.insert("settingCount".into(), count.into());
    }
    if wanted("isAssigned") {
        out.entry("isAssigned").or_insert_with(|| assignments.is_some_and(|a| !a.is_empty()).into());
    }
    if wanted("disableEntraGroupPolicyAssignment") {
        out.entry("disableEntraGroupPolicyAssignment").or_insert(Value::Bool(false));
    }
    // Navigation properties are copied only when expanded: they are most of a policy.
    if expansion.settings {
        let parsed = || stored_settings.and_then(|text| serde_json::from_str(text.get()).ok());
        out.insert(
            "settings".into(),
            settings.map_or_else(parsed, |s| Some(Value::Array(s.clone()))).unwrap_or(json!([])),
        );
    }
    if expansion.assignments {
        out.insert("assignments".into(), Value::Array(assignments.cloned().unwrap_or_default()));
    }
    out
}

/// Items of a settings array kept as text, counted without building them.
fn setting_count(text: &RawValue) -> usize {
    serde_json::from_str::<Vec<IgnoredAny>>(text.get()).map_or(0, |items| items.len())
}

/// A response body (an object) with one more property whose value is JSON text already: how a policy
/// read with `$expand=settings` is answered without parsing and printing its stored settings again.
/// Printed in one pass, and not checked again: both parts are JSON already.
pub fn with_text_property(
    body: &Value,
    name: &str,
    text: Option<&RawValue>,
) -> Result<Box<RawValue>, serde_json::Error> {
    serde_json::value::to_raw_value(&Spliced { body, name, text })
}

struct Spliced<'a> {
    body: &'a Value,
    name: &'a str,
    text: Option<&'a RawValue>,
}

impl Serialize for Spliced<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(body) = self.body else { return self.body.serialize(serializer) };
        let mut map = serializer.serialize_map(Some(body.len() + 1))?;
        for (key, value) in body {
            map.serialize_entry(key, value)?;
        }
        match self.text {
            Some(text) => map.serialize_entry(self.name, text)?,
            None => map.serialize_entry(self.name, &[(); 0])?,
        }
        map.end()
    }
}

/// `@odata.context` and `<property>@odata.context` belong to the response a stored object was copied
/// from, not to the object.
fn is_response_annotation(key: &str) -> bool {
    key.ends_with("@odata.context")
}

fn is_annotation(key: &str) -> bool {
    key.starts_with('@') || key.contains("@odata.")
}

/// Checks a create/PUT (`full`) or PATCH body the way Graph's deserializer and Intune do.
fn checked_body(body: &Value, full: bool) -> Result<&Map<String, Value>, String> {
    let Some(body) = body.as_object() else { return Err("The request body must be a JSON object.".into()) };
    for key in body.keys().filter(|k| !is_annotation(k)) {
        let known = [WRITABLE, PASSED_THROUGH, READ_ONLY].iter().any(|list| list.contains(&key.as_str()));
        if !known {
            return Err(format!(
                "The property '{key}' does not exist on type '{ENTITY}'. Make sure to only use property names that are defined by the type."
            ));
        }
    }
    for key in ["name", "platforms", "technologies"] {
        match body.get(key) {
            Some(Value::String(text)) if !text.trim().is_empty() => {}
            None if !full => {}
            _ => return Err(format!("Property '{key}' is required and must be a non-empty string.")),
        }
    }
    if body.get("description").is_some_and(|d| !d.is_string() && !d.is_null()) {
        return Err("Property 'description' must be a string.".into());
    }
    if body.get("roleScopeTagIds").is_some_and(|tags| !tags.as_array().is_some_and(|t| t.iter().all(Value::is_string)))
    {
        return Err("Property 'roleScopeTagIds' must be an array of strings.".into());
    }
    let reference = body.get("templateReference").filter(|r| !r.is_null());
    if full && reference.is_some_and(|r| !r.get("templateId").is_some_and(Value::is_string)) {
        return Err("Property 'templateReference' must be an object with a 'templateId' string.".into());
    }
    if full && let Some(settings) = body.get("settings") {
        let Some(settings) = settings.as_array() else { return Err("Property 'settings' must be an array.".into()) };
        for (index, setting) in settings.iter().enumerate() {
            let instance = setting.get("settingInstance").and_then(Value::as_object);
            if !instance.is_some_and(|i| i.get("settingDefinitionId").is_some_and(Value::is_string)) {
                return Err(format!("settings[{index}]: 'settingInstance' with a 'settingDefinitionId' is required."));
            }
        }
    }
    Ok(body)
}

/// Settings with the ids Intune assigns: "0", "1", … in order.
fn numbered_settings(settings: Option<&Value>) -> Vec<Value> {
    let items = settings.and_then(Value::as_array).cloned().unwrap_or_default();
    items
        .into_iter()
        .enumerate()
        .map(|(index, setting)| {
            let mut numbered = Map::new();
            let Value::Object(setting) = setting else { return setting };
            if let Some(odata_type) = setting.get("@odata.type") {
                numbered.insert("@odata.type".into(), odata_type.clone());
            }
            numbered.insert("id".into(), Value::String(index.to_string()));
            for (key, value) in setting {
                if key != "id" && key != "@odata.type" {
                    numbered.insert(key, value);
                }
            }
            Value::Object(numbered)
        })
        .collect()
}

#[cfg(test)]
mod tests;
