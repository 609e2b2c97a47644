//! The plan is data: per tenant, per managed object, what would change and why. Renderers turn it into
//! text; `apply` carries it out. Its JSON form is documented and stable (`formatVersion`).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::problem::Problem;
use crate::model::ObjectRef;
use crate::model::profile::Mode;
pub use crate::model::rollout::TenantRollout;
use crate::model::tenant::CredentialsRef;
use crate::wire::rbac::{RoleAssignment, RoleDefinition};
use crate::wire::{AssignmentTarget, ConfigurationPolicy};

/// Version of the JSON document; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 3;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub format_version: u32,
    pub summary: Summary,
    pub tenants: Vec<TenantPlan>,
    /// The rollouts of profiles that roll out in waves: where each stands after this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollouts: Vec<super::rollout::RolloutReport>,
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
    /// Changes an exception in force holds back: neither written nor drift.
    #[serde(default)]
    pub excepted: usize,
    /// Changes a rollout holds for a later run: neither written nor drift.
    #[serde(default)]
    pub waiting: usize,
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
    /// refused mass delete); the affected objects are left alone.
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
    /// Where the tenant's credentials come from (a reference, never a secret), so that a saved plan
    /// is applied with the same credentials it was made with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialsRef>,
    /// Why the tenant is unknown, or what failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// Digest of the observed live state; a saved plan is refused for a tenant whose digest moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub changes: Vec<Change>,
    /// Desired objects already in sync.
    pub unchanged: Vec<ObjectRef>,
    /// Objects without tenantctl's marker: never touched.
    pub unmanaged: usize,
    /// Approval requests tenantctl filed for writes the tenant's Multi Admin Approval holds, not yet
    /// carried out (read for tenants with writes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approval_requests: Vec<ApprovalRequestNote>,
    /// For each selecting profile that rolls out in waves: the tenant's wave, the revision it runs
    /// and the one it gets, and why its changes wait.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollouts: Vec<TenantRollout>,
}

/// An approval request tenantctl filed, as the tenant reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequestNote {
    pub id: String,
    /// `needsApproval`, `approved` (the next apply carries the write out) or `rejected`.
    pub status: String,
    /// What the request asked for: the write (`PUT /beta/…`) and why.
    pub justification: String,
}

/// What happens to one object, without the details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Create,
    Update,
    /// Take over an unmanaged object of the same name (explicit, with `--adopt`).
    Adopt,
    Delete,
}

/// A part of an object that can differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    Name,
    Description,
    Platforms,
    Technologies,
    RoleScopeTagIds,
    TemplateId,
    Settings,
    /// An Intune role's name, description and permissions.
    Definition,
    Assignments,
    /// A detection rule's status (enabled or not).
    Status,
    /// A detection rule's query.
    Query,
    /// A detection rule's schedule.
    Schedule,
    /// A detection rule's alert template.
    Alert,
    /// A detection rule's automated actions and incident settings.
    Actions,
    /// The revision stamp before the ownership marker, when nothing else written carries it.
    Revision,
}

impl Field {
    /// The field named by a key of a comparable form.
    pub fn parse(key: &str) -> Option<Field> {
        serde_json::from_value(Value::String(key.to_string())).ok()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Description => "description",
            Field::Platforms => "platforms",
            Field::Technologies => "technologies",
            Field::RoleScopeTagIds => "roleScopeTagIds",
            Field::TemplateId => "templateId",
            Field::Settings => "settings",
            Field::Definition => "definition",
            Field::Assignments => "assignments",
            Field::Status => "status",
            Field::Query => "query",
            Field::Schedule => "schedule",
            Field::Alert => "alert",
            Field::Actions => "actions",
            Field::Revision => "revision",
        }
    }
}

/// One change to one object of one tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The manifest the object is declared by (and the marker it carries).
    pub object: ObjectRef,
    pub display_name: String,
    /// `audit` changes are drift: reported, never applied.
    pub mode: Mode,
    /// Display-only explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The exception in force that holds the change back: reported, neither written nor drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excepted: Option<Excepted>,
    /// The overrides that shaped what the object is made (for this tenant only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<Overridden>,
    /// The revision the change moves the object to, when it is a new one (a repair of drift keeps
    /// the revision the tenant runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Revised>,
    /// Why the change waits (its rollout wave has not started, the rollout halted, a rollback holds
    /// the tenant): reported, not written, not drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
    /// The revision stamp the write puts before the ownership marker. It is added to the payload as
    /// it is sent, so that the payload stays shared by every tenant that receives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<crate::model::ownership::Stamp>,
    #[serde(flatten)]
    pub operation: Operation,
}

/// A move from one revision to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revised {
    /// The revision the tenant runs; none for a create or an object without a stamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub to: String,
}

/// The exception a change is held back by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Excepted {
    /// `PolicyException/name`.
    pub exception: String,
    pub owner: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The last day it holds.
    pub expires: String,
    /// With `settingsDiffer`: the settings that differ by exception.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<String>,
}

