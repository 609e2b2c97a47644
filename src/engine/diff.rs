//! diff: desired vs live → per tenant and policy, create / update / adopt / delete / no-op. Pure.
//! Identity is the ownership marker, never the display name; unmanaged policies are only counted.

use std::collections::{BTreeMap, BTreeSet};

use ring::digest::{Context, SHA256};

use super::assignments::{GroupsByName, resolve_targets, same_targets};
use super::display::display;
use super::normalize::{changed_fields, comparable};
use super::ownership::split_marker;
use super::plan::{Action, Change, Plan, TenantPlan, TenantState};
use super::resolve::{DesiredPolicy, DesiredState, TenantDesired};
use crate::graph::wire::{AssignmentTarget, ConfigurationPolicy};
use crate::model::PolicyRef;
use crate::model::profile::Mode;

/// What was read of one tenant.
#[derive(Clone, Debug)]
pub enum Observation {
    Observed(LiveTenant),
    /// The tenant could not be read; the reason is shown, nothing is written.
    Unknown(String),
}

/// A tenant's live state: every configuration policy (with settings and assignments) and the groups
/// named by the desired assignments.
#[derive(Clone, Debug, Default)]
pub struct LiveTenant {
    /// Intune role definitions and assignments, read when the desired state names roles.
    pub roles: Option<super::roles::LiveRoles>,
    pub policies: Vec<ConfigurationPolicy>,
    pub groups: GroupsByName,
}

/// Choices the user makes when planning.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlanOptions {
    /// Take over an unmanaged policy with the desired display name (refused when several match).
    pub adopt: bool,
    /// Lift the blast-radius guard on deletes.
    pub allow_mass_delete: bool,
}

