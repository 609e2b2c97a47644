//! What a tenant must grant the app before tenantctl reads or writes it: the application permissions
//! each use needs (Microsoft Graph's permission tables, least privileged first; a broader permission
//! that Graph also accepts satisfies the need), the licences the features rest on, and one wording of
//! what is missing, shared by `tenants check`, `plan`, `apply` and the operator.

use std::collections::BTreeSet;
use std::fmt;

use super::api::Access;
use super::managed::{Managed, Policies, Roles};
use super::plan::Change;
use super::resolve::TenantDesired;
use crate::model::Kind;

/// One use of Graph and the application permissions that allow it (any one of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Need {
    /// What it is for, in words: "write configuration policies".
    pub purpose: &'static str,
    /// Permissions Graph accepts for it, least privileged first (the one to grant).
    pub accepted: &'static [&'static str],
}

const CONFIGURATION_READ: &str = "DeviceManagementConfiguration.Read.All";
const CONFIGURATION_WRITE: &str = "DeviceManagementConfiguration.ReadWrite.All";
const RBAC_READ: &str = "DeviceManagementRBAC.Read.All";
const RBAC_WRITE: &str = "DeviceManagementRBAC.ReadWrite.All";

pub const READ_POLICIES: Need =
    Need { purpose: "read configuration policies", accepted: &[CONFIGURATION_READ, CONFIGURATION_WRITE] };
pub const WRITE_POLICIES: Need = Need { purpose: "write configuration policies", accepted: &[CONFIGURATION_WRITE] };
pub const READ_ROLES: Need = Need { purpose: "read Intune roles", accepted: &[RBAC_READ, RBAC_WRITE] };
pub const WRITE_ROLES: Need = Need { purpose: "write Intune roles", accepted: &[RBAC_WRITE] };
pub const READ_DETECTION_RULES: Need = Need {
    purpose: "read custom detection rules",
    accepted: &["CustomDetection.Read.All", "CustomDetection.ReadWrite.All"],
};
pub const WRITE_DETECTION_RULES: Need =
    Need { purpose: "write custom detection rules", accepted: &["CustomDetection.ReadWrite.All"] };
pub const READ_DEFENDER_ROLES: Need = Need {
    purpose: "read Defender XDR roles",
    accepted: &["RoleManagement.Read.Defender", "RoleManagement.ReadWrite.Defender"],
};
pub const WRITE_DEFENDER_ROLES: Need =
    Need { purpose: "write Defender XDR roles", accepted: &["RoleManagement.ReadWrite.Defender"] };
pub const READ_GROUPS: Need = Need {
    purpose: "look up assignment groups by name",
    accepted: &["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Group.ReadWrite.All"],
};
pub const READ_INCIDENTS: Need = Need {
    purpose: "read security incidents",
    accepted: &["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"],
};
pub const WRITE_INCIDENTS: Need =
    Need { purpose: "update security incidents", accepted: &["SecurityIncident.ReadWrite.All"] };
pub const READ_MANAGED_DEVICES: Need = Need {
    purpose: "read Intune managed devices",
    accepted: &["DeviceManagementManagedDevices.Read.All", "DeviceManagementManagedDevices.ReadWrite.All"],
};
pub const READ_RISKY_USERS: Need =
    Need { purpose: "read risky users", accepted: &["IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All"] };
pub const RUN_HUNTING: Need = Need { purpose: "run advanced hunting queries", accepted: &["ThreatHunting.Read.All"] };
pub const READ_ORGANIZATION: Need = Need {
    purpose: "read the tenant's organization and licences",
    accepted: &["Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All"],
};

impl Need {
    /// The permission to grant: the least privileged one Graph accepts.
    pub fn permission(&self) -> &'static str {
        self.accepted[0]
    }

    pub fn is_met_by(&self, granted: &BTreeSet<String>) -> bool {
        self.accepted.iter().any(|p| granted.iter().any(|g| g.eq_ignore_ascii_case(p)))
    }
}

/// The uses tenantctl makes of a tenant, beyond the manifests: what a command needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// `plan`, `drift`, `export`: read what the manifests manage.
    Plan,
    /// `apply` and the operator: read and write what the manifests manage.
    Apply,
    /// `incidents`: the incident queue.
    Incidents,
    /// `hunt`: advanced hunting.
    Hunt,
    /// `incidents update`, `cases apply`: incident triage.
    Triage,
    /// `devices`: Intune managed devices.
    Devices,
    /// `identities`: Entra ID Protection risky users.
    Identities,
}

