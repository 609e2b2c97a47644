//! Who may do what in a tenant: every assignment of an Intune role and of a Defender XDR role, its
//! members and scope by name where the tenant could name them, and whether tenantctl manages the role.
//! Pure: `tenantctl access` reads, this lays out and filters.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::ownership::split_marker;
use crate::wire::defender_rbac::{UnifiedRoleAssignment, UnifiedRoleDefinition};
use crate::wire::rbac::{RoleAssignment, RoleDefinition};

/// One assignment of one role in one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRow {
    pub tenant: String,
    /// `Intune` or `Defender`.
    pub system: &'static str,
    pub role: String,
    pub assignment: String,
    /// Members by display name (their id where the tenant could not name them).
    pub members: Vec<String>,
    /// Intune: the groups of users and devices it covers; Defender: the data sources.
    pub scope: Vec<String>,
    /// `IntuneRole/name` or `DefenderRole/name` when tenantctl manages the role, `built-in`, or
    /// `unmanaged`.
    pub managed: String,
}

/// What one tenant holds.
pub struct TenantRoles<'a> {
    pub tenant: &'a str,
    pub intune: &'a [RoleDefinition],
    pub intune_assignments: &'a [RoleAssignment],
    pub defender: &'a [UnifiedRoleDefinition],
    pub defender_assignments: &'a [UnifiedRoleAssignment],
    /// Display names of the directory objects the tenant could name, by id.
    pub names: &'a BTreeMap<String, String>,
}

/// Narrows the rows: a role or principal filter matches a part of the name, in any letter case.
#[derive(Clone, Debug, Default)]
pub struct AccessFilter {
    pub roles: Vec<String>,
    pub principals: Vec<String>,
}

impl AccessFilter {
    fn keeps(&self, row: &AccessRow) -> bool {
        let contains = |text: &str, part: &str| text.to_lowercase().contains(&part.to_lowercase());
        (self.roles.is_empty() || self.roles.iter().any(|r| contains(&row.role, r)))
            && (self.principals.is_empty()
                || self.principals.iter().any(|p| row.members.iter().any(|m| contains(m, p))))
    }
}

fn ownership(description: &str, built_in: bool) -> String {
    match split_marker(description).1 {
        Some(owner) => owner.to_string(),
        None if built_in => "built-in".into(),
        None => "unmanaged".into(),
    }
}

/// A tenant's assignments as rows, Intune's then Defender's, each sorted by role and assignment.
pub fn rows(roles: &TenantRoles<'_>, filter: &AccessFilter) -> Vec<AccessRow> {
    let named = |ids: &[String]| -> Vec<String> {
        ids.iter().map(|id| roles.names.get(id).cloned().unwrap_or_else(|| id.clone())).collect()
    };
    let mut out = Vec::new();
    for assignment in roles.intune_assignments {
        let role_id = assignment.role_definition.as_ref().and_then(|d| d.id.as_deref()).unwrap_or_default();
        let definition = roles.intune.iter().find(|d| d.id.as_deref() == Some(role_id));
        out.push(AccessRow {
            tenant: roles.tenant.to_string(),
            system: "Intune",
            role: definition.map_or_else(|| role_id.to_string(), |d| d.display_name.clone()),
            assignment: assignment.display_name.clone(),
            members: named(&assignment.members),
            scope: named(&assignment.resource_scopes),
            managed: definition.map_or_else(|| "unmanaged".into(), |d| ownership(&d.description, d.is_built_in)),
        });
    }
    for assignment in roles.defender_assignments {
        let definition =
            roles.defender.iter().find(|d| d.id.as_deref() == Some(assignment.role_definition_id.as_str()));
        let scope = if assignment.app_scope_ids.is_empty() || assignment.app_scope_ids.iter().any(|s| s == "/") {
            vec!["all data sources".to_string()]
        } else {
            assignment.app_scope_ids.iter().map(|s| data_source(s)).collect()
        };
        out.push(AccessRow {
            tenant: roles.tenant.to_string(),
            system: "Defender",
            role: definition.map_or_else(|| assignment.role_definition_id.clone(), |d| d.display_name.clone()),
            assignment: assignment.display_name.clone(),
            members: named(&assignment.principal_ids),
            scope,
            managed: definition.map_or_else(|| "unmanaged".into(), |d| ownership(&d.description, d.is_built_in)),
        });
    }
    out.sort_by(|a, b| (a.system, &a.role, &a.assignment).cmp(&(b.system, &b.role, &b.assignment)));
    out.retain(|row| filter.keeps(row));
    out
}