/// An override that shaped an object in one tenant, and what it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overridden {
    /// `PolicyOverride/name`.
    pub r#override: String,
    /// Its edits in words (`append exclusions.paths`), in the order they were made.
    pub edits: Vec<String>,
}

/// The change itself, with what each action needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Operation {
    Create {
        /// The profile that delivers it.
        profile: String,
        /// The object as it will be, in the form users write.
        after: Value,
        /// What `apply` sends (saved plans only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        write: Option<Write>,
    },
    Update(Update),
    Adopt(Update),
    Delete {
        /// Id of the live object.
        id: String,
        /// The object as it is.
        before: Value,
    },
}

/// An update (or an adoption) of a live object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Update {
    pub profile: String,
    /// Id of the live object.
    pub id: String,
    /// Parts that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    pub before: Value,
    pub after: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<Write>,
}

/// What `apply` writes for one object, per family of objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "camelCase")]
pub enum Write {
    ConfigurationPolicy(PolicyPayload),
    IntuneRole(RolePayload),
    /// A detection rule (marker included, id chosen).
    DetectionRule(Box<crate::wire::detection::DetectionRule>),
    /// A Defender XDR role (marker included) and its assignments (groups resolved).
    DefenderRole(Box<DefenderRolePayload>),
}

/// A Defender XDR role definition and its assignments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefenderRolePayload {
    pub definition: crate::wire::defender_rbac::UnifiedRoleDefinition,
    pub assignments: Vec<crate::wire::defender_rbac::UnifiedRoleAssignment>,
}

/// A configuration policy (marker included) and its assignment targets (groups resolved).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyPayload {
    /// Shared by every tenant that receives the policy.
    pub policy: Arc<ConfigurationPolicy>,
    pub targets: Vec<AssignmentTarget>,
}

/// An Intune role definition (marker included) and its assignments (groups resolved).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolePayload {
    pub definition: RoleDefinition,
    pub assignments: Vec<RoleAssignment>,
}

impl Change {
    pub fn action(&self) -> Action {
        match self.operation {
            Operation::Create { .. } => Action::Create,
            Operation::Update(_) => Action::Update,
            Operation::Adopt(_) => Action::Adopt,
            Operation::Delete { .. } => Action::Delete,
        }
    }

    /// Whether `apply` carries this change out.
    pub fn is_write(&self) -> bool {
        self.mode == Mode::Enforce && self.excepted.is_none() && self.waiting.is_none()
    }

    /// The profile that delivers the object (none for deletes).
    pub fn profile(&self) -> Option<&str> {
        match &self.operation {
            Operation::Create { profile, .. } => Some(profile),
            Operation::Update(update) | Operation::Adopt(update) => Some(&update.profile),
            Operation::Delete { .. } => None,
        }
    }

    /// Id of the live object (none for creates).
    pub fn id(&self) -> Option<&str> {
        match &self.operation {
            Operation::Create { .. } => None,
            Operation::Update(update) | Operation::Adopt(update) => Some(&update.id),
            Operation::Delete { id, .. } => Some(id),
        }
    }

    /// Parts that differ (updates and adoptions).
    pub fn fields(&self) -> &[Field] {
        match &self.operation {
            Operation::Update(update) | Operation::Adopt(update) => &update.fields,
            Operation::Create { .. } | Operation::Delete { .. } => &[],
        }
    }

    /// The fields that differ, as a person reads them: `settings, assignments`.
    pub fn fields_text(&self) -> String {
        self.fields().iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
    }

    pub fn before(&self) -> Option<&Value> {
        match &self.operation {
            Operation::Create { .. } => None,
            Operation::Update(update) | Operation::Adopt(update) => Some(&update.before),
            Operation::Delete { before, .. } => Some(before),
        }
    }

    pub fn after(&self) -> Option<&Value> {
        match &self.operation {
            Operation::Create { after, .. } => Some(after),
            Operation::Update(update) | Operation::Adopt(update) => Some(&update.after),
            Operation::Delete { .. } => None,
        }
    }

    pub fn write(&self) -> Option<&Write> {
        match &self.operation {
            Operation::Create { write, .. } => write.as_ref(),
            Operation::Update(update) | Operation::Adopt(update) => update.write.as_ref(),
            Operation::Delete { .. } => None,
        }
    }

