//! AttackSurfaceReductionPolicy ↔ template "Attack Surface Reduction Rules"
//! (`e8c053d6-9f95-42b1-a7f1-ebfd71c67a4b_1`).
//!
//! The rules are choice children of one group collection (`..._attacksurfacereductionrules`, the only
//! instance with a template reference). A rule's per-rule exclusions are a string collection child of
//! the rule's selected option (`<rule>_perruleexclusions`).

use std::borrow::Cow;

use super::{ChoiceOption, MappingError, SettingDef, SettingVisitor, Template, WireReader, WireWriter, policy_payload};
use crate::model::asr::{AsrMode, AsrRule, AttackSurfaceReductionPolicySpec, RuleMap};
use crate::wire::ConfigurationPolicy;

pub const TEMPLATE: Template = Template {
    id: "e8c053d6-9f95-42b1-a7f1-ebfd71c67a4b_1",
    platforms: "windows10",
    technologies: "mdm,microsoftSense",
};

const RULES: SettingDef =
    SettingDef::new("rules", "device_vendor_msft_policy_config_defender_attacksurfacereductionrules")
        .template("19600663-e264-4c02-8f55-f2983216d6d7");

impl ChoiceOption for AsrMode {
    const OPTIONS: &'static [(AsrMode, &'static str)] =
        &[(AsrMode::Off, "off"), (AsrMode::Block, "block"), (AsrMode::Audit, "audit"), (AsrMode::Warn, "warn")];
}

/// Settings Catalog definition of a rule.
pub fn rule_definition(rule: AsrRule) -> SettingDef {
    let info = rule.info();
    SettingDef {
        field: info.key,
        id: Cow::Owned(format!("{}_{}", RULES.id, info.definition_suffix)),
        instance_template: None,
        value_template: None,
        range: None,
    }
}

/// The one listing of ASR settings; both directions of the mapping walk it.
pub fn visit(rules: &mut RuleMap<AsrMode>, exclusions: &mut RuleMap<Vec<String>>, v: &mut impl SettingVisitor) {
    let mut present = !rules.is_empty();
    v.group(&RULES, &mut present, |v| {
        for rule in AsrRule::ALL {
            let def = rule_definition(rule);
            let exclusions_def = SettingDef {
                field: "ruleExclusions",
                id: Cow::Owned(format!("{}_perruleexclusions", def.id)),
                instance_template: None,
                value_template: None,
                range: None,
            };
            let mut mode = rules.0.remove(&rule);
            let mut paths = exclusions.0.remove(&rule).unwrap_or_default();
            v.choice_with_children(&def, &mut mode, |v| v.string_list(&exclusions_def, &mut paths));
            if let Some(mode) = mode {
                rules.0.insert(rule, mode);
            }
            if !paths.is_empty() {
                exclusions.0.insert(rule, paths);
            }
        }
    });
}

/// The Graph payload for a policy (description as given: the caller adds the ownership marker).
pub fn to_wire(spec: &AttackSurfaceReductionPolicySpec, description: &str) -> ConfigurationPolicy {
    let (mut rules, mut exclusions) = (spec.rules.clone(), spec.rule_exclusions.clone());
    let wire = WireWriter::write(|w| visit(&mut rules, &mut exclusions, w));
    policy_payload(&TEMPLATE, &spec.display_name, description, wire)
}

/// The typed policy for a Graph payload (description as given: the caller strips the marker).
pub fn from_wire(
    policy: &ConfigurationPolicy,
    description: &str,
) -> Result<AttackSurfaceReductionPolicySpec, Vec<MappingError>> {
    let (mut rules, mut exclusions) = (RuleMap::default(), RuleMap::default());
    WireReader::read(&policy.settings, |r| visit(&mut rules, &mut exclusions, r))?;
    Ok(AttackSurfaceReductionPolicySpec {
        display_name: policy.name.clone(),
        description: description.to_string(),
        rules,
        rule_exclusions: exclusions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rules: RuleMap<AsrMode>, exclusions: RuleMap<Vec<String>>) -> AttackSurfaceReductionPolicySpec {
        AttackSurfaceReductionPolicySpec {
            display_name: "ASR".into(),
            description: String::new(),
            rules,
            rule_exclusions: exclusions,
        }
    }

    #[test]
    fn every_rule_in_every_mode_round_trips_with_exclusions() {
        for (round, (mode, _)) in AsrMode::OPTIONS.iter().enumerate() {
            let rules = RuleMap(AsrRule::ALL.iter().map(|r| (*r, *mode)).collect());
            let exclusions = RuleMap(
                AsrRule::ALL
                    .iter()
                    .filter(|r| r.info().supports_exclusions && *mode != AsrMode::Off)
                    .map(|r| (*r, vec![format!("C:\\{}\\{round}", r.info().key)]))
                    .collect(),
            );
            let original = spec(rules, exclusions);
            let wire = to_wire(&original, "");
            assert_eq!(from_wire(&wire, "").expect("read back"), original, "{mode:?}");
        }
    }

    #[test]
    fn renders_the_rules_container_with_rule_children() {
        let rules = RuleMap([(AsrRule::BlockCredentialStealingFromLsass, AsrMode::Block)].into_iter().collect());
        let exclusions = RuleMap(
            [(AsrRule::BlockCredentialStealingFromLsass, vec!["C:\\Tools\\a.exe".to_string()])].into_iter().collect(),
        );
        let wire = serde_json::to_value(to_wire(&spec(rules, exclusions), "d")).expect("serialize");
        assert_eq!(wire["templateReference"]["templateId"], "e8c053d6-9f95-42b1-a7f1-ebfd71c67a4b_1");
        let container = &wire["settings"][0]["settingInstance"];
        assert_eq!(
            container["settingDefinitionId"],
            "device_vendor_msft_policy_config_defender_attacksurfacereductionrules"
        );
        assert_eq!(
            container["settingInstanceTemplateReference"]["settingInstanceTemplateId"],
            "19600663-e264-4c02-8f55-f2983216d6d7"
        );
        let rule = &container["groupSettingCollectionValue"][0]["children"][0];
        let id = "device_vendor_msft_policy_config_defender_attacksurfacereductionrules_blockcredentialstealingfromwindowslocalsecurityauthoritysubsystem";
        assert_eq!(rule["settingDefinitionId"], id);
        assert_eq!(rule["choiceSettingValue"]["value"], format!("{id}_block"));
        let exclusion = &rule["choiceSettingValue"]["children"][0];
        assert_eq!(exclusion["settingDefinitionId"], format!("{id}_perruleexclusions"));
        assert_eq!(exclusion["simpleSettingCollectionValue"][0]["value"], "C:\\Tools\\a.exe");
        assert!(rule.get("settingInstanceTemplateReference").is_none());
    }

    #[test]
    fn rule_table_matches_microsofts_rule_list() {
        let guids: std::collections::HashSet<&str> = AsrRule::ALL.iter().map(|r| r.info().guid).collect();
        assert_eq!(guids.len(), 19, "one distinct GUID per rule");
        for rule in AsrRule::ALL {
            let info = rule.info();
            assert!(crate::model::is_guid(info.guid), "{}", info.key);
            let key: String = serde_json::to_value(rule).expect("serialize").as_str().expect("string").into();
            assert_eq!(key, info.key, "serde name and table key agree");
        }
    }
}