/// A data source in words (`Mde` → `Defender for Endpoint`); an unknown one as it is.
fn data_source(app_scope: &str) -> String {
    match app_scope {
        "Mde" => "Defender for Endpoint",
        "Mdo" => "Defender for Office 365",
        "Mdi" => "Defender for Identity",
        "Mda" => "Defender for Cloud Apps",
        "Mdc" => "Defender for Cloud",
        "SecureScoreExternal" => "Secure Score",
        other => other,
    }
    .to_string()
}

/// Every principal and scope id the assignments name, to look up once.
pub fn ids_to_name(intune: &[RoleAssignment], defender: &[UnifiedRoleAssignment]) -> Vec<String> {
    let mut ids: Vec<String> = intune
        .iter()
        .flat_map(|a| a.members.iter().chain(&a.resource_scopes))
        .chain(defender.iter().flat_map(|a| a.principal_ids.iter()))
        .cloned()
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_are_named_marked_and_filtered() {
        let intune = vec![RoleDefinition {
            id: Some("r1".into()),
            display_name: "Help desk".into(),
            is_built_in: true,
            ..RoleDefinition::default()
        }];
        let intune_assignments = vec![RoleAssignment {
            display_name: "Help desk on retail".into(),
            members: vec!["g1".into()],
            resource_scopes: vec!["g2".into()],
            role_definition: Some(RoleDefinition { id: Some("r1".into()), ..RoleDefinition::default() }),
            ..RoleAssignment::default()
        }];
        let defender = vec![UnifiedRoleDefinition {
            id: Some("d1".into()),
            display_name: "SOC tier 1".into(),
            description: "Triage\n\n[managed-by tenantctl: DefenderRole/tier1]".into(),
            ..UnifiedRoleDefinition::default()
        }];
        let defender_assignments = vec![UnifiedRoleAssignment {
            display_name: "Tier 1".into(),
            role_definition_id: "d1".into(),
            principal_ids: vec!["g3".into(), "u-unknown".into()],
            app_scope_ids: vec!["/".into()],
            ..UnifiedRoleAssignment::default()
        }];
        let names: BTreeMap<String, String> =
            [("g1", "SG-Helpdesk"), ("g2", "SG-Retail-Devices"), ("g3", "SG-SOC-Tier1")]
                .iter()
                .map(|(id, name)| (id.to_string(), name.to_string()))
                .collect();
        let roles = TenantRoles {
            tenant: "t1",
            intune: &intune,
            intune_assignments: &intune_assignments,
            defender: &defender,
            defender_assignments: &defender_assignments,
            names: &names,
        };
        let all = rows(&roles, &AccessFilter::default());
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].system, "Defender");
        assert_eq!(all[0].members, ["SG-SOC-Tier1", "u-unknown"]);
        assert_eq!(all[0].scope, ["all data sources"]);
        assert_eq!(all[0].managed, "DefenderRole/tier1");
        assert_eq!(
            (all[1].managed.as_str(), all[1].scope.as_slice()),
            ("built-in", &["SG-Retail-Devices".to_string()][..])
        );
        let soc = rows(&roles, &AccessFilter { roles: vec![], principals: vec!["soc".into()] });
        assert_eq!(soc.len(), 1);
        assert_eq!(rows(&roles, &AccessFilter { roles: vec!["HELP".into()], principals: vec![] }).len(), 1);
        assert_eq!(ids_to_name(&intune_assignments, &defender_assignments), ["g1", "g2", "g3", "u-unknown"]);
    }
}