    /// The change as it is sent: its payload's description with the stamp (a copy of the payload,
    /// for the time of the write).
    pub fn stamped(&self) -> std::borrow::Cow<'_, Change> {
        let Some(stamp) = &self.stamp else { return std::borrow::Cow::Borrowed(self) };
        let mut change = self.clone();
        if let Some(description) = change.written_description_mut() {
            *description = crate::model::ownership::with_stamp(description, stamp);
        }
        std::borrow::Cow::Owned(change)
    }

    /// The description the change writes (marker and stamp in it).
    fn written_description_mut(&mut self) -> Option<&mut String> {
        let write = match &mut self.operation {
            Operation::Create { write, .. } => write.as_mut(),
            Operation::Update(update) | Operation::Adopt(update) => update.write.as_mut(),
            Operation::Delete { .. } => None,
        }?;
        Some(match write {
            Write::ConfigurationPolicy(payload) => &mut Arc::make_mut(&mut payload.policy).description,
            Write::IntuneRole(role) => &mut role.definition.description,
            Write::DetectionRule(rule) => rule.description.get_or_insert_with(String::new),
            Write::DefenderRole(role) => &mut role.definition.description,
        })
    }

    /// The fields of an update or adoption, to add to.
    pub fn fields_mut(&mut self) -> Option<&mut Vec<Field>> {
        match &mut self.operation {
            Operation::Update(update) | Operation::Adopt(update) => Some(&mut update.fields),
            Operation::Create { .. } | Operation::Delete { .. } => None,
        }
    }

    fn drop_write(&mut self) {
        match &mut self.operation {
            Operation::Create { write, .. } => *write = None,
            Operation::Update(update) | Operation::Adopt(update) => update.write = None,
            Operation::Delete { .. } => {}
        }
    }
}

impl TenantPlan {
    /// The tenant's plan without what apply would send.
    pub fn without_payloads(&self) -> TenantPlan {
        let mut plan = self.clone();
        plan.changes.iter_mut().for_each(Change::drop_write);
        plan
    }

    /// A tenant with nothing planned yet (no changes, no problems).
    pub fn empty(name: &str, tenant_id: &str, state: TenantState) -> TenantPlan {
        TenantPlan {
            name: name.into(),
            tenant_id: tenant_id.into(),
            display_name: name.into(),
            profiles: Vec::new(),
            state,
            credentials: None,
            problems: Vec::new(),
            fingerprint: None,
            changes: Vec::new(),
            unchanged: Vec::new(),
            unmanaged: 0,
            approval_requests: Vec::new(),
            rollouts: Vec::new(),
        }
    }

    /// The changes `apply` carries out.
    pub fn writes(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.is_write())
    }

    /// The problems, as one line.
    pub fn problems_text(&self) -> String {
        self.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    }
}

impl Summary {
    /// Adds one tenant's plan to the totals.
    pub fn count(&mut self, tenant: &TenantPlan) {
        self.tenants += 1;
        match tenant.state {
            TenantState::Unknown => self.unknown_tenants += 1,
            TenantState::Failed => self.failed_tenants += 1,
            TenantState::Planned | TenantState::Suspended => {}
        }
        self.unchanged += tenant.unchanged.len();
        self.unmanaged += tenant.unmanaged;
        for change in &tenant.changes {
            match (change.is_write(), change.action()) {
                (false, _) if change.excepted.is_some() => self.excepted += 1,
                (false, _) if change.waiting.is_some() => self.waiting += 1,
                (false, _) => self.drifted += 1,
                (true, Action::Create) => self.create += 1,
                (true, Action::Update | Action::Adopt) => self.update += 1,
                (true, Action::Delete) => self.delete += 1,
            }
        }
    }

    /// Whether anything would be written or has drifted.
    pub fn has_changes(&self) -> bool {
        self.create + self.update + self.delete + self.drifted > 0
    }
}

impl Plan {
    pub fn new(mut tenants: Vec<TenantPlan>) -> Plan {
        tenants.sort_by(|a, b| a.name.cmp(&b.name));
        let mut summary = Summary::default();
        for tenant in &tenants {
            summary.count(tenant);
        }
        Plan { format_version: FORMAT_VERSION, summary, tenants, rollouts: Vec::new() }
    }

    /// Whether tenants were to be read and none could be: an error, not a partial result.
    /// A short name of the plan, for what its writes leave in tenants (approval requests): a digest
    /// of the plan, so the same changes planned again have the same name.
    pub fn id(&self) -> String {
        let changes: Vec<(&str, &[Change])> = self.tenants.iter().map(|t| (t.name.as_str(), &t.changes[..])).collect();
        let bytes = serde_json::to_vec(&changes).unwrap_or_default();
        let hash = ring::digest::digest(&ring::digest::SHA256, &bytes);
        hash.as_ref().iter().take(6).map(|b| format!("{b:02x}")).collect()
    }

    pub fn nothing_read(&self) -> bool {
        self.summary.unknown_tenants > 0
            && self.tenants.iter().all(|t| matches!(t.state, TenantState::Unknown | TenantState::Suspended))
    }

    /// Whether anything would be written or has drifted.
    pub fn has_changes(&self) -> bool {
        self.summary.has_changes()
    }

    /// The plan without what apply would send (what `--output json` prints; saved plans keep it).
    pub fn without_payloads(&self) -> Plan {
        let mut plan = self.clone();
        for change in plan.tenants.iter_mut().flat_map(|t| t.changes.iter_mut()) {
            change.drop_write();
        }
        plan
    }
}
