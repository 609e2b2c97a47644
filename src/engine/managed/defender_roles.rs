//! Defender XDR roles as a managed family: a unified role definition (owned by marker, built-ins never
//! touched) with its assignments of member groups over data sources, matched by assignment name. An
//! action the tenant's catalogue does not list is refused at plan time, before any write.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{LiveTenant, Managed};
use crate::engine::api::{Reply, TenantApi};
use crate::engine::assignments::{GroupsByName, group_id};
use crate::engine::once::create_once;
use crate::engine::plan::{DefenderRolePayload, Field, Overridden, Write};
use crate::engine::resolve::{DesiredDefenderRole, TenantDesired};
use crate::engine::respec::Edits;
use crate::model::defender_role::covers;
use crate::model::ownership::{description_with_marker, split_marker};
use crate::model::profile::Mode;
use crate::model::{Kind, ObjectRef};
use crate::wire::defender_rbac::{
    UNIFIED_ROLE_DEFINITION_TYPE, UnifiedRoleAssignment, UnifiedRoleDefinition, UnifiedRolePermission,
};

/// A role definition as read, with the assignments of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveDefenderRole {
    pub definition: UnifiedRoleDefinition,
    pub assignments: Vec<UnifiedRoleAssignment>,
}

impl LiveDefenderRole {
    /// Joins definitions with the assignments that name them.
    pub fn join(definitions: Vec<UnifiedRoleDefinition>, assignments: Vec<UnifiedRoleAssignment>) -> Vec<Self> {
        let mut by_role: BTreeMap<String, Vec<UnifiedRoleAssignment>> = BTreeMap::new();
        for assignment in assignments {
            by_role.entry(assignment.role_definition_id.clone()).or_default().push(assignment);
        }
        definitions
            .into_iter()
            .map(|definition| {
                let assignments = definition.id.as_ref().and_then(|id| by_role.remove(id)).unwrap_or_default();
                LiveDefenderRole { definition, assignments }
            })
            .collect()
    }
}

/// The Defender XDR roles family.
pub struct DefenderRoles;

