//! What each tenant must have, as resolved from the manifests: the objects of every family, each
//! in the form apply writes and in the form users write, with the overrides that shaped it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::normalize::{Compared, comparable};
use super::plan::Overridden;
use super::respec::{Edits, patch_policy, patch_spec};
use super::revision::revision_of;
use crate::manifest::PolicyResource;
use crate::mapping::{self, MappingError};
use crate::model::defender_role::DefenderRoleSpec;
use crate::model::detection::DetectionRuleSpec;
use crate::model::exception::Allowance;
use crate::model::ownership::description_with_marker;
use crate::model::profile::{Assignments, Mode};
use crate::model::role::IntuneRoleSpec;
use crate::model::tenant::CredentialsRef;
use crate::model::{ObjectRef, PolicyKind};
use crate::wire::ConfigurationPolicy;

/// What every tenant must have.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DesiredState {
    /// Sorted by namespace, then name.
    pub tenants: Vec<TenantDesired>,
    /// The rollouts of the profiles that roll out in waves, by namespace and profile name.
    pub rollouts: BTreeMap<(String, String), ProfileRollout>,
}

/// A profile's rollout and every tenant in it, whether or not this run reads them (`--tenant`
/// narrows what is read, not what a wave waits for).
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileRollout {
    pub rollout: Arc<crate::model::rollout::Rollout>,
    /// Each tenant (not suspended) the profile selects, by name, with its wave (0-based).
    pub members: BTreeMap<String, usize>,
}

/// What one tenant must have.
#[derive(Clone, Debug, PartialEq)]
pub struct TenantDesired {
    pub name: String,
    pub namespace: String,
    pub tenant_id: String,
    pub display_name: String,
    /// Where its credentials come from, when not the runtime's default.
    pub credentials: Option<CredentialsRef>,
    /// Suspended tenants are neither read nor written.
    pub suspended: bool,
    /// Profiles that select the tenant, sorted.
    pub profiles: Vec<String>,
    /// Sorted by reference.
    pub policies: Vec<DesiredPolicy>,
    /// Intune roles, sorted by name.
    pub roles: Vec<DesiredRole>,
    /// Whether the tenant's roles are read: it receives roles, or it prunes where roles exist.
    pub manages_roles: bool,
    /// Exceptions in force for the tenant, by the object they are about.
    pub exceptions: Vec<ActiveException>,
    /// Exceptions that covered the tenant and expired: their objects are enforced again. Told, not
    /// acted on.
    pub expired_exceptions: Vec<ActiveException>,
    /// Defender XDR roles, sorted by name.
    pub defender_roles: Vec<DesiredDefenderRole>,
    /// Whether the tenant's Defender roles are read: it receives some, or it prunes where they exist
    /// (then only where the app may read them, as detection rules).
    pub manages_defender_roles: bool,
    /// Defender custom detection rules, sorted by name.
    pub detection_rules: Vec<DesiredDetectionRule>,
    /// Whether the tenant's detection rules are read: it receives some, or it prunes where rules
    /// exist. A tenant that only prunes reads them when the app may: one the app may not read has
    /// none of tenantctl's to prune, and its policies are not held back for a permission it does not
    /// need.
    pub manages_detection_rules: bool,
    /// Set when a selecting profile in enforce mode prunes: owned policies no longer desired are
    /// deleted, within this share of the tenant's owned policies.
    pub prune_max_delete_percent: Option<u32>,
    /// For a rollback: the revision each object is rolled back from, written into its stamp so that
    /// the rollout does not bring it back.
    pub rolled_back_from: BTreeMap<ObjectRef, String>,
    /// The rollout wave of the tenant in each selecting profile that rolls out in waves.
    pub waves: Vec<WaveSeat>,
}

/// A tenant's place in a profile's rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaveSeat {
    pub profile: String,
    /// 0-based position of the wave.
    pub index: usize,
    pub name: String,
}

