//! `PolicyOverride`: an intended, permanent difference for some tenants — this object's settings
//! differ like so — written once as a patch over the object's spec instead of a copy of the object
//! per tenant. The patch is applied after profile resolution, to what the tenant receives.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::exception::TargetRef;
use super::patch::Edit;
use super::profile::LabelSelector;

/// A patch over one object's spec, for some tenants.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "PolicyOverride",
    doc = "A permanent, per-tenant difference from a policy, role or rule: a patch over its spec.",
    namespaced,
    shortname = "pov",
    category = "tenantctl",
    printcolumn = r#"{"name":"Kind","type":"string","jsonPath":".spec.target.kind"}"#,
    printcolumn = r#"{"name":"Target","type":"string","jsonPath":".spec.target.name"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".spec.reason","priority":1}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyOverrideSpec {
    /// Tenants (by `metadata.name`) the override applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    /// Tenants the override applies to, by their labels (in addition to `tenants`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_selector: Option<LabelSelector>,
    /// The object patched: the kind and `metadata.name` of a policy, role or detection rule.
    pub target: TargetRef,
    /// Why these tenants differ.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// Who asked for the difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Values that replace the target's, by dotted path in its spec (`rules.blockOfficeMacros`); a
    /// list given here replaces the target's list whole.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "set_schema")]
    pub set: BTreeMap<String, Value>,
    /// Items added to lists of the target, by dotted path in its spec (`exclusions.paths`); an item
    /// the list has already is not added twice.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "append_schema")]
    pub append: BTreeMap<String, Vec<Value>>,
}

impl PolicyOverrideSpec {
    /// Whether the override applies to the tenant of this name and labels.
    pub fn covers(&self, tenant: &str, labels: &BTreeMap<String, String>) -> bool {
        self.tenants.iter().any(|t| t == tenant)
            || self.tenant_selector.as_ref().is_some_and(|s| super::select::selector_matches(s, labels))
    }

    /// The patched object, when its kind is one tenantctl manages.
    pub fn object(&self) -> Option<super::ObjectRef> {
        super::ObjectRef::parse(&format!("{}/{}", self.target.kind, self.target.name))
    }

    /// Every edit with its path and the manifest field it is written in, `set` first.
    pub fn edits(&self) -> Vec<(String, Edit, String)> {
        let set = self.set.iter().map(|(path, value)| (path.clone(), Edit::Set(value.clone()), "set"));
        let append = self.append.iter().map(|(path, items)| (path.clone(), Edit::Append(items.clone()), "append"));
        set.chain(append).map(|(path, edit, field)| (path.clone(), edit, format!("spec.{field}.{path}"))).collect()
    }
}

fn set_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {"x-kubernetes-preserve-unknown-fields": true},
    })
}

fn append_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "type": "array",
            "items": {"x-kubernetes-preserve-unknown-fields": true},
        },
    })
}