/// The app scopes of an assignment: `/` (every data source, present and future) when it names none.
fn app_scopes(sources: &[crate::model::defender_role::DataSource]) -> Vec<String> {
    if sources.is_empty() {
        return vec!["/".into()];
    }
    let mut scopes: Vec<String> = sources.iter().map(|s| s.app_scope().to_string()).collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

impl Managed for DefenderRoles {
    type Live = LiveDefenderRole;
    type Desired = DesiredDefenderRole;
    type Payload = DefenderRolePayload;

    const NOUN: &'static str = "Defender roles";
    const ONE: &'static str = "Defender role";
    const FIELDS: &'static [Field] = &[Field::Definition, Field::Assignments];

    fn desired(tenant: &TenantDesired) -> &[DesiredDefenderRole] {
        &tenant.defender_roles
    }

    fn live(tenant: &LiveTenant) -> Option<&[LiveDefenderRole]> {
        tenant.defender_roles.as_deref()
    }

    fn group_names(desired: &DesiredDefenderRole) -> Vec<String> {
        desired.spec.assignments.iter().flat_map(|a| a.members.iter()).cloned().collect()
    }

    fn object(desired: &DesiredDefenderRole) -> &ObjectRef {
        &desired.object
    }

    fn overrides(desired: &DesiredDefenderRole) -> &[Overridden] {
        &desired.overridden
    }

    fn patched(desired: &DesiredDefenderRole, edits: &Edits) -> Result<DesiredDefenderRole, Vec<String>> {
        desired.patched(edits)
    }

    fn profile(desired: &DesiredDefenderRole) -> &str {
        &desired.profile
    }

    fn mode(desired: &DesiredDefenderRole) -> Mode {
        desired.mode
    }

    fn revision(desired: &DesiredDefenderRole) -> &str {
        &desired.revision
    }

    fn described(live: &LiveDefenderRole) -> &str {
        &live.definition.description
    }

    fn owner(live: &LiveDefenderRole) -> Option<ObjectRef> {
        if live.definition.is_built_in {
            return None;
        }
        split_marker(&live.definition.description).1.filter(|owner| owner.kind == Kind::DefenderRole)
    }

    fn id(live: &LiveDefenderRole) -> Option<&str> {
        live.definition.id.as_deref()
    }

    fn created(_: &LiveDefenderRole) -> Option<&str> {
        // Role definitions carry no creation time; copies are told apart by id.
        None
    }

    fn display_name(live: &LiveDefenderRole) -> &str {
        &live.definition.display_name
    }

    fn is_adoptable(live: &LiveDefenderRole) -> bool {
        !live.definition.is_built_in
    }

    fn unknown_in_tenant(desired: &DesiredDefenderRole, live: &LiveTenant) -> Vec<String> {
        let Some(known) = &live.defender_actions else { return Vec::new() };
        let unknown: Vec<String> = desired
            .spec
            .actions()
            .into_iter()
            .filter(|action| !known.contains(action) && !known.iter().any(|k| covers(action, k)))
            .collect();
        if unknown.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "the tenant's Defender XDR has no action {}: check the spelling, or whether the workload is on",
            unknown.join(", ")
        )]
    }

    fn payload(desired: &DesiredDefenderRole, groups: &GroupsByName) -> Result<DefenderRolePayload, Vec<String>> {
        let spec = &desired.spec;
        let definition = UnifiedRoleDefinition {
            odata_type: Some(UNIFIED_ROLE_DEFINITION_TYPE.into()),
            display_name: spec.display_name.clone(),
            description: description_with_marker(&spec.description, &desired.object),
            role_permissions: vec![UnifiedRolePermission { allowed_resource_actions: spec.actions(), condition: None }],
            ..UnifiedRoleDefinition::default()
        };
        let mut problems = Vec::new();
        let assignments = spec
            .assignments
            .iter()
            .map(|a| {
                let mut principals: Vec<String> = a
                    .members
                    .iter()
                    .filter_map(|name| group_id(name, groups).map_err(|problem| problems.push(problem)).ok())
                    .collect();
                principals.sort();
                UnifiedRoleAssignment {
                    display_name: a.display_name.clone(),
                    principal_ids: principals,
                    directory_scope_ids: vec!["/".into()],
                    app_scope_ids: app_scopes(&a.data_sources),
                    ..UnifiedRoleAssignment::default()
                }
            })
            .collect();
        if problems.is_empty() { Ok(DefenderRolePayload { definition, assignments }) } else { Err(problems) }
    }

    fn payload_name(payload: &DefenderRolePayload) -> &str {
        &payload.definition.display_name
    }

    fn changed(_: &DesiredDefenderRole, payload: &DefenderRolePayload, live: &LiveDefenderRole, _: bool) -> Vec<Field> {
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

    fn show_payload(_: &DesiredDefenderRole, payload: &DefenderRolePayload, groups: &GroupsByName) -> Value {
        display(&payload.definition, &payload.assignments, groups)
    }

    fn show_live(_: &ObjectRef, live: &LiveDefenderRole, groups: &GroupsByName) -> Value {
        display(&live.definition, &live.assignments, groups)
    }

    fn into_write(payload: DefenderRolePayload) -> Write {
        Write::DefenderRole(Box::new(payload))
    }

    fn from_write(write: &Write) -> Option<&DefenderRolePayload> {
        match write {
            Write::DefenderRole(payload) => Some(payload.as_ref()),
            _ => None,
        }
    }

    async fn list<A: TenantApi>(api: &A) -> Reply<Vec<LiveDefenderRole>> {
        let definitions = api.list_defender_role_definitions().await?;
        let assignments = api.list_defender_role_assignments().await?;
        Ok(LiveDefenderRole::join(definitions, assignments))
    }

    async fn create<A: TenantApi>(api: &A, payload: &DefenderRolePayload) -> Reply<LiveDefenderRole> {
        let definition = api.create_defender_role_definition(&payload.definition).await?;
        Ok(LiveDefenderRole { definition, assignments: Vec::new() })
    }

    async fn complete<A: TenantApi>(api: &A, id: &str, payload: &DefenderRolePayload) -> Reply<()> {
        sync_assignments(api, id, &payload.assignments).await
    }

    async fn update<A: TenantApi>(api: &A, id: &str, payload: &DefenderRolePayload, fields: &[Field]) -> Reply<()> {
        if fields.iter().any(|f| *f != Field::Assignments) {
            api.update_defender_role_definition(id, &payload.definition).await?;
        }
        if fields.contains(&Field::Assignments) {
            sync_assignments(api, id, &payload.assignments).await?;
        }
        Ok(())
    }

    async fn delete<A: TenantApi>(api: &A, id: &str) -> Reply<()> {
        // An assigned role cannot go: its assignments go first.
        for assignment in assignments_of(api, id).await? {
            if let Some(assignment_id) = &assignment.id {
                api.delete_defender_role_assignment(assignment_id).await?;
            }
        }
        api.delete_defender_role_definition(id).await
    }
}

