//! The engine's one door to a tenant: every read observation needs and every write apply makes.
//! The Graph client implements it over HTTP; unit tests use an in-memory tenant. Nothing in the engine
//! knows which one it talks to.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;

use super::assignments::GroupsByName;
use crate::wire::defender_rbac::{UnifiedRoleAssignment, UnifiedRoleDefinition};
use crate::wire::detection::DetectionRule;
use crate::wire::rbac::{RoleAssignment, RoleDefinition};
use crate::wire::{AssignmentTarget, ConfigurationPolicy};

/// A refused or failed call, as the engine needs to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// Stable category (`throttled`, `forbidden`, `network`, …): metric label and JSON field.
    pub category: &'static str,
    /// The call may have taken effect although no answer says so (a lost response, a timeout): a
    /// create must be looked for before it is tried again.
    pub ambiguous: bool,
    pub message: String,
}

/// The category of a write held for Multi Admin Approval: not a failure, and not to be retried
/// until an approver has decided.
pub const AWAITING_APPROVAL: &str = "awaiting-approval";

impl ApiError {
    pub fn new(category: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { category, ambiguous: false, message: message.into() }
    }
}

impl ApiError {
    pub fn is_awaiting_approval(&self) -> bool {
        self.category == AWAITING_APPROVAL
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// What a call answers.
pub type Reply<T> = Result<T, ApiError>;

/// The category of a call Graph refused for want of a permission or role (403).
pub const FORBIDDEN: &str = "forbidden";

/// The category of a create Graph refused because what it would make exists already (409).
pub const CONFLICT: &str = "conflict";

/// The category of a call refused ahead because the app lacks a permission it needs.
pub const MISSING_PERMISSION: &str = "missing-permission";

/// What the app holds in a tenant, as its token says: the application permissions (the `roles`
/// claim) when the token can be read, and where an admin of the tenant consents to the app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// `None` when the token does not say (an opaque token): nothing is checked ahead, and Graph's
    /// own answer decides.
    pub granted: Option<BTreeSet<String>>,
    pub consent_url: Option<String>,
}

/// One tenant's objects, as the engine reads and writes them.
pub trait TenantApi: Sync {
    /// What the app may do in the tenant (getting a token when there is none yet): a tenant that
    /// issues no token answers the token endpoint's refusal.
    fn access(&self) -> impl Future<Output = Reply<Access>> + Send;
    /// Every configuration policy with its assignments and version (`lastModifiedDateTime`,
    /// `settingCount`), without its settings (Graph's list: one call per 1000 policies).
    fn list_policies(&self) -> impl Future<Output = Reply<Vec<ConfigurationPolicy>>> + Send;
    /// The policies of these ids with their settings; one deleted since it was listed is left out.
    fn read_policies(&self, ids: &[String]) -> impl Future<Output = Reply<Vec<ConfigurationPolicy>>> + Send;
    /// Creates a policy; the answer is the policy as stored, with its id.
    fn create_policy(&self, policy: &ConfigurationPolicy) -> impl Future<Output = Reply<ConfigurationPolicy>> + Send;
    fn update_policy(&self, id: &str, policy: &ConfigurationPolicy) -> impl Future<Output = Reply<()>> + Send;
    fn delete_policy(&self, id: &str) -> impl Future<Output = Reply<()>> + Send;
    /// Replaces the policy's assignments with these targets.
    fn assign_policy(&self, id: &str, targets: &[AssignmentTarget]) -> impl Future<Output = Reply<()>> + Send;
    /// Groups by display name, for the names asked (a name may match none or several).
    fn find_groups(&self, names: &[String]) -> impl Future<Output = Reply<GroupsByName>> + Send;

    fn list_role_definitions(&self) -> impl Future<Output = Reply<Vec<RoleDefinition>>> + Send;
    /// Every role assignment, with its role definition's id.
    fn list_role_assignments(&self) -> impl Future<Output = Reply<Vec<RoleAssignment>>> + Send;
    fn create_role_definition(&self, role: &RoleDefinition) -> impl Future<Output = Reply<RoleDefinition>> + Send;
    fn update_role_definition(&self, id: &str, role: &RoleDefinition) -> impl Future<Output = Reply<()>> + Send;
    fn delete_role_definition(&self, id: &str) -> impl Future<Output = Reply<()>> + Send;
    /// Creates an assignment of the role definition `role_id`.
    fn create_role_assignment(
        &self,
        role_id: &str,
        assignment: &RoleAssignment,
    ) -> impl Future<Output = Reply<RoleAssignment>> + Send;
    fn update_role_assignment(&self, id: &str, assignment: &RoleAssignment) -> impl Future<Output = Reply<()>> + Send;
    fn delete_role_assignment(&self, id: &str) -> impl Future<Output = Reply<()>> + Send;

    fn list_defender_role_definitions(&self) -> impl Future<Output = Reply<Vec<UnifiedRoleDefinition>>> + Send;
    fn list_defender_role_assignments(&self) -> impl Future<Output = Reply<Vec<UnifiedRoleAssignment>>> + Send;
    fn create_defender_role_definition(
        &self,
        role: &UnifiedRoleDefinition,
    ) -> impl Future<Output = Reply<UnifiedRoleDefinition>> + Send;
    fn update_defender_role_definition(
        &self,
        id: &str,
        role: &UnifiedRoleDefinition,
    ) -> impl Future<Output = Reply<()>> + Send;
    fn delete_defender_role_definition(&self, id: &str) -> impl Future<Output = Reply<()>> + Send;
    fn create_defender_role_assignment(
        &self,
        assignment: &UnifiedRoleAssignment,
    ) -> impl Future<Output = Reply<UnifiedRoleAssignment>> + Send;
    fn update_defender_role_assignment(
        &self,
        id: &str,
        assignment: &UnifiedRoleAssignment,
    ) -> impl Future<Output = Reply<()>> + Send;
    fn delete_defender_role_assignment(&self, id: &str) -> impl Future<Output = Reply<()>> + Send;
    /// The Defender XDR actions that exist in the tenant (`microsoft.xdr/...`).
    fn list_defender_actions(&self) -> impl Future<Output = Reply<Vec<String>>> + Send;

    fn list_detection_rules(&self) -> impl Future<Output = Reply<Vec<DetectionRule>>> + Send;
    /// The rule of this id, `None` when there is none.
    fn get_detection_rule(&self, id: &str) -> impl Future<Output = Reply<Option<DetectionRule>>> + Send;
    /// Creates a rule under the id it carries; a rule of that id or name that exists already is a
    /// refusal of category `conflict`.
    fn create_detection_rule(&self, rule: &DetectionRule) -> impl Future<Output = Reply<DetectionRule>> + Send;
    fn update_detection_rule(&self, id: &str, rule: &DetectionRule) -> impl Future<Output = Reply<()>> + Send;
    fn delete_detection_rule(&self, id: &str) -> impl Future<Output = Reply<()>> + Send;
}
