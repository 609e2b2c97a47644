//! `DistributionProfile`: which tenants receive which policies, assigned to whom, in which mode.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PolicyRef;
use super::status::DistributionProfileStatus;

/// Delivers a set of policies to the tenants it selects.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "DistributionProfile",
    doc = "Delivers policies to the tenants it selects, with assignments and a mode.",
    namespaced,
    status = "DistributionProfileStatus",
    shortname = "dp",
    category = "tenantctl",
    printcolumn = r#"{"name":"Mode","type":"string","jsonPath":".spec.mode"}"#,
    printcolumn = r#"{"name":"Tenants","type":"integer","jsonPath":".status.tenantsMatched"}"#,
    printcolumn = r#"{"name":"In sync","type":"integer","jsonPath":".status.tenantsInSync"}"#,
    printcolumn = r#"{"name":"Wave","type":"integer","jsonPath":".status.rollout.wave"}"#,
    printcolumn = r#"{"name":"Revision","type":"string","jsonPath":".status.rollout.revision"}"#,
    printcolumn = r#"{"name":"Rollout","type":"string","jsonPath":".status.rollout.state"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DistributionProfileSpec {
    /// Selects tenants by their `metadata.labels`. An empty selector (`{}`) selects every tenant in the
    /// namespace; no selector selects none by label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_selector: Option<LabelSelector>,
    /// Tenants (by `metadata.name`) selected in addition to those the selector matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    /// Tenants (by `metadata.name`) never selected, even when the selector or `tenants` match them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_tenants: Vec<String>,
    /// Policies delivered to every selected tenant.
    #[serde(default)]
    pub policies: Vec<PolicyRef>,
    /// Roles (`IntuneRole` and `DefenderRole` names) delivered to every selected tenant, with their
    /// assignments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Defender custom detection rules (`DetectionRule` names) delivered to every selected tenant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detection_rules: Vec<String>,
    /// Who the policies are assigned to in each tenant.
    #[serde(default)]
    pub assignments: Assignments,
    /// `enforce` writes changes; `audit` only reports drift.
    #[serde(default)]
    pub mode: Mode,
    /// Deletion of tenantctl-owned policies that are no longer desired.
    #[serde(default)]
    pub prune: Prune,
    /// The longest a PolicyException may run, in days from today, for what this profile delivers to
    /// its tenants: one that expires later is an error. Absent: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_exception_days: Option<u32>,
    /// Stages what the profile delivers across its tenants in waves, gated on health. Absent: every
    /// tenant gets a change at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<super::rollout::Rollout>,
}

impl DistributionProfileSpec {
    /// Whether the profile delivers the object (a policy, a role, a detection rule).
    pub fn delivers(&self, object: &super::ObjectRef) -> bool {
        match object.kind {
            super::Kind::IntuneRole | super::Kind::DefenderRole => self.roles.contains(&object.name),
            super::Kind::DetectionRule => self.detection_rules.contains(&object.name),
            kind => self.policies.iter().any(|p| p.kind.kind() == kind && p.name == object.name),
        }
    }
}

/// A Kubernetes label selector. All requirements must hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Labels that must be present with exactly these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One set-based label requirement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    /// Label key.
    pub key: String,
    /// How the key relates to `values`.
    pub operator: SelectorOperator,
    /// Values for `In` and `NotIn`; must be empty for `Exists` and `DoesNotExist`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

// Label selector operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SelectorOperator {
    /// The label's value is one of `values`.
    In,
    /// The label is absent or its value is none of `values`.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

/// Assignment targets, resolved in each tenant. Groups are named by display name and looked up per
/// tenant, so the same profile works across tenants whose group ids differ.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.groups) || !has(self.excludeGroups) || self.groups.all(g, !(g in self.excludeGroups))",
    "message": "a group cannot be both included and excluded"
}]))]
pub struct Assignments {
    /// Assign to all devices.
    #[serde(default)]
    pub all_devices: bool,
    /// Assign to all licensed users.
    #[serde(default)]
    pub all_users: bool,
    /// Entra groups (display names) to assign to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = 256)))]
    pub groups: Vec<String>,
    /// Entra groups (display names) excluded from the assignment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = 256)))]
    pub exclude_groups: Vec<String>,
}

impl Assignments {
    pub fn is_empty(&self) -> bool {
        !self.all_devices && !self.all_users && self.groups.is_empty() && self.exclude_groups.is_empty()
    }
}

// Whether a profile writes or only reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// Create, update (and, with prune, delete) so tenants match.
    #[default]
    Enforce,
    /// Observe and report drift; never write.
    Audit,
}

/// Pruning of owned policies that no profile delivers any more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Prune {
    /// Delete tenantctl-owned policies in the selected tenants that are no longer desired.
    #[serde(default)]
    pub enabled: bool,
    /// Blast-radius guard: refuse to delete more than this percentage of a tenant's owned policies
    /// in one run without an explicit override.
    #[serde(default = "default_max_delete_percent")]
    #[schemars(range(min = 0, max = 100))]
    pub max_delete_percent: u32,
}

fn default_max_delete_percent() -> u32 {
    30
}

impl Default for Prune {
    fn default() -> Self {
        Prune { enabled: false, max_delete_percent: default_max_delete_percent() }
    }
}