/// One policy one tenant must have.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredPolicy {
    pub object: ObjectRef,
    pub kind: PolicyKind,
    /// The profile that delivers it (the first by name when several deliver it identically).
    pub profile: String,
    pub mode: Mode,
    /// Assignment intent; groups are display names, resolved per tenant when observed.
    pub assignments: Assignments,
    /// The policy as Graph will hold it, marker included, without server-owned fields. Shared by
    /// every tenant that receives the policy: a thousand tenants need one copy, not a thousand.
    pub payload: Arc<ConfigurationPolicy>,
    /// `payload` as [`comparable`] puts it: computed once per policy rather than once per tenant
    /// that is planned.
    pub comparable: Arc<Value>,
    /// `payload` in the form a live policy is compared with ([`Compared`]), computed once.
    pub compared: Arc<Compared>,
    /// The digest of its settings ([`Compared::settings_digest`]), to tell a live policy whose
    /// settings were seen equal at its current version without reading them again.
    pub settings_digest: Arc<str>,
    /// The manifest the payload is rendered from (with the tenant's overrides applied), to render
    /// it again with a patch.
    pub resource: Arc<PolicyResource>,
    /// The content hash of what is written: the rendered policy and its assignments.
    pub revision: Arc<str>,
    pub overridden: Vec<Overridden>,
}

/// One Intune role one tenant must have.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredRole {
    /// `IntuneRole/name`.
    pub object: ObjectRef,
    /// The profile that delivers it (the first by name when several do).
    pub profile: String,
    pub mode: Mode,
    pub spec: Arc<IntuneRoleSpec>,
    /// The content hash of `spec`.
    pub revision: Arc<str>,
    pub overridden: Vec<Overridden>,
}

/// An exception in force for one tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveException {
    /// `PolicyException/name`.
    pub name: String,
    pub object: ObjectRef,
    pub allow: Allowance,
    /// The settings that may differ (dotted paths in the spec), for `settingsDiffer`.
    pub settings: Vec<String>,
    pub owner: String,
    pub reason: String,
    pub ticket: Option<String>,
    /// The last day it holds.
    pub expires: String,
}

/// One Defender XDR role one tenant must have.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredDefenderRole {
    /// `DefenderRole/name`.
    pub object: ObjectRef,
    /// The profile that delivers it (the first by name when several do).
    pub profile: String,
    pub mode: Mode,
    pub spec: Arc<DefenderRoleSpec>,
    /// The content hash of `spec`.
    pub revision: Arc<str>,
    pub overridden: Vec<Overridden>,
}

/// One custom detection rule one tenant must have.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredDetectionRule {
    /// `DetectionRule/name`.
    pub object: ObjectRef,
    /// The profile that delivers it (the first by name when several do).
    pub profile: String,
    pub mode: Mode,
    /// The id the rule has in this tenant, chosen by tenantctl: the same for every attempt, so a
    /// create whose answer was lost is found, or refused as a duplicate, never made twice.
    pub id: String,
    pub spec: Arc<DetectionRuleSpec>,
    /// The content hash of `spec`.
    pub revision: Arc<str>,
    pub overridden: Vec<Overridden>,
}

impl DesiredPolicy {
    /// The policy with its spec patched and rendered again; everything else as it is.
    pub fn patched(&self, edits: &Edits) -> Result<DesiredPolicy, Vec<String>> {
        let resource = patch_policy(&self.resource, edits)?;
        let (payload, comparable, compared, settings_digest) = rendered_forms(&resource).map_err(|errors| {
            errors.into_iter().map(|e| format!("spec.{}: {}", e.setting, e.message)).collect::<Vec<_>>()
        })?;
        let revision = policy_revision(&comparable, &self.assignments);
        Ok(DesiredPolicy {
            resource: Arc::new(resource),
            payload,
            comparable,
            compared,
            settings_digest,
            revision,
            ..self.clone()
        })
    }
}

