//! SettingsCatalogPolicy ↔ any Settings Catalog policy. Settings pass through in Graph's own JSON;
//! they are parsed into the wire types so a malformed setting is caught before anything is sent.

use super::MappingError;
use crate::model::settings_catalog::SettingsCatalogPolicySpec;
use crate::wire::{ConfigurationPolicy, PolicyProperties, Setting};

/// Parses one raw setting as Graph's `deviceManagementConfigurationSetting`.
pub fn parse_setting(raw: &serde_json::Value) -> Result<Setting, String> {
    serde_path_to_error::deserialize::<_, Setting>(raw).map_err(|e| {
        let path = e.path().to_string();
        if path == "." { e.into_inner().to_string() } else { format!("{path}: {}", e.into_inner()) }
    })
}

/// The Graph payload for a policy (description as given: the caller adds the ownership marker).
pub fn to_wire(spec: &SettingsCatalogPolicySpec, description: &str) -> Result<ConfigurationPolicy, Vec<MappingError>> {
    let mut settings = Vec::with_capacity(spec.settings.len());
    let mut errors = Vec::new();
    for (index, raw) in spec.settings.iter().enumerate() {
        match parse_setting(raw) {
            Ok(mut setting) => {
                setting.id = None;
                settings.push(setting);
            }
            Err(message) => errors.push(MappingError { setting: format!("settings[{index}]"), message }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let properties = PolicyProperties { platforms: &spec.platforms, technologies: &spec.technologies };
    Ok(ConfigurationPolicy::desired(&spec.display_name, description, properties, spec.template_id.as_deref(), settings))
}

/// The raw policy for a Graph payload (description as given: the caller strips the marker).
pub fn from_wire(
    policy: &ConfigurationPolicy,
    description: &str,
) -> Result<SettingsCatalogPolicySpec, Vec<MappingError>> {
    let mut settings = Vec::with_capacity(policy.settings.len());
    for (index, setting) in policy.settings.iter().enumerate() {
        let mut setting = setting.clone();
        setting.id = None;
        let value = serde_json::to_value(&setting)
            .map_err(|e| vec![MappingError { setting: format!("settings[{index}]"), message: e.to_string() }])?;
        settings.push(value);
    }
    Ok(SettingsCatalogPolicySpec {
        display_name: policy.name.clone(),
        description: description.to_string(),
        platforms: policy.platforms.clone(),
        technologies: policy.technologies.clone(),
        // Graph gives policies made without a template an empty `templateId`.
        template_id: policy.template_reference.as_ref().map(|t| t.template_id.clone()).filter(|id| !id.is_empty()),
        settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::testing::normalized;

    #[test]
    fn raw_settings_round_trip_and_server_ids_are_dropped() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/graph/configurationPolicy-create-firewall.request.json"
        );
        let sample: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("json");
        let mut settings = sample["settings"].as_array().expect("settings").clone();
        settings[0]["id"] = "0".into();
        let spec = SettingsCatalogPolicySpec {
            display_name: "Raw".into(),
            description: String::new(),
            platforms: "windows10".into(),
            technologies: "mdm,microsoftSense".into(),
            template_id: Some("6078910e-d808-4a9f-a51d-1b8a7bacb7c0_1".into()),
            settings,
        };
        let wire = to_wire(&spec, "d").expect("wire");
        assert!(wire.settings.iter().all(|s| s.id.is_none()));
        let back = from_wire(&wire, "d").expect("back");
        assert_eq!(normalized(&serde_json::Value::Array(back.settings.clone())), normalized(&sample["settings"]));
        assert_eq!(from_wire(&to_wire(&back, "d").expect("wire"), "d").expect("back"), back);
    }

    #[test]
    fn malformed_settings_are_errors_with_their_index() {
        let spec = SettingsCatalogPolicySpec {
            display_name: "Raw".into(),
            description: String::new(),
            platforms: "windows10".into(),
            technologies: "mdm".into(),
            template_id: None,
            settings: vec![serde_json::json!({"settingInstance": {"@odata.type": "#microsoft.graph.nope"}})],
        };
        let errors = to_wire(&spec, "d").expect_err("invalid");
        assert_eq!(errors[0].setting, "settings[0]");
        assert!(errors[0].message.contains("unknown variant"), "{}", errors[0].message);
    }

    #[test]
    fn a_policy_without_a_template_reads_with_no_template_id() {
        // Graph answers `templateReference: {templateId: ""}` for a policy made without a template.
        let policy: ConfigurationPolicy = serde_json::from_value(serde_json::json!({
            "name": "Plain", "description": "", "platforms": "windows10", "technologies": "mdm",
            "templateReference": {"templateId": "", "templateFamily": "none"},
            "settings": [],
        }))
        .expect("policy");
        assert_eq!(from_wire(&policy, "").expect("spec").template_id, None);
    }
}
