//! Typed policy ↔ Graph payload, for every typed kind, driven by the kind's table.
//!
//! The writer walks the table and writes each setting the manifest gives; the reader walks Graph's
//! settings and places each one the table knows at its manifest path. Whatever the reader cannot
//! place — a setting Microsoft added after the table was written, an option it does not know, a secret
//! Graph only returns as a token — it keeps verbatim in `additionalSettings`, which the writer puts
//! back where it was. So reading never fails and `wire → typed → wire` loses nothing.

use serde_json::{Map, Value};

use crate::model::template::scope::{Scope, value_at};
use crate::model::template::{Node, Shape, TemplateTable};
use crate::model::{AdditionalSetting, TypedSpec};
use crate::wire::{
    ChoiceValue, ConfigurationPolicy, GroupValue, InstanceTemplateReference, PolicyProperties, Setting,
    SettingInstance, SimpleValue, ValueTemplateReference,
};

/// The Graph payload of a typed policy (description as given: the caller adds the ownership marker).
pub fn to_wire(table: &TemplateTable, spec: &TypedSpec, description: &str) -> ConfigurationPolicy {
    let additional = parsed(&spec.additional_settings);
    let settings = write_nodes(&table.nodes, &spec.settings, true, &additional, None);
    let template = &table.template;
    let properties = PolicyProperties { platforms: template.platforms, technologies: template.technologies };
    let settings = settings.into_iter().map(Setting::new).collect();
    ConfigurationPolicy::desired(&spec.display_name, description, properties, Some(template.id), settings)
}

/// The typed policy of a Graph payload (description as given: the caller strips the marker).
pub fn from_wire(table: &TemplateTable, policy: &ConfigurationPolicy, description: &str) -> TypedSpec {
    let instances: Vec<&SettingInstance> = policy.settings.iter().map(|s| &s.setting_instance).collect();
    let mut settings = Map::new();
    let mut additional = Vec::new();
    read_instances(&table.nodes, &instances, &mut settings, &mut additional, None);
    let settings = Scope::of(&table.nodes).ordered(settings);
    TypedSpec {
        display_name: policy.name.clone(),
        description: description.to_string(),
        additional_settings: additional,
        settings,
    }
}

/// Additional settings that are valid Graph setting instances, with their parent.
fn parsed(additional: &[AdditionalSetting]) -> Vec<(Option<&str>, SettingInstance)> {
    additional
        .iter()
        .filter_map(|a| {
            let instance = serde_json::from_value(a.setting_instance.clone()).ok()?;
            Some((a.parent.as_deref(), instance))
        })
        .collect()
}

/// Additional settings whose parent is `parent`.
fn extra_under(additional: &[(Option<&str>, SettingInstance)], parent: Option<&str>) -> Vec<SettingInstance> {
    additional
        .iter()
        .filter(|(p, _)| match (p, parent) {
            (None, None) => true,
            (Some(p), Some(parent)) => p.eq_ignore_ascii_case(parent),
            _ => false,
        })
        .map(|(_, instance)| instance.clone())
        .collect()
}

fn write_nodes(
    nodes: &[Node],
    scope: &Map<String, Value>,
    refs: bool,
    additional: &[(Option<&str>, SettingInstance)],
    parent: Option<&str>,
) -> Vec<SettingInstance> {
    let mut out: Vec<SettingInstance> =
        nodes.iter().filter_map(|node| write_node(node, scope, refs, additional)).collect();
    out.extend(extra_under(additional, parent));
    out
}

fn instance_ref(node: &Node, refs: bool) -> Option<InstanceTemplateReference> {
    node.instance_template
        .filter(|_| refs)
        .map(|id| InstanceTemplateReference { setting_instance_template_id: id.to_string() })
}

fn value_ref(node: &Node, refs: bool) -> Option<ValueTemplateReference> {
    node.value_template
        .filter(|_| refs)
        .map(|id| ValueTemplateReference { setting_value_template_id: id.to_string(), use_template_default: None })
}

