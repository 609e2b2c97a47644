//! `DefenderRole`: a Defender XDR unified RBAC role — what its holders may see and do in the Defender
//! portal, in the portal's own groups and words — and its assignments to groups over data sources,
//! delivered to tenants by profiles (`spec.roles`, beside Intune roles).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A Defender XDR role and its assignments, distributed to tenants by DistributionProfiles.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "DefenderRole",
    doc = "A Defender XDR unified RBAC role and its assignments, delivered to tenants by profiles.",
    namespaced,
    shortname = "drole",
    category = "tenantctl",
    printcolumn = r#"{"name":"Display name","type":"string","jsonPath":".spec.displayName"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefenderRoleSpec {
    /// Name of the role in the Defender portal.
    #[schemars(length(min = 1))]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Security operations: incidents, alerts, hunting, response.
    #[serde(default, skip_serializing_if = "SecurityOperations::is_empty")]
    pub security_operations: SecurityOperations,
    /// Security posture: vulnerability management, Secure Score.
    #[serde(default, skip_serializing_if = "SecurityPosture::is_empty")]
    pub security_posture: SecurityPosture,
    /// Authorization and settings.
    #[serde(default, skip_serializing_if = "AuthorizationAndSettings::is_empty")]
    pub authorization_and_settings: AuthorizationAndSettings,
    /// Actions by their `microsoft.xdr/...` names, for what the groups above do not name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// Who holds the role, over which data sources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignments: Vec<DefenderRoleAssignment>,
}

// Read, or read and manage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Access {
    Read,
    Manage,
}

// Live response: basic (read-only commands, downloads) or advanced (also upload files, run scripts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum LiveResponse {
    Basic,
    Advanced,
}

/// Security operations, as the portal groups them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityOperations {
    /// Security data: `read` (incidents, alerts, hunting, devices) or `manage` (also manage alerts,
    /// start investigations, run scans, collect investigation packages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_data: Option<Access>,
    /// Take response actions, approve or dismiss pending remediation, manage allow and block lists.
    #[serde(default, skip_serializing_if = "is_false")]
    pub response: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_response: Option<LiveResponse>,
    /// Collect and download files, executables included.
    #[serde(default, skip_serializing_if = "is_false")]
    pub file_collection: bool,
    /// View and release email from quarantine.
    #[serde(default, skip_serializing_if = "is_false")]
    pub email_quarantine: bool,
    /// Move and delete email.
    #[serde(default, skip_serializing_if = "is_false")]
    pub email_advanced_actions: bool,
    /// View and download email content and attachments.
    #[serde(default, skip_serializing_if = "is_false")]
    pub email_content: bool,
}

/// Security posture, as the portal groups it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityPosture {
    /// View software, weaknesses, missing updates and baselines.
    #[serde(default, skip_serializing_if = "is_false")]
    pub vulnerability_management: bool,
    /// Manage exceptions to recommendations.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exception_handling: bool,
    /// Manage remediation tickets and activities.
    #[serde(default, skip_serializing_if = "is_false")]
    pub remediation_handling: bool,
    /// Block and unblock vulnerable applications.
    #[serde(default, skip_serializing_if = "is_false")]
    pub application_handling: bool,
    /// Manage security baseline assessment profiles.
    #[serde(default, skip_serializing_if = "is_false")]
    pub baseline_assessment: bool,
    /// Secure Score and exposure insights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_score: Option<Access>,
}

/// Authorization and settings, as the portal groups them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationAndSettings {
    /// Roles and device groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Access>,
    /// Core security settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_settings: Option<Access>,
    /// Custom detections, alert tuning, indicators.
    #[serde(default, skip_serializing_if = "is_false")]
    pub detection_tuning: bool,
    /// System settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_settings: Option<Access>,
}

/// One assignment of the role. Groups are named by display name and resolved in each tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefenderRoleAssignment {
    /// Name of the assignment (unique within the role).
    #[schemars(length(min = 1))]
    pub display_name: String,
    /// Groups whose members hold the role.
    pub members: Vec<String>,
    /// Data sources the role covers; all (present and future) when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_sources: Vec<DataSource>,
}

// A Defender data source (workload).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DataSource {
    /// Defender for Endpoint and vulnerability management.
    Endpoint,
    /// Defender for Office 365.
    Office365,
    /// Defender for Identity.
    Identity,
    /// Defender for Cloud Apps.
    CloudApps,
    /// Defender for Cloud.
    Cloud,
    /// Secure Score.
    SecureScore,
}

impl DataSource {
    /// The app scope id Graph names it by.
    pub fn app_scope(self) -> &'static str {
        match self {
            DataSource::Endpoint => "Mde",
            DataSource::Office365 => "Mdo",
            DataSource::Identity => "Mdi",
            DataSource::CloudApps => "Mda",
            DataSource::Cloud => "Mdc",
            DataSource::SecureScore => "SecureScoreExternal",
        }
    }
}

