//! Which application permissions each endpoint the lab serves requires (Microsoft Graph's permission
//! tables: any one of the listed ones), and the 403 each API family answers without them — Intune's
//! nested error document, the directory's `Authorization_RequestDenied`, the security API's list of
//! roles.

use axum::http::{Method, StatusCode};

use super::reply::{Reply, RequestContext};
use super::route::Route;

const CONFIGURATION: &[&str] =
    &["DeviceManagementConfiguration.Read.All", "DeviceManagementConfiguration.ReadWrite.All"];
const CONFIGURATION_WRITE: &[&str] = &["DeviceManagementConfiguration.ReadWrite.All"];
const RBAC: &[&str] = &["DeviceManagementRBAC.Read.All", "DeviceManagementRBAC.ReadWrite.All"];
const RBAC_WRITE: &[&str] = &["DeviceManagementRBAC.ReadWrite.All"];
/// Intune's reads that any of its permissions allow (scope tags, approval requests).
const INTUNE_ANY: &[&str] = &[
    "DeviceManagementRBAC.Read.All",
    "DeviceManagementRBAC.ReadWrite.All",
    "DeviceManagementConfiguration.Read.All",
    "DeviceManagementConfiguration.ReadWrite.All",
];
const GROUPS: &[&str] =
    &["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"];
const ORGANIZATION: &[&str] =
    &["Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"];
const INCIDENTS: &[&str] = &["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"];
const INCIDENTS_WRITE: &[&str] = &["SecurityIncident.ReadWrite.All"];
const MANAGED_DEVICES: &[&str] =
    &["DeviceManagementManagedDevices.Read.All", "DeviceManagementManagedDevices.ReadWrite.All"];
const RISKY_USERS: &[&str] = &["IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All"];
const ALERTS: &[&str] = &["SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"];
const HUNTING: &[&str] = &["ThreatHunting.Read.All"];
const DEFENDER_RBAC: &[&str] = &["RoleManagement.Read.Defender", "RoleManagement.ReadWrite.Defender"];
const DEFENDER_RBAC_WRITE: &[&str] = &["RoleManagement.ReadWrite.Defender"];
const DETECTIONS: &[&str] = &["CustomDetection.Read.All", "CustomDetection.ReadWrite.All"];
const DETECTIONS_WRITE: &[&str] = &["CustomDetection.ReadWrite.All"];

/// Which service answers, and so which 403 body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Intune,
    Directory,
    Security,
}

/// The permissions a request needs (any one of them), and the family that refuses it.
fn required(route: &Route, method: &Method) -> Option<(&'static [&'static str], Family)> {
    let read = *method == Method::GET;
    Some(match route {
        Route::Policies
        | Route::Policy(_)
        | Route::PolicySettings(_)
        | Route::PolicySetting(..)
        | Route::PolicyAssignments(_)
        | Route::PolicyAssign(_)
        | Route::Templates
        | Route::Template(_)
        | Route::TemplateSettings(_)
        | Route::Absent(_) => (if read { CONFIGURATION } else { CONFIGURATION_WRITE }, Family::Intune),
        Route::RoleDefinitions | Route::RoleDefinition(_) | Route::RoleAssignments | Route::RoleAssignment(_) => {
            (if read { RBAC } else { RBAC_WRITE }, Family::Intune)
        }
        Route::RoleScopeTags | Route::RoleScopeTag(_) | Route::RoleScopeTagAssignments(_) => {
            (INTUNE_ANY, Family::Intune)
        }
        Route::ApprovalRequests | Route::ApprovalRequest(_) => (INTUNE_ANY, Family::Intune),
        Route::Groups | Route::Group(_) => (GROUPS, Family::Directory),
        Route::Organization | Route::SubscribedSkus => (ORGANIZATION, Family::Directory),
        Route::Incidents | Route::Incident(_) | Route::IncidentComments(_) => {
            (if read { INCIDENTS } else { INCIDENTS_WRITE }, Family::Security)
        }
        Route::Alerts | Route::Alert(_) => (ALERTS, Family::Security),
        Route::ManagedDevices => (MANAGED_DEVICES, Family::Intune),
        Route::RiskyUsers => (RISKY_USERS, Family::Directory),
        Route::HuntingQuery => (HUNTING, Family::Security),
        Route::DefenderRoleDefinitions
        | Route::DefenderRoleDefinition(_)
        | Route::DefenderRoleAssignments
        | Route::DefenderRoleAssignment(_)
        | Route::DefenderNamespaces => (if read { DEFENDER_RBAC } else { DEFENDER_RBAC_WRITE }, Family::Security),
        Route::DetectionRules | Route::DetectionRule(_) => {
            (if read { DETECTIONS } else { DETECTIONS_WRITE }, Family::Security)
        }
        Route::Count(inner) => return required(inner, method),
        Route::Batch => return None,
    })
}

/// Graph's 403 when the token's `roles` hold none of the permissions the request needs.
pub fn refusal(
    route: &Route,
    method: &Method,
    roles: &[String],
    context: &RequestContext,
    path: &str,
) -> Option<Reply> {
    let (accepted, family) = required(route, method)?;
    if accepted.iter().any(|needed| roles.iter().any(|role| role.eq_ignore_ascii_case(needed))) {
        return None;
    }
    let forbidden = StatusCode::FORBIDDEN;
    Some(match family {
        Family::Intune => {
            let summary = format!(
                "Application is not authorized to perform this operation. Application must have one of the following scopes: {}",
                accepted.join(", ")
            );
            Reply::intune_error(context, forbidden, "Forbidden", &summary, path)
        }
        Family::Directory => Reply::error(
            context,
            forbidden,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        Family::Security => {
            let message = format!(
                "Missing application roles. API required roles: {}, application roles: {}.",
                accepted.join(","),
                roles.join(",")
            );
            Reply::error(context, forbidden, "Forbidden", &message)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broader_permission_is_enough_and_writes_need_the_write_permission() {
        let roles = |list: &[&str]| list.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        let policy = Route::Policy("p".into());
        assert_eq!(required(&policy, &Method::GET).map(|r| r.0), Some(CONFIGURATION));
        assert_eq!(required(&policy, &Method::PUT).map(|r| r.0), Some(CONFIGURATION_WRITE));
        assert_eq!(
            required(&Route::Count(Box::new(Route::Groups)), &Method::GET).map(|r| r.1),
            Some(Family::Directory)
        );
        assert!(required(&Route::Batch, &Method::POST).is_none());
        let granted = roles(&["DeviceManagementConfiguration.ReadWrite.All"]);
        assert!(required(&policy, &Method::GET).is_some_and(|(accepted, _)| accepted.contains(&granted[0].as_str())));
        assert!(!RBAC_WRITE.contains(&"DeviceManagementRBAC.Read.All"));
    }
}
