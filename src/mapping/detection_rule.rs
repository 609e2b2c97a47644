//! A `DetectionRule` manifest to Graph's detection rule and back to a comparable form: what the
//! plan compares (the wire form of the manifest against the rule as read, both in one normal form,
//! so that Graph's spellings of the same rule — `P1D` or `PT24H`, a technique given with or without
//! its parent, `@odata.type` on list elements or not — are not drift).

use serde_json::{Map, Value, json};

use crate::model::detection::{DetectionRuleSpec, Frequency};
use crate::model::ownership::split_marker;
use crate::wire::detection::{
    AlertTemplate, DetectionAction, DetectionRule, IncidentConfiguration, MitreTactic, MitreTechnique, QueryCondition,
    RuleSchedule, normal_form,
};

/// The rule as Graph takes it on create: `id` chosen, description carrying the marker.
pub fn to_wire(spec: &DetectionRuleSpec, id: &str, description: String) -> DetectionRule {
    let alert = &spec.alert;
    let to_value = |value: Value| Some(value).filter(|v| !normal_form(v).as_object().is_some_and(Map::is_empty));
    DetectionRule {
        id: Some(id.to_string()),
        display_name: spec.display_name.clone(),
        description: Some(description),
        status: Some(if spec.enabled { "enabled" } else { "disabled" }.to_string()),
        query_condition: QueryCondition { query_text: spec.query.clone() },
        schedule: RuleSchedule { frequency: Some(spec.frequency.wire().to_string()), period: None },
        detection_action: DetectionAction {
            alert_template: AlertTemplate {
                title: alert.title.clone(),
                description: alert.description.clone(),
                severity: serde_json::to_value(alert.severity)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                recommended_actions: alert.recommended_actions.clone(),
                tactics: vec![MitreTactic {
                    tactic: serde_json::to_value(alert.tactic)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    techniques: grouped(&alert.techniques),
                }],
                entity_mappings: to_value(serde_json::to_value(&alert.entities).unwrap_or(Value::Null)),
                custom_details: (!alert.custom_details.is_empty())
                    .then(|| alert.custom_details.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()),
                ..AlertTemplate::default()
            },
            automated_actions: to_value(serde_json::to_value(&spec.automated_actions).unwrap_or(Value::Null)),
            incident_configuration: spec.incident.as_ref().map(|incident| IncidentConfiguration {
                is_excluded_from_incident_correlation: Some(incident.exclude_from_correlation),
            }),
            organizational_scope: None,
        },
        ..DetectionRule::default()
    }
}

/// Techniques under their parents: `T1003.001` becomes `{technique: T1003, subTechniques: [T1003.001]}`.
fn grouped(techniques: &[String]) -> Vec<MitreTechnique> {
    let mut by_parent: Vec<MitreTechnique> = Vec::new();
    for id in techniques {
        let parent = id.split_once('.').map_or(id.as_str(), |(parent, _)| parent);
        let entry = match by_parent.iter_mut().position(|t| t.technique == parent) {
            Some(index) => &mut by_parent[index],
            None => {
                by_parent.push(MitreTechnique { technique: parent.to_string(), sub_techniques: Vec::new() });
                let last = by_parent.len() - 1;
                &mut by_parent[last]
            }
        };
        if id.contains('.') && !entry.sub_techniques.contains(id) {
            entry.sub_techniques.push(id.clone());
        }
    }
    by_parent
}

/// The parts of a rule that can differ, each in normal form, keyed by the plan's field names.
pub fn comparable(rule: &DetectionRule) -> Map<String, Value> {
    let template = &rule.detection_action.alert_template;
    let frequency = rule.schedule.frequency.as_deref().or(rule.schedule.period.as_deref()).unwrap_or_default();
    let frequency = Frequency::from_wire(frequency).map_or_else(|| frequency.to_string(), |f| f.as_str().to_string());
    let text = |s: &Option<String>| s.as_deref().unwrap_or_default().trim().to_string();
    let mut parts = Map::new();
    parts.insert("name".into(), json!(rule.display_name));
    parts.insert("description".into(), json!(split_marker(rule.description.as_deref().unwrap_or_default()).0.trim()));
    parts.insert(
        "status".into(),
        json!(if rule.is_enabled() { "enabled" } else { rule.status.as_deref().unwrap_or("disabled") }),
    );
    parts.insert("query".into(), json!(trim_lines(&rule.query_condition.query_text)));
    parts.insert("schedule".into(), json!({"frequency": frequency}));
    parts.insert(
        "alert".into(),
        normal_form(&json!({
            "title": template.title,
            "description": template.description.trim(),
            "severity": template.severity.to_ascii_lowercase(),
            "recommendedActions": text(&template.recommended_actions),
            "tactic": rule.tactic(),
            "techniques": rule.techniques(),
            "entities": template.entity_mappings,
            "customDetails": template.custom_details,
        })),
    );
    let excluded = rule
        .detection_action
        .incident_configuration
        .as_ref()
        .and_then(|c| c.is_excluded_from_incident_correlation)
        .unwrap_or(false);
    parts.insert(
        "actions".into(),
        normal_form(&json!({
            "automatedActions": rule.detection_action.automated_actions,
            "incident": {"excludeFromCorrelation": excluded},
        })),
    );
    parts
}

