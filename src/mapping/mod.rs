//! Mapping between the policy kinds and Settings Catalog payloads: every typed kind through its
//! table ([`template`]), `SettingsCatalogPolicy` as Graph's own JSON ([`settings_catalog`]).

pub mod detection_rule;
pub mod live_refs;
pub mod settings_catalog;
pub mod template;

use std::fmt;

use crate::model::PolicyKind;
use crate::wire::ConfigurationPolicy;

pub use crate::model::template::Template;

/// The spec of `kind` (as JSON, in the form users write) that a Graph policy reads back as, when it
/// fits the kind: a typed kind fits policies made from its template; `SettingsCatalogPolicy` fits any.
pub fn typed_spec(kind: PolicyKind, policy: &ConfigurationPolicy, description: &str) -> Option<serde_json::Value> {
    match crate::model::template::table(kind) {
        Some(table) => {
            let template = policy.template_reference.as_ref().map(|t| t.template_id.as_str()).unwrap_or_default();
            if !template.eq_ignore_ascii_case(table.template.id) {
                return None;
            }
            serde_json::to_value(template::from_wire(table, policy, description)).ok()
        }
        None => settings_catalog::from_wire(policy, description).ok().and_then(|spec| serde_json::to_value(spec).ok()),
    }
}

/// The typed kind whose template a policy was made from, if tenantctl has a typed kind for it.
pub fn kind_of_template(policy: &ConfigurationPolicy) -> Option<PolicyKind> {
    crate::model::template::kind_of_template(&policy.template_reference.as_ref()?.template_id)
}

/// Why a Graph payload could not be read as a kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingError {
    /// `settingDefinitionId` concerned.
    pub setting: String,
    pub message: String,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

#[cfg(test)]
pub mod testing {
    /// A JSON value with arrays sorted, for comparing settings regardless of order.
    pub fn normalized(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Array(items) => {
                let mut items: Vec<serde_json::Value> = items.iter().map(normalized).collect();
                items.sort_by_key(|v| v.to_string());
                serde_json::Value::Array(items)
            }
            serde_json::Value::Object(map) => {
                serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), normalized(v))).collect())
            }
            other => other.clone(),
        }
    }
}
