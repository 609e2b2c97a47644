//! A Graph request as the lab sees it — method, version, decoded path segments, query, body — and the
//! endpoints it routes to.

use axum::http::Method;
use serde_json::Value;

use super::absent::resources as absent;
use super::odata::Supported;

/// A Graph request, decoded.
#[derive(Clone, Debug)]
pub struct GraphRequest {
    pub method: Method,
    /// `beta` or `v1.0`.
    pub version: String,
    /// Path below the version root, percent-decoded segments.
    pub segments: Vec<String>,
    pub query: Option<String>,
    pub body: Option<Value>,
    /// `ConsistencyLevel: eventual`, which Entra's advanced queries (`$count` on groups) require.
    pub eventual: bool,
    /// Multi Admin Approval's request headers.
    pub approval: ApprovalHeaders,
}

/// `x-msft-approval-justification` (Base64) files an approval request; `x-msft-approval-code` (the
/// request's id) carries out an approved one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApprovalHeaders {
    pub justification: Option<String>,
    pub code: Option<String>,
}

impl ApprovalHeaders {
    pub const JUSTIFICATION: &str = "x-msft-approval-justification";
    pub const CODE: &str = "x-msft-approval-code";

    /// From header names and values, whatever their case.
    pub fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> ApprovalHeaders {
        let mut headers = ApprovalHeaders::default();
        for (name, value) in pairs {
            let value = value.map(|v| v.trim().to_string());
            if name.eq_ignore_ascii_case(Self::JUSTIFICATION) {
                headers.justification = value;
            } else if name.eq_ignore_ascii_case(Self::CODE) {
                headers.code = value;
            }
        }
        headers
    }
}

/// The endpoints the lab serves, below a version root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Policies,
    Policy(String),
    PolicySettings(String),
    /// `settings/{settingId}` of a policy.
    PolicySetting(String, String),
    PolicyAssignments(String),
    PolicyAssign(String),
    Templates,
    Template(String),
    TemplateSettings(String),
    Groups,
    Group(String),
    Incidents,
    ManagedDevices,
    RiskyUsers,
    Incident(String),
    IncidentComments(String),
    Alerts,
    Alert(String),
    HuntingQuery,
    /// `/$count` of a collection.
    Count(Box<Route>),
    /// `deviceManagement/roleScopeTags`.
    RoleScopeTags,
    RoleScopeTag(String),
    RoleScopeTagAssignments(String),
    /// A collection or singleton the lab holds nothing of (an index of the absent-resources table).
    Absent(usize),
    Batch,
    RoleDefinitions,
    RoleDefinition(String),
    RoleAssignments,
    RoleAssignment(String),
    /// `deviceManagement/operationApprovalRequests`: Multi Admin Approval requests.
    ApprovalRequests,
    ApprovalRequest(String),
    /// `organization`: the tenant itself (a collection of one).
    Organization,
    /// `subscribedSkus`: the tenant's subscriptions.
    SubscribedSkus,
    /// `security/rules/detectionRules`: Defender custom detection rules.
    DetectionRules,
    DetectionRule(String),
    /// `roleManagement/defender`: Defender XDR unified RBAC.
    DefenderRoleDefinitions,
    DefenderRoleDefinition(String),
    DefenderRoleAssignments,
    DefenderRoleAssignment(String),
    DefenderNamespaces,
}

