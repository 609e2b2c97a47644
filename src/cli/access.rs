//! `tenantctl access`: who holds which Intune and Defender XDR role in every selected tenant — the role,
//! the assignment, its members and scope by name, and whether tenantctl manages the role. The view an
//! auditor asks an MSSP for.

use std::collections::BTreeMap;
use std::io::Write;

use clap::Args;

use super::connect::GraphArgs;
use super::fleet::{TabularFormat, ask_each, report_unknown, selected, write_rows};
use super::plan::Selection;
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::graph::client::{GraphError, TenantClient};
use crate::security::access_view::{AccessFilter, AccessRow, TenantRoles, ids_to_name, rows};
use crate::security::incidents::UnknownTenant;
use crate::util::plural;

#[derive(Debug, Args)]
pub struct AccessArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Only roles whose name contains this (any letter case; repeatable).
    #[arg(long = "role", value_name = "NAME")]
    pub roles: Vec<String>,
    /// Only assignments with a member whose name contains this (any letter case; repeatable).
    #[arg(long = "principal", value_name = "NAME")]
    pub principals: Vec<String>,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// What one tenant holds, as read.
struct Read {
    intune: Vec<crate::wire::rbac::RoleDefinition>,
    intune_assignments: Vec<crate::wire::rbac::RoleAssignment>,
    defender: Vec<crate::wire::defender_rbac::UnifiedRoleDefinition>,
    defender_assignments: Vec<crate::wire::defender_rbac::UnifiedRoleAssignment>,
    names: BTreeMap<String, String>,
}

async fn read(graph: &TenantClient) -> Result<Read, GraphError> {
    let intune = graph.list_role_definitions().await?;
    let intune_assignments = graph.list_role_assignments().await?;
    let defender = graph.list_defender_role_definitions().await?;
    let defender_assignments = graph.list_defender_role_assignments().await?;
    let ids = ids_to_name(&intune_assignments, &defender_assignments);
    let groups = if ids.is_empty() { BTreeMap::new() } else { graph.groups_by_id(&ids).await? };
    let names = groups.into_iter().map(|(id, group)| (id, group.display_name)).collect();
    Ok(Read { intune, intune_assignments, defender, defender_assignments, names })
}

pub fn run(args: &AccessArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(prepared) = selected(&args.selection, err)? else { return Ok(EXIT_ERROR) };
    let answers = ask_each(&prepared, &args.graph, "Reading roles", |graph| async move { read(&graph).await })?;
    let filter = AccessFilter { roles: args.roles.clone(), principals: args.principals.clone() };
    let mut all: Vec<AccessRow> = Vec::new();
    let mut unknown = Vec::new();
    for answer in answers {
        match answer.answer {
            Ok(read) => all.extend(rows(
                &TenantRoles {
                    tenant: &answer.tenant,
                    intune: &read.intune,
                    intune_assignments: &read.intune_assignments,
                    defender: &read.defender,
                    defender_assignments: &read.defender_assignments,
                    names: &read.names,
                },
                &filter,
            )),
            Err(reason) => unknown.push(UnknownTenant { tenant: answer.tenant, tenant_id: answer.tenant_id, reason }),
        }
    }
    let headers: Vec<String> = ["Tenant", "System", "Role", "Assignment", "Members", "Scope", "Managed"]
        .iter()
        .map(|h| h.to_string())
        .collect();
    let table: Vec<Vec<String>> = all
        .iter()
        .map(|r| {
            vec![
                r.tenant.clone(),
                r.system.to_string(),
                r.role.clone(),
                r.assignment.clone(),
                r.members.join(", "),
                r.scope.join(", "),
                r.managed.clone(),
            ]
        })
        .collect();
    let document = serde_json::json!({"assignments": all, "unknownTenants": unknown});
    write_rows(args.output, &headers, &table, || serde_json::to_string_pretty(&document), out)?;
    writeln!(err, "{}.", plural::count(all.len(), "role assignment"))?;
    report_unknown(&unknown, err)?;
    Ok(if unknown.is_empty() { EXIT_OK } else { EXIT_PARTIAL })
}
