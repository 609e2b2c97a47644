//! Normalization before comparing a desired policy with a live one: server-owned fields, role scope
//! tags (per-tenant ids no manifest states), template references, setting ids and annotations are
//! dropped; identifiers compare case-insensitively;
//! children and string collections compare as sets; secret values are never compared.

use serde_json::{Value, json};

use crate::wire::{ChoiceValue, ConfigurationPolicy, GroupValue, SettingInstance, SimpleValue};

/// The parts of a policy tenantctl manages, in a form where equal means "no change".
pub fn comparable(policy: &ConfigurationPolicy) -> Value {
    let mut technologies: Vec<String> = policy.technologies.split(',').map(|t| t.trim().to_ascii_lowercase()).collect();
    technologies.sort();
    let mut settings: Vec<Value> = policy.settings.iter().map(|s| instance(&s.setting_instance)).collect();
    sort_values(&mut settings);
    json!({
        "name": policy.name,
        "description": crate::model::ownership::without_stamp(&policy.description),
        "platforms": policy.platforms.to_ascii_lowercase(),
        "technologies": technologies,
        "templateId": policy.template_reference.as_ref().map(|t| t.template_id.to_ascii_lowercase()),
        "settings": settings,
    })
}

fn instance(instance: &SettingInstance) -> Value {
    let id = instance.definition_id().to_ascii_lowercase();
    match instance {
        SettingInstance::Choice { choice_setting_value, .. } => {
            json!({"id": id, "choice": choice(choice_setting_value)})
        }
        SettingInstance::ChoiceCollection { choice_setting_collection_value, .. } => {
            let mut values: Vec<Value> = choice_setting_collection_value.iter().map(choice).collect();
            sort_values(&mut values);
            json!({"id": id, "choices": values})
        }
        SettingInstance::Simple { simple_setting_value, .. } => {
            json!({"id": id, "value": simple(simple_setting_value)})
        }
        SettingInstance::SimpleCollection { simple_setting_collection_value, .. } => {
            let mut values: Vec<Value> = simple_setting_collection_value.iter().map(simple).collect();
            sort_values(&mut values);
            json!({"id": id, "values": values})
        }
        SettingInstance::Group { group_setting_value, .. } => json!({"id": id, "group": group(group_setting_value)}),
        SettingInstance::GroupCollection { group_setting_collection_value, .. } => {
            let mut groups: Vec<Value> = group_setting_collection_value.iter().map(group).collect();
            sort_values(&mut groups);
            json!({"id": id, "groups": groups})
        }
    }
}

fn choice(value: &ChoiceValue) -> Value {
    let mut children: Vec<Value> = value.children.iter().map(instance).collect();
    sort_values(&mut children);
    json!({"value": value.value.to_ascii_lowercase(), "children": children})
}

fn group(value: &GroupValue) -> Value {
    let mut children: Vec<Value> = value.children.iter().map(instance).collect();
    sort_values(&mut children);
    json!({"children": children})
}

fn simple(value: &SimpleValue) -> Value {
    match value {
        SimpleValue::Integer { value, .. } => json!(value),
        SimpleValue::String { value, .. } => json!(value),
        // Graph reads secrets back as tokens: their values can never be compared.
        SimpleValue::Secret { .. } => json!("<secret>"),
    }
}

fn sort_values(values: &mut [Value]) {
    values.sort_by_cached_key(|v| v.to_string());
}

/// A digest of a comparable form's settings: equal digests, settings that compare equal.
pub fn settings_digest(comparable: &Value) -> String {
    let bytes = serde_json::to_vec(&comparable["settings"]).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    digest.as_ref().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The top-level fields in which two comparable forms differ.
pub fn changed_fields(desired: &Value, live: &Value) -> Vec<String> {
    let (Some(desired), Some(live)) = (desired.as_object(), live.as_object()) else { return vec!["policy".into()] };
    desired.iter().filter(|(key, value)| live.get(*key) != Some(value)).map(|(key, _)| key.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{InstanceTemplateReference, Setting, ValueTemplateReference};

    fn policy(settings: Vec<SettingInstance>) -> ConfigurationPolicy {
        let template = crate::model::template::antivirus::TABLE.template;
        let properties =
            crate::wire::PolicyProperties { platforms: template.platforms, technologies: template.technologies };
        let settings = settings.into_iter().map(Setting::new).collect();
        let mut policy = ConfigurationPolicy::desired("AV", "d", properties, Some(template.id), settings);
        policy.id = Some("server-id".into());
        policy
    }

    fn choice(id: &str, value: &str, children: Vec<SettingInstance>) -> SettingInstance {
        SettingInstance::Choice {
            setting_definition_id: id.into(),
            setting_instance_template_reference: None,
            choice_setting_value: ChoiceValue::new(value.into(), children),
        }
    }

    #[test]
    fn server_fields_template_references_order_and_case_do_not_matter() {
        let a = policy(vec![
            choice("x", "x_1", vec![choice("c1", "c1_0", vec![]), choice("c2", "c2_1", vec![])]),
            choice("y", "y_0", vec![]),
        ]);
        let mut b = policy(vec![
            choice("y", "Y_0", vec![]),
            choice("x", "x_1", vec![choice("c2", "c2_1", vec![]), choice("c1", "c1_0", vec![])]),
        ]);
        b.id = Some("other".into());
        b.created_date_time = Some("2026-01-01T00:00:00Z".into());
        b.setting_count = Some(2);
        if let SettingInstance::Choice { setting_instance_template_reference, choice_setting_value, .. } =
            &mut b.settings[1].setting_instance
        {
            *setting_instance_template_reference =
                Some(InstanceTemplateReference { setting_instance_template_id: "t".into() });
            choice_setting_value.setting_value_template_reference =
                Some(ValueTemplateReference { setting_value_template_id: "v".into(), use_template_default: None });
        }
        b.settings[0].id = Some("0".into());
        assert_eq!(comparable(&a), comparable(&b));
    }

    #[test]
    fn a_changed_option_or_description_is_a_change() {
        let a = policy(vec![choice("x", "x_1", vec![])]);
        let mut b = policy(vec![choice("x", "x_0", vec![])]);
        assert_eq!(changed_fields(&comparable(&a), &comparable(&b)), vec!["settings"]);
        b = a.clone();
        b.description = "other".into();
        assert_eq!(changed_fields(&comparable(&a), &comparable(&b)), vec!["description"]);
    }

    #[test]
    fn secrets_are_never_compared() {
        let secret = |value: &str, state: &str| SettingInstance::Simple {
            setting_definition_id: "s".into(),
            setting_instance_template_reference: None,
            simple_setting_value: SimpleValue::Secret {
                value: value.into(),
                value_state: state.into(),
                setting_value_template_reference: None,
            },
        };
        let desired = policy(vec![secret("plain-text", "notEncrypted")]);
        let live = policy(vec![secret("token-guid", "encryptedValueToken")]);
        assert_eq!(comparable(&desired), comparable(&live));
    }
}
