//! Every family of tenant objects tenantctl manages is one implementation of [`Managed`]: identity by
//! ownership marker, comparable and display forms, the write payload, and how the family is listed
//! and written through the [`TenantApi`]. Diff, plan, apply and prune are written once, generically,
//! in `diff.rs` and `apply.rs`; the table in [`for_each_family`] is where a new family is added.

pub mod defender_roles;
pub mod detections;
pub mod policies;
pub mod roles;

use std::future::Future;

use serde_json::Value;

use super::api::{Reply, TenantApi};
use super::assignments::GroupsByName;
use super::plan::{Field, Overridden, Write};
use super::resolve::TenantDesired;
use super::respec::Edits;
use crate::model::ObjectRef;
use crate::model::profile::Mode;

pub use defender_roles::{DefenderRoles, LiveDefenderRole};
pub use detections::DetectionRules;
pub use policies::Policies;
pub use roles::{LiveRole, Roles};

/// A tenant's live state: every object of each family that was read, and the groups the desired
/// assignments name.
#[derive(Clone, Debug, Default)]
pub struct LiveTenant {
    pub policies: Vec<crate::wire::ConfigurationPolicy>,
    /// Read when the desired state manages roles.
    pub roles: Option<Vec<LiveRole>>,
    /// Read when the desired state manages Defender roles.
    pub defender_roles: Option<Vec<LiveDefenderRole>>,
    /// The Defender XDR actions the tenant has, read when it receives Defender roles.
    pub defender_actions: Option<std::collections::BTreeSet<String>>,
    /// Read when the desired state manages detection rules.
    pub detection_rules: Option<Vec<crate::wire::detection::DetectionRule>>,
    pub groups: GroupsByName,
    /// Policies (by id) whose settings were not read: their version has not moved since their
    /// settings were seen equal to the desired ones.
    pub settings_in_sync: std::collections::BTreeSet<String>,
}

/// One family of managed objects.
pub trait Managed {
    /// An object as read from the tenant.
    type Live: Clone + Send + Sync;
    /// One object the tenant must have, as resolved from the manifests.
    type Desired;
    /// What apply writes for a desired object in one tenant (groups resolved).
    type Payload: Clone + Send + Sync;

    /// The family's plural, for messages ("policies").
    const NOUN: &'static str;
    /// The family's singular ("policy").
    const ONE: &'static str;
    /// Every part `update` can write: what an adoption writes.
    const FIELDS: &'static [Field];

    /// The tenant's desired objects of this family.
    fn desired(tenant: &TenantDesired) -> &[Self::Desired];
    /// The family's live objects, when it was read.
    fn live(tenant: &LiveTenant) -> Option<&[Self::Live]>;
    /// Group display names the desired objects mention.
    fn group_names(desired: &Self::Desired) -> Vec<String>;

    fn object(desired: &Self::Desired) -> &ObjectRef;
    /// The overrides that shaped the desired object in this tenant.
    fn overrides(desired: &Self::Desired) -> &[Overridden];
    /// The desired object with its spec patched (the tenant's values for settings an exception
    /// lets differ), or why the patched spec is not a valid one.
    fn patched(desired: &Self::Desired, edits: &Edits) -> Result<Self::Desired, Vec<String>>;
    fn profile(desired: &Self::Desired) -> &str;
    fn mode(desired: &Self::Desired) -> Mode;

    /// The desired object's revision in this tenant.
    fn revision(desired: &Self::Desired) -> &str;
    /// The live description: the marker and the revision stamp are in it.
    fn described(live: &Self::Live) -> &str;
    /// Whether an update of these fields writes the description (and so the stamp).
    fn writes_description(fields: &[Field]) -> bool {
        fields.iter().any(|f| *f != Field::Assignments)
    }

    /// The object whose marker the live object carries, when it is of this family.
    fn owner(live: &Self::Live) -> Option<ObjectRef>;
    fn id(live: &Self::Live) -> Option<&str>;
    /// When it was last written, as the tenant says (the families Graph dates): when a tenant got the
    /// revision it runs, or later.
    fn modified(_: &Self::Live) -> Option<&str> {
        None
    }
    /// When it was created, to tell the original from leftover copies.
    fn created(live: &Self::Live) -> Option<&str>;
    fn display_name(live: &Self::Live) -> &str;
    /// Whether an unmarked live object may be counted as unmanaged and adopted (built-ins may not).
    fn is_adoptable(live: &Self::Live) -> bool;

    /// What the desired object asks of the tenant that the tenant does not have (an unknown action…),
    /// each in words; empty when nothing stands in the way.
    fn unknown_in_tenant(_desired: &Self::Desired, _live: &LiveTenant) -> Vec<String> {
        Vec::new()
    }
    /// The payload for this tenant, or why it cannot be built here (missing groups…).
    fn payload(desired: &Self::Desired, groups: &GroupsByName) -> Result<Self::Payload, Vec<String>>;
    fn payload_name(payload: &Self::Payload) -> &str;
    /// The payload for writing over `live`, with what the manifests do not declare kept as `live`
    /// has it, so that an update or an adoption changes only what tenantctl manages.
    fn keep_unmanaged(payload: Self::Payload, _live: &Self::Live) -> Self::Payload {
        payload
    }
    /// Parts of the live object that differ from the payload; empty when in sync. `settings_in_sync`:
    /// the object's settings were not read, its version vouches that they equal the desired ones.
    fn changed(
        desired: &Self::Desired,
        payload: &Self::Payload,
        live: &Self::Live,
        settings_in_sync: bool,
    ) -> Vec<Field>;
    /// The payload in the form users write, for plans.
    fn show_payload(desired: &Self::Desired, payload: &Self::Payload, groups: &GroupsByName) -> Value;
    /// A live object in the form users write, as the object `as_object` would read it.
    fn show_live(as_object: &ObjectRef, live: &Self::Live, groups: &GroupsByName) -> Value;

    fn into_write(payload: Self::Payload) -> Write;
    fn from_write(write: &Write) -> Option<&Self::Payload>;

    /// Lists the family's objects.
    fn list<A: TenantApi>(api: &A) -> impl Future<Output = Reply<Vec<Self::Live>>> + Send;
    /// Creates the object itself (not its assignments); the answer is the object as stored.
    fn create<A: TenantApi>(api: &A, payload: &Self::Payload) -> impl Future<Output = Reply<Self::Live>> + Send;
    /// Completes a create (assignments…): safe to repeat.
    fn complete<A: TenantApi>(api: &A, id: &str, payload: &Self::Payload) -> impl Future<Output = Reply<()>> + Send;
    /// Writes the fields that differ (all of them for an adoption).
    fn update<A: TenantApi>(
        api: &A,
        id: &str,
        payload: &Self::Payload,
        fields: &[Field],
    ) -> impl Future<Output = Reply<()>> + Send;
    fn delete<A: TenantApi>(api: &A, id: &str) -> impl Future<Output = Reply<()>> + Send;
}
