//! Carrying out an Intune role change: the definition first, then its assignments (matched by name);
//! deletes take the assignments away before the definition. Creates never duplicate: after an
//! ambiguous failure the role is looked for by its marker (an assignment by its name) first.

use super::ownership::split_role_marker;
use super::plan::{Action, Change, RoleWrite};
use crate::graph::client::{GraphError, TenantClient};
use crate::graph::wire_rbac::{RoleAssignment, RoleDefinition};

const CREATE_ATTEMPTS: usize = 3;

pub async fn apply_role(graph: &TenantClient, change: &Change, write: &RoleWrite) -> Result<(), GraphError> {
    let missing = |what: &str| GraphError::Config(format!("the plan has no {what} for {}", change.policy));
    let name = change.policy.strip_prefix("IntuneRole/").unwrap_or(&change.policy);
    match change.action {
        Action::Create => {
            let definition = write.definition.as_ref().ok_or_else(|| missing("role definition"))?;
            let created = create_role_once(graph, definition, name).await?;
            let id = created.id.ok_or_else(|| missing("id in the create response"))?;
            for assignment in &write.assignments {
                create_assignment_once(graph, &id, assignment).await?;
            }
            Ok(())
        }
        Action::Update | Action::Adopt => {
            let id = change.policy_id.as_deref().ok_or_else(|| missing("role id"))?;
            if change.fields.iter().any(|f| f == "definition") {
                let definition = write.definition.as_ref().ok_or_else(|| missing("role definition"))?;
                graph.update_role_definition(id, definition).await?;
            }
            if change.fields.iter().any(|f| f == "assignments") {
                sync_assignments(graph, id, write).await?;
            }
            Ok(())
        }
        Action::Delete => {
            let id = change.policy_id.as_deref().ok_or_else(|| missing("role id"))?;
            for assignment in &write.live_assignments {
                if let Some(assignment_id) = &assignment.id {
                    graph.delete_role_assignment(assignment_id).await?;
                }
            }
            graph.delete_role_definition(id).await
        }
    }
}

/// Desired assignments against live ones, by display name: change, create, delete.
async fn sync_assignments(graph: &TenantClient, role_id: &str, write: &RoleWrite) -> Result<(), GraphError> {
    for desired in &write.assignments {
        match write.live_assignments.iter().find(|a| a.display_name == desired.display_name) {
            Some(live) => {
                let same = |a: &[String], b: &[String]| {
                    let (mut a, mut b) = (a.to_vec(), b.to_vec());
                    a.sort();
                    b.sort();
                    a == b
                };
                if !same(&live.members, &desired.members) || !same(&live.resource_scopes, &desired.resource_scopes) {
                    let id = live.id.as_deref().unwrap_or_default();
                    graph.update_role_assignment(id, desired).await?;
                }
            }
            None => create_assignment_once(graph, role_id, desired).await?,
        }
    }
    for live in &write.live_assignments {
        if !write.assignments.iter().any(|a| a.display_name == live.display_name)
            && let Some(id) = &live.id
        {
            graph.delete_role_assignment(id).await?;
        }
    }
    Ok(())
}

async fn create_role_once(
    graph: &TenantClient,
    definition: &RoleDefinition,
    name: &str,
) -> Result<RoleDefinition, GraphError> {
    let mut last_error = None;
    for _ in 0..CREATE_ATTEMPTS {
        match graph.create_role_definition(definition).await {
            Ok(created) => return Ok(created),
            Err(error) if error.is_ambiguous() => {
                let live = graph.list_role_definitions().await?;
                if let Some(existing) = live
                    .into_iter()
                    .find(|d| !d.is_built_in && split_role_marker(&d.description).1.as_deref() == Some(name))
                {
                    return Ok(existing);
                }
                last_error = Some(error);
            }
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| GraphError::Config(format!("could not create IntuneRole/{name}"))))
}

async fn create_assignment_once(
    graph: &TenantClient,
    role_id: &str,
    desired: &RoleAssignment,
) -> Result<(), GraphError> {
    let assignment =
        RoleAssignment { role_definition_bind: Some(graph.role_definition_bind(role_id)?), ..desired.clone() };
    let mut last_error = None;
    for _ in 0..CREATE_ATTEMPTS {
        match graph.create_role_assignment(&assignment).await {
            Ok(_) => return Ok(()),
            Err(error) if error.is_ambiguous() => {
                let live = graph.list_role_assignments().await?;
                let exists = live.iter().any(|a| {
                    a.display_name == desired.display_name
                        && a.role_definition.as_ref().and_then(|d| d.id.as_deref()) == Some(role_id)
                });
                if exists {
                    return Ok(());
                }
                last_error = Some(error);
            }
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| GraphError::Config(format!("could not assign role {}", desired.display_name))))
}
