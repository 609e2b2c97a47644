//! Configuration policies (Settings Catalog, endpoint-security templates) as a managed family: the
//! payload is shared across tenants, assignments are resolved per tenant, and a create is completed
//! by assigning.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{LiveTenant, Managed};
use crate::engine::api::{Reply, TenantApi};
use crate::engine::assignments::{GroupsByName, display as display_assignments, resolve_targets, same_targets};
use crate::engine::normalize::Compared;
use crate::engine::plan::{Field, Overridden, PolicyPayload, Write};
use crate::engine::resolve::{DesiredPolicy, TenantDesired};
use crate::engine::respec::Edits;
use crate::mapping;
use crate::model::ownership::split_marker;
use crate::model::profile::Mode;
use crate::model::{ObjectRef, PolicyKind};
use crate::wire::{AssignmentTarget, ConfigurationPolicy};

/// The configuration policies family.
pub struct Policies;

impl Managed for Policies {
    type Live = ConfigurationPolicy;
    type Desired = DesiredPolicy;
    type Payload = PolicyPayload;

    const NOUN: &'static str = "policies";
    const ONE: &'static str = "policy";
    const FIELDS: &'static [Field] = &[Field::Settings, Field::Assignments];

    fn desired(tenant: &TenantDesired) -> &[DesiredPolicy] {
        &tenant.policies
    }

    fn live(tenant: &LiveTenant) -> Option<&[ConfigurationPolicy]> {
        Some(&tenant.policies)
    }

    fn group_names(desired: &DesiredPolicy) -> Vec<String> {
        desired.assignments.groups.iter().chain(&desired.assignments.exclude_groups).cloned().collect()
    }

    fn object(desired: &DesiredPolicy) -> &ObjectRef {
        &desired.object
    }

    fn overrides(desired: &DesiredPolicy) -> &[Overridden] {
        &desired.overridden
    }

    fn patched(desired: &DesiredPolicy, edits: &Edits) -> Result<DesiredPolicy, Vec<String>> {
        desired.patched(edits)
    }

    fn profile(desired: &DesiredPolicy) -> &str {
        &desired.profile
    }

    fn mode(desired: &DesiredPolicy) -> Mode {
        desired.mode
    }

    fn revision(desired: &DesiredPolicy) -> &str {
        &desired.revision
    }

    fn described(live: &ConfigurationPolicy) -> &str {
        &live.description
    }

    fn owner(live: &ConfigurationPolicy) -> Option<ObjectRef> {
        split_marker(&live.description).1.filter(|owner| owner.kind.is_policy())
    }

    fn id(live: &ConfigurationPolicy) -> Option<&str> {
        live.id.as_deref()
    }

    fn modified(live: &ConfigurationPolicy) -> Option<&str> {
        live.last_modified_date_time.as_deref()
    }

    fn created(live: &ConfigurationPolicy) -> Option<&str> {
        live.created_date_time.as_deref()
    }

    fn display_name(live: &ConfigurationPolicy) -> &str {
        &live.name
    }

    fn is_adoptable(_: &ConfigurationPolicy) -> bool {
        true
    }

    fn payload(desired: &DesiredPolicy, groups: &GroupsByName) -> Result<PolicyPayload, Vec<String>> {
        let targets = resolve_targets(&desired.assignments, groups)?;
        Ok(PolicyPayload { policy: Arc::clone(&desired.payload), targets })
    }

    fn payload_name(payload: &PolicyPayload) -> &str {
        &payload.policy.name
    }

    fn keep_unmanaged(payload: PolicyPayload, live: &ConfigurationPolicy) -> PolicyPayload {
        let mut policy = ConfigurationPolicy::clone(&payload.policy);
        // Role scope tags are per-tenant ids no manifest states: a policy keeps the tags it has.
        let tags = !live.role_scope_tag_ids.is_empty() && live.role_scope_tag_ids != policy.role_scope_tag_ids;
        if tags {
            policy.role_scope_tag_ids.clone_from(&live.role_scope_tag_ids);
        }
        let refs = mapping::live_refs::keep_live_refs(&mut policy.settings, &live.settings);
        if tags || refs { PolicyPayload { policy: Arc::new(policy), targets: payload.targets } } else { payload }
    }