fn write_node(
    node: &Node,
    scope: &Map<String, Value>,
    refs: bool,
    additional: &[(Option<&str>, SettingInstance)],
) -> Option<SettingInstance> {
    let id = node.id.clone();
    let reference = instance_ref(node, refs);
    match &node.shape {
        Shape::Choice(_) => {
            let option = node.option_for(value_at(scope, &node.path)?)?;
            let children = children_under(node, &option.suffix);
            let children = write_nodes(&children, scope, refs, additional, Some(&node.id));
            let mut value = ChoiceValue::new(format!("{}_{}", node.id, option.suffix), children);
            value.setting_value_template_reference = value_ref(node, refs);
            Some(SettingInstance::Choice {
                setting_definition_id: id,
                setting_instance_template_reference: reference,
                choice_setting_value: value,
            })
        }
        Shape::ChoiceList(_) => {
            let items = value_at(scope, &node.path)?.as_array()?;
            let values: Vec<ChoiceValue> = items
                .iter()
                .filter_map(|item| node.option_for(item))
                .map(|option| ChoiceValue::new(format!("{}_{}", node.id, option.suffix), Vec::new()))
                .collect();
            (!values.is_empty()).then_some(SettingInstance::ChoiceCollection {
                setting_definition_id: id,
                setting_instance_template_reference: reference,
                choice_setting_collection_value: values,
            })
        }
        Shape::Integer { .. } => Some(SettingInstance::Simple {
            setting_definition_id: id,
            setting_instance_template_reference: reference,
            simple_setting_value: SimpleValue::Integer {
                value: value_at(scope, &node.path)?.as_i64()?,
                setting_value_template_reference: value_ref(node, refs),
            },
        }),
        Shape::Text(rule) => {
            let text = value_at(scope, &node.path)?.as_str()?.to_string();
            let value_reference = value_ref(node, refs);
            let value = if rule.secret {
                SimpleValue::Secret {
                    value: text,
                    value_state: "notEncrypted".into(),
                    setting_value_template_reference: value_reference,
                }
            } else {
                SimpleValue::String { value: text, setting_value_template_reference: value_reference }
            };
            Some(SettingInstance::Simple {
                setting_definition_id: id,
                setting_instance_template_reference: reference,
                simple_setting_value: value,
            })
        }
        Shape::TextList { .. } => {
            let items = value_at(scope, &node.path)?.as_array()?;
            let values: Vec<SimpleValue> = items.iter().filter_map(Value::as_str).map(SimpleValue::string).collect();
            (!values.is_empty()).then_some(SettingInstance::SimpleCollection {
                setting_definition_id: id,
                setting_instance_template_reference: reference,
                simple_setting_collection_value: values,
            })
        }
        Shape::Group => {
            let children = write_nodes(&node.children, scope, refs, additional, Some(&node.id));
            (!children.is_empty()).then(|| SettingInstance::GroupCollection {
                setting_definition_id: id,
                setting_instance_template_reference: reference,
                group_setting_collection_value: vec![GroupValue::new(children)],
            })
        }
        Shape::GroupList { .. } => {
            let items = value_at(scope, &node.path)?.as_array()?;
            let groups: Vec<GroupValue> = items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    let item = item.as_object()?;
                    let own: Vec<AdditionalSetting> = item
                        .get("additionalSettings")
                        .and_then(|a| serde_json::from_value(a.clone()).ok())
                        .unwrap_or_default();
                    // Intune's own payloads carry template references on the first item only.
                    let children = write_nodes(&node.children, item, refs && index == 0, &parsed(&own), None);
                    Some(GroupValue::new(children))
                })
                .collect();
            (!groups.is_empty()).then_some(SettingInstance::GroupCollection {
                setting_definition_id: id,
                setting_instance_template_reference: reference,
                group_setting_collection_value: groups,
            })
        }
    }
}

/// The children of a choice that may appear under the option `suffix`.
fn children_under(node: &Node, suffix: &str) -> Vec<Node> {
    node.children
        .iter()
        .filter(|c| c.under.is_empty() || c.under.iter().any(|u| u.eq_ignore_ascii_case(suffix)))
        .cloned()
        .collect()
}

fn read_instances(
    nodes: &[Node],
    instances: &[&SettingInstance],
    scope: &mut Map<String, Value>,
    additional: &mut Vec<AdditionalSetting>,
    parent: Option<&str>,
) {
    for instance in instances {
        let node = nodes.iter().find(|n| n.id.eq_ignore_ascii_case(instance.definition_id()));
        let placed = node.is_some_and(|node| read_node(node, instance, scope, additional));
        if !placed {
            additional.push(AdditionalSetting {
                parent: parent.map(str::to_string),
                setting_instance: serde_json::to_value(instance).unwrap_or(Value::Null),
            });
        }
    }
}