/// The permissions reading a tenant needs (what observation reads for its manifests).
pub fn read_needs(tenant: &TenantDesired) -> Vec<Need> {
    let mut needs = vec![READ_POLICIES];
    if tenant.manages_roles {
        needs.push(READ_ROLES);
    }
    if !tenant.detection_rules.is_empty() {
        needs.push(READ_DETECTION_RULES);
    }
    if !tenant.defender_roles.is_empty() {
        needs.push(READ_DEFENDER_ROLES);
    }
    let names_groups = tenant.policies.iter().any(|p| !Policies::group_names(p).is_empty())
        || tenant.roles.iter().any(|r| !Roles::group_names(r).is_empty())
        || tenant.defender_roles.iter().any(|r| !r.spec.assignments.is_empty());
    if names_groups {
        needs.push(READ_GROUPS);
    }
    needs
}

/// The permissions the manifests could make `apply` use in a tenant: writing each family it
/// delivers in enforce mode (or prunes).
pub fn write_needs(tenant: &TenantDesired) -> Vec<Need> {
    let enforce = |mode: &crate::model::profile::Mode| *mode == crate::model::profile::Mode::Enforce;
    let mut needs = Vec::new();
    if tenant.policies.iter().any(|p| enforce(&p.mode)) || tenant.prune_max_delete_percent.is_some() {
        needs.push(WRITE_POLICIES);
    }
    if tenant.roles.iter().any(|r| enforce(&r.mode))
        || (tenant.manages_roles && tenant.prune_max_delete_percent.is_some())
    {
        needs.push(WRITE_ROLES);
    }
    if tenant.detection_rules.iter().any(|r| enforce(&r.mode)) {
        needs.push(WRITE_DETECTION_RULES);
    }
    if tenant.defender_roles.iter().any(|r| enforce(&r.mode)) {
        needs.push(WRITE_DEFENDER_ROLES);
    }
    needs
}

/// The permissions a plan's writes need, by the families they touch.
pub fn needs_of_writes<'a>(changes: impl Iterator<Item = &'a Change>) -> Vec<Need> {
    let mut needs = BTreeSet::new();
    for change in changes {
        needs.insert(match change.object.kind {
            Kind::IntuneRole => WRITE_ROLES,
            Kind::DetectionRule => WRITE_DETECTION_RULES,
            Kind::DefenderRole => WRITE_DEFENDER_ROLES,
            _ => WRITE_POLICIES,
        });
    }
    needs.into_iter().collect()
}

/// The permissions a use needs in a tenant.
pub fn needs_for(purpose: Purpose, tenant: &TenantDesired) -> Vec<Need> {
    match purpose {
        Purpose::Plan => read_needs(tenant),
        Purpose::Apply => read_needs(tenant).into_iter().chain(write_needs(tenant)).collect(),
        Purpose::Incidents => vec![READ_INCIDENTS],
        Purpose::Triage => vec![WRITE_INCIDENTS],
        Purpose::Hunt => vec![RUN_HUNTING],
        Purpose::Devices => vec![READ_MANAGED_DEVICES],
        Purpose::Identities => vec![READ_RISKY_USERS],
    }
}

/// The needs `granted` does not meet, each once; a need that granting another's permission would meet
/// too is left out (granting `…ReadWrite.All` for writes is enough for reads).
pub fn unmet(needs: &[Need], granted: &BTreeSet<String>) -> Vec<Need> {
    let missing: BTreeSet<Need> = needs.iter().copied().filter(|n| !n.is_met_by(granted)).collect();
    let covered =
        |need: &Need| missing.iter().any(|other| other != need && need.accepted.contains(&other.permission()));
    missing.iter().copied().filter(|need| !covered(need)).collect()
}

impl Access {
    /// Why `needs` cannot be met, in the words every command uses; `None` when they are (or when the
    /// token does not say).
    pub fn refusal(&self, needs: &[Need]) -> Option<MissingPermissions> {
        let missing = unmet(needs, self.granted.as_ref()?);
        (!missing.is_empty()).then(|| MissingPermissions { missing, consent_url: self.consent_url.clone() })
    }
}

/// Permissions the app lacks in a tenant, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingPermissions {
    pub missing: Vec<Need>,
    pub consent_url: Option<String>,
}

impl fmt::Display for MissingPermissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> =
            self.missing.iter().map(|need| format!("{} (to {})", need.permission(), need.purpose)).collect();
        let (noun, them) = if self.missing.len() == 1 { ("permission", "it") } else { ("permissions", "them") };
        write!(f, "the app lacks the application {noun} {}", list.join(", "))?;
        write!(f, "; add {them} to the app registration, then an admin of the tenant consents again")?;
        match &self.consent_url {
            Some(url) => write!(f, ": {url}"),
            None => Ok(()),
        }
    }
}

/// A licence a feature rests on: any of these service plans, enabled in a subscription of the tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Licence {
    pub name: &'static str,
    /// `servicePlanId`s that provide it (matched by id: plan names are reused across products).
    pub service_plans: &'static [&'static str],
}