    fn changed(
        desired: &DesiredPolicy,
        payload: &PolicyPayload,
        live: &ConfigurationPolicy,
        settings_in_sync: bool,
    ) -> Vec<Field> {
        let mut fields: Vec<Field> = desired
            .compared
            .changed_fields(&Compared::of(live))
            .iter()
            .filter_map(|key| Field::parse(key))
            .filter(|field| !(settings_in_sync && *field == Field::Settings))
            .collect();
        if !same_targets(&payload.targets, live.assignments.as_deref().unwrap_or_default()) {
            fields.push(Field::Assignments);
        }
        fields
    }

    fn show_payload(desired: &DesiredPolicy, payload: &PolicyPayload, groups: &GroupsByName) -> Value {
        display(desired.kind, &payload.policy, &payload.targets, groups)
    }

    fn show_live(as_object: &ObjectRef, live: &ConfigurationPolicy, groups: &GroupsByName) -> Value {
        let kind = PolicyKind::from_kind(as_object.kind).unwrap_or(PolicyKind::SettingsCatalogPolicy);
        let targets: Vec<AssignmentTarget> = live.assignments.iter().flatten().map(|a| a.target.clone()).collect();
        display(kind, live, &targets, groups)
    }

    fn into_write(payload: PolicyPayload) -> Write {
        Write::ConfigurationPolicy(payload)
    }

    fn from_write(write: &Write) -> Option<&PolicyPayload> {
        match write {
            Write::ConfigurationPolicy(payload) => Some(payload),
            Write::IntuneRole(_) | Write::DetectionRule(_) | Write::DefenderRole(_) => None,
        }
    }

    async fn list<A: TenantApi>(api: &A) -> Reply<Vec<ConfigurationPolicy>> {
        api.list_policies().await
    }

    async fn create<A: TenantApi>(api: &A, payload: &PolicyPayload) -> Reply<ConfigurationPolicy> {
        api.create_policy(&payload.policy).await
    }

    async fn complete<A: TenantApi>(api: &A, id: &str, payload: &PolicyPayload) -> Reply<()> {
        // A new policy has no assignments: only targets need a call.
        if payload.targets.is_empty() { Ok(()) } else { api.assign_policy(id, &payload.targets).await }
    }

    async fn update<A: TenantApi>(api: &A, id: &str, payload: &PolicyPayload, fields: &[Field]) -> Reply<()> {
        if fields.iter().any(|f| *f != Field::Assignments) {
            api.update_policy(id, &payload.policy).await?;
        }
        if fields.contains(&Field::Assignments) {
            api.assign_policy(id, &payload.targets).await?;
        }
        Ok(())
    }

    async fn delete<A: TenantApi>(api: &A, id: &str) -> Reply<()> {
        api.delete_policy(id).await
    }
}

/// A policy in the form users write it, for plan diffs: the live Settings Catalog payload read back
/// into its typed kind (the YAML a user would write), falling back to raw settings when it does not
/// fit the kind.
pub fn display(
    kind: PolicyKind,
    policy: &ConfigurationPolicy,
    targets: &[AssignmentTarget],
    groups: &GroupsByName,
) -> Value {
    // Trailing blanks are not compared (the marker follows them), so they are not shown either.
    let (description, _) = split_marker(&policy.description);
    let description = description.trim_end();
    let mut value = mapping::typed_spec(kind, policy, description)
        .or_else(|| mapping::typed_spec(PolicyKind::SettingsCatalogPolicy, policy, description))
        .unwrap_or_else(|| json!({"displayName": policy.name}));
    if let Some(object) = value.as_object_mut() {
        object.insert("assignments".into(), display_assignments(targets, groups));
    }
    value
}
