//! Rollback: what a profile's tenants must have to run a previous revision again — the profile's
//! objects as the previous manifests resolve them, each stamped with the revision it replaces so that
//! the rollout does not bring it back — and which objects that may touch. The CLI reads the previous
//! manifests from git, the operator from the revisions it recorded. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::desired::{DesiredState, TenantDesired};
use crate::model::ObjectRef;

/// A rollback's desired state and scope.
#[derive(Debug, Default)]
pub struct Rollback {
    /// The tenants in scope, each with only the profile's objects (as they were).
    pub desired: DesiredState,
    /// The objects each tenant's rollback may touch: the profile's, then and now.
    pub objects: BTreeMap<String, BTreeSet<ObjectRef>>,
    /// Tenants in scope the previous revision did not deliver the profile to: left as they are.
    pub left_out: Vec<String>,
}

/// What each tenant in scope must have again: the profile's objects as the previous manifests
/// resolve them there, stamped with the revision they replace.
pub fn rollback_state(current: &DesiredState, previous: &DesiredState, profile: &str, scope: &[String]) -> Rollback {
    let mut rollback = Rollback::default();
    for name in scope {
        let Some(now) = current.tenants.iter().find(|t| &t.name == name) else { continue };
        let Some(then) = previous.tenants.iter().find(|t| &t.name == name && t.profiles.iter().any(|p| p == profile))
        else {
            rollback.left_out.push(name.clone());
            continue;
        };
        let mut tenant = only_profile(then, profile);
        let current_objects = only_profile(now, profile);
        let revisions_now = revisions(&current_objects);
        for (object, revision) in revisions(&tenant) {
            if let Some(now) = revisions_now.get(&object).filter(|now| **now != revision) {
                tenant.rolled_back_from.insert(object, now.clone());
            }
        }
        let touched: BTreeSet<ObjectRef> = revisions(&tenant).into_keys().chain(revisions_now.into_keys()).collect();
        rollback.objects.insert(name.clone(), touched);
        // Objects the profile delivers now and did not then are deleted; the prune is narrowed to them.
        tenant.prune_max_delete_percent = Some(100);
        tenant.credentials.clone_from(&now.credentials);
        tenant.manages_roles = now.manages_roles || tenant.manages_roles;
        tenant.manages_defender_roles = now.manages_defender_roles || tenant.manages_defender_roles;
        tenant.manages_detection_rules = now.manages_detection_rules || tenant.manages_detection_rules;
        rollback.desired.tenants.push(tenant);
    }
    rollback
}

/// A tenant's desired state with only the objects one profile delivers, and no rollout.
fn only_profile(tenant: &TenantDesired, profile: &str) -> TenantDesired {
    let mut only = tenant.clone();
    only.policies.retain(|o| o.profile == profile);
    only.roles.retain(|o| o.profile == profile);
    only.defender_roles.retain(|o| o.profile == profile);
    only.detection_rules.retain(|o| o.profile == profile);
    only.waves.clear();
    only
}

/// Each object's revision.
fn revisions(tenant: &TenantDesired) -> BTreeMap<ObjectRef, String> {
    let policies = tenant.policies.iter().map(|o| (o.object.clone(), o.revision.to_string()));
    let roles = tenant.roles.iter().map(|o| (o.object.clone(), o.revision.to_string()));
    let defender = tenant.defender_roles.iter().map(|o| (o.object.clone(), o.revision.to_string()));
    let rules = tenant.detection_rules.iter().map(|o| (o.object.clone(), o.revision.to_string()));
    policies.chain(roles).chain(defender).chain(rules).collect()
}

/// A tenant's whole desired state with one profile's objects as a rollback has them (and the
/// others' as they are now): what the operator plans a tenant pinned to a previous revision from.
pub fn with_rolled_back(current: &TenantDesired, rolled_back: &TenantDesired, profile: &str) -> TenantDesired {
    let mut merged = current.clone();
    merged.policies.retain(|o| o.profile != profile);
    merged.roles.retain(|o| o.profile != profile);
    merged.defender_roles.retain(|o| o.profile != profile);
    merged.detection_rules.retain(|o| o.profile != profile);
    merged.policies.extend(rolled_back.policies.iter().cloned());
    merged.roles.extend(rolled_back.roles.iter().cloned());
    merged.defender_roles.extend(rolled_back.defender_roles.iter().cloned());
    merged.detection_rules.extend(rolled_back.detection_rules.iter().cloned());
    merged.policies.sort_by(|a, b| a.object.cmp(&b.object));
    merged.roles.sort_by(|a, b| a.object.cmp(&b.object));
    merged.defender_roles.sort_by(|a, b| a.object.cmp(&b.object));
    merged.detection_rules.sort_by(|a, b| a.object.cmp(&b.object));
    merged.rolled_back_from.extend(rolled_back.rolled_back_from.clone());
    merged
}
