//! Intune role definitions and role assignments (Graph v1.0).

use reqwest::Method;

use super::TenantClient;
use super::error::GraphError;
use super::http::{Call, CallKind, decode_reply};
use super::policies::segment;
use crate::wire::rbac::{RoleAssignment, RoleDefinition};

const DEFINITIONS: &str = "/deviceManagement/roleDefinitions";
const ASSIGNMENTS: &str = "/deviceManagement/roleAssignments";

impl TenantClient {
    /// Every role definition, built-in ones included (paged).
    pub async fn list_role_definitions(&self) -> Result<Vec<RoleDefinition>, GraphError> {
        self.get_all(self.url("v1.0", DEFINITIONS)?).await
    }

    /// Every role assignment, each with its role definition (paged).
    pub async fn list_role_assignments(&self) -> Result<Vec<RoleAssignment>, GraphError> {
        self.get_all(self.url("v1.0", &format!("{ASSIGNMENTS}?$expand=roleDefinition"))?).await
    }

    /// The URL that binds an assignment to the role definition `id`.
    pub fn role_definition_bind(&self, id: &str) -> Result<String, GraphError> {
        Ok(self.url("v1.0", &format!("{DEFINITIONS}/{}", segment(id)))?.to_string())
    }

    /// Creates a role definition. Not retried once it may have reached Graph (see `create_policy`).
    pub async fn create_role_definition(&self, role: &RoleDefinition) -> Result<RoleDefinition, GraphError> {
        let url = self.url("v1.0", DEFINITIONS)?;
        let reply = self.send_json(Method::POST, url.clone(), role, CallKind::Create).await?;
        decode_reply("POST", &url, &reply.body)
    }

    pub async fn update_role_definition(&self, id: &str, role: &RoleDefinition) -> Result<(), GraphError> {
        let url = self.url("v1.0", &format!("{DEFINITIONS}/{}", segment(id)))?;
        self.send_json(Method::PATCH, url, role, CallKind::Write).await.map(|_| ())
    }

    pub async fn delete_role_definition(&self, id: &str) -> Result<(), GraphError> {
        let url = self.url("v1.0", &format!("{DEFINITIONS}/{}", segment(id)))?;
        self.execute(&Call::new(Method::DELETE, url, None, CallKind::Write)).await.map(|_| ())
    }

    /// Creates a role assignment (bound to its definition by `roleDefinition@odata.bind`).
    pub async fn create_role_assignment(&self, assignment: &RoleAssignment) -> Result<RoleAssignment, GraphError> {
        let url = self.url("v1.0", ASSIGNMENTS)?;
        let reply = self.send_json(Method::POST, url.clone(), assignment, CallKind::Create).await?;
        decode_reply("POST", &url, &reply.body)
    }

    pub async fn update_role_assignment(&self, id: &str, assignment: &RoleAssignment) -> Result<(), GraphError> {
        let url = self.url("v1.0", &format!("{ASSIGNMENTS}/{}", segment(id)))?;
        self.send_json(Method::PATCH, url, assignment, CallKind::Write).await.map(|_| ())
    }

    pub async fn delete_role_assignment(&self, id: &str) -> Result<(), GraphError> {
        let url = self.url("v1.0", &format!("{ASSIGNMENTS}/{}", segment(id)))?;
        self.execute(&Call::new(Method::DELETE, url, None, CallKind::Write)).await.map(|_| ())
    }
}
