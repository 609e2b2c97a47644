//! `AntivirusPolicy`: Microsoft Defender Antivirus, the endpoint-security template
//! "Microsoft Defender Antivirus". Every setting is optional; an absent setting is not configured.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Toggle;

/// A Microsoft Defender Antivirus policy.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "AntivirusPolicy",
    doc = "A Microsoft Defender Antivirus endpoint security policy.",
    namespaced,
    shortname = "avp",
    category = "tenantctl"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AntivirusPolicySpec {
    /// Name of the policy in each tenant (Intune shows it).
    #[schemars(length(min = 1))]
    pub display_name: String,
    /// Description shown in Intune. tenantctl appends its ownership marker.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The antivirus settings.
    pub settings: AntivirusSettings,
}

/// Defender Antivirus settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AntivirusSettings {
    /// Real-time monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_time_monitoring: Option<Toggle>,
    /// Behavior monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior_monitoring: Option<Toggle>,
    /// Cloud-delivered protection (MAPS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_protection: Option<Toggle>,
    /// How aggressively cloud-delivered protection blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_block_level: Option<CloudBlockLevel>,
    /// Extra seconds (0–50) a file may be held for a cloud verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 50))]
    pub cloud_extended_timeout_seconds: Option<i64>,
    /// Whether samples are submitted to Microsoft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_samples_consent: Option<SampleSubmission>,
    /// Potentially unwanted application (PUA) protection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub potentially_unwanted_apps: Option<ProtectionLevel>,
    /// Network protection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_protection: Option<ProtectionLevel>,
    /// Scanning of archive files (.zip, .cab).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_scanning: Option<Toggle>,
    /// Scanning of email messages and attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_scanning: Option<Toggle>,
    /// Scanning of downloaded files and attachments (IOAV protection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloads_scanning: Option<Toggle>,
    /// Scanning of scripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_scanning: Option<Toggle>,
    /// Scanning of network files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_files_scanning: Option<Toggle>,
    /// Scanning of removable drives during full scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removable_drive_scanning: Option<Toggle>,
    /// Scanning of mapped network drives during full scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped_drive_scanning: Option<Toggle>,
    /// Whether users can open the Defender user interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_ui_access: Option<Toggle>,
    /// On-access protection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_access_protection: Option<Toggle>,
    /// Which file operations real-time protection scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_time_scan_direction: Option<ScanDirection>,
    /// Scheduled scan type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_scan_type: Option<ScanType>,
    /// Day of the scheduled scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_scan_day: Option<ScanDay>,
    /// Time of the scheduled scan, in minutes after midnight (0–1380).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1380))]
    pub scheduled_scan_time_minutes: Option<i64>,
    /// Time of the daily quick scan, in minutes after midnight (0–1380).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1380))]
    pub daily_quick_scan_time_minutes: Option<i64>,
    /// Hours between security intelligence update checks (0–24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 24))]
    pub signature_update_interval_hours: Option<i64>,
    /// Check for new security intelligence before running a scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_signatures_before_scan: Option<Toggle>,
    /// Catch-up full scans after missed scheduled scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catchup_full_scan: Option<Toggle>,
    /// Catch-up quick scans after missed scheduled scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catchup_quick_scan: Option<Toggle>,
    /// Average CPU load (percent, 0–100) a scan may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub cpu_load_factor_percent: Option<i64>,
    /// Run scheduled scans at low CPU priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_cpu_priority: Option<Toggle>,
    /// Merge local administrator exclusions and settings with policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_admin_merge: Option<Toggle>,
    /// Security intelligence updates over metered connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metered_connection_updates: Option<Toggle>,
    /// Default remediation per threat severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat_actions: Option<ThreatActions>,
    /// Antivirus exclusions.
    #[serde(default, skip_serializing_if = "Exclusions::is_empty")]
    pub exclusions: Exclusions,
}

// Cloud block level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CloudBlockLevel {
    /// Default blocking level.
    Default,
    /// Aggressive blocking of unknown files.
    High,
    /// High, plus additional protection measures.
    HighPlus,
    /// Block all unknown executables.
    ZeroTolerance,
}

// Sample submission consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SampleSubmission {
    /// Always prompt the user.
    AlwaysPrompt,
    /// Send safe samples automatically.
    SendSafeSamples,
    /// Never send.
    NeverSend,
    /// Send all samples automatically.
    SendAllSamples,
}

// Off, block or audit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProtectionLevel {
    /// Disabled.
    Off,
    /// Enabled in block mode.
    Block,
    /// Enabled in audit mode.
    Audit,
}

// Real-time scan direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ScanDirection {
    /// Incoming and outgoing files.
    All,
    /// Incoming files only.
    Incoming,
    /// Outgoing files only.
    Outgoing,
}

// Scheduled scan type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ScanType {
    /// Quick scan.
    Quick,
    /// Full scan.
    Full,
}

// Day of the scheduled scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ScanDay {
    /// Every day.
    Everyday,
    /// Sunday.
    Sunday,
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// No scheduled scan.
    Never,
}

/// Remediation per threat severity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThreatActions {
    /// Action for low-severity threats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<ThreatAction>,
    /// Action for moderate-severity threats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderate: Option<ThreatAction>,
    /// Action for high-severity threats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<ThreatAction>,
    /// Action for severe threats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severe: Option<ThreatAction>,
}

// Remediation action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ThreatAction {
    /// Clean the file.
    Clean,
    /// Move the file to quarantine.
    Quarantine,
    /// Remove the file.
    Remove,
    /// Allow the file.
    Allow,
    /// Let the user decide.
    UserDefined,
    /// Block the file.
    Block,
}

/// Antivirus exclusions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exclusions {
    /// Excluded files and folders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Excluded file extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
    /// Excluded processes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<String>,
}

impl Exclusions {
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.extensions.is_empty() && self.processes.is_empty()
    }
}
