//! diff: desired vs live → per tenant and object, create / update / adopt / delete / no-op. Pure, and
//! written once for every managed family. Identity is the ownership marker, never the display name;
//! unmanaged objects are only counted.

use std::collections::{BTreeMap, BTreeSet};

use ring::digest::{Context, SHA256};

use super::managed::{DefenderRoles, DetectionRules, LiveTenant, Managed, Policies, Roles};
use super::plan::{Action, Change, Excepted, Field, Operation, Plan, Revised, TenantPlan, TenantState, Update};
use super::problem::{Category, Problem};
use super::resolve::{ActiveException, DesiredState, TenantDesired};
use super::standing::{ProfilesRunning, profiles_running};
use crate::model::ObjectRef;
use crate::model::exception::Allowance;
use crate::model::ownership::{Stamp, stamp_of};
use crate::model::patch::{Edit, value_at};
use crate::model::profile::Mode;
use crate::wire::ConfigurationPolicy;

/// What was read of one tenant.
#[derive(Clone, Debug)]
pub enum Observation {
    Observed(LiveTenant),
    /// The tenant could not be read; the reason is shown, nothing is written.
    Unknown(String),
}

/// Choices the user makes when planning.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlanOptions {
    /// Take over an unmanaged object with the desired display name (refused when several match).
    pub adopt: bool,
    /// Lift the blast-radius guard on deletes.
    pub allow_mass_delete: bool,
    /// Write revisions a rollback holds tenants off.
    pub roll_forward: bool,
}

/// Digest of a tenant's live policies as Graph lists them — each one's identity, version
/// (`lastModifiedDateTime`, `settingCount`), description and assignments: any change to any policy
/// (by anyone) changes it, whether or not its settings were read.
pub fn fingerprint(policies: &[ConfigurationPolicy]) -> String {
    let mut sorted: Vec<Listed<'_>> = policies.iter().map(Listed::of).collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    // The JSON goes straight into the digest: a tenant's policies are never held as one buffer.
    let mut writer = std::io::BufWriter::new(Digesting(Context::new(&SHA256)));
    let digest = match serde_json::to_writer(&mut writer, &sorted).ok().and_then(|()| writer.into_inner().ok()) {
        Some(Digesting(context)) => context.finish(),
        None => ring::digest::digest(&SHA256, b""),
    };
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// What a list of policies says of one policy.
#[derive(serde::Serialize)]
struct Listed<'a> {
    id: Option<&'a str>,
    name: &'a str,
    description: &'a str,
    last_modified: Option<&'a str>,
    setting_count: Option<i64>,
    template: Option<&'a str>,
    role_scope_tags: &'a [String],
    assignments: Option<&'a [crate::wire::PolicyAssignment]>,
}

