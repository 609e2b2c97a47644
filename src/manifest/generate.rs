//! Generated artifacts: CRDs for the cluster and JSON Schemas for editors, both derived from the Rust
//! types so they can never disagree with what tenantctl accepts.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use super::metadata::ManifestMetadata;
use crate::model::*;

/// The CRD of a kind.
pub fn crd(kind: Kind) -> CustomResourceDefinition {
    match kind {
        Kind::Tenant => Tenant::crd(),
        Kind::DistributionProfile => DistributionProfile::crd(),
        Kind::AntivirusPolicy => AntivirusPolicy::crd(),
        Kind::FirewallPolicy => FirewallPolicy::crd(),
        Kind::AttackSurfaceReductionPolicy => AttackSurfaceReductionPolicy::crd(),
        Kind::FirewallRulesPolicy => FirewallRulesPolicy::crd(),
        Kind::SecurityExperiencePolicy => SecurityExperiencePolicy::crd(),
        Kind::DefenderUpdateControlsPolicy => DefenderUpdateControlsPolicy::crd(),
        Kind::AntivirusExclusionsPolicy => AntivirusExclusionsPolicy::crd(),
        Kind::EndpointDetectionPolicy => EndpointDetectionPolicy::crd(),
        Kind::SettingsCatalogPolicy => SettingsCatalogPolicy::crd(),
        Kind::NotificationPolicy => NotificationPolicy::crd(),
        Kind::IntuneRole => IntuneRole::crd(),
        Kind::DetectionRule => DetectionRule::crd(),
        Kind::DefenderRole => DefenderRole::crd(),
        Kind::PolicyException => PolicyException::crd(),
        Kind::PolicyOverride => PolicyOverride::crd(),
        Kind::Case => Case::crd(),
    }
}

/// File name of a kind's CRD: `<plural>.<group>.yaml`, as `kubectl` users expect.
pub fn crd_file_name(kind: Kind) -> String {
    format!("{}.yaml", crd(kind).metadata.name.unwrap_or_default())
}

/// A kind's CRD as YAML.
pub fn crd_yaml(kind: Kind) -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(&crd(kind)).map(|yaml| crate::util::yaml11::quote_ambiguous(&yaml))
}

/// File name of a kind's JSON Schema (`tenant.json`, `antivirus-policy.json`, …).
pub fn schema_file_name(kind: Kind) -> String {
    let mut name = String::new();
    for (i, c) in kind.as_str().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('-');
        }
        name.push(c.to_ascii_lowercase());
    }
    format!("{name}.json")
}

/// File name of the schema that accepts any kind.
pub const ALL_KINDS_SCHEMA: &str = "tenantctl.json";

/// The JSON Schema (draft-07, which yaml-language-server reads) of one document of `kind`.
pub fn document_schema(kind: Kind) -> Value {
    match kind {
        Kind::Tenant => schema_for::<TenantSpec>(kind),
        Kind::DistributionProfile => schema_for::<DistributionProfileSpec>(kind),
        Kind::AntivirusPolicy => schema_for::<AntivirusPolicySpec>(kind),
        Kind::FirewallPolicy => schema_for::<FirewallPolicySpec>(kind),
        Kind::AttackSurfaceReductionPolicy => schema_for::<AttackSurfaceReductionPolicySpec>(kind),
        Kind::FirewallRulesPolicy => schema_for::<FirewallRulesPolicySpec>(kind),
        Kind::SecurityExperiencePolicy => schema_for::<SecurityExperiencePolicySpec>(kind),
        Kind::DefenderUpdateControlsPolicy => schema_for::<DefenderUpdateControlsPolicySpec>(kind),
        Kind::AntivirusExclusionsPolicy => schema_for::<AntivirusExclusionsPolicySpec>(kind),
        Kind::EndpointDetectionPolicy => schema_for::<EndpointDetectionPolicySpec>(kind),
        Kind::SettingsCatalogPolicy => schema_for::<SettingsCatalogPolicySpec>(kind),
        Kind::NotificationPolicy => schema_for::<NotificationPolicySpec>(kind),
        Kind::IntuneRole => schema_for::<IntuneRoleSpec>(kind),
        Kind::DetectionRule => schema_for::<DetectionRuleSpec>(kind),
        Kind::DefenderRole => schema_for::<DefenderRoleSpec>(kind),
        Kind::PolicyException => schema_for::<PolicyExceptionSpec>(kind),
        Kind::PolicyOverride => schema_for::<PolicyOverrideSpec>(kind),
        Kind::Case => schema_for::<CaseSpec>(kind),
    }
}

fn schema_for<S: JsonSchema>(kind: Kind) -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut spec = generator.into_root_schema_for::<S>().to_value();
    let mut definitions = spec.as_object_mut().and_then(|o| o.remove("definitions")).unwrap_or_else(|| json!({}));
    if let Some(object) = spec.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
    }
    let metadata = SchemaSettings::draft07().into_generator().into_root_schema_for::<ManifestMetadata>().to_value();
    if let (Some(defs), Some(meta_defs)) =
        (definitions.as_object_mut(), metadata.get("definitions").and_then(Value::as_object))
    {
        defs.extend(meta_defs.clone());
    }
    let mut metadata = metadata;
    if let Some(object) = metadata.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
        object.remove("definitions");
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": format!("https://tenantctl.dev/schemas/{}", schema_file_name(kind)),
        "title": kind.as_str(),
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": false,
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"const": kind.as_str()},
            "metadata": metadata,
            "spec": spec,
        },
        "definitions": definitions,
    })
}

/// A schema for any tenantctl document: dispatches on `kind` to the per-kind schema files.
pub fn all_kinds_schema() -> Value {
    let branches: Vec<Value> = Kind::ALL
        .iter()
        .map(|kind| {
            json!({
                "if": {"properties": {"kind": {"const": kind.as_str()}}, "required": ["kind"]},
                "then": {"$ref": schema_file_name(*kind)},
            })
        })
        .collect();
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": format!("https://tenantctl.dev/schemas/{ALL_KINDS_SCHEMA}"),
        "title": "tenantctl manifest",
        "type": "object",
        "required": ["apiVersion", "kind"],
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"enum": Kind::ALL.map(|k| k.as_str())},
        },
        "allOf": branches,
    })
}

/// Every schema file: `(file name, pretty JSON)`.
pub fn schema_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, Value)> =
        Kind::ALL.iter().map(|k| (schema_file_name(*k), document_schema(*k))).collect();
    files.push((ALL_KINDS_SCHEMA.to_string(), all_kinds_schema()));
    files
        .into_iter()
        .map(|(name, value)| {
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            (name, text + "\n")
        })
        .collect()
}

/// Every CRD file: `(file name, YAML)`.
pub fn crd_files() -> Result<Vec<(String, String)>, serde_yaml::Error> {
    Kind::ALL.iter().map(|k| Ok((crd_file_name(*k), crd_yaml(*k)?))).collect()
}