/// Microsoft Intune Plan 1 (`INTUNE_A`), in Microsoft 365 E3/E5, Business Premium, EMS and Intune's own.
pub const INTUNE: Licence = Licence { name: "Microsoft Intune Plan 1", service_plans: &[INTUNE_A] };
/// Microsoft Defender for Endpoint Plan 2 (`WINDEFATP`), in Microsoft 365 E5, E5 Security, F5 Security and
/// Defender for Endpoint's own.
pub const DEFENDER_P2: Licence =
    Licence { name: "Microsoft Defender for Endpoint Plan 2", service_plans: &[WINDEFATP] };

/// Microsoft Entra ID P2 (`AAD_PREMIUM_P2`), in Microsoft 365 E5, EMS E5 and Entra ID P2's own: what ID
/// Protection's risky users rest on.
pub const ENTRA_P2: Licence = Licence { name: "Microsoft Entra ID P2", service_plans: &[AAD_PREMIUM_P2] };

pub const INTUNE_A: &str = "c1ec4a95-1f05-45b3-a911-aa3fa01094f5";
pub const AAD_PREMIUM_P2: &str = "eec0eb4f-6444-4f95-aba0-50c24d67f998";
pub const WINDEFATP: &str = "871d91ec-ec1a-452b-a83f-bd76c7d770ef";

/// A feature of the manifests or of a command, and the licence it needs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LicensedFeature {
    /// `endpoint security policies`, `EndpointDetectionPolicy/edr-onboarding`, `incidents`.
    pub feature: String,
    pub licence: Licence,
}

/// The licences the uses of a tenant rest on: Intune for policies and roles; Defender for Endpoint
/// Plan 2 for the Defender features (onboarding policies, detection rules, incidents, advanced hunting).
pub fn licensed_features(purposes: &[Purpose], tenant: &TenantDesired) -> Vec<LicensedFeature> {
    let mut features = BTreeSet::new();
    let manifests = purposes.iter().any(|p| matches!(p, Purpose::Plan | Purpose::Apply));
    if manifests && (!tenant.policies.is_empty() || !tenant.roles.is_empty()) {
        features.insert(LicensedFeature { feature: "endpoint security policies and roles".into(), licence: INTUNE });
    }
    if manifests {
        for policy in tenant.policies.iter().filter(|p| p.object.kind == Kind::EndpointDetectionPolicy) {
            features.insert(LicensedFeature { feature: policy.object.to_string(), licence: DEFENDER_P2 });
        }
    }
    if manifests {
        for rule in &tenant.detection_rules {
            features.insert(LicensedFeature { feature: rule.object.to_string(), licence: DEFENDER_P2 });
        }
        for role in &tenant.defender_roles {
            features.insert(LicensedFeature { feature: role.object.to_string(), licence: DEFENDER_P2 });
        }
    }
    if purposes.contains(&Purpose::Incidents) || purposes.contains(&Purpose::Triage) {
        features.insert(LicensedFeature { feature: "incidents".into(), licence: DEFENDER_P2 });
    }
    if purposes.contains(&Purpose::Hunt) {
        features.insert(LicensedFeature { feature: "advanced hunting".into(), licence: DEFENDER_P2 });
    }
    if purposes.contains(&Purpose::Devices) {
        features.insert(LicensedFeature { feature: "managed devices".into(), licence: INTUNE });
    }
    if purposes.contains(&Purpose::Identities) {
        features.insert(LicensedFeature { feature: "risky users".into(), licence: ENTRA_P2 });
    }
    features.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::memory::first_tenant_desired;

    const MANIFESTS: &str = r#"
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: contoso}
spec: {tenantId: 00000000-0000-0000-0000-000000000001, displayName: Contoso}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: all}
spec:
  tenants: [contoso]
  policies: [{kind: EndpointDetectionPolicy, name: edr}]
  roles: [helpdesk]
  assignments: {groups: [Pilot]}
---
apiVersion: tenantctl.dev/v1alpha1
kind: EndpointDetectionPolicy
metadata: {name: edr}
spec:
  displayName: EDR
  onboarding: {source: autoFromConnector}
---
apiVersion: tenantctl.dev/v1alpha1
kind: IntuneRole
metadata: {name: helpdesk}
spec:
  displayName: Helpdesk
  allowedResourceActions: [Microsoft.Intune_Organization_Read]
