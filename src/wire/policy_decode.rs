//! Reading setting instances and simple values, which Graph discriminates by `@odata.type`. serde's
//! internally tagged enums buffer every object before they look at the tag, and a plan reads tens of
//! thousands of settings per tenant fleet: these read each object once into a flat form instead, with
//! the same errors (`unknown variant …`, `missing field …`).

use serde::Deserialize;

use super::policy::ValueTemplateReference;
#[cfg(test)]
use super::policy::odata_type as type_name;
use super::policy::{ChoiceValue, GroupValue, InstanceTemplateReference, SettingInstance, SimpleValue};

/// Every property any kind of setting instance has.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FlatSettingInstance {
    #[serde(rename = "@odata.type")]
    kind: InstanceKind,
    setting_definition_id: Option<String>,
    #[serde(default)]
    setting_instance_template_reference: Option<InstanceTemplateReference>,
    choice_setting_value: Option<ChoiceValue>,
    choice_setting_collection_value: Option<Vec<ChoiceValue>>,
    simple_setting_value: Option<SimpleValue>,
    simple_setting_collection_value: Option<Vec<SimpleValue>>,
    group_setting_value: Option<GroupValue>,
    group_setting_collection_value: Option<Vec<GroupValue>>,
}

#[derive(Clone, Copy, Deserialize)]
enum InstanceKind {
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance")]
    Choice,
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationChoiceSettingCollectionInstance")]
    ChoiceCollection,
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance")]
    Simple,
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationSimpleSettingCollectionInstance")]
    SimpleCollection,
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationGroupSettingInstance")]
    Group,
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationGroupSettingCollectionInstance")]
    GroupCollection,
}

impl TryFrom<FlatSettingInstance> for SettingInstance {
    type Error = String;

    fn try_from(flat: FlatSettingInstance) -> Result<Self, String> {
        let setting_definition_id = flat.setting_definition_id.ok_or_else(|| missing("settingDefinitionId"))?;
        let setting_instance_template_reference = flat.setting_instance_template_reference;
        Ok(match flat.kind {
            InstanceKind::Choice => SettingInstance::Choice {
                setting_definition_id,
                setting_instance_template_reference,
                choice_setting_value: flat.choice_setting_value.ok_or_else(|| missing("choiceSettingValue"))?,
            },
            InstanceKind::ChoiceCollection => SettingInstance::ChoiceCollection {
                setting_definition_id,
                setting_instance_template_reference,
                choice_setting_collection_value: flat
                    .choice_setting_collection_value
                    .ok_or_else(|| missing("choiceSettingCollectionValue"))?,
            },
            InstanceKind::Simple => SettingInstance::Simple {
                setting_definition_id,
                setting_instance_template_reference,
                simple_setting_value: flat.simple_setting_value.ok_or_else(|| missing("simpleSettingValue"))?,
            },
            InstanceKind::SimpleCollection => SettingInstance::SimpleCollection {
                setting_definition_id,
                setting_instance_template_reference,
                simple_setting_collection_value: flat
                    .simple_setting_collection_value
                    .ok_or_else(|| missing("simpleSettingCollectionValue"))?,
            },
            InstanceKind::Group => SettingInstance::Group {
                setting_definition_id,
                setting_instance_template_reference,
                group_setting_value: flat.group_setting_value.ok_or_else(|| missing("groupSettingValue"))?,
            },
            InstanceKind::GroupCollection => SettingInstance::GroupCollection {
                setting_definition_id,
                setting_instance_template_reference,
                group_setting_collection_value: flat
                    .group_setting_collection_value
                    .ok_or_else(|| missing("groupSettingCollectionValue"))?,
            },
        })
    }
}

/// Every property any kind of simple value has.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FlatSimpleValue {
    #[serde(rename = "@odata.type")]
    kind: SimpleKind,
    value: Option<Scalar>,
    value_state: Option<String>,
    #[serde(default)]
    setting_value_template_reference: Option<ValueTemplateReference>,
}

/// A value as JSON has it: a number or a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Integer(i64),
    Text(String),
}

#[derive(Clone, Copy, Deserialize)]
enum SimpleKind {
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue")]
    Integer,
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationStringSettingValue")]
    String,
    #[serde(rename = "#microsoft.graph.deviceManagementConfigurationSecretSettingValue")]
    Secret,
}

