//! `IntuneRole`: an Intune role definition (what its holders may do) and its assignments (which
//! groups hold it, over which groups of users and devices), delivered to tenants by profiles.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An Intune RBAC role and its assignments, distributed to tenants by DistributionProfiles.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "IntuneRole",
    doc = "An Intune role definition and its assignments, delivered to tenants by profiles.",
    namespaced,
    shortname = "irole",
    category = "tenantctl",
    printcolumn = r#"{"name":"Display name","type":"string","jsonPath":".spec.displayName"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntuneRoleSpec {
    /// Name of the role in Intune.
    #[schemars(length(min = 1))]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    /// Operations the role allows, e.g. `Microsoft.Intune_DeviceConfigurations_Read`.
    pub allowed_resource_actions: Vec<String>,
    /// Operations the role denies even when allowed above.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_allowed_resource_actions: Vec<String>,
    /// Who holds the role, over what.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignments: Vec<IntuneRoleAssignment>,
}

/// One assignment of the role. Groups are named by display name and resolved in each tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntuneRoleAssignment {
    /// Name of the assignment in Intune (unique within the role).
    #[schemars(length(min = 1))]
    pub display_name: String,
    /// Groups whose members hold the role.
    pub members: Vec<String>,
    /// Groups of users and devices the role applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope_groups: Vec<String>,
}
