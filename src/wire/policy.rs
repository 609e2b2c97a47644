//! Microsoft Graph wire types for Settings Catalog policies (`deviceManagement/configurationPolicies`,
//! beta). Field names and `@odata.type` discriminators follow Graph's documented JSON; properties this
//! tool does not model are ignored on read, so real payloads always parse.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Settings;

const ODATA_PREFIX: &str = "#microsoft.graph.deviceManagementConfiguration";

/// A `deviceManagementConfigurationPolicy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationPolicy {
    /// Server-assigned id; absent on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// For example `windows10`.
    pub platforms: String,
    /// Comma-separated flags, for example `mdm,microsoftSense`.
    pub technologies: String,
    #[serde(default)]
    pub role_scope_tag_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_reference: Option<TemplateReference>,
    #[serde(default)]
    pub settings: Settings,
    /// Read-only, server-owned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    /// Read-only, server-owned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date_time: Option<String>,
    /// Read-only, server-owned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting_count: Option<i64>,
    /// Read-only, server-owned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_assigned: Option<bool>,
    /// Present when read with `$expand=assignments`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignments: Option<Vec<PolicyAssignment>>,
}

/// `platforms` and `technologies` of a policy.
#[derive(Clone, Copy, Debug)]
pub struct PolicyProperties<'a> {
    pub platforms: &'a str,
    pub technologies: &'a str,
}

impl ConfigurationPolicy {
    /// A policy as tenantctl writes it: no server-owned fields, Intune's Default scope tag ("0").
    pub fn desired(
        name: &str,
        description: &str,
        properties: PolicyProperties<'_>,
        template_id: Option<&str>,
        settings: Vec<Setting>,
    ) -> Self {
        ConfigurationPolicy {
            id: None,
            name: name.to_string(),
            description: description.to_string(),
            platforms: properties.platforms.to_string(),
            technologies: properties.technologies.to_string(),
            role_scope_tag_ids: vec!["0".to_string()],
            template_reference: template_id.map(TemplateReference::new),
            settings: settings.into(),
            created_date_time: None,
            last_modified_date_time: None,
            setting_count: None,
            is_assigned: None,
            assignments: None,
        }
    }
}

/// `deviceManagementConfigurationPolicyTemplateReference`. Only `templateId` is writable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateReference {
    pub template_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_display_version: Option<String>,
}

impl TemplateReference {
    pub fn new(template_id: &str) -> Self {
        TemplateReference {
            template_id: template_id.to_string(),
            template_family: None,
            template_display_name: None,
            template_display_version: None,
        }
    }
}

/// `deviceManagementConfigurationSetting`: one top-level entry of a policy's `settings`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Setting {
    #[serde(rename = "@odata.type", default = "setting_odata_type")]
    pub odata_type: String,
    /// Server-assigned ("0", "1", …); absent on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub setting_instance: SettingInstance,
}

fn setting_odata_type() -> String {
    "#microsoft.graph.deviceManagementConfigurationSetting".to_string()
}

impl Setting {
    pub fn new(setting_instance: SettingInstance) -> Self {
        Setting { odata_type: setting_odata_type(), id: None, setting_instance }
    }
}

/// `settingInstanceTemplateReference`: ties a top-level instance to its slot in a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceTemplateReference {
    pub setting_instance_template_id: String,
}

/// `settingValueTemplateReference`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueTemplateReference {
    pub setting_value_template_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_template_default: Option<bool>,
}

/// A setting instance, discriminated by `@odata.type` (read through [`super::policy_decode`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "@odata.type", try_from = "super::policy_decode::FlatSettingInstance")]
pub enum SettingInstance {
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance", rename_all = "camelCase")]
    Choice {
        setting_definition_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setting_instance_template_reference: Option<InstanceTemplateReference>,
        choice_setting_value: ChoiceValue,
    },
    #[serde(
        rename = "#microsoft.graph.deviceManagementConfigurationChoiceSettingCollectionInstance",
        rename_all = "camelCase"
    )]
    ChoiceCollection {
        setting_definition_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setting_instance_template_reference: Option<InstanceTemplateReference>,
        choice_setting_collection_value: Vec<ChoiceValue>,
    },
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance", rename_all = "camelCase")]
    Simple {
        setting_definition_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setting_instance_template_reference: Option<InstanceTemplateReference>,
        simple_setting_value: SimpleValue,
    },
    #[serde(
        rename = "#microsoft.graph.deviceManagementConfigurationSimpleSettingCollectionInstance",
        rename_all = "camelCase"
    )]
    SimpleCollection {
        setting_definition_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setting_instance_template_reference: Option<InstanceTemplateReference>,
        simple_setting_collection_value: Vec<SimpleValue>,
    },
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationGroupSettingInstance", rename_all = "camelCase")]
    Group {
        setting_definition_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setting_instance_template_reference: Option<InstanceTemplateReference>,
        group_setting_value: GroupValue,
    },
    #[serde(
        rename = "#microsoft.graph.deviceManagementConfigurationGroupSettingCollectionInstance",
        rename_all = "camelCase"
    )]
    GroupCollection {
        setting_definition_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setting_instance_template_reference: Option<InstanceTemplateReference>,
        group_setting_collection_value: Vec<GroupValue>,
    },
}