/// Places one instance; `false` when it does not fit the node (it is then kept verbatim).
fn read_node(
    node: &Node,
    instance: &SettingInstance,
    scope: &mut Map<String, Value>,
    additional: &mut Vec<AdditionalSetting>,
) -> bool {
    if !matches!(node.shape, Shape::Group) && value_at(scope, &node.path).is_some() {
        return false;
    }
    match (&node.shape, instance) {
        (Shape::Choice(_), SettingInstance::Choice { choice_setting_value, .. }) => {
            let Some(option) = node.option_by_id(&choice_setting_value.value) else { return false };
            if !set(scope, &node.path, option.value.to_json()) {
                return false;
            }
            let children = children_under(node, &option.suffix);
            let instances: Vec<&SettingInstance> = choice_setting_value.children.iter().collect();
            read_instances(&children, &instances, scope, additional, Some(&node.id));
            true
        }
        (Shape::ChoiceList(_), SettingInstance::ChoiceCollection { choice_setting_collection_value, .. }) => {
            let options: Option<Vec<Value>> = choice_setting_collection_value
                .iter()
                .map(|v| {
                    (v.children.is_empty()).then(|| node.option_by_id(&v.value)).flatten().map(|o| o.value.to_json())
                })
                .collect();
            match options {
                Some(options) if !options.is_empty() => set(scope, &node.path, Value::Array(options)),
                _ => false,
            }
        }
        (
            Shape::Integer { .. },
            SettingInstance::Simple { simple_setting_value: SimpleValue::Integer { value, .. }, .. },
        ) => set(scope, &node.path, Value::from(*value)),
        (
            Shape::Text(rule),
            SettingInstance::Simple { simple_setting_value: SimpleValue::String { value, .. }, .. },
        ) if !rule.secret => set(scope, &node.path, Value::from(value.as_str())),
        (Shape::TextList { .. }, SettingInstance::SimpleCollection { simple_setting_collection_value, .. }) => {
            let texts: Option<Vec<Value>> = simple_setting_collection_value
                .iter()
                .map(|v| match v {
                    SimpleValue::String { value, .. } => Some(Value::from(value.as_str())),
                    _ => None,
                })
                .collect();
            match texts {
                Some(texts) if !texts.is_empty() => set(scope, &node.path, Value::Array(texts)),
                _ => false,
            }
        }
        (Shape::Group, SettingInstance::GroupCollection { group_setting_collection_value, .. }) => {
            let [group] = group_setting_collection_value.as_slice() else { return false };
            if group.children.is_empty() {
                return false;
            }
            let instances: Vec<&SettingInstance> = group.children.iter().collect();
            read_instances(&node.children, &instances, scope, additional, Some(&node.id));
            true
        }
        (Shape::GroupList { .. }, SettingInstance::GroupCollection { group_setting_collection_value, .. }) => {
            let items: Vec<Value> = group_setting_collection_value
                .iter()
                .map(|group| {
                    let mut item = Map::new();
                    let mut own = Vec::new();
                    let instances: Vec<&SettingInstance> = group.children.iter().collect();
                    read_instances(&node.children, &instances, &mut item, &mut own, None);
                    if !own.is_empty() {
                        item.insert("additionalSettings".into(), serde_json::to_value(own).unwrap_or(Value::Null));
                    }
                    Value::Object(item)
                })
                .collect();
            !items.is_empty() && set(scope, &node.path, Value::Array(items))
        }
        _ => false,
    }
}

/// Sets `value` at `path`, making the objects on the way; `false` when something else is in the way.
fn set(scope: &mut Map<String, Value>, path: &[String], value: Value) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut object = scope;
    for segment in parents {
        let entry = object.entry(segment.clone()).or_insert_with(|| Value::Object(Map::new()));
        match entry {
            Value::Object(inner) => object = inner,
            _ => return false,
        }
    }
    if object.get(last).is_some_and(|v| !v.is_null()) {
        return false;
    }
    object.insert(last.clone(), value);
    true
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
