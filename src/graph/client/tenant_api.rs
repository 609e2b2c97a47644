//! The Graph client as the engine's [`TenantApi`]: each call is the client's own, its error reduced
//! to what the engine decides on (category, ambiguity).

use super::TenantClient;
use super::error::GraphError;
use crate::engine::api::{Access, ApiError, Reply, TenantApi};
use crate::engine::assignments::GroupsByName;
use crate::wire::defender_rbac::{UnifiedRoleAssignment, UnifiedRoleDefinition};
use crate::wire::detection::DetectionRule;
use crate::wire::rbac::{RoleAssignment, RoleDefinition};
use crate::wire::{AssignmentTarget, ConfigurationPolicy, PolicyAssignment};

impl From<GraphError> for ApiError {
    fn from(error: GraphError) -> ApiError {
        ApiError { category: error.category(), ambiguous: error.is_ambiguous(), message: error.to_string() }
    }
}

impl TenantApi for TenantClient {
    async fn access(&self) -> Reply<Access> {
        Ok(TenantClient::access(self).await?)
    }

    async fn list_policies(&self) -> Reply<Vec<ConfigurationPolicy>> {
        Ok(TenantClient::list_policies(self).await?)
    }

    async fn read_policies(&self, ids: &[String]) -> Reply<Vec<ConfigurationPolicy>> {
        Ok(TenantClient::read_policies(self, ids).await?)
    }

    async fn create_policy(&self, policy: &ConfigurationPolicy) -> Reply<ConfigurationPolicy> {
        Ok(TenantClient::create_policy(self, policy).await?)
    }

    async fn update_policy(&self, id: &str, policy: &ConfigurationPolicy) -> Reply<()> {
        Ok(TenantClient::update_policy(self, id, policy).await?)
    }

    async fn delete_policy(&self, id: &str) -> Reply<()> {
        Ok(TenantClient::delete_policy(self, id).await?)
    }

    async fn assign_policy(&self, id: &str, targets: &[AssignmentTarget]) -> Reply<()> {
        let assignments = targets.iter().map(|target| PolicyAssignment { id: None, target: target.clone() }).collect();
        self.assign(id, assignments).await?;
        Ok(())
    }

    async fn find_groups(&self, names: &[String]) -> Reply<GroupsByName> {
        Ok(TenantClient::find_groups(self, names).await?)
    }

    async fn list_role_definitions(&self) -> Reply<Vec<RoleDefinition>> {
        Ok(TenantClient::list_role_definitions(self).await?)
    }

    async fn list_role_assignments(&self) -> Reply<Vec<RoleAssignment>> {
        Ok(TenantClient::list_role_assignments(self).await?)
    }

    async fn create_role_definition(&self, role: &RoleDefinition) -> Reply<RoleDefinition> {
        Ok(TenantClient::create_role_definition(self, role).await?)
    }

    async fn update_role_definition(&self, id: &str, role: &RoleDefinition) -> Reply<()> {
        Ok(TenantClient::update_role_definition(self, id, role).await?)
    }

    async fn delete_role_definition(&self, id: &str) -> Reply<()> {
        Ok(TenantClient::delete_role_definition(self, id).await?)
    }

    async fn create_role_assignment(&self, role_id: &str, assignment: &RoleAssignment) -> Reply<RoleAssignment> {
        let bound =
            RoleAssignment { role_definition_bind: Some(self.role_definition_bind(role_id)?), ..assignment.clone() };
        Ok(TenantClient::create_role_assignment(self, &bound).await?)
    }

    async fn update_role_assignment(&self, id: &str, assignment: &RoleAssignment) -> Reply<()> {
        Ok(TenantClient::update_role_assignment(self, id, assignment).await?)
    }

    async fn delete_role_assignment(&self, id: &str) -> Reply<()> {
        Ok(TenantClient::delete_role_assignment(self, id).await?)
    }

    async fn list_detection_rules(&self) -> Reply<Vec<DetectionRule>> {
        Ok(TenantClient::list_detection_rules(self).await?)
    }

    async fn get_detection_rule(&self, id: &str) -> Reply<Option<DetectionRule>> {
        Ok(TenantClient::get_detection_rule(self, id).await?)
    }

    async fn create_detection_rule(&self, rule: &DetectionRule) -> Reply<DetectionRule> {
        Ok(TenantClient::create_detection_rule(self, rule).await?)
    }

    async fn update_detection_rule(&self, id: &str, rule: &DetectionRule) -> Reply<()> {
        Ok(TenantClient::update_detection_rule(self, id, rule).await?)
    }

    async fn delete_detection_rule(&self, id: &str) -> Reply<()> {
        Ok(TenantClient::delete_detection_rule(self, id).await?)
    }

    async fn list_defender_role_definitions(&self) -> Reply<Vec<UnifiedRoleDefinition>> {
        Ok(TenantClient::list_defender_role_definitions(self).await?)
    }

    async fn list_defender_role_assignments(&self) -> Reply<Vec<UnifiedRoleAssignment>> {
        Ok(TenantClient::list_defender_role_assignments(self).await?)
    }

    async fn create_defender_role_definition(&self, role: &UnifiedRoleDefinition) -> Reply<UnifiedRoleDefinition> {
        Ok(TenantClient::create_defender_role_definition(self, role).await?)
    }

    async fn update_defender_role_definition(&self, id: &str, role: &UnifiedRoleDefinition) -> Reply<()> {
        Ok(TenantClient::update_defender_role_definition(self, id, role).await?)
    }

    async fn delete_defender_role_definition(&self, id: &str) -> Reply<()> {
        Ok(TenantClient::delete_defender_role_definition(self, id).await?)
    }

    async fn create_defender_role_assignment(
        &self,
        assignment: &UnifiedRoleAssignment,
    ) -> Reply<UnifiedRoleAssignment> {
        Ok(TenantClient::create_defender_role_assignment(self, assignment).await?)
    }

    async fn update_defender_role_assignment(&self, id: &str, assignment: &UnifiedRoleAssignment) -> Reply<()> {
        Ok(TenantClient::update_defender_role_assignment(self, id, assignment).await?)
    }

    async fn delete_defender_role_assignment(&self, id: &str) -> Reply<()> {
        Ok(TenantClient::delete_defender_role_assignment(self, id).await?)
    }

    async fn list_defender_actions(&self) -> Reply<Vec<String>> {
        Ok(TenantClient::list_defender_actions(self).await?)
    }
}