"#;

    fn granted(permissions: &[&str]) -> BTreeSet<String> {
        permissions.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn needs_follow_the_manifests() {
        let tenant = first_tenant_desired(MANIFESTS);
        assert_eq!(read_needs(&tenant), vec![READ_POLICIES, READ_ROLES, READ_GROUPS]);
        assert_eq!(write_needs(&tenant), vec![WRITE_POLICIES, WRITE_ROLES]);
        let features = licensed_features(&[Purpose::Apply, Purpose::Hunt], &tenant);
        let named: Vec<(&str, &str)> = features.iter().map(|f| (f.feature.as_str(), f.licence.name)).collect();
        assert_eq!(
            named,
            vec![
                ("EndpointDetectionPolicy/edr", DEFENDER_P2.name),
                ("advanced hunting", DEFENDER_P2.name),
                ("endpoint security policies and roles", INTUNE.name),
            ]
        );
    }

    #[test]
    fn the_views_and_triage_need_their_own_permissions_and_licences() {
        let tenant = first_tenant_desired(MANIFESTS);
        assert_eq!(needs_for(Purpose::Triage, &tenant), vec![WRITE_INCIDENTS]);
        assert_eq!(needs_for(Purpose::Devices, &tenant), vec![READ_MANAGED_DEVICES]);
        assert_eq!(needs_for(Purpose::Identities, &tenant), vec![READ_RISKY_USERS]);
        let features = licensed_features(&[Purpose::Identities, Purpose::Triage], &tenant);
        let named: Vec<(&str, &str)> = features.iter().map(|f| (f.feature.as_str(), f.licence.name)).collect();
        assert_eq!(named, vec![("incidents", DEFENDER_P2.name), ("risky users", ENTRA_P2.name)]);
    }

    #[test]
    fn a_broader_permission_meets_a_need_and_the_refusal_says_what_to_grant() {
        let access = Access {
            granted: Some(granted(&["DeviceManagementConfiguration.ReadWrite.All", "Group.Read.All"])),
            consent_url: Some("https://login.example/t/adminconsent?client_id=a".into()),
        };
        assert_eq!(access.refusal(&[READ_POLICIES, WRITE_POLICIES, READ_GROUPS]), None);
        let refusal = access.refusal(&[READ_POLICIES, WRITE_ROLES, READ_ROLES, RUN_HUNTING]).expect("refused");
        assert_eq!(
            refusal.to_string(),
            "the app lacks the application permissions ThreatHunting.Read.All (to run advanced hunting queries), \
             DeviceManagementRBAC.ReadWrite.All (to write Intune roles); add them to the app registration, then \
             an admin of the tenant consents again: https://login.example/t/adminconsent?client_id=a",
            "granting RBAC's ReadWrite is enough to read roles too: one permission, not two"
        );
        assert_eq!(Access::default().refusal(&[WRITE_ROLES]), None, "an unreadable token is not a refusal");
    }

    #[test]
    fn a_tenant_is_refused_before_reads_or_writes_the_app_may_not_make() {
        use crate::engine::api::MISSING_PERMISSION;
        use crate::engine::apply::apply_tenant;
        use crate::engine::diff::PlanOptions;
        use crate::engine::memory::{MemoryTenant, run};
        use crate::engine::observe::observe_and_plan_tenant;
        use crate::engine::plan::TenantState;
        use crate::engine::policy_cache::PolicyCache;
        use crate::engine::problem::Category;

        let tenant = first_tenant_desired(MANIFESTS);
        let api = MemoryTenant::with_groups(&["Pilot"]);
        let without_rbac_write = granted(&[CONFIGURATION_WRITE, RBAC_READ, "GroupMember.Read.All"]);
        api.edit(|state| state.access.granted = Some(without_rbac_write));
        let plan_it = || run(observe_and_plan_tenant(&api, &tenant, &mut PolicyCache::none(), PlanOptions::default()));
        let (_, plan) = plan_it().expect("read");
        assert_eq!(plan.state, TenantState::Failed);
        let refusal = plan.problems.iter().find(|p| p.category == Category::MissingPermission).expect("refused");
        assert!(refusal.message.contains("DeviceManagementRBAC.ReadWrite.All (to write Intune roles)"), "{refusal}");
        assert_eq!(plan.changes.len(), 2, "what would change is still shown");
        let outcome = run(apply_tenant(&api, &plan, false));
        assert_eq!((outcome.writes(), outcome.errors.len()), (0, 1));
        assert!(api.edit(|state| state.policies.is_empty() && state.definitions.is_empty()), "nothing written");

        api.edit(|state| {
            state.access.granted = Some(granted(&["GroupMember.Read.All"]));
            state.calls.clear();
        });
        let error = plan_it().expect_err("not read");
        assert_eq!(error.category, MISSING_PERMISSION);
        assert!(error.message.contains("DeviceManagementConfiguration.Read.All (to read configuration policies)"));
        assert!(api.edit(|state| state.calls.is_empty()), "no read was made");
    }
}
