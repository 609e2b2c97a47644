//! The resource model: every kind a user writes, as Rust types that derive the CRDs and JSON Schemas.
//! Spec types reject unknown fields so a typo is an error, never a silently ignored setting. Enum types
//! are commented with `//`, not documented with `///`: in the CRDs a type's description would replace
//! the description of every field of that type, which says what the field does.

pub mod asr;
pub mod case;
pub mod defender_role;
pub mod detection;
pub mod detection_entities;
pub mod exception;
pub mod kql;
pub mod notification;
pub mod ownership;
pub mod patch;
pub mod policy_override;
pub mod profile;
pub mod role;
pub mod rollout;
pub mod select;
pub mod settings_catalog;
pub mod status;
pub mod template;
pub mod tenant;
pub mod typed;

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use case::{Case, CaseSpec};
pub use defender_role::{DefenderRole, DefenderRoleSpec};
pub use detection::{DetectionRule, DetectionRuleSpec};
pub use exception::{PolicyException, PolicyExceptionSpec};
pub use notification::{NotificationPolicy, NotificationPolicySpec};
pub use policy_override::{PolicyOverride, PolicyOverrideSpec};
pub use profile::{DistributionProfile, DistributionProfileSpec};
pub use role::{IntuneRole, IntuneRoleSpec};
pub use settings_catalog::{SettingsCatalogPolicy, SettingsCatalogPolicySpec};
pub use tenant::{Tenant, TenantSpec};
pub use typed::{
    AdditionalSetting, AntivirusExclusionsPolicy, AntivirusExclusionsPolicySpec, AntivirusPolicy, AntivirusPolicySpec,
    AttackSurfaceReductionPolicy, AttackSurfaceReductionPolicySpec, DefenderUpdateControlsPolicy,
    DefenderUpdateControlsPolicySpec, EndpointDetectionPolicy, EndpointDetectionPolicySpec, FirewallPolicy,
    FirewallPolicySpec, FirewallRulesPolicy, FirewallRulesPolicySpec, SecurityExperiencePolicy,
    SecurityExperiencePolicySpec, TypedPolicy, TypedSpec,
};

/// API group of every tenantctl kind.
pub const GROUP: &str = "tenantctl.dev";
/// API version of every tenantctl kind.
pub const VERSION: &str = "v1alpha1";
/// `apiVersion` as written in manifests.
pub const API_VERSION: &str = "tenantctl.dev/v1alpha1";

/// Every kind tenantctl understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Tenant,
    DistributionProfile,
    AntivirusPolicy,
    FirewallPolicy,
    AttackSurfaceReductionPolicy,
    FirewallRulesPolicy,
    SecurityExperiencePolicy,
    DefenderUpdateControlsPolicy,
    AntivirusExclusionsPolicy,
    EndpointDetectionPolicy,
    SettingsCatalogPolicy,
    NotificationPolicy,
    IntuneRole,
    DetectionRule,
    DefenderRole,
    PolicyException,
    PolicyOverride,
    Case,
}