impl Route {
    /// The route for a path, or the segment Graph would name as not found.
    pub fn of(version: &str, segments: &[String]) -> Result<Route, String> {
        if let Some((last, collection)) = segments.split_last()
            && last == "$count"
        {
            let inner = Route::of(version, collection)?;
            return if inner.is_collection() { Ok(Route::Count(Box::new(inner))) } else { Err(last.clone()) };
        }
        let beta = version == "beta";
        let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
        let words: Vec<&str> = lower.iter().map(String::as_str).collect();
        let id = |i: usize| segments[i].clone();
        match words.as_slice() {
            ["devicemanagement", "configurationpolicies" | "configurationpolicytemplates", ..] if !beta => {
                Err(segments[1].clone())
            }
            ["devicemanagement", "configurationpolicies"] => Ok(Route::Policies),
            ["devicemanagement", "configurationpolicies", _] => Ok(Route::Policy(id(2))),
            ["devicemanagement", "configurationpolicies", _, "settings"] => Ok(Route::PolicySettings(id(2))),
            ["devicemanagement", "configurationpolicies", _, "settings", _] => Ok(Route::PolicySetting(id(2), id(4))),
            ["devicemanagement", "configurationpolicies", _, "assignments"] => Ok(Route::PolicyAssignments(id(2))),
            ["devicemanagement", "configurationpolicies", _, "assign" | "microsoft.graph.assign"] => {
                Ok(Route::PolicyAssign(id(2)))
            }
            ["devicemanagement", "configurationpolicytemplates"] => Ok(Route::Templates),
            ["devicemanagement", "configurationpolicytemplates", _] => Ok(Route::Template(id(2))),
            ["devicemanagement", "configurationpolicytemplates", _, "settingtemplates"] => {
                Ok(Route::TemplateSettings(id(2)))
            }
            ["devicemanagement", "roledefinitions"] => Ok(Route::RoleDefinitions),
            ["devicemanagement", "roledefinitions", _] => Ok(Route::RoleDefinition(id(2))),
            ["devicemanagement", "roleassignments"] => Ok(Route::RoleAssignments),
            ["devicemanagement", "roleassignments", _] => Ok(Route::RoleAssignment(id(2))),
            ["devicemanagement", "operationapprovalrequests"] if beta => Ok(Route::ApprovalRequests),
            ["devicemanagement", "operationapprovalrequests", _] if beta => Ok(Route::ApprovalRequest(id(2))),
            ["devicemanagement", "manageddevices"] => Ok(Route::ManagedDevices),
            ["identityprotection", "riskyusers"] => Ok(Route::RiskyUsers),
            ["groups"] => Ok(Route::Groups),
            ["groups", _] => Ok(Route::Group(id(1))),
            ["security", "incidents"] => Ok(Route::Incidents),
            ["security", "incidents", _] => Ok(Route::Incident(id(2))),
            ["security", "incidents", _, "comments"] => Ok(Route::IncidentComments(id(2))),
            ["security", "alerts_v2"] => Ok(Route::Alerts),
            ["security", "alerts_v2", _] => Ok(Route::Alert(id(2))),
            ["security", "runhuntingquery" | "microsoft.graph.security.runhuntingquery"] => Ok(Route::HuntingQuery),
            ["rolemanagement", "defender", ..] if !beta => Err(segments[1].clone()),
            ["rolemanagement", "defender", "roledefinitions"] => Ok(Route::DefenderRoleDefinitions),
            ["rolemanagement", "defender", "roledefinitions", _] => Ok(Route::DefenderRoleDefinition(id(3))),
            ["rolemanagement", "defender", "roleassignments"] => Ok(Route::DefenderRoleAssignments),
            ["rolemanagement", "defender", "roleassignments", _] => Ok(Route::DefenderRoleAssignment(id(3))),
            ["rolemanagement", "defender", "resourcenamespaces"] => Ok(Route::DefenderNamespaces),
            ["security", "rules", "detectionrules"] => Ok(Route::DetectionRules),
            ["security", "rules", "detectionrules", _] => Ok(Route::DetectionRule(id(3))),
            ["$batch"] => Ok(Route::Batch),
            ["organization"] => Ok(Route::Organization),
            ["subscribedskus"] => Ok(Route::SubscribedSkus),
            ["devicemanagement", "rolescopetags"] if beta => Ok(Route::RoleScopeTags),
            ["devicemanagement", "rolescopetags", _] if beta => Ok(Route::RoleScopeTag(id(2))),
            ["devicemanagement", "rolescopetags", _, "assignments"] if beta => {
                Ok(Route::RoleScopeTagAssignments(id(2)))
            }
            _ => match absent::find(version, segments) {
                Some(index) => Ok(Route::Absent(index)),
                None => Err(segments.last().cloned().unwrap_or_default()),
            },
        }
    }

    /// Whether the route is a collection (it has a `/$count`, and takes the collection options).
    pub fn is_collection(&self) -> bool {
        matches!(
            self,
            Route::Policies
                | Route::PolicySettings(_)
                | Route::PolicyAssignments(_)
                | Route::Templates
                | Route::TemplateSettings(_)
                | Route::Groups
                | Route::Incidents
                | Route::ManagedDevices
                | Route::RiskyUsers
                | Route::Alerts
                | Route::RoleDefinitions
                | Route::RoleAssignments
                | Route::RoleScopeTags
                | Route::RoleScopeTagAssignments(_)
                | Route::ApprovalRequests
                | Route::Organization
                | Route::SubscribedSkus
                | Route::DetectionRules
                | Route::DefenderRoleDefinitions
                | Route::DefenderRoleAssignments
                | Route::DefenderNamespaces
        ) || matches!(self, Route::Absent(index) if absent::is_collection(*index))
    }

    /// The query options the endpoint honours.
    pub fn supported(&self) -> Supported {
        match self {
            // Sub-collections page by position: `$count` and `$top` only.
            Route::PolicySettings(_) | Route::PolicyAssignments(_) | Route::TemplateSettings(_) => {
                Supported { count: true, ..Supported::ENTITY }
            }
            Route::Count(_) => Supported::COLLECTION,
            route if route.is_collection() => Supported::COLLECTION,
            _ => Supported::ENTITY,
        }
    }

