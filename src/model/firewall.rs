//! `FirewallPolicy`: the endpoint-security template "Windows Firewall", per network profile.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A Windows Firewall policy.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "FirewallPolicy",
    doc = "A Windows Firewall endpoint security policy.",
    namespaced,
    shortname = "fwp",
    category = "tenantctl"
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FirewallPolicySpec {
    /// Name of the policy in each tenant (Intune shows it).
    #[schemars(length(min = 1))]
    pub display_name: String,
    /// Description shown in Intune. tenantctl appends its ownership marker.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Domain network profile. Absent: not configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<FirewallProfile>,
    /// Private network profile. Absent: not configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<FirewallProfile>,
    /// Public network profile. Absent: not configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<FirewallProfile>,
    /// Settings that apply to every profile.
    #[serde(default, skip_serializing_if = "FirewallGlobal::is_empty")]
    pub global: FirewallGlobal,
}

/// Settings of one network profile. The other settings may only be given when `enabled` is true.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FirewallProfile {
    /// Turn Windows Firewall on for this profile.
    pub enabled: bool,
    /// What happens to inbound traffic no rule matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_inbound_action: Option<FirewallAction>,
    /// What happens to outbound traffic no rule matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_outbound_action: Option<FirewallAction>,
    /// Hide notifications when an application is blocked from listening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_inbound_notifications: Option<bool>,
    /// Turn off stealth mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_stealth_mode: Option<bool>,
    /// Shielded mode: block all inbound traffic, whatever the rules say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shielded: Option<bool>,
    /// Merge local firewall rules with policy rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_local_policy_merge: Option<bool>,
    /// Merge local IPsec rules with policy rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_local_ipsec_policy_merge: Option<bool>,
    /// Merge locally authorized application rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_apps_allow_user_pref_merge: Option<bool>,
    /// Merge locally defined global port rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_ports_allow_user_pref_merge: Option<bool>,
    /// Ignore unicast responses to multicast and broadcast traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_unicast_responses_to_multicast_broadcast: Option<bool>,
    /// Log dropped packets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dropped_packets: Option<bool>,
    /// Log successful connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_successful_connections: Option<bool>,
    /// Log ignored rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_ignored_rules: Option<bool>,
    /// Path of the firewall log file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_file_path: Option<String>,
    /// Maximum log file size in KB (1–32767).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 32767))]
    pub log_max_file_size_kb: Option<i64>,
}

// Default action for unmatched traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FirewallAction {
    /// Allow the traffic.
    Allow,
    /// Block the traffic.
    Block,
}

/// Settings for all profiles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FirewallGlobal {
    /// Turn off stateful FTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_stateful_ftp: Option<bool>,
}

impl FirewallGlobal {
    pub fn is_empty(&self) -> bool {
        self.disable_stateful_ftp.is_none()
    }
}