impl<'a> Listed<'a> {
    fn of(policy: &'a ConfigurationPolicy) -> Listed<'a> {
        Listed {
            id: policy.id.as_deref(),
            name: &policy.name,
            description: &policy.description,
            last_modified: policy.last_modified_date_time.as_deref(),
            setting_count: policy.setting_count,
            template: policy.template_reference.as_ref().map(|t| t.template_id.as_str()),
            role_scope_tags: &policy.role_scope_tag_ids,
            assignments: policy.assignments.as_deref(),
        }
    }
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

fn empty_plan(desired: &TenantDesired, state: TenantState, problems: Vec<Problem>) -> TenantPlan {
    TenantPlan {
        display_name: desired.display_name.clone(),
        profiles: desired.profiles.clone(),
        credentials: desired.credentials.clone(),
        problems,
        ..TenantPlan::empty(&desired.name, &desired.tenant_id, state)
    }
}

/// Plans one tenant: every family, through the one generic path.
pub fn plan_tenant(desired: &TenantDesired, observation: Option<&Observation>, options: PlanOptions) -> TenantPlan {
    if desired.suspended {
        return empty_plan(desired, TenantState::Suspended, Vec::new());
    }
    let live = match observation {
        Some(Observation::Observed(live)) => live,
        Some(Observation::Unknown(reason)) => {
            return empty_plan(desired, TenantState::Unknown, vec![Problem::tenant(Category::Unreadable, reason)]);
        }
        None => {
            let problem = Problem::tenant(Category::NotObserved, "not observed");
            return empty_plan(desired, TenantState::Unknown, vec![problem]);
        }
    };
    plan_observed(desired, live, options)
}

/// Plans a tenant that was read.
pub fn plan_observed(desired: &TenantDesired, live: &LiveTenant, options: PlanOptions) -> TenantPlan {
    if desired.suspended {
        return empty_plan(desired, TenantState::Suspended, Vec::new());
    }
    let mut plan = empty_plan(desired, TenantState::Planned, Vec::new());
    plan.fingerprint = Some(fingerprint(&live.policies));
    let running = profiles_running(desired, live);
    plan_family::<Policies>(desired, live, &running, options, &mut plan);
    plan_family::<Roles>(desired, live, &running, options, &mut plan);
    plan_family::<DefenderRoles>(desired, live, &running, options, &mut plan);
    plan_family::<DetectionRules>(desired, live, &running, options, &mut plan);
    hold_back_excepted(desired, &mut plan);
    plan.rollouts = super::standing::tenant_rollouts(desired, live, &running, &plan);
    if !plan.problems.is_empty() {
        plan.state = TenantState::Failed;
    }
    plan
}

/// Marks the changes an exception in force holds back: any change of an object left alone, the
/// delete of an object kept on prune.
fn hold_back_excepted(desired: &TenantDesired, plan: &mut TenantPlan) {
    for change in &mut plan.changes {
        if change.excepted.is_some() {
            continue;
        }
        let held = desired.exceptions.iter().find(|e| {
            e.object == change.object
                && match e.allow {
                    Allowance::LeaveAlone => true,
                    Allowance::KeepOnPrune => change.action() == Action::Delete,
                    Allowance::SettingsDiffer => false,
                }
        });
        change.excepted = held.map(excepted_by);
    }
}

fn excepted_by(exception: &ActiveException) -> Excepted {
    Excepted {
        exception: exception.name.clone(),
        owner: exception.owner.clone(),
        reason: exception.reason.clone(),
        ticket: exception.ticket.clone(),
        expires: exception.expires.clone(),
        settings: exception.settings.clone(),
    }
}

/// An update that leaves the settings an exception lets differ as the tenant has them: the desired
/// object is patched with the tenant's values at those paths (removed where the tenant has none).
/// When only those settings differ, the full update is returned held back by the exception, to be
/// reported and not written.
fn update_around<M: Managed>(
    wanted: &M::Desired,
    exception: &ActiveException,
    current: &M::Live,
    settings_in_sync: bool,
    groups: &super::assignments::GroupsByName,
) -> Result<Option<Change>, Problem> {
    let object = M::object(wanted);
    let unappliable = |why: Vec<String>| {
        let message = format!(
            "{} lets {} differ, but the tenant's values do not fit the spec ({}): nothing is written",
            exception.name,
            exception.settings.join(", "),
            why.join("; ")
        );
        Problem::object(Category::ExceptionUnappliable, object, message)
    };
    let live = M::show_live(object, current, groups);
    let edits: Vec<(String, Edit)> = exception
        .settings
        .iter()
        .map(|path| match value_at(&live, path) {
            Some(value) => (path.clone(), Edit::Set(value.clone())),
            None => (path.clone(), Edit::Remove),
        })
        .collect();
    let kept = M::patched(wanted, &edits).map_err(unappliable)?;
    let kept_payload = M::payload(&kept, groups).map_err(unappliable)?;
    if let Some(mut change) = update::<M>(&kept, kept_payload, current, settings_in_sync, groups) {
        change.reason = Some(format!(
            "{} left as the tenant has them ({} until {})",
            exception.settings.join(", "),
            exception.name,
            exception.expires
        ));
        return Ok(Some(change));
    }
    let full_payload = M::payload(wanted, groups).map_err(unappliable)?;
    Ok(update::<M>(wanted, full_payload, current, settings_in_sync, groups).map(|mut change| {
        change.excepted = Some(excepted_by(exception));
        change
    }))
}

/// Plans one family of objects of one tenant: creates, updates, adoptions, and (when the tenant
/// prunes) deletes of owned objects no longer desired and of leftover copies, within the
/// blast-radius guard. A family that was not read is left out.
pub fn plan_family<M: Managed>(
    desired: &TenantDesired,
    live: &LiveTenant,
    running: &ProfilesRunning,
    options: PlanOptions,
    plan: &mut TenantPlan,
) {
    let Some(objects) = M::live(live) else { return };
    let groups = &live.groups;
    let in_sync = |object: &M::Live| M::id(object).is_some_and(|id| live.settings_in_sync.contains(id));
    let mut owned: BTreeMap<ObjectRef, Vec<&M::Live>> = BTreeMap::new();
    let mut unmanaged: Vec<&M::Live> = Vec::new();
    for object in objects {
        match M::owner(object) {
            Some(owner) => owned.entry(owner).or_default().push(object),
            None if M::is_adoptable(object) => unmanaged.push(object),
            None => {}
        }
    }
    for copies in owned.values_mut() {
        // The oldest copy is the object; later copies can only be leftovers.
        copies.sort_by(|a, b| (M::created(a), M::id(a)).cmp(&(M::created(b), M::id(b))));
    }

    let mut adopted = BTreeSet::new();
    for wanted in M::desired(desired) {
        let object = M::object(wanted);
        let unknown = M::unknown_in_tenant(wanted, live);
        if !unknown.is_empty() {
            plan.problems.push(Problem::object(Category::UnknownInTenant, object, unknown.join("; ")));
            continue;
        }
        let payload = match M::payload(wanted, groups) {
            Ok(payload) => payload,
            Err(problems) => {
                plan.problems.push(Problem::object(Category::UnresolvedGroup, object, problems.join("; ")));
                continue;
            }
        };
        let current = owned.get(object).and_then(|copies| copies.first().copied());
        let differ = desired.exceptions.iter().find(|e| e.allow == Allowance::SettingsDiffer && e.object == *object);
        let change = match (current, differ) {
            (Some(current), Some(exception)) => {
                match update_around::<M>(wanted, exception, current, in_sync(current), groups) {
                    Ok(change) => change,
                    Err(problem) => {
                        plan.problems.push(problem);
                        continue;
                    }
                }
            }
            (Some(current), None) => update::<M>(wanted, payload, current, in_sync(current), groups),
            (None, _) => match create_or_adopt::<M>(wanted, payload, &unmanaged, &in_sync, groups, options) {
                Ok(change) => {
                    if let Operation::Adopt(update) = &change.operation {
                        adopted.insert(update.id.clone());
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
            Some(mut change) => {
                stamp::<M>(desired, wanted, current, running, options, &mut change);
                plan.changes.push(change);
            }
            None => plan.unchanged.push(object.clone()),
        }
    }
    plan.unmanaged += unmanaged.iter().filter(|o| !M::id(o).is_some_and(|id| adopted.contains(id))).count();
    plan_deletes::<M>(desired, &owned, groups, options, plan);
}

/// Stamps what a change writes with the revision the object will run: the tenant's own stamp for
/// a repair at the revision it runs, else the desired revision (and, in a profile that rolls out in
/// waves, the profile's). A change back to a revision a rollback moved the tenant off waits, unless
/// the user rolls forward. A change to a new revision says so (`revision`): rollouts stage those. The
/// create of an object missing from a tenant that already runs its profile's revision is a repair.
fn stamp<M: Managed>(
    desired: &TenantDesired,
    wanted: &M::Desired,
    current: Option<&M::Live>,
    running: &ProfilesRunning,
    options: PlanOptions,
    change: &mut Change,
) {
    if change.action() == Action::Delete {
        return;
    }
    let live = current.and_then(|c| stamp_of(M::described(c)));
    let revision = M::revision(wanted);
    let rolled_back_from = desired.rolled_back_from.get(M::object(wanted)).cloned();
    let profile = running.get(M::profile(wanted));
    let next = match &live {
        Some(live) if live.revision == revision && rolled_back_from.is_none() => live.clone(),
        _ => Stamp { revision: revision.to_string(), profile: profile.map(|p| p.revision.clone()), rolled_back_from },
    };
    change.stamp = Some(next.clone());
    if live.as_ref().is_some_and(|l| l.revision == next.revision && l.rolled_back_from == next.rolled_back_from) {
        return;
    }
    if current.is_none() && change.action() == Action::Create && profile.is_some_and(|p| p.started) {
        return;
    }
    // An object written before revisions gets its stamp with its next content write, not a write of
    // its own.
    if let Some(fields) = change.fields_mut().filter(|fields| live.is_some() && !M::writes_description(fields)) {
        fields.push(Field::Revision);
    }
    let held = live.as_ref().filter(|l| l.rolled_back_from.as_deref() == Some(revision));
    if let Some(live) = held.filter(|_| !options.roll_forward && desired.rolled_back_from.is_empty()) {
        change.waiting = Some(format!(
            "rolled back from {revision}; the tenant keeps {} until the manifests change (--roll-forward \
             writes {revision} again)",
            live.revision
        ));
    }
    change.revision = Some(Revised { from: live.map(|l| l.revision), to: next.revision });
}

fn audit_reason(mode: Mode, what: &str) -> Option<String> {
    (mode == Mode::Audit).then(|| format!("{what}; the profile is in audit mode, nothing is written"))
}

fn update<M: Managed>(
    wanted: &M::Desired,
    payload: M::Payload,
    current: &M::Live,
    settings_in_sync: bool,
    groups: &super::assignments::GroupsByName,
) -> Option<Change> {
    let fields = M::changed(wanted, &payload, current, settings_in_sync);
    if fields.is_empty() {
        return None;
    }
    let payload = M::keep_unmanaged(payload, current);
    let mode = M::mode(wanted);
    Some(Change {
        object: M::object(wanted).clone(),
        display_name: M::payload_name(&payload).to_string(),
        mode,
        reason: audit_reason(mode, "drifted"),
        excepted: None,
        overridden: M::overrides(wanted).to_vec(),
        revision: None,
        waiting: None,
        stamp: None,
        operation: Operation::Update(Update {
            profile: M::profile(wanted).to_string(),
            id: M::id(current).unwrap_or_default().to_string(),
            fields,
            before: M::show_live(M::object(wanted), current, groups),
            after: M::show_payload(wanted, &payload, groups),
            write: Some(M::into_write(payload)),
        }),
    })
}

fn create_or_adopt<M: Managed>(
    wanted: &M::Desired,
    payload: M::Payload,
    unmanaged: &[&M::Live],
    in_sync: &dyn Fn(&M::Live) -> bool,
    groups: &super::assignments::GroupsByName,
    options: PlanOptions,
) -> Result<Change, Problem> {
    let object = M::object(wanted);
    let name = M::payload_name(&payload).to_string();
    let namesakes: Vec<&&M::Live> = unmanaged.iter().filter(|o| M::display_name(o) == name).collect();
    let mode = M::mode(wanted);
    let after = M::show_payload(wanted, &payload, groups);
    let mut change = Change {
        object: object.clone(),
        display_name: name.clone(),
        mode,
        reason: None,
        excepted: None,
        overridden: M::overrides(wanted).to_vec(),
        revision: None,
        waiting: None,
        stamp: None,
        operation: Operation::Create { profile: M::profile(wanted).to_string(), after: after.clone(), write: None },
    };
    match (options.adopt, namesakes.as_slice()) {
        (true, [candidate]) => {
            change.reason = Some(format!("adopting the unmanaged {} of the same name", M::ONE));
            let mut fields = M::changed(wanted, &payload, candidate, in_sync(candidate));
            fields.sort();
            let payload = M::keep_unmanaged(payload, candidate);
            change.operation = Operation::Adopt(Update {
                profile: M::profile(wanted).to_string(),
                id: M::id(candidate).unwrap_or_default().to_string(),
                fields,
                before: M::show_live(object, candidate, groups),
                after,
                write: Some(M::into_write(payload)),
            });
            return Ok(change);
        }
        (true, [_, _, ..]) => {
            let message = format!("cannot adopt: {} unmanaged {} are named \"{name}\"", namesakes.len(), M::NOUN);
            return Err(Problem::object(Category::AmbiguousAdoption, object, message));
        }
        (false, [_, ..]) => {
            change.reason = Some(format!(
                "an unmanaged {} named \"{name}\" exists and is left alone (--adopt takes it over)",
                M::ONE
            ));
        }
        (_, []) => {}
    }
    if let Operation::Create { write, .. } = &mut change.operation {
        *write = Some(M::into_write(payload));
    }
    Ok(change)
}

/// Deletes owned objects no profile delivers any more (when the tenant prunes), unless they exceed
/// the blast-radius guard (`maxDeletePercent` of the tenant's owned objects of the family), which then
/// fails the tenant instead. Duplicates — copies of a desired object with its marker and its name, as
/// two writers racing make them — are deleted outside the guard, the oldest copy kept: the object
/// stays. A copy under another name (the portal's "duplicate" keeps the description) is somebody's
/// work: it is reported and left alone.
fn plan_deletes<M: Managed>(
    desired: &TenantDesired,
    owned: &BTreeMap<ObjectRef, Vec<&M::Live>>,
    groups: &super::assignments::GroupsByName,
    options: PlanOptions,
    plan: &mut TenantPlan,
) {
    let wanted: BTreeMap<&ObjectRef, &M::Desired> = M::desired(desired).iter().map(|d| (M::object(d), d)).collect();
    let delete = |object: &ObjectRef, live: &M::Live, reason: String| Change {
        object: object.clone(),
        display_name: M::display_name(live).to_string(),
        mode: Mode::Enforce,
        reason: Some(reason),
        excepted: None,
        overridden: Vec::new(),
        revision: None,
        waiting: None,
        stamp: None,
        operation: Operation::Delete {
            id: M::id(live).unwrap_or_default().to_string(),
            before: M::show_live(object, live, groups),
        },
    };
    let mut prunes = Vec::new();
    for (object, copies) in owned {
        match wanted.get(object) {
            Some(_) => {
                let Some((kept, copies)) = copies.split_first() else { continue };
                let kept_id = M::id(kept).unwrap_or_default();
                for copy in copies {
                    if M::display_name(copy) == M::display_name(kept) {
                        let reason = format!("a duplicate of {kept_id} (same marker, same name); the oldest is kept");
                        plan.changes.push(delete(object, copy, reason));
                    } else {
                        let message = format!(
                            "{} \"{}\" ({}) carries this object's marker under another name; remove the marker \
                             from its description or delete it",
                            M::ONE,
                            M::display_name(copy),
                            M::id(copy).unwrap_or_default()
                        );
                        plan.problems.push(Problem::object(Category::DuplicateMarker, object, message));
                    }
                }
            }
            None if desired.prune_max_delete_percent.is_some() => {
                for live in copies {
                    prunes.push(delete(object, live, "no profile delivers it any more (prune)".to_string()));
                }
            }
            None => {}
        }
    }
    let owned_total: usize = owned.values().map(Vec::len).sum();
    let limit = desired.prune_max_delete_percent.unwrap_or(100) as usize;
    if !prunes.is_empty() && !options.allow_mass_delete && prunes.len() * 100 > limit * owned_total {
        plan.problems.push(Problem::tenant(
            Category::MassDeleteRefused,
            format!(
                "refusing to delete {} of {owned_total} tenantctl-owned {} (more than maxDeletePercent {limit}%); \
                 rerun with --allow-mass-delete to confirm",
                prunes.len(),
                M::NOUN
            ),
        ));
        return;
    }
    plan.changes.extend(prunes);
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::engine::assignments::{GroupsByName, resolve_targets};
    use crate::engine::managed::LiveTenant;
    use crate::engine::plan::{Action, Field, Summary};
    use crate::engine::problem::Problem;
    use crate::engine::resolve::DesiredPolicy;
    use crate::wire::common::Group;
    use crate::wire::{PolicyAssignment, Settings};

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
        crate::engine::memory::first_tenant_desired(&format!("{MANIFESTS}{extra}"))
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
        Observation::Observed(LiveTenant { policies, groups: groups(), ..LiveTenant::default() })
    }

    fn texts(problems: &[Problem]) -> Vec<String> {
        problems.iter().map(ToString::to_string).collect()
    }

    fn summary_of(tenant: TenantPlan) -> Summary {
        Plan::new(vec![tenant]).summary
    }

    #[test]
    fn an_empty_tenant_gets_creates_and_audit_profiles_only_report() {
        let desired = desired("");
        let plan = plan_tenant(&desired, Some(&observe(vec![])), PlanOptions::default());
        assert_eq!(plan.state, TenantState::Planned);
        let actions: Vec<(Action, String, Mode)> =
            plan.changes.iter().map(|c| (c.action(), c.object.to_string(), c.mode)).collect();
        assert_eq!(
            actions,
            vec![
                (Action::Create, "FirewallPolicy/fw".to_string(), Mode::Enforce),
                (Action::Create, "AttackSurfaceReductionPolicy/asr".to_string(), Mode::Audit)
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
        let fields: Vec<(Action, Vec<Field>, Mode)> =
            plan.changes.iter().map(|c| (c.action(), c.fields().to_vec(), c.mode)).collect();
        assert_eq!(
            fields,
            vec![
                (Action::Update, vec![Field::Settings], Mode::Enforce),
                (Action::Update, vec![Field::Assignments], Mode::Audit)
            ]
        );
        assert_eq!(plan.changes[0].id(), Some("p1"));
        assert_ne!(plan.changes[0].before(), plan.changes[0].after());
        assert_eq!(plan.changes[1].before().map(|b| b["assignments"].clone()), Some(serde_json::json!({})));
    }

    #[test]
    fn unmanaged_namesakes_are_left_alone_unless_adopted_and_adoption_must_be_unambiguous() {
        let desired = desired("");
        let mut namesake = ConfigurationPolicy::clone(&desired.policies[0].payload);
        namesake.id = Some("hand-made".into());
        namesake.description = "made in the portal".into();
        let live = observe(vec![namesake.clone()]);
        let plan = plan_tenant(&desired, Some(&live), PlanOptions::default());
        assert_eq!(plan.changes[0].action(), Action::Create);
        assert!(plan.changes[0].reason.as_deref().is_some_and(|r| r.contains("--adopt")));
        assert_eq!(plan.unmanaged, 1);

        let adopt = PlanOptions { adopt: true, ..PlanOptions::default() };
        let plan = plan_tenant(&desired, Some(&live), adopt);
        assert_eq!((plan.changes[0].action(), plan.changes[0].id()), (Action::Adopt, Some("hand-made")));
        assert_eq!(plan.unmanaged, 0);

        let mut twin = namesake.clone();
        twin.id = Some("twin".into());
        let plan = plan_tenant(&desired, Some(&observe(vec![namesake, twin])), adopt);
        assert_eq!(plan.state, TenantState::Failed);
        assert_eq!(
            texts(&plan.problems),
            vec!["FirewallPolicy/fw: cannot adopt: 2 unmanaged policies are named \"FW\""]
        );
    }

    #[test]
    fn a_missing_group_is_a_tenant_problem_not_a_silent_skip() {
        let desired = desired("");
        let live = Observation::Observed(LiveTenant::default());
        let plan = plan_tenant(&desired, Some(&live), PlanOptions::default());
        assert_eq!(plan.state, TenantState::Failed);
        assert_eq!(
            texts(&plan.problems),
            vec!["AttackSurfaceReductionPolicy/asr: group `Pilot` does not exist in the tenant"]
        );
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

        // The duplicate goes; the prune is 1 of 4 owned policies: within maxDeletePercent 50.
        let plan = plan_tenant(&desired, Some(&live), PlanOptions::default());
        let deletes: Vec<(String, Option<&str>)> =
            plan.changes.iter().map(|c| (c.object.to_string(), c.id())).collect();
        assert_eq!(
            deletes,
            vec![
                ("FirewallPolicy/fw".to_string(), Some("p4-late")),
                ("AntivirusPolicy/retired".to_string(), Some("p3"))
            ]
        );
        assert!(plan.changes[0].reason.as_deref().is_some_and(|r| r.starts_with("a duplicate of p1")));
        assert_eq!(plan.unmanaged, 1);

        // Past the guard, the prune is refused; the duplicate is still healed.
        let strict = desired_with_limit(&desired, 20);
        let plan = plan_tenant(&strict, Some(&live), PlanOptions::default());
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(plan.changes[0].id(), Some("p4-late"));
        assert!(
            plan.problems[0].to_string().starts_with("refusing to delete 1 of 4 tenantctl-owned policies"),
            "{:?}",
            plan.problems
        );
        let plan = plan_tenant(&strict, Some(&live), PlanOptions { allow_mass_delete: true, ..PlanOptions::default() });
        assert_eq!(plan.changes.len(), 2);
    }

    #[test]
    fn a_copy_under_another_name_is_reported_and_left_alone() {
        let desired = desired("");
        let fw = live_copy(&desired.policies[0], "p1");
        let mut renamed = fw.clone();
        renamed.id = Some("p9".into());
        renamed.name = "FW - Copy".into();
        renamed.created_date_time = Some("2026-06-01T00:00:00Z".into());
        let plan = plan_tenant(&desired, Some(&observe(vec![fw, renamed])), PlanOptions::default());
        assert!(plan.changes.iter().all(|c| c.action() != Action::Delete), "{:#?}", plan.changes);
        assert_eq!(plan.problems[0].category, crate::engine::problem::Category::DuplicateMarker);
        assert!(plan.problems[0].message.contains("\"FW - Copy\" (p9)"), "{}", plan.problems[0]);
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
    fn fingerprints_see_what_a_list_shows_and_not_whether_settings_were_read() {
        let desired = desired("");
        let listed = live_copy(&desired.policies[0], "p1");
        let read = ConfigurationPolicy { settings: Settings::default(), ..listed.clone() };
        assert_eq!(fingerprint(std::slice::from_ref(&listed)), fingerprint(std::slice::from_ref(&read)));
        let mut reassigned = listed.clone();
        reassigned.assignments = Some(Vec::new());
        assert_ne!(fingerprint(&[listed]), fingerprint(&[reassigned]), "assignments are listed");
    }
}