/// Digest of a tenant's live policies: any change to any policy (by anyone) changes it.
pub fn fingerprint(policies: &[ConfigurationPolicy]) -> String {
    let mut sorted: Vec<&ConfigurationPolicy> = policies.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    // The JSON goes straight into the digest: a tenant's policies are never held as one buffer.
    let mut writer = std::io::BufWriter::new(Digesting(Context::new(&SHA256)));
    let digest = match serde_json::to_writer(&mut writer, &sorted).ok().and_then(|()| writer.into_inner().ok()) {
        Some(Digesting(context)) => context.finish(),
        None => ring::digest::digest(&SHA256, b""),
    };
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Feeds whatever is written into a digest.
struct Digesting(Context);

impl std::io::Write for Digesting {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Plans every tenant of the desired state. Tenants without an observation are unknown.
pub fn plan(desired: &DesiredState, observations: &BTreeMap<String, Observation>, options: PlanOptions) -> Plan {
    let tenants = desired
        .tenants
        .iter()
        .map(|tenant| {
            let observation = observations.get(&tenant.name);
            plan_tenant(tenant, observation, options)
        })
        .collect();
    Plan::new(tenants)
}

fn empty_plan(desired: &TenantDesired, state: TenantState, problems: Vec<String>) -> TenantPlan {
    TenantPlan {
        name: desired.name.clone(),
        tenant_id: desired.tenant_id.clone(),
        display_name: desired.display_name.clone(),
        profiles: desired.profiles.clone(),
        state,
        problems,
        fingerprint: None,
        changes: Vec::new(),
        unchanged: Vec::new(),
        unmanaged: 0,
    }
}

/// Plans one tenant.
pub fn plan_tenant(desired: &TenantDesired, observation: Option<&Observation>, options: PlanOptions) -> TenantPlan {
    if desired.suspended {
        return empty_plan(desired, TenantState::Suspended, Vec::new());
    }
    let live = match observation {
        Some(Observation::Observed(live)) => live,
        Some(Observation::Unknown(reason)) => return empty_plan(desired, TenantState::Unknown, vec![reason.clone()]),
        None => return empty_plan(desired, TenantState::Unknown, vec!["not observed".into()]),
    };
    let mut owned: BTreeMap<PolicyRef, Vec<&ConfigurationPolicy>> = BTreeMap::new();
    let mut unmanaged: Vec<&ConfigurationPolicy> = Vec::new();
    for policy in &live.policies {
        match split_marker(&policy.description).1 {
            Some(reference) => owned.entry(reference).or_default().push(policy),
            None => unmanaged.push(policy),
        }
    }
    for copies in owned.values_mut() {
        // The oldest copy is the policy; later copies can only be leftovers.
        copies.sort_by(|a, b| (&a.created_date_time, &a.id).cmp(&(&b.created_date_time, &b.id)));
    }

    let mut plan = empty_plan(desired, TenantState::Planned, Vec::new());
    plan.fingerprint = Some(fingerprint(&live.policies));
    let mut adopted = BTreeSet::new();
    for policy in &desired.policies {
        let targets = match resolve_targets(&policy.assignments, &live.groups) {
            Ok(targets) => targets,
            Err(problems) => {
                plan.problems.push(format!("{}: {}", policy.reference, problems.join("; ")));
                continue;
            }
        };
        let current = owned.get(&policy.reference).and_then(|copies| copies.first().copied());
        let change = match current {
            Some(current) => update(policy, current, targets, &live.groups),
            None => match create_or_adopt(policy, &unmanaged, targets, &live.groups, options) {
                Ok(change) => {
                    if let (Action::Adopt, Some(id)) = (change.action, &change.policy_id) {
                        adopted.insert(id.clone());
                    }
                    Some(change)
                }
                Err(problem) => {
                    plan.problems.push(problem);
                    continue;
                }
            },
        };
        match change {
            Some(change) => plan.changes.push(change),
            None => plan.unchanged.push(policy.reference.to_string()),
        }
    }
    plan.unmanaged = unmanaged.iter().filter(|p| !p.id.as_ref().is_some_and(|id| adopted.contains(id))).count();
    plan_deletes(desired, &owned, &live.groups, options, &mut plan);
    if let Some(roles) = &live.roles {
        super::roles::plan_roles(desired, roles, &live.groups, options, &mut plan);
    }
    if !plan.problems.is_empty() {
        plan.state = TenantState::Failed;
    }
    plan
}

fn live_targets(policy: &ConfigurationPolicy) -> Vec<AssignmentTarget> {
    policy.assignments.iter().flatten().map(|a| a.target.clone()).collect()
}

fn change(action: Action, policy: &DesiredPolicy, targets: Vec<AssignmentTarget>, groups: &GroupsByName) -> Change {
    Change {
        action,
        policy: policy.reference.to_string(),
        display_name: policy.payload.name.clone(),
        profile: Some(policy.profile.clone()),
        mode: policy.mode,
        policy_id: None,
        fields: Vec::new(),
        before: None,
        after: Some(display(policy.reference.kind, &policy.payload, &targets, groups)),
        reason: None,
        payload: Some(ConfigurationPolicy::clone(&policy.payload)),
        targets: Some(targets),
        role: None,
    }
}

fn update(
    policy: &DesiredPolicy,
    current: &ConfigurationPolicy,
    targets: Vec<AssignmentTarget>,
    groups: &GroupsByName,
) -> Option<Change> {
    let mut fields = changed_fields(&policy.comparable, &comparable(current));
    if !same_targets(&targets, current.assignments.as_deref().unwrap_or_default()) {
        fields.push("assignments".into());
    }
    if fields.is_empty() {
        return None;
    }
    let mut change = change(Action::Update, policy, targets, groups);
    change.policy_id = current.id.clone();
    change.before = Some(display(policy.reference.kind, current, &live_targets(current), groups));
    change.fields = fields;
    if policy.mode == Mode::Audit {
        change.reason = Some("drifted; the profile is in audit mode, nothing is written".into());
    }
    Some(change)
}

fn create_or_adopt(
    policy: &DesiredPolicy,
    unmanaged: &[&ConfigurationPolicy],
    targets: Vec<AssignmentTarget>,
    groups: &GroupsByName,
    options: PlanOptions,
) -> Result<Change, String> {
    let namesakes: Vec<&&ConfigurationPolicy> = unmanaged.iter().filter(|p| p.name == policy.payload.name).collect();
    match (options.adopt, namesakes.as_slice()) {
        (true, [candidate]) => {
            let mut change = change(Action::Adopt, policy, targets, groups);
            change.policy_id = candidate.id.clone();
            change.before = Some(display(policy.reference.kind, candidate, &live_targets(candidate), groups));
            change.fields = changed_fields(&policy.comparable, &comparable(candidate));
            change.reason = Some("adopting the unmanaged policy of the same name".into());
            Ok(change)
        }
        (true, [_, _, ..]) => Err(format!(
            "{}: cannot adopt: {} unmanaged policies are named \"{}\"",
            policy.reference,
            namesakes.len(),
            policy.payload.name
        )),
        (false, [_, ..]) => {
            let mut change = change(Action::Create, policy, targets, groups);
            change.reason = Some(format!(
                "an unmanaged policy named \"{}\" exists and is left alone (--adopt takes it over)",
                policy.payload.name
            ));
            Ok(change)
        }
        (_, []) => Ok(change(Action::Create, policy, targets, groups)),
    }
}

/// Deletes owned policies no profile delivers any more (when the tenant prunes) and leftover copies
/// of owned policies, within the blast-radius guard.
fn plan_deletes(
    desired: &TenantDesired,
    owned: &BTreeMap<PolicyRef, Vec<&ConfigurationPolicy>>,
    groups: &GroupsByName,
    options: PlanOptions,
    plan: &mut TenantPlan,
) {
    let wanted: BTreeSet<&PolicyRef> = desired.policies.iter().map(|p| &p.reference).collect();
    let mut deletes = Vec::new();
    for (reference, copies) in owned {
        let (keep, reason) = match (wanted.contains(reference), desired.prune_max_delete_percent.is_some()) {
            (true, _) => (1, "a leftover copy of a policy tenantctl owns"),
            (false, true) => (0, "no profile delivers it any more (prune)"),
            (false, false) => continue,
        };
        for live in copies.iter().skip(keep) {
            deletes.push(Change {
                action: Action::Delete,
                policy: reference.to_string(),
                display_name: live.name.clone(),
                profile: None,
                mode: Mode::Enforce,
                policy_id: live.id.clone(),
                fields: Vec::new(),
                before: Some(display(reference.kind, live, &live_targets(live), groups)),
                after: None,
                reason: Some(reason.into()),
                payload: None,
                targets: None,
                role: None,
            });
        }
    }
    let owned_total: usize = owned.values().map(Vec::len).sum();
    add_deletes(desired, deletes, owned_total, "policies", options, plan);
}

/// Adds prune deletes to the plan, unless they exceed the blast-radius guard (`maxDeletePercent` of
/// the tenant's owned `what`), which then fails the tenant instead.
pub(super) fn add_deletes(
    desired: &TenantDesired,
    deletes: Vec<Change>,
    owned_total: usize,
    what: &str,
    options: PlanOptions,
    plan: &mut TenantPlan,
) {
    let limit = desired.prune_max_delete_percent.unwrap_or(100) as usize;
    if !deletes.is_empty() && !options.allow_mass_delete && deletes.len() * 100 > limit * owned_total {
        plan.problems.push(format!(
            "refusing to delete {} of {owned_total} tenantctl-owned {what} (more than maxDeletePercent {limit}%); \
             rerun with --allow-mass-delete to confirm",
            deletes.len()
        ));
        return;
    }
    plan.changes.extend(deletes);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::plan::Summary;
    use crate::engine::resolve::resolve;
    use crate::graph::wire::PolicyAssignment;
    use crate::graph::wire_common::Group;
    use crate::manifest::load::{Loaded, load_text};

    const MANIFESTS: &str = "
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: t1}
spec: {tenantId: 00000000-0000-0000-0000-000000000001, displayName: T1}
---
apiVersion: tenantctl.dev/v1alpha1
kind: FirewallPolicy
metadata: {name: fw}
spec: {displayName: FW, public: {enabled: true, defaultInboundAction: block}}
---
apiVersion: tenantctl.dev/v1alpha1
kind: AttackSurfaceReductionPolicy
metadata: {name: asr}
spec: {displayName: ASR, rules: {blockObfuscatedScripts: block}}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: base}
spec:
  tenants: [t1]
  policies: [{kind: FirewallPolicy, name: fw}]
  assignments: {allDevices: true}
  prune: {enabled: true, maxDeletePercent: 50}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: watch}
