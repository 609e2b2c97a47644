//! Normalization before comparing a desired policy with a live one: server-owned fields, role scope
//! tags (per-tenant ids no manifest states), template references, setting ids and annotations are
//! dropped; identifiers compare case-insensitively;
//! children and string collections compare as sets; secret values are never compared.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::wire::{ChoiceValue, ConfigurationPolicy, GroupValue, SettingInstance, SimpleValue};

/// The parts of a policy tenantctl manages, in a form where equal means "no change", as a JSON value:
/// what a policy's revision is a hash of. Planning compares the cheaper [`Compared`] form.
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

/// The parts of a policy tenantctl manages, each as canonical text, so that equal means "no change".
/// The same normalization as [`comparable`], built straight into text: planning compares every live
/// policy of every tenant, and a tree of JSON values per policy was most of a plan's CPU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compared {
    name: String,
    description: String,
    platforms: String,
    technologies: String,
    template_id: Option<String>,
    /// Every setting as canonical JSON text, children and collections sorted (made once for settings
    /// shared between policies: see [`crate::wire::Settings`]).
    settings: Arc<str>,
}

impl Compared {
    pub fn of(policy: &ConfigurationPolicy) -> Compared {
        let mut technologies: Vec<String> =
            policy.technologies.split(',').map(|t| t.trim().to_ascii_lowercase()).collect();
        technologies.sort();
        Compared {
            name: policy.name.clone(),
            description: crate::model::ownership::without_stamp(&policy.description).to_string(),
            platforms: policy.platforms.to_ascii_lowercase(),
            technologies: technologies.join(","),
            template_id: policy.template_reference.as_ref().map(|t| t.template_id.to_ascii_lowercase()),
            settings: settings_text(policy),
        }
    }

    /// The top-level fields (named as in a policy: `name`, `settings`, …) in which `live` differs.
    pub fn changed_fields(&self, live: &Compared) -> Vec<&'static str> {
        let differs = [
            ("name", self.name != live.name),
            ("description", self.description != live.description),
            ("platforms", self.platforms != live.platforms),
            ("technologies", self.technologies != live.technologies),
            ("templateId", self.template_id != live.template_id),
            ("settings", self.settings != live.settings),
        ];
        differs.into_iter().filter(|(_, differs)| *differs).map(|(field, _)| field).collect()
    }

    /// A digest of the settings: equal digests, settings that compare equal.
    pub fn settings_digest(&self) -> String {
        text_digest(&self.settings)
    }
}

/// [`Compared::settings_digest`] of a policy, without the rest of its compared form.
pub fn settings_digest(policy: &ConfigurationPolicy) -> String {
    text_digest(&settings_text(policy))
}

fn settings_text(policy: &ConfigurationPolicy) -> Arc<str> {
    policy
        .settings
        .canonical_text(|settings| sorted_list(settings.iter().map(|s| instance_text(&s.setting_instance)).collect()))
}

fn text_digest(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let mut hex = String::with_capacity(32);
    for byte in digest.as_ref().iter().take(16) {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

// The canonical texts below are built with `push_str` rather than `format!`: they are made for every
// setting of every live policy a plan reads.

fn instance_text(instance: &SettingInstance) -> String {
    let (kind, body) = match instance {
        SettingInstance::Choice { choice_setting_value, .. } => ("choice", choice_text(choice_setting_value)),
        SettingInstance::ChoiceCollection { choice_setting_collection_value, .. } => {
            ("choices", sorted_list(choice_setting_collection_value.iter().map(choice_text).collect()))
        }
        SettingInstance::Simple { simple_setting_value, .. } => ("value", simple_text(simple_setting_value)),
        SettingInstance::SimpleCollection { simple_setting_collection_value, .. } => {
            ("values", sorted_list(simple_setting_collection_value.iter().map(simple_text).collect()))
        }
        SettingInstance::Group { group_setting_value, .. } => ("group", group_text(group_setting_value)),
        SettingInstance::GroupCollection { group_setting_collection_value, .. } => {
            ("groups", sorted_list(group_setting_collection_value.iter().map(group_text).collect()))
        }
    };
    let id = quoted(&instance.definition_id().to_ascii_lowercase());
    object_text(&[("id", &id), (kind, &body)])
}

fn choice_text(value: &ChoiceValue) -> String {
    let children = sorted_list(value.children.iter().map(instance_text).collect());
    object_text(&[("value", &quoted(&value.value.to_ascii_lowercase())), ("children", &children)])
}

fn group_text(value: &GroupValue) -> String {
    object_text(&[("children", &sorted_list(value.children.iter().map(instance_text).collect()))])
}

/// `{"name":text,…}` of members whose values are JSON text already (names need no escaping).
fn object_text(members: &[(&str, &str)]) -> String {
    let mut text =
        String::with_capacity(members.iter().map(|(name, value)| name.len() + value.len() + 4).sum::<usize>() + 2);
    text.push('{');
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push('"');
        text.push_str(name);
        text.push_str("\":");
        text.push_str(value);
    }
    text.push('}');
    text
}

fn simple_text(value: &SimpleValue) -> String {
    match value {
        SimpleValue::Integer { value, .. } => value.to_string(),
        SimpleValue::String { value, .. } => quoted(value),
        // Graph reads secrets back as tokens: their values can never be compared.
        SimpleValue::Secret { .. } => quoted("<secret>"),
    }
}

/// A JSON array of these texts in sorted order: children and collections compare as sets.
fn sorted_list(mut items: Vec<String>) -> String {
    items.sort_unstable();
    let mut text = String::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 2);
    text.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(item);
    }
    text.push(']');
    text
}

/// A JSON string literal.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
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
        assert_eq!(Compared::of(&a), Compared::of(&b));
    }

    #[test]
    fn a_changed_option_or_description_is_a_change() {
        let a = policy(vec![choice("x", "x_1", vec![])]);
        let mut b = policy(vec![choice("x", "x_0", vec![])]);
        assert_eq!(Compared::of(&a).changed_fields(&Compared::of(&b)), vec!["settings"]);
        b = a.clone();
        b.description = "other".into();
        assert_eq!(Compared::of(&a).changed_fields(&Compared::of(&b)), vec!["description"]);
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
        assert_eq!(Compared::of(&desired), Compared::of(&live));
    }
}