impl DesiredRole {
    /// The role with its spec patched.
    pub fn patched(&self, edits: &Edits) -> Result<DesiredRole, Vec<String>> {
        let spec: IntuneRoleSpec = patch_spec(&*self.spec, edits)?;
        Ok(DesiredRole { revision: revision_of(&spec), spec: Arc::new(spec), ..self.clone() })
    }
}

impl DesiredDefenderRole {
    /// The role with its spec patched.
    pub fn patched(&self, edits: &Edits) -> Result<DesiredDefenderRole, Vec<String>> {
        let spec: DefenderRoleSpec = patch_spec(&*self.spec, edits)?;
        Ok(DesiredDefenderRole { revision: revision_of(&spec), spec: Arc::new(spec), ..self.clone() })
    }
}

impl DesiredDetectionRule {
    /// The rule with its spec patched and checked as a manifest's would be.
    pub fn patched(&self, edits: &Edits) -> Result<DesiredDetectionRule, Vec<String>> {
        let spec: DetectionRuleSpec = patch_spec(&*self.spec, edits)?;
        let errors: Vec<String> = crate::manifest::detection_checks::problems(&spec)
            .into_iter()
            .filter(|p| !p.warning)
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(DesiredDetectionRule { revision: revision_of(&spec), spec: Arc::new(spec), ..self.clone() })
    }
}

/// A policy's revision: its rendered form as compared (settings, names, description) and its
/// assignment intent.
pub fn policy_revision(comparable: &Value, assignments: &Assignments) -> Arc<str> {
    revision_of(&(comparable, assignments))
}

/// A policy's payload as Graph will hold it (marker included), that payload as a revision hashes it
/// and as planning compares it, and the digest of its settings.
pub type RenderedForms = (Arc<ConfigurationPolicy>, Arc<Value>, Arc<Compared>, Arc<str>);

/// Renders a policy to the forms planning compares.
pub fn rendered_forms(resource: &PolicyResource) -> Result<RenderedForms, Vec<MappingError>> {
    let description = description_with_marker(resource.description(), &ObjectRef::from(&resource.reference()));
    let payload = match resource {
        PolicyResource::Typed(p) => mapping::template::to_wire(p.table(), &p.spec, &description),
        PolicyResource::SettingsCatalog(p) => mapping::settings_catalog::to_wire(&p.spec, &description)?,
    };
    let compared = Compared::of(&payload);
    let digest = Arc::from(compared.settings_digest());
    let revised = Arc::new(comparable(&payload));
    Ok((Arc::new(payload), revised, Arc::new(compared), digest))
}

/// A desired object that an override can patch: each family's desired type.
pub trait Patchable: Clone {
    fn object(&self) -> &ObjectRef;
    /// The object with its spec patched, or what is wrong with the patched spec.
    fn patched(&self, edits: &Edits) -> Result<Self, Vec<String>>;
    /// This tenant's object with the content (spec and its rendered forms) of `patched`, an object
    /// patched alike for another tenant: one rendering serves every tenant an override covers.
    fn with_content_of(&self, patched: &Self) -> Self;
    fn set_overridden(&mut self, overridden: Vec<Overridden>);
}

macro_rules! patchable {
    ($($ty:ty => $($content:ident),+;)*) => {$(
        impl Patchable for $ty {
            fn object(&self) -> &ObjectRef {
                &self.object
            }

            fn patched(&self, edits: &Edits) -> Result<Self, Vec<String>> {
                <$ty>::patched(self, edits)
            }

            fn with_content_of(&self, patched: &Self) -> Self {
                Self { $($content: patched.$content.clone(),)+ ..self.clone() }
            }

            fn set_overridden(&mut self, overridden: Vec<Overridden>) {
                self.overridden = overridden;
            }
        }
    )*};
}

patchable! {
    DesiredPolicy => payload, comparable, compared, settings_digest, resource, revision;
    DesiredRole => spec, revision;
    DesiredDefenderRole => spec, revision;
    DesiredDetectionRule => spec, revision;
}
