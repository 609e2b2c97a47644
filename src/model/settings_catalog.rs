//! `SettingsCatalogPolicy`: the escape hatch. Any Settings Catalog policy, written in Graph's own JSON
//! (as YAML), for what the typed kinds don't cover yet.

use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// A raw Settings Catalog policy.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "SettingsCatalogPolicy",
    doc = "Any Settings Catalog policy, in Graph's own JSON.",
    derive = "PartialEq",
    namespaced,
    shortname = "scp",
    category = "tenantctl"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsCatalogPolicySpec {
    /// Name of the policy in each tenant (Intune shows it).
    #[schemars(length(min = 1))]
    pub display_name: String,
    /// Description shown in Intune. tenantctl appends its ownership marker.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Graph `platforms`, for example `windows10`.
    #[serde(default = "default_platforms")]
    pub platforms: String,
    /// Graph `technologies` (comma-separated flags), for example `mdm,microsoftSense`.
    #[serde(default = "default_technologies")]
    pub technologies: String,
    /// Template the policy is created from (`<baseId>_<version>`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// Graph `settings`: each item a `deviceManagementConfigurationSetting` with its `settingInstance`,
    /// exactly as Graph reads and writes it.
    #[schemars(schema_with = "raw_settings_schema")]
    pub settings: Vec<serde_json::Value>,
}

fn default_platforms() -> String {
    "windows10".to_string()
}

fn default_technologies() -> String {
    "mdm".to_string()
}

fn raw_settings_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true,
        },
    })
}
