//! Defender XDR unified RBAC (Graph beta `roleManagement/defender`): role definitions, role
//! assignments, and the catalogue of actions.

use reqwest::Method;
use serde_json::Value;

use super::TenantClient;
use super::error::GraphError;
use super::http::{Call, CallKind, decode_reply};
use super::policies::segment;
use crate::wire::defender_rbac::{UnifiedRoleAssignment, UnifiedRoleDefinition, XDR_NAMESPACE};

const DEFINITIONS: &str = "/roleManagement/defender/roleDefinitions";
const ASSIGNMENTS: &str = "/roleManagement/defender/roleAssignments";
/// The catalogue is read expanded: the namespace's own `resourceActions` path is not served.
const NAMESPACES: &str = "/roleManagement/defender/resourceNamespaces?$expand=resourceActions";

impl TenantClient {
    /// Every Defender role definition (paged).
    pub async fn list_defender_role_definitions(&self) -> Result<Vec<UnifiedRoleDefinition>, GraphError> {
        self.get_all(self.url("beta", DEFINITIONS)?).await
    }

    /// Every Defender role assignment (paged).
    pub async fn list_defender_role_assignments(&self) -> Result<Vec<UnifiedRoleAssignment>, GraphError> {
        self.get_all(self.url("beta", ASSIGNMENTS)?).await
    }

    /// Creates a role definition. Not retried once it may have reached Graph (see `create_policy`).
    pub async fn create_defender_role_definition(
        &self,
        role: &UnifiedRoleDefinition,
    ) -> Result<UnifiedRoleDefinition, GraphError> {
        let url = self.url("beta", DEFINITIONS)?;
        let reply = self.send_json(Method::POST, url.clone(), role, CallKind::Create).await?;
        decode_reply("POST", &url, &reply.body)
    }

    pub async fn update_defender_role_definition(
        &self,
        id: &str,
        role: &UnifiedRoleDefinition,
    ) -> Result<(), GraphError> {
        let url = self.url("beta", &format!("{DEFINITIONS}/{}", segment(id)))?;
        self.send_json(Method::PATCH, url, role, CallKind::Write).await.map(|_| ())
    }

    pub async fn delete_defender_role_definition(&self, id: &str) -> Result<(), GraphError> {
        let url = self.url("beta", &format!("{DEFINITIONS}/{}", segment(id)))?;
        self.execute(&Call::new(Method::DELETE, url, None, CallKind::Write)).await.map(|_| ())
    }

    /// Creates an assignment (without `@odata.type`, which Defender refuses in this body).
    pub async fn create_defender_role_assignment(
        &self,
        assignment: &UnifiedRoleAssignment,
    ) -> Result<UnifiedRoleAssignment, GraphError> {
        let url = self.url("beta", ASSIGNMENTS)?;
        let body = UnifiedRoleAssignment { odata_type: None, ..assignment.clone() };
        let reply = self.send_json(Method::POST, url.clone(), &body, CallKind::Create).await?;
        decode_reply("POST", &url, &reply.body)
    }

    pub async fn update_defender_role_assignment(
        &self,
        id: &str,
        assignment: &UnifiedRoleAssignment,
    ) -> Result<(), GraphError> {
        let url = self.url("beta", &format!("{ASSIGNMENTS}/{}", segment(id)))?;
        let body = UnifiedRoleAssignment { odata_type: None, id: None, ..assignment.clone() };
        self.send_json(Method::PATCH, url, &body, CallKind::Write).await.map(|_| ())
    }

    pub async fn delete_defender_role_assignment(&self, id: &str) -> Result<(), GraphError> {
        let url = self.url("beta", &format!("{ASSIGNMENTS}/{}", segment(id)))?;
        self.execute(&Call::new(Method::DELETE, url, None, CallKind::Write)).await.map(|_| ())
    }

    /// The `microsoft.xdr/...` actions the tenant has. Defender puts the action in `id` (and words in
    /// `name`); whichever holds a `/` is taken.
    pub async fn list_defender_actions(&self) -> Result<Vec<String>, GraphError> {
        let namespaces: Vec<Value> = self.get_all(self.url("beta", NAMESPACES)?).await?;
        let mut actions: Vec<String> = namespaces
            .iter()
            .filter(|ns| ns.get("id").and_then(Value::as_str).is_some_and(|id| id.eq_ignore_ascii_case(XDR_NAMESPACE)))
            .flat_map(|ns| ns.get("resourceActions").and_then(Value::as_array).cloned().unwrap_or_default())
            .filter_map(|action| {
                ["id", "name"]
                    .iter()
                    .filter_map(|key| action.get(*key).and_then(Value::as_str))
                    .find(|text| text.contains('/'))
                    .map(str::to_string)
            })
            .collect();
        actions.sort();
        actions.dedup();
        Ok(actions)
    }
}