/// A live rule as the spec of a `DetectionRule` manifest (for `export`): what the manifest would
/// have to say for the plan to find the rule in sync. `Err` names what the kind cannot say.
pub fn to_spec(rule: &DetectionRule) -> Result<DetectionRuleSpec, String> {
    let template = &rule.detection_action.alert_template;
    let frequency = rule.schedule.frequency.as_deref().or(rule.schedule.period.as_deref()).unwrap_or_default();
    let frequency = Frequency::from_wire(frequency).ok_or_else(|| format!("frequency `{frequency}`"))?;
    let tactic = rule.tactic().unwrap_or_default();
    let spec = json!({
        "displayName": rule.display_name,
        "description": split_marker(rule.description.as_deref().unwrap_or_default()).0.trim(),
        "enabled": rule.is_enabled(),
        "frequency": frequency.as_str(),
        "query": rule.query_condition.query_text,
        "alert": {
            "title": template.title,
            "description": template.description,
            "severity": template.severity.to_ascii_lowercase(),
            "tactic": tactic,
            "techniques": rule.techniques(),
            "recommendedActions": template.recommended_actions,
            "entities": template.entity_mappings.as_ref().map(normal_form).unwrap_or_else(|| json!({})),
            "customDetails": template.custom_details.as_ref().map(|d| normal_form(&Value::Object(d.clone()))),
        },
        "automatedActions": rule.detection_action.automated_actions.as_ref().map(normal_form),
        "incident": rule.detection_action.incident_configuration.as_ref().map(|c| {
            json!({"excludeFromCorrelation": c.is_excluded_from_incident_correlation.unwrap_or(false)})
        }),
    });
    serde_json::from_value(normal_form(&spec)).map_err(|e| e.to_string())
}

/// The query as compared: trailing spaces and blank edges do not change it.
fn trim_lines(query: &str) -> String {
    query.trim().lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = r#"
displayName: LSASS read
frequency: P1D
query: "DeviceEvents | project Timestamp, ReportId, DeviceId  \n"
alert:
  title: LSASS read
  description: A process read LSASS memory.
  severity: high
  tactic: CredentialAccess
  techniques: [T1003.001, T1003.002, T1059]
  entities:
    hosts: [{deviceIdColumn: DeviceId}]
automatedActions:
  isolateDevices: [{deviceIdColumn: DeviceId, isolationType: full}]
"#;

    #[test]
    fn the_wire_form_groups_techniques_and_marks_the_description() {
        let spec: DetectionRuleSpec = serde_yaml::from_str(RULE).expect("spec");
        let wire = to_wire(&spec, "r-1", "marked".into());
        let value = serde_json::to_value(&wire).expect("json");
        assert_eq!(value["id"], "r-1");
        assert_eq!(value["status"], "enabled");
        assert_eq!(value["schedule"], json!({"frequency": "P1D"}));
        assert_eq!(
            value["detectionAction"]["alertTemplate"]["tactics"],
            json!([{"tactic": "CredentialAccess", "techniques": [
                {"technique": "T1003", "subTechniques": ["T1003.001", "T1003.002"]},
                {"technique": "T1059"}
            ]}])
        );
        assert_eq!(
            value["detectionAction"]["automatedActions"],
            json!({"isolateDevices": [{"deviceIdColumn": "DeviceId", "isolationType": "full"}]})
        );
        assert!(value["detectionAction"].get("incidentConfiguration").is_none());
    }

    #[test]
    fn graphs_other_spellings_of_the_same_rule_compare_equal() {
        let spec: DetectionRuleSpec = serde_yaml::from_str(RULE).expect("spec");
        let ours = to_wire(&spec, "r-1", "[managed-by tenantctl: DetectionRule/lsass]".into());
        let mut answered = serde_json::to_value(&ours).expect("json");
        answered["schedule"] = json!({"frequency": "PT24H", "period": null});
        answered["detectionAction"]["alertTemplate"]["tactics"] = json!([{"tactic": "CredentialAccess", "techniques": [
            {"technique": "T1003.001"}, {"technique": "T1003.002"}, {"technique": "T1059", "subTechniques": null}
        ]}]);
        answered["detectionAction"]["automatedActions"] = json!({"isolateDevices": [
            {"@odata.type": "#microsoft.graph.security.isolateDeviceAction", "deviceIdColumn": "DeviceId", "isolationType": "full"}
        ], "blockFiles": []});
        answered["detectionAction"]["organizationalScope"] = Value::Null;
        answered["detectionAction"]["alertTemplate"]["recommendedActions"] = Value::Null;
        answered["queryCondition"]["queryText"] = json!("DeviceEvents | project Timestamp, ReportId, DeviceId");
        let live: DetectionRule = serde_json::from_value(answered).expect("live");
        assert_eq!(comparable(&live), comparable(&ours));
        let exported = to_spec(&live).expect("a spec");
        assert_eq!(
            comparable(&to_wire(&exported, "r-1", exported.description.clone())),
            comparable(&ours),
            "export round-trips"
        );
        assert_eq!(exported.alert.techniques, ["T1003.001", "T1003.002", "T1059"]);
    }
}
