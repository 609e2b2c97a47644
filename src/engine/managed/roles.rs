//! Intune roles as a managed family: a role definition (owned by marker, built-ins never touched) with
//! its assignments of member groups over scope groups, matched by assignment name.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{LiveTenant, Managed};
use crate::engine::api::{Reply, TenantApi};
use crate::engine::assignments::{GroupsByName, group_id};
use crate::engine::once::create_once;
use crate::engine::plan::{Field, Overridden, RolePayload, Write};
use crate::engine::resolve::{DesiredRole, TenantDesired};
use crate::engine::respec::Edits;
use crate::model::ownership::{description_with_marker, split_marker};
use crate::model::profile::Mode;
use crate::model::{Kind, ObjectRef};
use crate::wire::rbac::{
    ROLE_ASSIGNMENT_TYPE, ROLE_DEFINITION_TYPE, ResourceAction, RoleAssignment, RoleDefinition, RolePermission,
};

/// A role definition as read, with the assignments of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveRole {
    pub definition: RoleDefinition,
    pub assignments: Vec<RoleAssignment>,
}

impl LiveRole {
    /// Joins definitions with the assignments that name them.
    pub fn join(definitions: Vec<RoleDefinition>, assignments: Vec<RoleAssignment>) -> Vec<LiveRole> {
        let mut by_role: BTreeMap<String, Vec<RoleAssignment>> = BTreeMap::new();
        for assignment in assignments {
            if let Some(id) = assignment.role_definition.as_ref().and_then(|d| d.id.clone()) {
                by_role.entry(id).or_default().push(assignment);
            }
        }
        definitions
            .into_iter()
            .map(|definition| {
                let assignments = definition.id.as_ref().and_then(|id| by_role.remove(id)).unwrap_or_default();
                LiveRole { definition, assignments }
            })
            .collect()
    }
}

/// The Intune roles family.
pub struct Roles;

impl Managed for Roles {
    type Live = LiveRole;
    type Desired = DesiredRole;
    type Payload = RolePayload;

    const NOUN: &'static str = "roles";
    const ONE: &'static str = "role";
    const FIELDS: &'static [Field] = &[Field::Definition, Field::Assignments];

    fn desired(tenant: &TenantDesired) -> &[DesiredRole] {
        &tenant.roles
    }

    fn live(tenant: &LiveTenant) -> Option<&[LiveRole]> {
        tenant.roles.as_deref()
    }

    fn group_names(desired: &DesiredRole) -> Vec<String> {
        desired.spec.assignments.iter().flat_map(|a| a.members.iter().chain(&a.scope_groups)).cloned().collect()
    }

    fn object(desired: &DesiredRole) -> &ObjectRef {
        &desired.object
    }

    fn overrides(desired: &DesiredRole) -> &[Overridden] {
        &desired.overridden
    }

    fn patched(desired: &DesiredRole, edits: &Edits) -> Result<DesiredRole, Vec<String>> {
        desired.patched(edits)
    }

    fn profile(desired: &DesiredRole) -> &str {
        &desired.profile
    }

    fn mode(desired: &DesiredRole) -> Mode {
        desired.mode
    }

    fn revision(desired: &DesiredRole) -> &str {
        &desired.revision
    }

    fn described(live: &LiveRole) -> &str {
        &live.definition.description
    }

    fn owner(live: &LiveRole) -> Option<ObjectRef> {
        if live.definition.is_built_in {
            return None;
        }
        split_marker(&live.definition.description).1.filter(|owner| owner.kind == Kind::IntuneRole)
    }

    fn id(live: &LiveRole) -> Option<&str> {
        live.definition.id.as_deref()
    }

    fn created(_: &LiveRole) -> Option<&str> {
        // Role definitions carry no creation time; copies are told apart by id.
        None
    }

    fn display_name(live: &LiveRole) -> &str {
        &live.definition.display_name
    }

    fn is_adoptable(live: &LiveRole) -> bool {
        !live.definition.is_built_in
    }

    fn payload(desired: &DesiredRole, groups: &GroupsByName) -> Result<RolePayload, Vec<String>> {
        let spec = &desired.spec;
        let definition = RoleDefinition {
            odata_type: Some(ROLE_DEFINITION_TYPE.into()),
            display_name: spec.display_name.clone(),
            description: description_with_marker(&spec.description, &desired.object),
            role_permissions: vec![RolePermission {
                resource_actions: vec![ResourceAction {
                    allowed_resource_actions: sorted(&spec.allowed_resource_actions),
                    not_allowed_resource_actions: sorted(&spec.not_allowed_resource_actions),
                }],
            }],
            ..RoleDefinition::default()
        };
        let mut problems = Vec::new();
        let mut ids = |names: &[String]| -> Vec<String> {
            let mut ids: Vec<String> = names
                .iter()
                .filter_map(|name| group_id(name, groups).map_err(|problem| problems.push(problem)).ok())
                .collect();
            ids.sort();
            ids
        };
        let assignments = spec
            .assignments
            .iter()
            .map(|a| RoleAssignment {
                odata_type: Some(ROLE_ASSIGNMENT_TYPE.into()),
                display_name: a.display_name.clone(),
                members: ids(&a.members),
                resource_scopes: ids(&a.scope_groups),
                ..RoleAssignment::default()
            })
            .collect();
        if problems.is_empty() { Ok(RolePayload { definition, assignments }) } else { Err(problems) }
    }

