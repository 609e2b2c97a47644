//! Status written by the operator. Conditions follow Kubernetes semantics: `lastTransitionTime` moves
//! only when `status` flips.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PolicyRef;

/// Observed state of a Tenant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantStatus {
    /// The `metadata.generation` this status reflects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Synced`, `Drifted`, `Conflict`, and kstatus' `Reconciling` (writes in flight) and
    /// `Stalled` (only a change of the resources can help), with reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// Digest of what the last reconcile planned from (the profiles, policies and roles that apply to
    /// this tenant); `Ready` speaks of these inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_inputs: Option<String>,
    /// Sync state of every policy this tenant receives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicySyncStatus>,
    /// Sync state of every detection rule this tenant receives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detection_rules: Vec<DetectionRuleSyncStatus>,
    /// When the tenant was last observed and reconciled successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<Time>,
    /// Active high-severity incidents, read when a NotificationPolicy asks to hear about them (absent
    /// until then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incidents: Option<Vec<IncidentSummary>>,
    /// The exceptions that cover the tenant, in force or expired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<ExceptionStatus>,
    /// Where the tenant stands in the rollouts of its profiles: wave, the revision it runs and the
    /// one it gets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollouts: Vec<super::rollout::TenantRollout>,
    /// The operator replica that reconciled the tenant last (its identity, the pod name in a cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciled_by: Option<String>,
}

/// An exception that covers a tenant: in force, or expired (its object is enforced again).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionStatus {
    /// `metadata.name` of the PolicyException.
    pub name: String,
    /// The excepted object, `Kind/name`.
    pub target: String,
    /// What it allows: `leaveAlone`, `settingsDiffer` or `keepOnPrune`.
    pub allow: String,
    pub owner: String,
    /// The last day it holds.
    pub expires: String,
    /// Whether it still holds.
    pub in_force: bool,
}

/// An incident, as much of it as a notification needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncidentSummary {
    pub id: String,
    pub display_name: String,
    pub severity: String,
    pub status: String,
}

/// Sync state of one policy in one tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicySyncStatus {
    /// The policy, as `kind` + `name`.
    pub policy: PolicyRef,
    /// Profile that delivers it.
    pub profile: String,
    /// Id of the policy in the tenant, once it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_id: Option<String>,
    /// Current state.
    pub state: PolicySyncState,
    /// Human-readable detail (what changed, why it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Sync state of one detection rule in one tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DetectionRuleSyncStatus {
    /// `metadata.name` of the DetectionRule.
    pub rule: String,
    /// Profile that delivers it.
    pub profile: String,
    /// Id of the rule in the tenant, once it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_id: Option<String>,
    pub state: PolicySyncState,
    /// Human-readable detail (what changed, why it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

// Sync state of one policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PolicySyncState {
    /// Live state equals desired state.
    InSync,
    /// Created during the last reconcile.
    Created,
    /// Updated during the last reconcile.
    Updated,
    /// Differs from desired state and was not changed (audit mode).
    Drifted,
    /// The last write failed.
    Failed,
    /// The tenant could not be read; state unknown.
    Unknown,
    /// An exception in force holds the difference back (PolicyException).
    Excepted,
    /// The write waits for an approver (the tenant's Multi Admin Approval); the next sync carries it
    /// out once approved.
    AwaitingApproval,
    /// A new revision waits for the tenant's rollout wave (or a rollback holds the tenant off it).
    Waiting,
}

/// Aggregated state of a DistributionProfile across the tenants it selects.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DistributionProfileStatus {
    /// The `metadata.generation` this status reflects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Conflict`, … with reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// Tenants the profile selects.
    #[serde(default)]
    pub tenants_matched: u32,
    /// Selected tenants whose policies from this profile are in sync.
    #[serde(default)]
    pub tenants_in_sync: u32,
    /// Selected tenants that drifted (audit mode, or not yet repaired).
    #[serde(default)]
    pub tenants_drifted: u32,
    /// Selected tenants whose last reconcile failed or that are unreachable.
    #[serde(default)]
    pub tenants_failed: u32,
    /// The rollout in waves, when the profile has one: the wave it is at, the revision, and why it
    /// waits or halted. Tenants write a new revision only as this says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<super::rollout::RolloutReport>,
}
