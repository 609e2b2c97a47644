//! Defender XDR unified RBAC on the wire (Graph beta `roleManagement/defender`): role definitions
//! (`unifiedRoleDefinition`) with the `microsoft.xdr/...` actions they allow, role assignments
//! (`unifiedRoleAssignmentMultiple`: one role to many principals over scopes), and the actions that
//! exist (`unifiedRbacResourceNamespace` / `unifiedRbacResourceAction`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::null_as_default;

/// `@odata.type` of a role definition.
pub const UNIFIED_ROLE_DEFINITION_TYPE: &str = "#microsoft.graph.unifiedRoleDefinition";
/// `@odata.type` of a role assignment.
pub const UNIFIED_ROLE_ASSIGNMENT_TYPE: &str = "#microsoft.graph.unifiedRoleAssignmentMultiple";
/// The namespace of Defender XDR's actions.
pub const XDR_NAMESPACE: &str = "microsoft.xdr";

/// `unifiedRoleDefinition`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnifiedRoleDefinition {
    #[serde(rename = "@odata.type", default, skip_serializing_if = "Option::is_none")]
    pub odata_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    /// Built-in roles are Microsoft's: read-only.
    #[serde(default, skip_serializing)]
    pub is_built_in: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub role_permissions: Vec<UnifiedRolePermission>,
    #[serde(flatten, skip_serializing)]
    pub other: Map<String, Value>,
}

/// `unifiedRolePermission`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnifiedRolePermission {
    #[serde(default, deserialize_with = "null_as_default")]
    pub allowed_resource_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// `unifiedRoleAssignmentMultiple`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnifiedRoleAssignment {
    #[serde(rename = "@odata.type", default, skip_serializing_if = "Option::is_none")]
    pub odata_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub role_definition_id: String,
    /// Object ids of the users and groups that hold the role.
    #[serde(default, deserialize_with = "null_as_default")]
    pub principal_ids: Vec<String>,
    /// Where it holds: `/` is the whole tenant.
    #[serde(default, deserialize_with = "null_as_default")]
    pub directory_scope_ids: Vec<String>,
    /// Which data sources it covers (empty: all).
    #[serde(default, deserialize_with = "null_as_default")]
    pub app_scope_ids: Vec<String>,
}

/// `unifiedRbacResourceAction`: one action that exists.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceAction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `microsoft.xdr/secops/securitydata/read`.
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_verb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl UnifiedRoleDefinition {
    /// Every action the role allows, sorted, once each.
    pub fn actions(&self) -> Vec<String> {
        let mut all: Vec<String> =
            self.role_permissions.iter().flat_map(|p| p.allowed_resource_actions.iter().cloned()).collect();
        all.sort();
        all.dedup();
        all
    }
}