impl SettingInstance {
    pub fn definition_id(&self) -> &str {
        match self {
            SettingInstance::Choice { setting_definition_id, .. }
            | SettingInstance::ChoiceCollection { setting_definition_id, .. }
            | SettingInstance::Simple { setting_definition_id, .. }
            | SettingInstance::SimpleCollection { setting_definition_id, .. }
            | SettingInstance::Group { setting_definition_id, .. }
            | SettingInstance::GroupCollection { setting_definition_id, .. } => setting_definition_id,
        }
    }

    /// The short type name (`Choice`, `SimpleCollection`, …) for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            SettingInstance::Choice { .. } => "ChoiceSettingInstance",
            SettingInstance::ChoiceCollection { .. } => "ChoiceSettingCollectionInstance",
            SettingInstance::Simple { .. } => "SimpleSettingInstance",
            SettingInstance::SimpleCollection { .. } => "SimpleSettingCollectionInstance",
            SettingInstance::Group { .. } => "GroupSettingInstance",
            SettingInstance::GroupCollection { .. } => "GroupSettingCollectionInstance",
        }
    }
}

/// `deviceManagementConfigurationChoiceSettingValue`: an option id plus dependent child settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChoiceValue {
    #[serde(rename = "@odata.type", default = "choice_value_odata_type")]
    pub odata_type: String,
    pub value: String,
    #[serde(default)]
    pub children: Vec<SettingInstance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting_value_template_reference: Option<ValueTemplateReference>,
}

fn choice_value_odata_type() -> String {
    odata_type("ChoiceSettingValue")
}

/// The full `@odata.type` of a Settings Catalog type (`ChoiceSettingValue`, …).
pub(super) fn odata_type(short: &str) -> String {
    format!("{ODATA_PREFIX}{short}")
}

impl ChoiceValue {
    pub fn new(value: String, children: Vec<SettingInstance>) -> Self {
        ChoiceValue { odata_type: choice_value_odata_type(), value, children, setting_value_template_reference: None }
    }
}

/// `deviceManagementConfigurationGroupSettingValue`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupValue {
    #[serde(rename = "@odata.type", default = "group_value_odata_type")]
    pub odata_type: String,
    #[serde(default)]
    pub children: Vec<SettingInstance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting_value_template_reference: Option<ValueTemplateReference>,
}

fn group_value_odata_type() -> String {
    format!("{ODATA_PREFIX}GroupSettingValue")
}

impl GroupValue {
    pub fn new(children: Vec<SettingInstance>) -> Self {
        GroupValue { odata_type: group_value_odata_type(), children, setting_value_template_reference: None }
    }
}

/// A simple (scalar) setting value, discriminated by `@odata.type` (read through
/// [`super::policy_decode`]).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "@odata.type", try_from = "super::policy_decode::FlatSimpleValue")]
pub enum SimpleValue {
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue", rename_all = "camelCase")]
    Integer {
        value: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setting_value_template_reference: Option<ValueTemplateReference>,
    },
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationStringSettingValue", rename_all = "camelCase")]
    String {
        value: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setting_value_template_reference: Option<ValueTemplateReference>,
    },
    /// Graph returns `valueState: encryptedValueToken` and a token instead of the secret; writes send
    /// `notEncrypted` plaintext. Never printed by `Debug`.
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationSecretSettingValue", rename_all = "camelCase")]
    Secret {
        value: String,
        value_state: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setting_value_template_reference: Option<ValueTemplateReference>,
    },
}

impl SimpleValue {
    pub fn integer(value: i64) -> Self {
        SimpleValue::Integer { value, setting_value_template_reference: None }
    }

    pub fn string(value: &str) -> Self {
        SimpleValue::String { value: value.to_string(), setting_value_template_reference: None }
    }
}

impl fmt::Debug for SimpleValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimpleValue::Integer { value, .. } => f.debug_tuple("Integer").field(value).finish(),
            SimpleValue::String { value, .. } => f.debug_tuple("String").field(value).finish(),
            SimpleValue::Secret { value_state, .. } => {
                f.debug_struct("Secret").field("value", &"<redacted>").field("value_state", value_state).finish()
            }
        }
    }
}

/// `deviceManagementConfigurationPolicyAssignment`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAssignment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub target: AssignmentTarget,
}

/// Assignment target, discriminated by `@odata.type`. Matched on the type, never on pseudo-ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "@odata.type")]
pub enum AssignmentTarget {
    #[serde(rename = "#microsoft.graph.allDevicesAssignmentTarget", rename_all = "camelCase")]
    AllDevices {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_and_app_management_assignment_filter_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_and_app_management_assignment_filter_type: Option<String>,
    },
    #[serde(rename = "#microsoft.graph.allLicensedUsersAssignmentTarget", rename_all = "camelCase")]
    AllLicensedUsers {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_and_app_management_assignment_filter_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_and_app_management_assignment_filter_type: Option<String>,
    },
    #[serde(rename = "#microsoft.graph.groupAssignmentTarget", rename_all = "camelCase")]
    Group {
        group_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_and_app_management_assignment_filter_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_and_app_management_assignment_filter_type: Option<String>,
    },
    #[serde(rename = "#microsoft.graph.exclusionGroupAssignmentTarget", rename_all = "camelCase")]
    ExclusionGroup {
        group_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_and_app_management_assignment_filter_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_and_app_management_assignment_filter_type: Option<String>,
    },
}