    fn path_template(&self) -> &'static str {
        match self {
            Route::Policies => "/deviceManagement/configurationPolicies",
            Route::Policy(_) => "/deviceManagement/configurationPolicies/{id}",
            Route::PolicySettings(_) => "/deviceManagement/configurationPolicies/{id}/settings",
            Route::PolicySetting(..) => "/deviceManagement/configurationPolicies/{id}/settings/{id}",
            Route::Templates => "/deviceManagement/configurationPolicyTemplates",
            Route::Template(_) => "/deviceManagement/configurationPolicyTemplates/{id}",
            Route::TemplateSettings(_) => "/deviceManagement/configurationPolicyTemplates/{id}/settingTemplates",
            Route::Incident(_) => "/security/incidents/{id}",
            Route::IncidentComments(_) => "/security/incidents/{id}/comments",
            Route::Alerts => "/security/alerts_v2",
            Route::Alert(_) => "/security/alerts_v2/{id}",
            Route::Count(inner) => inner.count_template(),
            Route::RoleScopeTags => "/deviceManagement/roleScopeTags",
            Route::RoleScopeTag(_) => "/deviceManagement/roleScopeTags/{id}",
            Route::RoleScopeTagAssignments(_) => "/deviceManagement/roleScopeTags/{id}/assignments",
            // Labelled by `route_template` from the absent resource's own path.
            Route::Absent(_) => "",
            Route::PolicyAssignments(_) => "/deviceManagement/configurationPolicies/{id}/assignments",
            Route::PolicyAssign(_) => "/deviceManagement/configurationPolicies/{id}/assign",
            Route::Groups => "/groups",
            Route::Group(_) => "/groups/{id}",
            Route::Incidents => "/security/incidents",
            Route::ManagedDevices => "/deviceManagement/managedDevices",
            Route::RiskyUsers => "/identityProtection/riskyUsers",
            Route::HuntingQuery => "/security/runHuntingQuery",
            Route::Batch => "/$batch",
            Route::RoleDefinitions => "/deviceManagement/roleDefinitions",
            Route::RoleDefinition(_) => "/deviceManagement/roleDefinitions/{id}",
            Route::RoleAssignments => "/deviceManagement/roleAssignments",
            Route::RoleAssignment(_) => "/deviceManagement/roleAssignments/{id}",
            Route::ApprovalRequests => "/deviceManagement/operationApprovalRequests",
            Route::ApprovalRequest(_) => "/deviceManagement/operationApprovalRequests/{id}",
            Route::Organization => "/organization",
            Route::SubscribedSkus => "/subscribedSkus",
            Route::DetectionRules => "/security/rules/detectionRules",
            Route::DetectionRule(_) => "/security/rules/detectionRules/{id}",
            Route::DefenderRoleDefinitions => "/roleManagement/defender/roleDefinitions",
            Route::DefenderRoleDefinition(_) => "/roleManagement/defender/roleDefinitions/{id}",
            Route::DefenderRoleAssignments => "/roleManagement/defender/roleAssignments",
            Route::DefenderRoleAssignment(_) => "/roleManagement/defender/roleAssignments/{id}",
            Route::DefenderNamespaces => "/roleManagement/defender/resourceNamespaces",
        }
    }

    /// `…/$count` of a collection's template.
    fn count_template(&self) -> &'static str {
        match self {
            Route::Policies => "/deviceManagement/configurationPolicies/$count",
            Route::PolicySettings(_) => "/deviceManagement/configurationPolicies/{id}/settings/$count",
            Route::PolicyAssignments(_) => "/deviceManagement/configurationPolicies/{id}/assignments/$count",
            Route::Templates => "/deviceManagement/configurationPolicyTemplates/$count",
            Route::TemplateSettings(_) => "/deviceManagement/configurationPolicyTemplates/{id}/settingTemplates/$count",
            Route::Groups => "/groups/$count",
            Route::Incidents => "/security/incidents/$count",
            Route::ManagedDevices => "/deviceManagement/managedDevices/$count",
            Route::RiskyUsers => "/identityProtection/riskyUsers/$count",
            Route::Alerts => "/security/alerts_v2/$count",
            Route::RoleDefinitions => "/deviceManagement/roleDefinitions/$count",
            Route::RoleAssignments => "/deviceManagement/roleAssignments/$count",
            Route::RoleScopeTags => "/deviceManagement/roleScopeTags/$count",
            Route::ApprovalRequests => "/deviceManagement/operationApprovalRequests/$count",
            Route::DetectionRules => "/security/rules/detectionRules/$count",
            _ => "/{absent}/$count",
        }
    }

    pub fn allows(&self, method: &Method) -> bool {
        match self {
            Route::Policies
            | Route::RoleDefinitions
            | Route::RoleAssignments
            | Route::PolicySettings(_)
            | Route::DetectionRules
            | Route::DefenderRoleDefinitions
            | Route::DefenderRoleAssignments => [Method::GET, Method::POST].contains(method),
            Route::PolicySetting(..) => [Method::GET, Method::PATCH, Method::DELETE].contains(method),
            Route::RoleDefinition(_)
            | Route::RoleAssignment(_)
            | Route::DetectionRule(_)
            | Route::DefenderRoleDefinition(_)
            | Route::DefenderRoleAssignment(_) => [Method::GET, Method::PATCH, Method::DELETE].contains(method),
            Route::Policy(_) => [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(method),
            Route::PolicyAssignments(_)
            | Route::Templates
            | Route::Template(_)
            | Route::TemplateSettings(_)
            | Route::Groups
            | Route::Group(_)
            | Route::Incidents
            | Route::ManagedDevices
            | Route::RiskyUsers
            | Route::Alerts
            | Route::Alert(_)
            | Route::RoleScopeTags
            | Route::RoleScopeTag(_)
            | Route::RoleScopeTagAssignments(_)
            | Route::ApprovalRequests
            | Route::ApprovalRequest(_)
            | Route::Organization
            | Route::SubscribedSkus
            | Route::Absent(_)
            | Route::DefenderNamespaces
            | Route::Count(_) => method == Method::GET,
            Route::Incident(_) => [Method::GET, Method::PATCH].contains(method),
            Route::PolicyAssign(_) | Route::HuntingQuery | Route::Batch | Route::IncidentComments(_) => {
                method == Method::POST
            }
        }
    }

    /// Writes Intune's Multi Admin Approval holds when the tenant protects configuration policies.
    pub fn is_approval_protected(&self, method: &Method) -> bool {
        let policy_route = matches!(
            self,
            Route::Policies
                | Route::Policy(_)
                | Route::PolicySettings(_)
                | Route::PolicySetting(..)
                | Route::PolicyAssign(_)
        );
        policy_route && method != Method::GET
    }

    /// Writes count against Intune's write budget.
    pub fn is_policy_write(&self, method: &Method) -> bool {
        // Intune's RBAC endpoints share its write budget.
        let role_route = matches!(
            self,
            Route::RoleDefinitions | Route::RoleDefinition(_) | Route::RoleAssignments | Route::RoleAssignment(_)
        );
        self.is_approval_protected(method) || (role_route && method != Method::GET)
    }
}

