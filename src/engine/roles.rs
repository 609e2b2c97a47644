//! Intune roles in the plan: desired roles (definition and assignments, groups named by display name)
//! against the live role definitions tenantctl owns (by marker) and their assignments. Creates,
//! updates and, when a profile prunes, deletes — the same ownership and prune rules as policies.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::assignments::GroupsByName;
use super::diff::PlanOptions;
use super::ownership::{role_description, split_role_marker};
use super::plan::{Action, Change, RoleWrite, TenantPlan};
use super::resolve::{DesiredRole, TenantDesired};
use crate::graph::wire_rbac::{
    ROLE_ASSIGNMENT_TYPE, ROLE_DEFINITION_TYPE, ResourceAction, RoleAssignment, RoleDefinition, RolePermission,
};
use crate::model::profile::Mode;

/// A tenant's live roles.
#[derive(Clone, Debug, Default)]
pub struct LiveRoles {
    pub definitions: Vec<RoleDefinition>,
    /// With their role definition expanded.
    pub assignments: Vec<RoleAssignment>,
}

/// Every group name the desired roles mention, to look up with the policies' groups.
pub fn group_names(desired: &TenantDesired) -> BTreeSet<String> {
    desired
        .roles
        .iter()
        .flat_map(|r| r.spec.assignments.iter())
        .flat_map(|a| a.members.iter().chain(&a.scope_groups))
        .cloned()
        .collect()
}

/// Group names to ids; every problem (missing or ambiguous group) reported.
fn group_ids(names: &[String], groups: &GroupsByName, problems: &mut Vec<String>) -> Vec<String> {
    let mut ids = Vec::new();
    for name in names {
        match groups.get(name).map(Vec::as_slice) {
            Some([group]) => ids.push(group.id.clone()),
            Some([]) | None => problems.push(format!("group `{name}` does not exist in the tenant")),
            Some(several) => problems.push(format!("{} groups are named `{name}`", several.len())),
        }
    }
    ids.sort();
    ids
}

/// The definition and assignments Graph must hold for a desired role.
fn desired_write(role: &DesiredRole, groups: &GroupsByName) -> Result<RoleWrite, Vec<String>> {
    let spec = &role.spec;
    let definition = RoleDefinition {
        odata_type: Some(ROLE_DEFINITION_TYPE.into()),
        display_name: spec.display_name.clone(),
        description: role_description(&spec.description, &role.name),
        role_permissions: vec![RolePermission {
            resource_actions: vec![ResourceAction {
                allowed_resource_actions: sorted(&spec.allowed_resource_actions),
                not_allowed_resource_actions: sorted(&spec.not_allowed_resource_actions),
            }],
        }],
        ..RoleDefinition::default()
    };
    let mut problems = Vec::new();
    let assignments = spec
        .assignments
        .iter()
        .map(|a| RoleAssignment {
            odata_type: Some(ROLE_ASSIGNMENT_TYPE.into()),
            display_name: a.display_name.clone(),
            members: group_ids(&a.members, groups, &mut problems),
            resource_scopes: group_ids(&a.scope_groups, groups, &mut problems),
            ..RoleAssignment::default()
        })
        .collect();
    if problems.is_empty() {
        Ok(RoleWrite { definition: Some(definition), assignments, live_assignments: Vec::new() })
    } else {
        Err(problems)
    }
}

fn sorted(items: &[String]) -> Vec<String> {
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    items
}