impl Kind {
    pub const ALL: [Kind; 18] = [
        Kind::Tenant,
        Kind::DistributionProfile,
        Kind::AntivirusPolicy,
        Kind::FirewallPolicy,
        Kind::AttackSurfaceReductionPolicy,
        Kind::FirewallRulesPolicy,
        Kind::SecurityExperiencePolicy,
        Kind::DefenderUpdateControlsPolicy,
        Kind::AntivirusExclusionsPolicy,
        Kind::EndpointDetectionPolicy,
        Kind::SettingsCatalogPolicy,
        Kind::NotificationPolicy,
        Kind::IntuneRole,
        Kind::DetectionRule,
        Kind::DefenderRole,
        Kind::PolicyException,
        Kind::PolicyOverride,
        Kind::Case,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tenant => "Tenant",
            Kind::DistributionProfile => "DistributionProfile",
            Kind::AntivirusPolicy => "AntivirusPolicy",
            Kind::FirewallPolicy => "FirewallPolicy",
            Kind::AttackSurfaceReductionPolicy => "AttackSurfaceReductionPolicy",
            Kind::FirewallRulesPolicy => "FirewallRulesPolicy",
            Kind::SecurityExperiencePolicy => "SecurityExperiencePolicy",
            Kind::DefenderUpdateControlsPolicy => "DefenderUpdateControlsPolicy",
            Kind::AntivirusExclusionsPolicy => "AntivirusExclusionsPolicy",
            Kind::EndpointDetectionPolicy => "EndpointDetectionPolicy",
            Kind::SettingsCatalogPolicy => "SettingsCatalogPolicy",
            Kind::NotificationPolicy => "NotificationPolicy",
            Kind::IntuneRole => "IntuneRole",
            Kind::DetectionRule => "DetectionRule",
            Kind::DefenderRole => "DefenderRole",
            Kind::PolicyException => "PolicyException",
            Kind::PolicyOverride => "PolicyOverride",
            Kind::Case => "Case",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_policy(self) -> bool {
        PolicyKind::from_kind(self).is_some()
    }

    /// Whether objects of this kind live in tenants (and carry the ownership marker there).
    pub fn is_managed(self) -> bool {
        self.is_policy() || matches!(self, Kind::IntuneRole | Kind::DetectionRule | Kind::DefenderRole)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// The kinds a DistributionProfile can deliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub enum PolicyKind {
    /// Microsoft Defender Antivirus (endpoint security).
    AntivirusPolicy,
    /// Windows Firewall (endpoint security).
    FirewallPolicy,
    /// Attack surface reduction rules (endpoint security).
    AttackSurfaceReductionPolicy,
    /// Windows Firewall rules (endpoint security).
    FirewallRulesPolicy,
    /// Tamper protection and the Windows Security app (endpoint security).
    SecurityExperiencePolicy,
    /// Defender update channels (endpoint security).
    DefenderUpdateControlsPolicy,
    /// Defender Antivirus exclusions (endpoint security).
    AntivirusExclusionsPolicy,
    /// Endpoint detection and response: Defender for Endpoint onboarding (endpoint security).
    EndpointDetectionPolicy,
    /// Any Settings Catalog policy in Graph's own JSON.
    SettingsCatalogPolicy,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 9] = [
        PolicyKind::AntivirusPolicy,
        PolicyKind::FirewallPolicy,
        PolicyKind::AttackSurfaceReductionPolicy,
        PolicyKind::FirewallRulesPolicy,
        PolicyKind::SecurityExperiencePolicy,
        PolicyKind::DefenderUpdateControlsPolicy,
        PolicyKind::AntivirusExclusionsPolicy,
        PolicyKind::EndpointDetectionPolicy,
        PolicyKind::SettingsCatalogPolicy,
    ];

    pub fn kind(self) -> Kind {
        match self {
            PolicyKind::AntivirusPolicy => Kind::AntivirusPolicy,
            PolicyKind::FirewallPolicy => Kind::FirewallPolicy,
            PolicyKind::AttackSurfaceReductionPolicy => Kind::AttackSurfaceReductionPolicy,
            PolicyKind::FirewallRulesPolicy => Kind::FirewallRulesPolicy,
            PolicyKind::SecurityExperiencePolicy => Kind::SecurityExperiencePolicy,
            PolicyKind::DefenderUpdateControlsPolicy => Kind::DefenderUpdateControlsPolicy,
            PolicyKind::AntivirusExclusionsPolicy => Kind::AntivirusExclusionsPolicy,
            PolicyKind::EndpointDetectionPolicy => Kind::EndpointDetectionPolicy,
            PolicyKind::SettingsCatalogPolicy => Kind::SettingsCatalogPolicy,
        }
    }

    pub fn from_kind(kind: Kind) -> Option<PolicyKind> {
        PolicyKind::ALL.into_iter().find(|p| p.kind() == kind)
    }

    pub fn as_str(self) -> &'static str {
        self.kind().as_str()
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference from a profile to a policy: `kind` + `metadata.name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyRef {
    /// Kind of the referenced policy.
    pub kind: PolicyKind,
    /// `metadata.name` of the referenced policy (same namespace as the profile).
    pub name: String,
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// A tenant object tenantctl manages, by the kind and name of the manifest that declares it: the
/// identity written into the ownership marker, and the key of every change in a plan.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    pub kind: Kind,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: Kind, name: impl Into<String>) -> ObjectRef {
        ObjectRef { kind, name: name.into() }
    }

    /// Parses `Kind/name`, for kinds whose objects live in tenants.
    pub fn parse(text: &str) -> Option<ObjectRef> {
        let (kind, name) = text.split_once('/')?;
        let kind = Kind::parse(kind).filter(|k| k.is_managed())?;
        let valid_name = !name.is_empty() && !name.contains(['[', ']', '/', ' ']);
        valid_name.then(|| ObjectRef::new(kind, name))
    }
}

impl From<&PolicyRef> for ObjectRef {
    fn from(reference: &PolicyRef) -> ObjectRef {
        ObjectRef::new(reference.kind.kind(), reference.name.clone())
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

impl Serialize for ObjectRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ObjectRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ObjectRef, D::Error> {
        let text = String::deserialize(deserializer)?;
        ObjectRef::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not Kind/name")))
    }
}

// A two-state setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Toggle {
    /// Turned on.
    Enabled,
    /// Turned off.
    Disabled,
}

/// Whether a string looks like a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex, any case).
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    groups.len() == lengths.len()
        && groups.iter().zip(lengths).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_shapes() {
        assert!(is_guid("56a863a9-875e-4185-98a7-b882c64b5ce5"));
        assert!(is_guid("56A863A9-875E-4185-98A7-B882C64B5CE5"));
        assert!(!is_guid("56a863a9875e418598a7b882c64b5ce5"));
        assert!(!is_guid("56a863a9-875e-4185-98a7-b882c64b5ce"));
        assert!(!is_guid("zz a863a9-875e-4185-98a7-b882c64b5ce5"));
        assert!(!is_guid("{56a863a9-875e-4185-98a7-b882c64b5ce5}"));
    }

    #[test]
    fn kinds_round_trip_through_names() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("tenant"), None);
    }
}