/// The stats label of a request: `GET /beta/deviceManagement/configurationPolicies/{id}`.
pub fn route_template(method: &Method, version: &str, segments: &[String]) -> String {
    match Route::of(version, segments) {
        Ok(Route::Absent(index)) => format!("{method} /{version}/{}", absent::path(index)),
        Ok(route) => format!("{method} /{version}{}", route.path_template()),
        Err(_) => format!("{method} /{version}/*"),
    }
}

/// Percent-decoded, non-empty segments of a path.
pub fn decode_segments(path: &str) -> Vec<String> {
    path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect()
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) =
                (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Vec<String> {
        path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    #[test]
    fn routes_and_their_templates() {
        let template = |method: Method, version: &str, path: &str| route_template(&method, version, &segments(path));
        assert_eq!(
            template(Method::GET, "beta", "deviceManagement/configurationPolicies/abc"),
            "GET /beta/deviceManagement/configurationPolicies/{id}"
        );
        assert_eq!(
            template(Method::POST, "beta", "devicemanagement/configurationpolicies/abc/assign"),
            "POST /beta/deviceManagement/configurationPolicies/{id}/assign"
        );
        assert_eq!(template(Method::GET, "v1.0", "groups"), "GET /v1.0/groups");
        assert_eq!(template(Method::GET, "v1.0", "deviceManagement/configurationPolicies"), "GET /v1.0/*");
        assert_eq!(
            Route::of("v1.0", &segments("deviceManagement/configurationPolicies")),
            Err("configurationPolicies".into())
        );
        assert_eq!(Route::of("beta", &segments("nope/x")), Err("x".into()));
        assert!(Route::Policy("a".into()).is_policy_write(&Method::PATCH));
        assert!(!Route::Policy("a".into()).is_policy_write(&Method::GET));
        assert!(!Route::HuntingQuery.is_policy_write(&Method::POST));
        assert!(!Route::Groups.allows(&Method::POST));
    }
}
