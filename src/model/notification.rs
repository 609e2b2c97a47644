//! `NotificationPolicy`: who is told, and how, when tenants drift, applies fail, or high-severity
//! incidents appear. A notification is sent when the set of findings changes, not every cycle.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::profile::LabelSelector;
use super::tenant::SecretKeyRef;

/// Sends email or a webhook call when the findings across the selected tenants change.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "NotificationPolicy",
    doc = "Email or webhook notifications when drift, failed applies or high-severity incidents change.",
    namespaced,
    status = "NotificationPolicyStatus",
    shortname = "ntf",
    category = "tenantctl",
    printcolumn = r#"{"name":"Email","type":"date","jsonPath":".status.email.lastSentTime"}"#,
    printcolumn = r#"{"name":"Webhook","type":"date","jsonPath":".status.webhook.lastSentTime"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationPolicySpec {
    /// What to be told about. Default: every trigger.
    #[serde(default = "every_trigger")]
    pub triggers: Vec<Trigger>,
    /// With the `incident` trigger: the severities of the active incidents told about.
    #[serde(default = "high_and_medium")]
    pub incident_severities: Vec<IncidentSeverity>,
    /// With the `exceptionExpiring` trigger: an exception is told about this many days before it
    /// expires (and once more when it has).
    #[serde(default = "seven_days")]
    #[schemars(range(min = 1, max = 365))]
    pub exception_warning_days: u32,
    /// Tenants whose findings count, by label. Absent: every tenant of the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_selector: Option<LabelSelector>,
    /// Email through an SMTP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailTarget>,
    /// A JSON `POST` to a URL (Teams, Slack, a ticketing system, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookTarget>,
}

fn every_trigger() -> Vec<Trigger> {
    vec![
        Trigger::Drift,
        Trigger::FailedApply,
        Trigger::HighSeverityIncident,
        Trigger::ExceptionExpiring,
        Trigger::RolloutHalted,
    ]
}

fn high_and_medium() -> Vec<IncidentSeverity> {
    vec![IncidentSeverity::High, IncidentSeverity::Medium]
}

// The severity of a Defender incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum IncidentSeverity {
    High,
    Medium,
    Low,
    Informational,
}

impl IncidentSeverity {
    /// Whether an incident of this Graph severity (`high`, `medium`…) is of this one.
    pub fn is(self, severity: &str) -> bool {
        let name = match self {
            IncidentSeverity::High => "high",
            IncidentSeverity::Medium => "medium",
            IncidentSeverity::Low => "low",
            IncidentSeverity::Informational => "informational",
        };
        name.eq_ignore_ascii_case(severity)
    }
}

fn seven_days() -> u32 {
    7
}

// A kind of finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Trigger {
    /// A tenant's live policies differ from the desired state (audit mode, or `tenantctl drift`).
    Drift,
    /// A write to a tenant failed, or the tenant could not be read.
    FailedApply,
    /// An active high-severity incident in a tenant.
    HighSeverityIncident,
    /// A PolicyException that expires within `exceptionWarningDays`, and again once it has expired:
    /// its owner hears before enforcement resumes.
    ExceptionExpiring,
    /// An active incident of `incidentSeverities` in a tenant: each one is news once.
    Incident,
    /// An open task of a Case assigned to someone: each assignment is news once.
    CaseTask,
    /// A profile's rollout halted: a health gate failed in a tenant that got the new revision.
    RolloutHalted,
}

/// Email delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailTarget {
    pub smtp: SmtpServer,
    /// Sender address.
    pub from: String,
    /// Recipient addresses.
    pub to: Vec<String>,
}

/// An SMTP server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmtpServer {
    pub host: String,
    /// Default 587 (submission).
    #[serde(default = "submission_port")]
    pub port: u16,
    /// `startTls` (default), `tls` (implicit, usually port 465) or `none` (loopback relays only).
    #[serde(default)]
    pub security: SmtpSecurity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The password, from an environment variable (CLI, operator) or a Secret (operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretValue>,
}

fn submission_port() -> u16 {
    587
}

// Transport security of an SMTP connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SmtpSecurity {
    #[default]
    StartTls,
    Tls,
    /// Plain text: accepted only for a server on loopback.
    None,
}

/// Webhook delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookTarget {
    /// https, or http on loopback.
    pub url: String,
    /// Value of the `Authorization` header, from an environment variable or a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<SecretValue>,
}

/// Where a secret value comes from: exactly one of `env` and `secretRef`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretValue {
    /// Environment variable holding the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Key of a Secret in the policy's namespace (operator only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
}

/// What was last delivered, per target: each target is told once per set of findings, even when
/// the other one fails.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPolicyStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<DeliveryStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<DeliveryStatus>,
}

/// The last delivery to one target.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStatus {
    /// Digest of the findings last delivered; a new notification goes out when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings_digest: Option<String>,
    /// Number of findings last delivered.
    #[serde(default)]
    pub findings: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sent_time: Option<Time>,
    /// Why the last attempt failed (it is retried at the next cycle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}