/// The role's live assignments, read fresh.
async fn assignments_of<A: TenantApi>(api: &A, role_id: &str) -> Reply<Vec<UnifiedRoleAssignment>> {
    let all = api.list_defender_role_assignments().await?;
    Ok(all.into_iter().filter(|a| a.role_definition_id == role_id).collect())
}

/// Desired assignments against live ones, by display name: change, create (once), delete.
async fn sync_assignments<A: TenantApi>(api: &A, role_id: &str, desired: &[UnifiedRoleAssignment]) -> Reply<()> {
    let live = assignments_of(api, role_id).await?;
    for wanted in desired {
        let wanted = UnifiedRoleAssignment { role_definition_id: role_id.to_string(), ..wanted.clone() };
        match live.iter().find(|a| a.display_name == wanted.display_name) {
            Some(current) if same_assignment(current, &wanted) => {}
            Some(current) => {
                let id = current.id.as_deref().unwrap_or_default();
                api.update_defender_role_assignment(id, &wanted).await?;
            }
            None => {
                let lookup = || async {
                    let live = assignments_of(api, role_id).await?;
                    Ok(live.into_iter().find(|a| a.display_name == wanted.display_name))
                };
                create_once(|| api.create_defender_role_assignment(&wanted), lookup).await?;
            }
        }
    }
    for current in &live {
        if !desired.iter().any(|a| a.display_name == current.display_name)
            && let Some(id) = &current.id
        {
            api.delete_defender_role_assignment(id).await?;
        }
    }
    Ok(())
}

fn sorted(items: &[String]) -> Vec<String> {
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    items
}

fn same_assignment(a: &UnifiedRoleAssignment, b: &UnifiedRoleAssignment) -> bool {
    sorted(&a.principal_ids) == sorted(&b.principal_ids) && scopes(a) == scopes(b)
}

/// An assignment's scopes, Graph's empty lists read as the whole tenant and every data source.
fn scopes(a: &UnifiedRoleAssignment) -> (Vec<String>, Vec<String>) {
    let or_all = |ids: &[String]| if ids.is_empty() { vec!["/".to_string()] } else { sorted(ids) };
    (or_all(&a.directory_scope_ids), or_all(&a.app_scope_ids))
}

/// What can differ, in comparable form: name, description, actions, and assignments by name.
fn comparable(definition: &UnifiedRoleDefinition, assignments: &[UnifiedRoleAssignment]) -> (Value, Value) {
    let role = json!({
        "displayName": definition.display_name,
        "description": crate::model::ownership::without_stamp(&definition.description),
        "actions": definition.actions(),
    });
    let by_name: BTreeMap<&str, Value> = assignments
        .iter()
        .map(|a| (a.display_name.as_str(), json!({"members": sorted(&a.principal_ids), "scopes": scopes(a)})))
        .collect();
    (role, json!(by_name))
}

/// The display form: the role as a user writes it, groups by name when known.
fn display(definition: &UnifiedRoleDefinition, assignments: &[UnifiedRoleAssignment], groups: &GroupsByName) -> Value {
    let names: BTreeMap<&str, &str> =
        groups.values().flatten().map(|g| (g.id.as_str(), g.display_name.as_str())).collect();
    let named = |ids: &[String]| -> Vec<String> {
        ids.iter().map(|id| names.get(id.as_str()).map_or_else(|| id.clone(), |n| n.to_string())).collect()
    };
    let shown: Vec<Value> = assignments
        .iter()
        .map(|a| json!({"displayName": a.display_name, "members": named(&a.principal_ids), "dataSources": scopes(a).1}))
        .collect();
    json!({
        "displayName": definition.display_name,
        "description": split_marker(&definition.description).0,
        "actions": definition.actions(),
        "assignments": shown,
    })
}