fn is_false(value: &bool) -> bool {
    !value
}

impl SecurityOperations {
    pub fn is_empty(&self) -> bool {
        *self == SecurityOperations::default()
    }
}

impl SecurityPosture {
    pub fn is_empty(&self) -> bool {
        *self == SecurityPosture::default()
    }
}

impl AuthorizationAndSettings {
    pub fn is_empty(&self) -> bool {
        *self == AuthorizationAndSettings::default()
    }
}

const XDR: &str = "microsoft.xdr/";

impl DefenderRoleSpec {
    /// Every `microsoft.xdr/...` action the role allows: the named permissions', then `actions`, sorted,
    /// once each, without what a wildcard among them already covers (Defender drops those).
    pub fn actions(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        let mut add = |action: &str| all.push(format!("{XDR}{action}"));
        let ops = &self.security_operations;
        match ops.security_data {
            Some(Access::Read) => add("secops/securitydata/basics/read"),
            Some(Access::Manage) => {
                add("secops/securitydata/basics/read");
                add("secops/securitydata/alerts/manage");
            }
            None => {}
        }
        for (on, action) in [
            (ops.response, "secops/securitydata/response/manage"),
            (ops.file_collection, "secops/securitydata/filecollection/manage"),
            (ops.email_quarantine, "secops/securitydata/emailquarantine/manage"),
            (ops.email_advanced_actions, "secops/securitydata/emailadvancedactions/manage"),
            (ops.email_content, "secops/rawdata/emailcontent/read"),
        ] {
            if on {
                add(action);
            }
        }
        match ops.live_response {
            Some(LiveResponse::Basic) => add("secops/securitydata/liveresponse-basic/manage"),
            Some(LiveResponse::Advanced) => {
                add("secops/securitydata/liveresponse-basic/manage");
                add("secops/securitydata/liveresponse-advanced/manage");
            }
            None => {}
        }
        let posture = &self.security_posture;
        for (on, action) in [
            (posture.vulnerability_management, "vulnerabilitymanagement/read"),
            (posture.exception_handling, "exceptionhandling/manage"),
            (posture.remediation_handling, "remediationhandling/manage"),
            (posture.application_handling, "applicationhandling/manage"),
            (posture.baseline_assessment, "baselineassessmentprofiles/manage"),
        ] {
            if on {
                add(&format!("securityposture/posturemanagement/{action}"));
            }
        }
        let read_or_manage = |access: Option<Access>, base: &str| -> Vec<String> {
            match access {
                Some(Access::Read) => vec![format!("{base}/read")],
                Some(Access::Manage) => vec![format!("{base}/read"), format!("{base}/manage")],
                None => Vec::new(),
            }
        };
        let settings = &self.authorization_and_settings;
        let mut grouped = read_or_manage(posture.secure_score, "securityposture/posturemanagement/securescore");
        grouped.extend(read_or_manage(settings.authorization, "configuration/authorization"));
        grouped.extend(read_or_manage(settings.security_settings, "configuration/security/core"));
        grouped.extend(read_or_manage(settings.system_settings, "configuration/system"));
        if settings.detection_tuning {
            grouped.push("configuration/security/detectiontuning/manage".into());
        }
        for action in grouped {
            add(&action);
        }
        all.extend(self.actions.iter().cloned());
        without_covered(all)
    }
}

/// Sorted, once each, without actions a wildcard of the set covers.
pub fn without_covered(mut actions: Vec<String>) -> Vec<String> {
    actions.sort();
    actions.dedup();
    let wildcards: Vec<String> = actions.iter().filter(|a| a.contains('*')).cloned().collect();
    actions.retain(|action| !wildcards.iter().any(|w| w != action && covers(w, action)));
    actions
}

