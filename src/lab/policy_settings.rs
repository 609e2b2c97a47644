//! A policy's `settings` sub-collection (beta): list (with `$expand=settingDefinitions`), get one,
//! add one, change one, remove one. Each write replaces the whole stored policy, on disk first.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value};

use super::call::Call;
use super::catalog::definitions_for;
use super::paging::page_at;
use super::policies::{COLLECTION, invalid, persist, policy_or_not_found, timestamp};
use super::reply::Reply;
use super::route::Route;
use super::store::TenantData;

pub fn handle(tenant: &mut TenantData, route: &Route, call: &Call) -> Reply {
    let (Route::PolicySettings(id) | Route::PolicySetting(id, _)) = route else {
        return call.bad_request("Unsupported request.");
    };
    match policy_or_not_found(tenant, id, call) {
        Ok(policy) => handle_for(tenant, route, &policy, call),
        Err(reply) => reply,
    }
}

fn handle_for(tenant: &mut TenantData, route: &Route, policy: &Map<String, Value>, call: &Call) -> Reply {
    let mut definitions = false;
    for relation in &call.query.expand {
        if relation.eq_ignore_ascii_case("settingDefinitions") {
            definitions = true;
        } else {
            let message = format!(
                "Could not find a property named '{relation}' on type 'microsoft.graph.deviceManagementConfigurationSetting'."
            );
            return call.bad_request(&message);
        }
    }
    let settings: Vec<Value> = policy.get("settings").and_then(Value::as_array).cloned().unwrap_or_default();
    let method = &call.request.method;
    match route {
        Route::PolicySettings(id) if method == Method::POST => Edit { tenant, id, policy, settings, call }.add(),
        Route::PolicySettings(id) => list(call, id, &settings, definitions),
        Route::PolicySetting(id, setting_id) => {
            let Some(index) = settings.iter().position(|s| s.get("id").and_then(Value::as_str) == Some(setting_id))
            else {
                let path = format!("{COLLECTION}('{id}')/settings('{setting_id}')");
                return Reply::intune_error(
                    call.context,
                    StatusCode::NOT_FOUND,
                    "ResourceNotFound",
                    "An error has occurred",
                    &path,
                );
            };
            match method.clone() {
                Method::GET => entity(call, id, shown(&settings[index], definitions)),
                Method::PATCH => Edit { tenant, id, policy, settings, call }.change(index),
                _ => Edit { tenant, id, policy, settings, call }.remove(index),
            }
        }
        _ => call.bad_request("Unsupported request."),
    }
}

fn list(call: &Call, id: &str, settings: &[Value], definitions: bool) -> Reply {
    let offset = match call.offset(0) {
        Ok(offset) => offset,
        Err(reply) => return reply,
    };
    let (range, next) = page_at(settings.len(), offset, call.page_size());
    let items = settings[range].iter().map(|s| shown(s, definitions)).collect();
    Reply::json(StatusCode::OK, call.page(&format!("{COLLECTION}('{id}')/settings"), items, next, Some(settings.len())))
}

/// A setting, with the definitions of every setting in its instance tree when asked.
fn shown(setting: &Value, definitions: bool) -> Value {
    let mut shown = setting.clone();
    if definitions && let Value::Object(map) = &mut shown {
        let mut ids = Vec::new();
        definition_ids(map.get("settingInstance").unwrap_or(&Value::Null), &mut ids);
        map.insert("settingDefinitions".into(), Value::Array(definitions_for(&ids)));
    }
    shown
}

fn definition_ids(node: &Value, ids: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("settingDefinitionId")
                && !ids.contains(id)
            {
                ids.push(id.clone());
            }
            map.values().for_each(|child| definition_ids(child, ids));
        }
        Value::Array(items) => items.iter().for_each(|child| definition_ids(child, ids)),
        _ => {}
    }
}

fn entity(call: &Call, id: &str, setting: Value) -> Reply {
    call.entity(&format!("{COLLECTION}('{id}')/settings"), setting)
}

fn checked_instance(call: &Call) -> Result<Value, Reply> {
    let body = call.body()?;
    match body.get("settingInstance") {
        Some(instance @ Value::Object(_)) => Ok(instance.clone()),
        _ => Err(invalid(call, "A setting needs a settingInstance object.")),
    }
}

/// A write to one policy's settings: the new list replaces the stored one, on disk first.
struct Edit<'a, 'c> {
    tenant: &'a mut TenantData,
    id: &'a str,
    policy: &'a Map<String, Value>,
    settings: Vec<Value>,
    call: &'a Call<'c>,
}

impl Edit<'_, '_> {
    fn add(mut self) -> Reply {
        let instance = match checked_instance(self.call) {
            Ok(instance) => instance,
            Err(reply) => return reply,
        };
        // Intune numbers settings "0", "1", …; a new one takes the next number.
        let next =
            self.settings.iter().filter_map(|s| s.get("id")?.as_str()?.parse::<u64>().ok()).max().map_or(0, |n| n + 1);
        let mut setting = Map::new();
        setting.insert("id".into(), Value::String(next.to_string()));
        setting.insert("settingInstance".into(), instance);
        self.settings.push(Value::Object(setting.clone()));
        let mut created = entity(self.call, self.id, Value::Object(setting));
        created.status = StatusCode::CREATED;
        self.commit(created)
    }

    fn change(mut self, index: usize) -> Reply {
        let instance = match checked_instance(self.call) {
            Ok(instance) => instance,
            Err(reply) => return reply,
        };
        if let Some(setting) = self.settings[index].as_object_mut() {
            setting.insert("settingInstance".into(), instance);
        }
        let changed = entity(self.call, self.id, self.settings[index].clone());
        self.commit(changed)
    }

    fn remove(mut self, index: usize) -> Reply {
        self.settings.remove(index);
        self.commit(Reply::no_content())
    }

    /// Stores the policy with its new settings, then answers with `answer`.
    fn commit(self, answer: Reply) -> Reply {
        let mut changed = self.policy.clone();
        changed.insert("settingCount".into(), self.settings.len().into());
        changed.insert("settings".into(), Value::Array(self.settings));
        changed.insert("lastModifiedDateTime".into(), Value::String(timestamp(self.call)));
        match persist(self.tenant, self.id, changed, self.call) {
            Ok(()) => answer.committed(),
            Err(reply) => reply,
        }
    }
}
