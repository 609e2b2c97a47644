//! Which resources are absent from the lab and how each answers: the table, read by routing (which
//! must not depend on the handlers) and by the handlers.

use serde_json::{Value, json};

/// How an absent resource answers.
#[derive(Clone, Copy)]
pub enum Shape {
    /// An empty collection.
    Collection,
    /// A singleton that does not exist until configured: 404.
    Missing,
    /// A singleton that always exists, unconfigured.
    Unconfigured(fn() -> Value),
}

pub struct Absent {
    /// Below the version root, as Graph spells it.
    pub path: &'static str,
    /// Only `beta` serves it.
    pub beta_only: bool,
    pub shape: Shape,
}

const fn collection(path: &'static str, beta_only: bool) -> Absent {
    Absent { path, beta_only, shape: Shape::Collection }
}

pub const ABSENT: &[Absent] = &[
    collection("deviceAppManagement/managedAppPolicies", false),
    collection("deviceAppManagement/mobileAppConfigurations", false),
    collection("deviceAppManagement/mobileApps", false),
    collection("deviceAppManagement/targetedManagedAppConfigurations", false),
    collection("deviceAppManagement/vppTokens", false),
    collection("deviceManagement/assignmentFilters", true),
    collection("deviceManagement/complianceManagementPartners", false),
    collection("deviceManagement/compliancePolicies", true),
    collection("deviceManagement/depOnboardingSettings", true),
    collection("deviceManagement/deviceCategories", false),
    collection("deviceManagement/deviceCompliancePolicies", false),
    collection("deviceManagement/deviceComplianceScripts", true),
    collection("deviceManagement/deviceConfigurations", false),
    collection("deviceManagement/deviceCustomAttributeShellScripts", true),
    collection("deviceManagement/deviceEnrollmentConfigurations", false),
    collection("deviceManagement/deviceHealthScripts", true),
    collection("deviceManagement/deviceManagementPartners", false),
    collection("deviceManagement/deviceManagementScripts", true),
    collection("deviceManagement/deviceShellScripts", true),
    collection("deviceManagement/groupPolicyConfigurations", true),
    collection("deviceManagement/intents", true),
    collection("deviceManagement/notificationMessageTemplates", false),
    collection("deviceManagement/remoteAssistancePartners", false),
    collection("deviceManagement/reusablePolicySettings", true),
    collection("deviceManagement/templates", true),
    collection("deviceManagement/termsAndConditions", false),
    collection("deviceManagement/windowsAutopilotDeploymentProfiles", true),
    collection("deviceManagement/windowsDriverUpdateProfiles", true),
    collection("deviceManagement/windowsFeatureUpdateProfiles", false),
    collection("deviceManagement/windowsQualityUpdateProfiles", false),
    collection("identity/conditionalAccess/namedLocations", false),
    collection("identity/conditionalAccess/policies", false),
    Absent { path: "deviceManagement/applePushNotificationCertificate", beta_only: false, shape: Shape::Missing },
    Absent {
        path: "deviceManagement/androidManagedStoreAccountEnterpriseSettings",
        beta_only: true,
        shape: Shape::Unconfigured(unbound_managed_google_play),
    },
    Absent { path: "deviceManagement/settings", beta_only: false, shape: Shape::Unconfigured(default_settings) },
];

/// The built-in scope tag every Intune tenant has (`deviceManagement/roleScopeTags`).
pub const ROLE_SCOPE_TAGS: &str = "deviceManagement/roleScopeTags";

/// The index of the absent resource at `segments` (any letter case, as Graph reads paths).
pub fn find(version: &str, segments: &[String]) -> Option<usize> {
    let path = segments.join("/");
    ABSENT.iter().position(|a| a.path.eq_ignore_ascii_case(&path) && (version == "beta" || !a.beta_only))
}

/// Whether the absent resource is a collection (it takes the collection options and has a `/$count`).
pub fn is_collection(index: usize) -> bool {
    ABSENT.get(index).is_some_and(|a| matches!(a.shape, Shape::Collection))
}

/// The resource's path below the version root, for the request counters.
pub fn path(index: usize) -> &'static str {
    ABSENT.get(index).map_or("", |a| a.path)
}

fn unbound_managed_google_play() -> Value {
    json!({
        "id": "00000000-0000-0000-0000-000000000000",
        "bindStatus": "notBound",
        "lastAppSyncDateTime": "0001-01-01T00:00:00Z",
        "lastAppSyncStatus": "success",
        "ownerUserPrincipalName": null,
        "ownerOrganizationName": null,
        "lastModifiedDateTime": "0001-01-01T00:00:00Z",
        "enrollmentTarget": "none",
        "targetGroupIds": [],
        "deviceOwnerManagementEnabled": false,
        "androidDeviceOwnerFullyManagedEnrollmentEnabled": false,
        "managedGooglePlayInitialScopeTagIds": [],
        "companyCodes": [],
    })
}

fn default_settings() -> Value {
    json!({
        "deviceComplianceCheckinThresholdDays": 30,
        "isScheduledActionEnabled": true,
        "secureByDefault": false,
        "enhancedJailBreak": false,
        "deviceInactivityBeforeRetirementInDay": 0,
        "derivedCredentialProvider": "notConfigured",
        "derivedCredentialUrl": null,
        "androidDeviceAdministratorEnrollmentEnabled": false,
        "ignoreDevicesForUnsupportedSettingsEnabled": false,
        "enableLogCollection": true,
        "enableAutopilotDiagnostics": true,
        "enableEnhancedTroubleshootingExperience": false,
        "enableDeviceGroupMembershipReport": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Vec<String> {
        path.split('/').map(str::to_string).collect()
    }

    #[test]
    fn absent_resources_are_found_in_any_case_and_version_they_exist_in() {
        let found = find("beta", &segments("devicemanagement/DEVICECONFIGURATIONS")).expect("found");
        assert!(is_collection(found));
        assert_eq!(path(found), "deviceManagement/deviceConfigurations");
        assert!(find("v1.0", &segments("deviceManagement/intents")).is_none(), "beta only");
        assert!(find("v1.0", &segments("deviceManagement/deviceConfigurations")).is_some());
        let apns = find("beta", &segments("deviceManagement/applePushNotificationCertificate")).expect("found");
        assert!(!is_collection(apns));
        assert!(find("beta", &segments("deviceManagement/nothing")).is_none());
    }
}
