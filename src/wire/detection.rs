//! Defender XDR custom detection rules on the wire (Graph beta `security/rules/detectionRules`): the
//! rule, its query and schedule, and the detection action (alert template, automated actions,
//! incident settings). Entity mappings and automated actions are kept as Graph sends them (their
//! elements may carry `@odata.type` or not); comparisons go through a normal form.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::null_as_default;

/// `@odata.type` of a detection rule.
pub const DETECTION_RULE_TYPE: &str = "#microsoft.graph.security.detectionRule";

/// `microsoft.graph.security.detectionRule`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectionRule {
    /// Chosen by the client on create (letters, digits, `-` and `_`; a letter first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `enabled`, `disabled`, or `autoDisabled` (set by Defender when the rule keeps failing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Older rules' status (deprecated; read only).
    #[serde(default, skip_serializing)]
    pub is_enabled: Option<bool>,
    #[serde(default)]
    pub query_condition: QueryCondition,
    #[serde(default)]
    pub schedule: RuleSchedule,
    #[serde(default)]
    pub detection_action: DetectionAction,
    #[serde(default, skip_serializing)]
    pub created_date_time: Option<String>,
    #[serde(default, skip_serializing)]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing)]
    pub last_modified_date_time: Option<String>,
}

/// `queryCondition`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryCondition {
    #[serde(default)]
    pub query_text: String,
}

/// `ruleSchedule`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSchedule {
    /// ISO 8601 duration (`PT1H`; zero runs continuously).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<String>,
    /// Older rules' schedule (`0`, `1H`, `3H`, `12H`, `24H`; deprecated; read only).
    #[serde(default, skip_serializing)]
    pub period: Option<String>,
}

/// `detectionAction`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectionAction {
    #[serde(default)]
    pub alert_template: AlertTemplate,
    /// `automatedActionSet`: lists of actions, each naming query columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated_actions: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_configuration: Option<IncidentConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizational_scope: Option<Value>,
}

/// `alertTemplate`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertTemplate {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_actions: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_default")]
    pub tactics: Vec<MitreTactic>,
    /// `entityMappingConfiguration`: lists of entities, each naming query columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_mappings: Option<Value>,
    /// Detail name → query column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_details: Option<Map<String, Value>>,
    /// Older rules' tactic (deprecated; read only).
    #[serde(default, skip_serializing)]
    pub category: Option<String>,
    /// Older rules' techniques (deprecated; read only).
    #[serde(default, skip_serializing, deserialize_with = "null_as_default")]
    pub mitre_techniques: Vec<String>,
}

/// `mitreTactic`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MitreTactic {
    #[serde(default)]
    pub tactic: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_default")]
    pub techniques: Vec<MitreTechnique>,
}

/// `mitreTechnique`: a technique and its sub-techniques.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MitreTechnique {
    #[serde(default)]
    pub technique: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_default")]
    pub sub_techniques: Vec<String>,
}

/// `incidentConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentConfiguration {
    #[serde(default)]
    pub is_excluded_from_incident_correlation: Option<bool>,
}

impl DetectionRule {
    /// Whether the rule runs (`status`, or the older `isEnabled`).
    pub fn is_enabled(&self) -> bool {
        match &self.status {
            Some(status) => status == "enabled",
            None => self.is_enabled.unwrap_or(true),
        }
    }

    /// Every technique and sub-technique the rule names, sorted, from `tactics` or the older
    /// `mitreTechniques`.
    pub fn techniques(&self) -> Vec<String> {
        let template = &self.detection_action.alert_template;
        let mut all: Vec<String> = template.mitre_techniques.clone();
        for tactic in &template.tactics {
            for technique in &tactic.techniques {
                all.push(technique.technique.clone());
                all.extend(technique.sub_techniques.iter().cloned());
            }
        }
        // A technique is implied by its sub-techniques: Graph may answer either form.
        let subs: Vec<String> = all.iter().filter_map(|t| t.split_once('.').map(|(p, _)| p.to_string())).collect();
        all.retain(|t| t.contains('.') || !subs.contains(t));
        all.sort();
        all.dedup();
        all
    }

    /// The tactic (`tactics[0].tactic`, or the older `category`).
    pub fn tactic(&self) -> Option<&str> {
        let template = &self.detection_action.alert_template;
        template.tactics.first().map(|t| t.tactic.as_str()).or(template.category.as_deref())
    }
}

/// A JSON value without what does not change its meaning: `@odata.type` annotations, nulls, and
/// empty lists and objects.
pub fn normal_form(value: &Value) -> Value {
    match value {
        Value::Object(object) => {
            let kept: Map<String, Value> = object
                .iter()
                .filter(|(key, _)| !key.starts_with('@'))
                .map(|(key, value)| (key.clone(), normal_form(value)))
                .filter(|(_, value)| !is_blank(value))
                .collect();
            Value::Object(kept)
        }
        Value::Array(items) => Value::Array(items.iter().map(normal_form).filter(|v| !is_blank(v)).collect()),
        other => other.clone(),
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(object) => object.is_empty(),
        _ => false,
    }
}
