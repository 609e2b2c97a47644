//! The plan is data: per tenant, per policy, what would change and why. Renderers turn it into text;
//! `apply` carries it out. Its JSON form is documented and stable (`formatVersion`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::graph::wire::{AssignmentTarget, ConfigurationPolicy};
use crate::graph::wire_rbac::{RoleAssignment, RoleDefinition};
use crate::model::profile::Mode;

/// Version of the JSON document; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub format_version: u32,
    pub summary: Summary,
    pub tenants: Vec<TenantPlan>,
}

/// Totals across tenants. `create`/`update`/`delete` are what `apply` will do; differences in
/// audit-mode profiles are counted as `drifted` and never written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub unchanged: usize,
    pub drifted: usize,
    pub unmanaged: usize,
    pub tenants: usize,
    pub unknown_tenants: usize,
    pub failed_tenants: usize,
}

/// What a tenant's plan rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TenantState {
    /// Observed; `changes` say what differs.
    Planned,
    /// Could not be read: no writes, no drift verdict.
    Unknown,
    /// `spec.suspend`: neither read nor written.
    Suspended,
    /// Observed, but some desired state cannot be built (a missing group, an ambiguous adoption, a
    /// refused mass delete); the affected policies are left alone.
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantPlan {
    /// `metadata.name` of the Tenant.
    pub name: String,
    pub tenant_id: String,
    pub display_name: String,
    pub profiles: Vec<String>,
    pub state: TenantState,
    /// Why the tenant is unknown, or what failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Digest of the observed live state; a saved plan is refused for a tenant whose digest moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub changes: Vec<Change>,
    /// Desired policies already in sync.
    pub unchanged: Vec<String>,
    /// Policies without tenantctl's marker: never touched.
    pub unmanaged: usize,
}

/// What happens to one policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Create,
    Update,
    /// Take over an unmanaged policy of the same name (explicit, with `--adopt`).
    Adopt,
    Delete,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub action: Action,
    /// `Kind/name` of the policy.
    pub policy: String,
    pub display_name: String,
    /// The profile that delivers it (none for deletes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// `audit` changes are drift: reported, never applied.
    pub mode: Mode,
    /// Id of the live policy, for updates, adoptions and deletes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Top-level fields that differ (`settings`, `assignments`, `description`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// The policy as it is, in the form users write (absent for creates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The policy as it will be (absent for deletes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// Display-only explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What `apply` sends: the full policy payload (saved plans only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<ConfigurationPolicy>,
    /// What `apply` assigns (saved plans only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<AssignmentTarget>>,
    /// For an Intune role: what `apply` writes (saved plans only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleWrite>,
}

/// The writes of one Intune role change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleWrite {
    /// The definition as Graph will hold it, marker included (absent for deletes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<RoleDefinition>,
    /// The assignments as Graph will hold them, groups resolved to ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignments: Vec<RoleAssignment>,
    /// The role's live assignments, to update by name or delete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub live_assignments: Vec<RoleAssignment>,
}

impl Change {
    /// Whether `apply` carries this change out.
    pub fn is_write(&self) -> bool {
        self.mode == Mode::Enforce
    }
}

impl Plan {
    pub fn new(mut tenants: Vec<TenantPlan>) -> Plan {
        tenants.sort_by(|a, b| a.name.cmp(&b.name));
        let mut summary = Summary { tenants: tenants.len(), ..Summary::default() };
        for tenant in &tenants {
            match tenant.state {
                TenantState::Unknown => summary.unknown_tenants += 1,
                TenantState::Failed => summary.failed_tenants += 1,
                TenantState::Planned | TenantState::Suspended => {}
            }
            summary.unchanged += tenant.unchanged.len();
            summary.unmanaged += tenant.unmanaged;
            for change in &tenant.changes {
                match (change.is_write(), change.action) {
                    (false, _) => summary.drifted += 1,
                    (true, Action::Create) => summary.create += 1,
                    (true, Action::Update | Action::Adopt) => summary.update += 1,
                    (true, Action::Delete) => summary.delete += 1,
                }
            }
        }
        Plan { format_version: FORMAT_VERSION, summary, tenants }
    }

    /// Whether anything would be written or has drifted.
    pub fn has_changes(&self) -> bool {
        let s = &self.summary;
        s.create + s.update + s.delete + s.drifted > 0
    }

    /// The plan without payloads (what `--output json` prints; saved plans keep them).
    pub fn without_payloads(&self) -> Plan {
        let mut plan = self.clone();
        for change in plan.tenants.iter_mut().flat_map(|t| t.changes.iter_mut()) {
            change.payload = None;
            change.targets = None;
            change.role = None;
        }
        plan
    }
}