spec:
  tenants: [t1]
  policies: [{kind: AttackSurfaceReductionPolicy, name: asr}]
  assignments: {groups: [Pilot]}
  mode: audit
";

    fn desired(extra: &str) -> TenantDesired {
        let mut loaded = Loaded::default();
        load_text(&mut loaded, Arc::from("t.yaml"), &format!("{MANIFESTS}{extra}"));
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        resolve(&loaded.set).desired.tenants.remove(0)
    }

    fn groups() -> GroupsByName {
        [("Pilot".to_string(), vec![Group { id: "g-pilot".into(), display_name: "Pilot".into() }])].into()
    }

    /// The live copy of a desired policy, as Graph would hold it after an apply.
    fn live_copy(policy: &DesiredPolicy, id: &str) -> ConfigurationPolicy {
        let mut live = ConfigurationPolicy::clone(&policy.payload);
        live.id = Some(id.into());
        live.created_date_time = Some(format!("2026-01-01T00:00:0{}Z", id.len() % 10));
        let targets = resolve_targets(&policy.assignments, &groups()).expect("targets");
        live.assignments =
            Some(targets.into_iter().map(|target| PolicyAssignment { id: Some(format!("{id}_a")), target }).collect());
        live
    }

    fn observe(policies: Vec<ConfigurationPolicy>) -> Observation {
        Observation::Observed(LiveTenant { policies, groups: groups(), roles: None })
    }

    fn summary_of(tenant: TenantPlan) -> Summary {
        Plan::new(vec![tenant]).summary
    }

    #[test]
    fn an_empty_tenant_gets_creates_and_audit_profiles_only_report() {
        let desired = desired("");
        let plan = plan_tenant(&desired, Some(&observe(vec![])), PlanOptions::default());
        assert_eq!(plan.state, TenantState::Planned);
        let actions: Vec<(Action, &str, Mode)> =
            plan.changes.iter().map(|c| (c.action, c.policy.as_str(), c.mode)).collect();
        assert_eq!(
            actions,
            vec![
                (Action::Create, "FirewallPolicy/fw", Mode::Enforce),
                (Action::Create, "AttackSurfaceReductionPolicy/asr", Mode::Audit)
            ]
        );
        let summary = summary_of(plan);
        assert_eq!((summary.create, summary.drifted), (1, 1));
    }

    #[test]
    fn a_converged_tenant_has_no_changes_and_drift_is_field_level() {
        let desired = desired("");
        let fw = live_copy(&desired.policies[0], "p1");
        let asr = live_copy(&desired.policies[1], "p2");
        let plan = plan_tenant(&desired, Some(&observe(vec![fw.clone(), asr.clone()])), PlanOptions::default());
        assert!(plan.changes.is_empty(), "{:#?}", plan.changes);
        assert_eq!(plan.unchanged.len(), 2);

        let mut drifted = fw.clone();
        let other = desired.policies[1].payload.settings.clone();
        drifted.settings = other;
        let mut reassigned = asr.clone();
        reassigned.assignments = Some(vec![]);
        let plan = plan_tenant(&desired, Some(&observe(vec![drifted, reassigned])), PlanOptions::default());
        let fields: Vec<(Action, Vec<String>, Mode)> =
            plan.changes.iter().map(|c| (c.action, c.fields.clone(), c.mode)).collect();
        assert_eq!(
            fields,
            vec![
                (Action::Update, vec!["settings".to_string()], Mode::Enforce),
                (Action::Update, vec!["assignments".to_string()], Mode::Audit)
            ]
        );
        assert_eq!(plan.changes[0].policy_id.as_deref(), Some("p1"));
        assert_ne!(plan.changes[0].before, plan.changes[0].after);
        assert_eq!(plan.changes[1].before.as_ref().map(|b| b["assignments"].clone()), Some(serde_json::json!({})));
    }

    #[test]
    fn unmanaged_namesakes_are_left_alone_unless_adopted_and_adoption_must_be_unambiguous() {
        let desired = desired("");
        let mut namesake = ConfigurationPolicy::clone(&desired.policies[0].payload);
        namesake.id = Some("hand-made".into());
        namesake.description = "made in the portal".into();
        let live = observe(vec![namesake.clone()]);
        let plan = plan_tenant(&desired, Some(&live), PlanOptions::default());
        assert_eq!(plan.changes[0].action, Action::Create);
        assert!(plan.changes[0].reason.as_deref().is_some_and(|r| r.contains("--adopt")));
        assert_eq!(plan.unmanaged, 1);

        let adopt = PlanOptions { adopt: true, ..PlanOptions::default() };
        let plan = plan_tenant(&desired, Some(&live), adopt);
        assert_eq!((plan.changes[0].action, plan.changes[0].policy_id.as_deref()), (Action::Adopt, Some("hand-made")));
        assert_eq!(plan.unmanaged, 0);

        let mut twin = namesake.clone();
        twin.id = Some("twin".into());
        let plan = plan_tenant(&desired, Some(&observe(vec![namesake, twin])), adopt);
        assert_eq!(plan.state, TenantState::Failed);
        assert_eq!(plan.problems, vec!["FirewallPolicy/fw: cannot adopt: 2 unmanaged policies are named \"FW\""]);
    }

    #[test]
    fn a_missing_group_is_a_tenant_problem_not_a_silent_skip() {
        let desired = desired("");
        let live = Observation::Observed(LiveTenant { policies: vec![], groups: GroupsByName::new(), roles: None });
        let plan = plan_tenant(&desired, Some(&live), PlanOptions::default());
        assert_eq!(plan.state, TenantState::Failed);
        assert_eq!(plan.problems, vec!["AttackSurfaceReductionPolicy/asr: group `Pilot` does not exist in the tenant"]);
        assert_eq!(plan.changes.len(), 1, "the other policy is still planned");
    }

    #[test]
    fn pruning_deletes_only_owned_leftovers_within_the_blast_radius() {
        let desired = desired("");
        let fw = live_copy(&desired.policies[0], "p1");
        let asr = live_copy(&desired.policies[1], "p2");
        let mut retired = fw.clone();
        retired.id = Some("p3".into());
        retired.description = "[managed-by tenantctl: AntivirusPolicy/retired]".into();
        let mut copy = fw.clone();
        copy.id = Some("p4-late".into());
        copy.created_date_time = Some("2026-06-01T00:00:00Z".into());
        let mut foreign = fw.clone();
        foreign.id = Some("p5".into());
        foreign.description = "somebody else's".into();
        let live = observe(vec![fw, asr, retired, copy, foreign]);

        // 2 deletes of 4 owned policies is 50 %: within maxDeletePercent 50.
        let plan = plan_tenant(&desired, Some(&live), PlanOptions::default());
        let deletes: Vec<(&str, Option<&str>)> =
            plan.changes.iter().map(|c| (c.policy.as_str(), c.policy_id.as_deref())).collect();
        assert_eq!(deletes, vec![("AntivirusPolicy/retired", Some("p3")), ("FirewallPolicy/fw", Some("p4-late"))]);
        assert_eq!(plan.unmanaged, 1);

        let strict = desired_with_limit(&desired, 25);
        let plan = plan_tenant(&strict, Some(&live), PlanOptions::default());
        assert!(plan.changes.is_empty());
        assert!(
            plan.problems[0].starts_with("refusing to delete 2 of 4 tenantctl-owned policies"),
            "{:?}",
            plan.problems
        );
        let plan = plan_tenant(&strict, Some(&live), PlanOptions { allow_mass_delete: true, ..PlanOptions::default() });
        assert_eq!(plan.changes.len(), 2);
    }

    fn desired_with_limit(desired: &TenantDesired, limit: u32) -> TenantDesired {
        TenantDesired { prune_max_delete_percent: Some(limit), ..desired.clone() }
    }

    #[test]
    fn unknown_and_suspended_tenants_get_no_changes() {
        let desired = desired("");
        let plan =
            plan_tenant(&desired, Some(&Observation::Unknown("token request failed".into())), PlanOptions::default());
        assert_eq!((plan.state, plan.changes.len()), (TenantState::Unknown, 0));
        assert_eq!(summary_of(plan).unknown_tenants, 1);
        let suspended = TenantDesired { suspended: true, ..desired };
        assert_eq!(plan_tenant(&suspended, None, PlanOptions::default()).state, TenantState::Suspended);
    }

    #[test]
    fn fingerprints_move_with_any_live_change() {
        let desired = desired("");
        let fw = live_copy(&desired.policies[0], "p1");
        let mut touched = fw.clone();
        touched.last_modified_date_time = Some("2026-02-02T00:00:00Z".into());
        assert_eq!(fingerprint(std::slice::from_ref(&fw)), fingerprint(std::slice::from_ref(&fw)));
        assert_ne!(fingerprint(&[fw]), fingerprint(&[touched]));
    }

    #[test]
    fn fingerprints_are_the_digest_of_the_policies_json_by_id() {
        // Saved plans carry fingerprints: how they are computed must not move them.
        let desired = desired("");
        let (first, second) = (live_copy(&desired.policies[0], "p1"), live_copy(&desired.policies[1], "p2"));
        let json = serde_json::to_vec(&[&first, &second]).expect("json");
        let expected: String =
            ring::digest::digest(&SHA256, &json).as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(fingerprint(&[second, first]), expected);
    }
}