/// What can differ, in comparable form: names, description, permissions, and assignments by name.
fn comparable(definition: &RoleDefinition, assignments: &[RoleAssignment]) -> (Value, Value) {
    let actions = |pick: fn(&ResourceAction) -> &Vec<String>| {
        let mut all: Vec<String> = definition
            .role_permissions
            .iter()
            .flat_map(|p| p.resource_actions.iter())
            .flat_map(|a| pick(a).iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    };
    let role = json!({
        "displayName": definition.display_name,
        "description": definition.description.trim_end(),
        "allowedResourceActions": actions(|a| &a.allowed_resource_actions),
        "notAllowedResourceActions": actions(|a| &a.not_allowed_resource_actions),
    });
    let by_name: BTreeMap<&str, (Vec<String>, Vec<String>)> = assignments
        .iter()
        .map(|a| (a.display_name.as_str(), (sorted(&a.members), sorted(&a.resource_scopes))))
        .collect();
    (role, json!(by_name))
}

/// The display form: the role as a user writes it, groups by name when known.
fn display(definition: &RoleDefinition, assignments: &[RoleAssignment], groups: &GroupsByName) -> Value {
    let names: BTreeMap<&str, &str> =
        groups.values().flatten().map(|g| (g.id.as_str(), g.display_name.as_str())).collect();
    let named = |ids: &[String]| -> Vec<String> {
        ids.iter().map(|id| names.get(id.as_str()).map_or_else(|| id.clone(), |n| n.to_string())).collect()
    };
    let (role, _) = comparable(definition, assignments);
    let mut value = role;
    if let Some(object) = value.as_object_mut() {
        object.insert("description".into(), Value::String(split_role_marker(&definition.description).0));
        let shown: Vec<Value> = assignments
            .iter()
            .map(|a| json!({"displayName": a.display_name, "members": named(&a.members), "scopeGroups": named(&a.resource_scopes)}))
            .collect();
        object.insert("assignments".into(), Value::Array(shown));
    }
    value
}

fn role_change(action: Action, name: &str, display_name: &str, profile: Option<&str>, mode: Mode) -> Change {
    Change {
        action,
        policy: format!("IntuneRole/{name}"),
        display_name: display_name.to_string(),
        profile: profile.map(str::to_string),
        mode,
        policy_id: None,
        fields: Vec::new(),
        before: None,
        after: None,
        reason: None,
        payload: None,
        targets: None,
        role: None,
    }
}

/// Adds the tenant's role changes to its plan.
pub fn plan_roles(
    desired: &TenantDesired,
    live: &LiveRoles,
    groups: &GroupsByName,
    options: PlanOptions,
    plan: &mut TenantPlan,
) {
    let mut owned: BTreeMap<String, Vec<&RoleDefinition>> = BTreeMap::new();
    for definition in live.definitions.iter().filter(|d| !d.is_built_in) {
        if let Some(name) = split_role_marker(&definition.description).1 {
            owned.entry(name).or_default().push(definition);
        }
    }
    let assignments_of = |definition: &RoleDefinition| -> Vec<RoleAssignment> {
        live.assignments
            .iter()
            .filter(|a| a.role_definition.as_ref().and_then(|d| d.id.as_ref()) == definition.id.as_ref())
            .cloned()
            .collect()
    };
    for role in &desired.roles {
        let mut write = match desired_write(role, groups) {
            Ok(write) => write,
            Err(problems) => {
                plan.problems.push(format!("IntuneRole/{}: {}", role.name, problems.join("; ")));
                continue;
            }
        };
        let Some(definition) = write.definition.clone() else { continue };
        let after = display(&definition, &write.assignments, groups);
        match owned.get(&role.name).and_then(|copies| copies.first()) {
            None => {
                let mut change =
                    role_change(Action::Create, &role.name, &definition.display_name, Some(&role.profile), role.mode);
                change.after = Some(after);
                change.role = Some(write);
                if role.mode == Mode::Audit {
                    change.reason = Some("missing; the profile is in audit mode, nothing is written".into());
                }
                plan.changes.push(change);
            }
            Some(current) => {
                let current_assignments = assignments_of(current);
                let (want_role, want_assignments) = comparable(&definition, &write.assignments);
                let (have_role, have_assignments) = comparable(current, &current_assignments);
                let mut fields = Vec::new();
                if want_role != have_role {
                    fields.push("definition".to_string());
                }
                if want_assignments != have_assignments {
                    fields.push("assignments".to_string());
                }
                if fields.is_empty() {
                    plan.unchanged.push(format!("IntuneRole/{}", role.name));
                    continue;
                }
                let mut change =
                    role_change(Action::Update, &role.name, &definition.display_name, Some(&role.profile), role.mode);
                change.policy_id = current.id.clone();
                change.fields = fields;
                change.before = Some(display(current, &current_assignments, groups));
                change.after = Some(after);
                write.live_assignments = current_assignments;
                change.role = Some(write);
                if role.mode == Mode::Audit {
                    change.reason = Some("drifted; the profile is in audit mode, nothing is written".into());
                }
                plan.changes.push(change);
            }
        }
    }
    let wanted: BTreeSet<&str> = desired.roles.iter().map(|r| r.name.as_str()).collect();
    let mut deletes = Vec::new();
    for (name, copies) in &owned {
        let (keep, reason) = match (wanted.contains(name.as_str()), desired.prune_max_delete_percent.is_some()) {
            (true, _) => (1, "a leftover copy of a role tenantctl owns"),
            (false, true) => (0, "no profile delivers it any more (prune)"),
            (false, false) => continue,
        };
        for current in copies.iter().skip(keep) {
            let current_assignments = assignments_of(current);
            let mut change = role_change(Action::Delete, name, &current.display_name, None, Mode::Enforce);
            change.policy_id = current.id.clone();
            change.before = Some(display(current, &current_assignments, groups));
            change.reason = Some(reason.into());
            change.role =
                Some(RoleWrite { definition: None, assignments: Vec::new(), live_assignments: current_assignments });
            deletes.push(change);
        }
    }
    let owned_total: usize = owned.values().map(Vec::len).sum();
    super::diff::add_deletes(desired, deletes, owned_total, "roles", options, plan);
}
