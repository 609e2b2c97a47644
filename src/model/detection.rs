//! `DetectionRule`: a Defender XDR custom detection rule — an advanced hunting query run on a schedule,
//! the alert it raises, and the response it takes — delivered to tenants by profiles.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::detection_entities::{AutomatedActions, EntityMappings};

/// A custom detection rule, distributed to tenants by DistributionProfiles.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "DetectionRule",
    doc = "A Defender XDR custom detection rule, delivered to tenants by profiles.",
    namespaced,
    shortname = "drule",
    category = "tenantctl",
    printcolumn = r#"{"name":"Display name","type":"string","jsonPath":".spec.displayName"}"#,
    printcolumn = r#"{"name":"Frequency","type":"string","jsonPath":".spec.frequency"}"#,
    printcolumn = r#"{"name":"Severity","type":"string","jsonPath":".spec.alert.severity"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DetectionRuleSpec {
    /// Name of the rule in Defender (unique in a tenant).
    #[schemars(length(min = 1, max = 256))]
    pub display_name: String,
    /// What the rule looks for; tenantctl appends its ownership marker.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Whether the rule runs. A disabled rule is kept, and raises nothing.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// How often the query runs over the data since its last run.
    pub frequency: Frequency,
    /// The advanced hunting query (KQL). It must return `Timestamp`, `ReportId` and the columns
    /// the impacted assets and response actions name.
    #[schemars(length(min = 1))]
    pub query: String,
    /// The alert raised for each row the query returns.
    pub alert: AlertTemplate,
    /// What Defender does on its own for each alert, to the entities the query's columns name.
    #[serde(default, skip_serializing_if = "AutomatedActions::is_empty")]
    pub automated_actions: AutomatedActions,
    /// How the rule's alerts join incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentSettings>,
}

fn enabled() -> bool {
    true
}

// How often a rule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Frequency {
    /// Continuously, as events arrive (near real time: one table, no `let`).
    NearRealTime,
    /// Every hour.
    PT1H,
    /// Every 3 hours.
    PT3H,
    /// Every 12 hours.
    PT12H,
    /// Every 24 hours.
    P1D,
}

impl Frequency {
    pub const ALL: [Frequency; 5] =
        [Frequency::NearRealTime, Frequency::PT1H, Frequency::PT3H, Frequency::PT12H, Frequency::P1D];

    /// As manifests write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::NearRealTime => "NearRealTime",
            Frequency::PT1H => "PT1H",
            Frequency::PT3H => "PT3H",
            Frequency::PT12H => "PT12H",
            Frequency::P1D => "P1D",
        }
    }

    /// Graph's `schedule.frequency` (an ISO 8601 duration; zero runs continuously).
    pub fn wire(self) -> &'static str {
        match self {
            Frequency::NearRealTime => "PT0S",
            other => other.as_str(),
        }
    }

    /// The frequency a live `schedule.frequency` (or the older `schedule.period`) means, whatever
    /// spelling of the duration Graph answers with.
    pub fn from_wire(text: &str) -> Option<Frequency> {
        match text.trim().to_ascii_uppercase().as_str() {
            "PT0S" | "P0D" | "PT0H" | "PT0M" | "0" | "00:00:00" | "0:00:00" => Some(Frequency::NearRealTime),
            "PT1H" | "PT60M" | "1H" | "01:00:00" | "1:00:00" => Some(Frequency::PT1H),
            "PT3H" | "PT180M" | "3H" | "03:00:00" | "3:00:00" => Some(Frequency::PT3H),
            "PT12H" | "12H" | "12:00:00" => Some(Frequency::PT12H),
            "P1D" | "PT24H" | "24H" | "1.00:00:00" => Some(Frequency::P1D),
            _ => None,
        }
    }
}

/// The alert a rule raises.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertTemplate {
    /// Title of each alert (unique among a tenant's rules).
    #[schemars(length(min = 1, max = 256))]
    pub title: String,
    /// What the alert means, for the analyst who reads it.
    #[schemars(length(min = 1))]
    pub description: String,
    pub severity: Severity,
    /// The MITRE ATT&CK tactic of what the rule detects (Defender takes one per rule).
    pub tactic: Tactic,
    /// MITRE ATT&CK techniques and sub-techniques (`T1003`, `T1003.001`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<String>,
    /// What an analyst should do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_actions: Option<String>,
    /// Which columns of the query's rows name the devices, accounts, files… an alert is about.
    #[serde(default)]
    pub entities: EntityMappings,
    /// Extra alert details: detail name → the query column holding its value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_details: BTreeMap<String, String>,
}

// Severity of an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

// MITRE ATT&CK tactics (enterprise matrix), as Defender names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Tactic {
    Reconnaissance,
    ResourceDevelopment,
    InitialAccess,
    Execution,
    Persistence,
    PrivilegeEscalation,
    DefenseEvasion,
    CredentialAccess,
    Discovery,
    LateralMovement,
    Collection,
    CommandAndControl,
    Exfiltration,
    Impact,
}

/// How a rule's alerts join incidents.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IncidentSettings {
    /// Each alert opens an incident of its own instead of joining related ones.
    #[serde(default)]
    pub exclude_from_correlation: bool,
}