/// Whether a wildcard action (`microsoft.xdr/secops/*/read`) covers an action: `*` stands for one or
/// more path segments.
pub fn covers(wildcard: &str, action: &str) -> bool {
    let Some((prefix, suffix)) = wildcard.split_once('*') else { return wildcard == action };
    action.len() > prefix.len() + suffix.len() && action.starts_with(prefix) && action.ends_with(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_permissions_become_actions_and_wildcards_cover_what_they_cover() {
        let spec: DefenderRoleSpec = serde_yaml::from_str(
            "displayName: Tier 1
securityOperations: {securityData: manage, liveResponse: basic}
authorizationAndSettings: {systemSettings: read}
actions: [microsoft.xdr/securityposture/*/read, microsoft.xdr/securityposture/posturemanagement/securescore/read]
securityPosture: {secureScore: read}
",
        )
        .expect("spec");
        assert_eq!(
            spec.actions(),
            [
                "microsoft.xdr/configuration/system/read",
                "microsoft.xdr/secops/securitydata/alerts/manage",
                "microsoft.xdr/secops/securitydata/basics/read",
                "microsoft.xdr/secops/securitydata/liveresponse-basic/manage",
                "microsoft.xdr/securityposture/*/read",
            ]
        );
        assert!(covers("microsoft.xdr/secops/*/read", "microsoft.xdr/secops/securitydata/basics/read"));
        assert!(!covers("microsoft.xdr/secops/*/read", "microsoft.xdr/secops/securitydata/alerts/manage"));
        assert!(!covers("microsoft.xdr/secops/*/read", "microsoft.xdr/secops//read"));
    }
}

impl DefenderRoleSpec {
    /// The spec whose `actions()` are these: named permissions where the actions make them up, the
    /// rest as `actions` (for `export`). Assignments are the caller's.
    pub fn from_actions(display_name: &str, description: &str, actions: &[String]) -> DefenderRoleSpec {
        let mut left: Vec<String> = actions.to_vec();
        let mut take = |action: &str| {
            let full = format!("{XDR}{action}");
            let found = left.iter().position(|a| *a == full);
            found.map(|index| left.remove(index)).is_some()
        };
        let basics = take("secops/securitydata/basics/read");
        let alerts = take("secops/securitydata/alerts/manage");
        let mut spec = DefenderRoleSpec {
            display_name: display_name.to_string(),
            description: description.to_string(),
            security_operations: SecurityOperations::default(),
            security_posture: SecurityPosture::default(),
            authorization_and_settings: AuthorizationAndSettings::default(),
            actions: Vec::new(),
            assignments: Vec::new(),
        };
        let ops = &mut spec.security_operations;
        // Alerts without the basics are no named level: they stay a raw action.
        let orphan_alerts = alerts && !basics;
        ops.security_data = match (basics, alerts) {
            (true, true) => Some(Access::Manage),
            (true, false) => Some(Access::Read),
            _ => None,
        };
        ops.response = take("secops/securitydata/response/manage");
        ops.file_collection = take("secops/securitydata/filecollection/manage");
        ops.email_quarantine = take("secops/securitydata/emailquarantine/manage");
        ops.email_advanced_actions = take("secops/securitydata/emailadvancedactions/manage");
        ops.email_content = take("secops/rawdata/emailcontent/read");
        let basic = take("secops/securitydata/liveresponse-basic/manage");
        let advanced = basic && take("secops/securitydata/liveresponse-advanced/manage");
        ops.live_response = match (basic, advanced) {
            (true, true) => Some(LiveResponse::Advanced),
            (true, false) => Some(LiveResponse::Basic),
            _ => None,
        };
        let posture = &mut spec.security_posture;
        let pm = "securityposture/posturemanagement";
        posture.vulnerability_management = take(&format!("{pm}/vulnerabilitymanagement/read"));
        posture.exception_handling = take(&format!("{pm}/exceptionhandling/manage"));
        posture.remediation_handling = take(&format!("{pm}/remediationhandling/manage"));
        posture.application_handling = take(&format!("{pm}/applicationhandling/manage"));
        posture.baseline_assessment = take(&format!("{pm}/baselineassessmentprofiles/manage"));
        let mut access = |base: &str| -> Option<Access> {
            let read = take(&format!("{base}/read"));
            let manage = read && take(&format!("{base}/manage"));
            match (read, manage) {
                (true, true) => Some(Access::Manage),
                (true, false) => Some(Access::Read),
                _ => None,
            }
        };
        spec.security_posture.secure_score = access(&format!("{pm}/securescore"));
        let settings = &mut spec.authorization_and_settings;
        settings.authorization = access("configuration/authorization");
        settings.security_settings = access("configuration/security/core");
        settings.system_settings = access("configuration/system");
        settings.detection_tuning = take("configuration/security/detectiontuning/manage");
        if orphan_alerts {
            left.push(format!("{XDR}secops/securitydata/alerts/manage"));
        }
        spec.actions = left;
        spec
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;

    #[test]
    fn actions_round_trip_through_the_named_permissions() {
        let actions: Vec<String> = [
            "microsoft.xdr/configuration/system/read",
            "microsoft.xdr/configuration/system/manage",
            "microsoft.xdr/secops/securitydata/alerts/manage",
            "microsoft.xdr/secops/securitydata/basics/read",
            "microsoft.xdr/secops/securitydata/liveresponse-advanced/manage",
            "microsoft.xdr/secops/securitydata/liveresponse-basic/manage",
            "microsoft.xdr/securityposture/*/read",
            "microsoft.xdr/dataops/*/read",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        let spec = DefenderRoleSpec::from_actions("R", "", &actions);
        assert_eq!(spec.security_operations.live_response, Some(LiveResponse::Advanced));
        assert_eq!(spec.authorization_and_settings.system_settings, Some(Access::Manage));
        assert_eq!(spec.actions, ["microsoft.xdr/securityposture/*/read", "microsoft.xdr/dataops/*/read"]);
        assert_eq!(spec.actions(), without_covered(actions));
    }
}