    fn payload_name(payload: &RolePayload) -> &str {
        &payload.definition.display_name
    }

    fn changed(_: &DesiredRole, payload: &RolePayload, live: &LiveRole, _: bool) -> Vec<Field> {
        let (want_role, want_assignments) = comparable(&payload.definition, &payload.assignments);
        let (have_role, have_assignments) = comparable(&live.definition, &live.assignments);
        let mut fields = Vec::new();
        if want_role != have_role {
            fields.push(Field::Definition);
        }
        if want_assignments != have_assignments {
            fields.push(Field::Assignments);
        }
        fields
    }

    fn show_payload(_: &DesiredRole, payload: &RolePayload, groups: &GroupsByName) -> Value {
        display(&payload.definition, &payload.assignments, groups)
    }

    fn show_live(_: &ObjectRef, live: &LiveRole, groups: &GroupsByName) -> Value {
        display(&live.definition, &live.assignments, groups)
    }

    fn into_write(payload: RolePayload) -> Write {
        Write::IntuneRole(payload)
    }

    fn from_write(write: &Write) -> Option<&RolePayload> {
        match write {
            Write::IntuneRole(payload) => Some(payload),
            Write::ConfigurationPolicy(_) | Write::DetectionRule(_) | Write::DefenderRole(_) => None,
        }
    }

    async fn list<A: TenantApi>(api: &A) -> Reply<Vec<LiveRole>> {
        let definitions = api.list_role_definitions().await?;
        let assignments = api.list_role_assignments().await?;
        Ok(LiveRole::join(definitions, assignments))
    }

    async fn create<A: TenantApi>(api: &A, payload: &RolePayload) -> Reply<LiveRole> {
        let definition = api.create_role_definition(&payload.definition).await?;
        Ok(LiveRole { definition, assignments: Vec::new() })
    }

    async fn complete<A: TenantApi>(api: &A, id: &str, payload: &RolePayload) -> Reply<()> {
        sync_assignments(api, id, &payload.assignments).await
    }

    async fn update<A: TenantApi>(api: &A, id: &str, payload: &RolePayload, fields: &[Field]) -> Reply<()> {
        if fields.iter().any(|f| *f != Field::Assignments) {
            api.update_role_definition(id, &payload.definition).await?;
        }
        if fields.contains(&Field::Assignments) {
            sync_assignments(api, id, &payload.assignments).await?;
        }
        Ok(())
    }

    async fn delete<A: TenantApi>(api: &A, id: &str) -> Reply<()> {
        // Graph refuses to delete an assigned role: its assignments go first.
        for assignment in assignments_of(api, id).await? {
            if let Some(assignment_id) = &assignment.id {
                api.delete_role_assignment(assignment_id).await?;
            }
        }
        api.delete_role_definition(id).await
    }
}

/// The role's live assignments, read fresh: what is written is decided against the tenant as it is.
async fn assignments_of<A: TenantApi>(api: &A, role_id: &str) -> Reply<Vec<RoleAssignment>> {
    let all = api.list_role_assignments().await?;
    Ok(all.into_iter().filter(|a| a.role_definition.as_ref().and_then(|d| d.id.as_deref()) == Some(role_id)).collect())
}

/// Desired assignments against live ones, by display name: change, create (once), delete. Safe to
/// repeat.
async fn sync_assignments<A: TenantApi>(api: &A, role_id: &str, desired: &[RoleAssignment]) -> Reply<()> {
    let live = assignments_of(api, role_id).await?;
    for wanted in desired {
        match live.iter().find(|a| a.display_name == wanted.display_name) {
            Some(current) if same_members(current, wanted) => {}
            Some(current) => {
                let id = current.id.as_deref().unwrap_or_default();
                api.update_role_assignment(id, wanted).await?;
            }
            None => {
                let lookup = || async {
                    let live = assignments_of(api, role_id).await?;
                    Ok(live.into_iter().find(|a| a.display_name == wanted.display_name))
                };
                create_once(|| api.create_role_assignment(role_id, wanted), lookup).await?;
            }
        }
    }
    for current in &live {
        if !desired.iter().any(|a| a.display_name == current.display_name)
            && let Some(id) = &current.id
        {
            api.delete_role_assignment(id).await?;
        }
    }
    Ok(())
}

fn same_members(a: &RoleAssignment, b: &RoleAssignment) -> bool {
    sorted(&a.members) == sorted(&b.members) && sorted(&a.resource_scopes) == sorted(&b.resource_scopes)
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
        let all: Vec<String> = definition
            .role_permissions
            .iter()
            .flat_map(|p| p.resource_actions.iter())
            .flat_map(|a| pick(a).iter().cloned())
            .collect();
        sorted(&all)
    };
    let role = json!({
        "displayName": definition.display_name,
        "description": crate::model::ownership::without_stamp(&definition.description),
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
    let (mut value, _) = comparable(definition, assignments);
    if let Some(object) = value.as_object_mut() {
        object.insert("description".into(), Value::String(split_marker(&definition.description).0));
        let shown: Vec<Value> = assignments
            .iter()
            .map(|a| json!({"displayName": a.display_name, "members": named(&a.members), "scopeGroups": named(&a.resource_scopes)}))
            .collect();
        object.insert("assignments".into(), Value::Array(shown));
    }
    value
}