impl TryFrom<FlatSimpleValue> for SimpleValue {
    type Error = String;

    fn try_from(flat: FlatSimpleValue) -> Result<Self, String> {
        let setting_value_template_reference = flat.setting_value_template_reference;
        let value = flat.value.ok_or_else(|| missing("value"))?;
        Ok(match (flat.kind, value) {
            (SimpleKind::Integer, Scalar::Integer(value)) => {
                SimpleValue::Integer { value, setting_value_template_reference }
            }
            (SimpleKind::Integer, Scalar::Text(text)) => {
                return Err(format!("invalid type: string {text:?}, expected i64"));
            }
            (_, Scalar::Integer(number)) => return Err(format!("invalid type: integer `{number}`, expected a string")),
            (SimpleKind::String, Scalar::Text(value)) => {
                SimpleValue::String { value, setting_value_template_reference }
            }
            (_, Scalar::Text(value)) => SimpleValue::Secret {
                value,
                value_state: flat.value_state.ok_or_else(|| missing("valueState"))?,
                setting_value_template_reference,
            },
        })
    }
}

fn missing(field: &str) -> String {
    format!("missing field `{field}`")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_kind_reads_as_the_tagged_form_writes_it() {
        let choice = ChoiceValue::new("a_1".into(), vec![]);
        let instances = vec![
            SettingInstance::Choice {
                setting_definition_id: "a".into(),
                setting_instance_template_reference: Some(InstanceTemplateReference {
                    setting_instance_template_id: "t".into(),
                }),
                choice_setting_value: choice.clone(),
            },
            SettingInstance::ChoiceCollection {
                setting_definition_id: "b".into(),
                setting_instance_template_reference: None,
                choice_setting_collection_value: vec![choice.clone()],
            },
            SettingInstance::Simple {
                setting_definition_id: "c".into(),
                setting_instance_template_reference: None,
                simple_setting_value: SimpleValue::Secret {
                    value: "s".into(),
                    value_state: "notEncrypted".into(),
                    setting_value_template_reference: None,
                },
            },
            SettingInstance::SimpleCollection {
                setting_definition_id: "d".into(),
                setting_instance_template_reference: None,
                simple_setting_collection_value: vec![SimpleValue::integer(3), SimpleValue::string("x")],
            },
            SettingInstance::Group {
                setting_definition_id: "e".into(),
                setting_instance_template_reference: None,
                group_setting_value: GroupValue::new(vec![]),
            },
            SettingInstance::GroupCollection {
                setting_definition_id: "f".into(),
                setting_instance_template_reference: None,
                group_setting_collection_value: vec![GroupValue::new(vec![SettingInstance::Choice {
                    setting_definition_id: "g".into(),
                    setting_instance_template_reference: None,
                    choice_setting_value: choice,
                }])],
            },
        ];
        for instance in instances {
            let text = serde_json::to_string(&instance).expect("json");
            let back: SettingInstance = serde_json::from_str(&text).expect("read");
            assert_eq!(back, instance, "{text}");
        }
    }

    #[test]
    fn wrong_kinds_types_and_missing_values_are_errors() {
        let read =
            |value: serde_json::Value| serde_json::from_value::<SettingInstance>(value).map_err(|e| e.to_string());
        let error =
            read(json!({"@odata.type": "#microsoft.graph.nope", "settingDefinitionId": "a"})).expect_err("kind");
        assert!(error.starts_with("unknown variant `#microsoft.graph.nope`"), "{error}");
        let choice = type_name("ChoiceSettingInstance");
        let error = read(json!({"@odata.type": choice, "settingDefinitionId": "a"})).expect_err("value");
        assert!(error.contains("missing field `choiceSettingValue`"), "{error}");
        let simple = type_name("SimpleSettingInstance");
        let integer = type_name("IntegerSettingValue");
        let text = json!({"@odata.type": simple, "settingDefinitionId": "a",
            "simpleSettingValue": {"@odata.type": integer, "value": "7"}});
        assert!(read(text).expect_err("type").contains("expected i64"));
        let number = json!({"@odata.type": simple, "settingDefinitionId": "a",
            "simpleSettingValue": {"@odata.type": integer, "value": 7}});
        assert!(read(number).is_ok());
    }
}
