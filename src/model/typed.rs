//! The typed policy kinds. Each is a Settings Catalog template described by a table in
//! [`super::template`]; the kinds differ only in that table, so one macro declares them all, and the
//! rest of tenantctl handles every one of them as a [`TypedPolicy`].

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::PolicyKind;
use super::template::{self, TemplateTable};

/// A setting of the template that the kind does not type, kept as Graph JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdditionalSetting {
    /// `settingDefinitionId` of the setting this one is a child of; `None` for a top-level setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The `deviceManagementConfigurationSettingInstance`.
    pub setting_instance: Value,
}

/// The spec of any typed kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypedSpec {
    /// Name of the policy in each tenant.
    pub display_name: String,
    /// Description shown in Intune; tenantctl appends its ownership marker.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Settings the kind does not type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_settings: Vec<AdditionalSetting>,
    /// The typed settings, as the manifest writes them (checked against the kind's table).
    #[serde(flatten)]
    pub settings: Map<String, Value>,
}

/// A typed policy, whatever its kind.
#[derive(Clone)]
pub struct TypedPolicy {
    pub kind: PolicyKind,
    pub table: &'static TemplateTable,
    pub metadata: ObjectMeta,
    pub spec: TypedSpec,
}

impl TypedPolicy {
    pub fn table(&self) -> &'static TemplateTable {
        self.table
    }
}

impl PartialEq for TypedPolicy {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.metadata == other.metadata && self.spec == other.spec
    }
}

impl std::fmt::Debug for TypedPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedPolicy")
            .field("kind", &self.kind)
            .field("metadata", &self.metadata)
            .field("spec", &self.spec)
            .finish()
    }
}

fn schema_of(table: &TemplateTable, doc: &str) -> Schema {
    match template::schema::spec_schema(table, doc) {
        Value::Object(map) => Schema::from(map),
        _ => Schema::default(),
    }
}

macro_rules! typed_kinds {
    ($($kind:ident, $spec:ident, $name:literal, $short:literal, $table:path, $doc:literal;)*) => {$(
        #[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[kube(group = "tenantctl.dev", version = "v1alpha1", kind = $name, doc = $doc, namespaced, shortname = $short, category = "tenantctl")]
        #[serde(rename_all = "camelCase")]
        pub struct $spec {
            pub display_name: String,
            #[serde(default, skip_serializing_if = "String::is_empty")]
            pub description: String,
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub additional_settings: Vec<AdditionalSetting>,
            #[serde(flatten)]
            pub settings: Map<String, Value>,
        }

        impl JsonSchema for $spec {
            fn schema_name() -> Cow<'static, str> {
                concat!($name, "Spec").into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                schema_of(&$table, $doc)
            }
        }

        impl From<$kind> for TypedPolicy {
            fn from(object: $kind) -> TypedPolicy {
                let $spec { display_name, description, additional_settings, settings } = object.spec;
                TypedPolicy {
                    kind: PolicyKind::$kind,
                    table: std::sync::LazyLock::force(&$table),
                    metadata: object.metadata,
                    spec: TypedSpec { display_name, description, additional_settings, settings },
                }
            }
        }

        impl From<TypedSpec> for $spec {
            fn from(spec: TypedSpec) -> $spec {
                let TypedSpec { display_name, description, additional_settings, settings } = spec;
                $spec { display_name, description, additional_settings, settings }
            }
        }
    )*};
}

typed_kinds! {
    AntivirusPolicy, AntivirusPolicySpec, "AntivirusPolicy", "avp", template::antivirus::TABLE,
        "A Microsoft Defender Antivirus endpoint security policy.";
    FirewallPolicy, FirewallPolicySpec, "FirewallPolicy", "fwp", template::firewall::TABLE,
        "A Windows Firewall endpoint security policy.";
    AttackSurfaceReductionPolicy, AttackSurfaceReductionPolicySpec, "AttackSurfaceReductionPolicy", "asrp", template::asr::TABLE,
        "An attack surface reduction rules endpoint security policy.";
    FirewallRulesPolicy, FirewallRulesPolicySpec, "FirewallRulesPolicy", "fwrp", template::firewall_rules::TABLE,
        "A Microsoft Defender Firewall rules endpoint security policy.";
    SecurityExperiencePolicy, SecurityExperiencePolicySpec, "SecurityExperiencePolicy", "sxp", template::security_experience::TABLE,
        "A Windows Security experience endpoint security policy: tamper protection and the Windows Security app.";
    DefenderUpdateControlsPolicy, DefenderUpdateControlsPolicySpec, "DefenderUpdateControlsPolicy", "ducp", template::update_controls::TABLE,
        "A Defender update controls endpoint security policy: release channels of engine, platform and intelligence.";
    AntivirusExclusionsPolicy, AntivirusExclusionsPolicySpec, "AntivirusExclusionsPolicy", "avxp", template::antivirus_exclusions::TABLE,
        "A Microsoft Defender Antivirus exclusions endpoint security policy.";
    EndpointDetectionPolicy, EndpointDetectionPolicySpec, "EndpointDetectionPolicy", "edrp", template::edr::TABLE,
        "An endpoint detection and response endpoint security policy: Defender for Endpoint onboarding.";
}
