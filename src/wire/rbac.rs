//! Intune role-based access control on the wire (Graph v1.0 `deviceManagement/roleDefinitions` and
//! `deviceManagement/roleAssignments`): role definitions with their allowed resource actions, and
//! assignments of a role to member groups over scope groups.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `@odata.type` of a role definition.
pub const ROLE_DEFINITION_TYPE: &str = "#microsoft.graph.deviceAndAppManagementRoleDefinition";
/// `@odata.type` of a role assignment.
pub const ROLE_ASSIGNMENT_TYPE: &str = "#microsoft.graph.deviceAndAppManagementRoleAssignment";

/// `deviceAndAppManagementRoleDefinition`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinition {
    #[serde(rename = "@odata.type", default, skip_serializing_if = "Option::is_none")]
    pub odata_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub role_permissions: Vec<RolePermission>,
    /// Built-in roles are Microsoft's: read-only.
    #[serde(default)]
    pub is_built_in: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `rolePermission`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolePermission {
    #[serde(default)]
    pub resource_actions: Vec<ResourceAction>,
}

/// `resourceAction`: operations such as `Microsoft.Intune_DeviceConfigurations_Read`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceAction {
    #[serde(default)]
    pub allowed_resource_actions: Vec<String>,
    #[serde(default)]
    pub not_allowed_resource_actions: Vec<String>,
}

/// `deviceAndAppManagementRoleAssignment`. Members and scopes are Entra group ids.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    #[serde(rename = "@odata.type", default, skip_serializing_if = "Option::is_none")]
    pub odata_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    /// Groups whose members hold the role.
    #[serde(default)]
    pub members: Vec<String>,
    /// Groups of users and devices the role applies to.
    #[serde(default)]
    pub resource_scopes: Vec<String>,
    /// The role, when read with `$expand=roleDefinition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_definition: Option<RoleDefinition>,
    /// The role to bind on create: the URL of its definition.
    #[serde(rename = "roleDefinition@odata.bind", default, skip_serializing_if = "Option::is_none")]
    pub role_definition_bind: Option<String>,
}
