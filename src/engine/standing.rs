//! Where a tenant stands in the rollouts of its profiles: for each profile that rolls out in waves,
//! the revision the tenant runs (from the stamps its objects carry, or their content when it equals
//! the desired one), the revision it gets, since when, and what a rollback holds it off.

use std::collections::BTreeMap;

use super::desired::{TenantDesired, WaveSeat};
use super::managed::{DefenderRoles, DetectionRules, LiveTenant, Managed, Policies, Roles};
use super::plan::{Action, TenantPlan, TenantRollout};
use super::revision::combined;
use crate::model::ObjectRef;
use crate::model::ownership::stamp_of;

/// Where each tenant stands in the rollouts of its profiles: the revision each profile runs there
/// and the one it gets, from the stamps the live objects carry and the plan just made.
pub fn tenant_rollouts(
    desired: &TenantDesired,
    live: &LiveTenant,
    running: &ProfilesRunning,
    plan: &TenantPlan,
) -> Vec<TenantRollout> {
    if desired.waves.is_empty() {
        return Vec::new();
    }
    let mut objects = Vec::new();
    collect::<Policies>(desired, live, plan, &mut objects);
    collect::<Roles>(desired, live, plan, &mut objects);
    collect::<DefenderRoles>(desired, live, plan, &mut objects);
    collect::<DetectionRules>(desired, live, plan, &mut objects);
    desired.waves.iter().map(|seat| fold(seat, &objects, running, plan)).collect()
}

/// One desired object as the tenant runs it.
struct ObjectState {
    profile: String,
    object: ObjectRef,
    /// Whether the tenant has the object.
    present: bool,
    /// The revision it runs, when known.
    runs: Option<String>,
    since: Option<String>,
    rolled_back_from: Option<String>,
}

fn collect<M: Managed>(desired: &TenantDesired, live: &LiveTenant, plan: &TenantPlan, out: &mut Vec<ObjectState>) {
    let Some(objects) = M::live(live) else { return };
    let mut oldest: BTreeMap<ObjectRef, &M::Live> = BTreeMap::new();
    for object in objects {
        let Some(owner) = M::owner(object) else { continue };
        let key = |o: &M::Live| (M::created(o).map(str::to_string), M::id(o).map(str::to_string));
        match oldest.get(&owner) {
            Some(kept) if key(kept) <= key(object) => {}
            _ => {
                oldest.insert(owner, object);
            }
        }
    }
    for wanted in M::desired(desired) {
        let object = M::object(wanted);
        let gets = M::revision(wanted).to_string();
        let current = oldest.get(object);
        let stamp = current.and_then(|c| stamp_of(M::described(c)));
        let pending = plan.changes.iter().any(|c| &c.object == object && c.revision.is_some() && c.excepted.is_none());
        // Content equal to the desired revision runs it, whatever its stamp says.
        let runs = match (&stamp, pending) {
            (_, false) if current.is_some() => Some(gets.clone()),
            (Some(stamp), _) => Some(stamp.revision.clone()),
            (None, _) => None,
        };
        // When the object was last written: when it got the revision it runs, or later.
        let since = current.filter(|_| !pending).and_then(|c| M::modified(c)).map(str::to_string);
        let rolled_back_from =
            stamp.and_then(|s| s.rolled_back_from).filter(|from| *from == gets).map(|from| format!("{object} {from}"));
        out.push(ObjectState {
            profile: M::profile(wanted).to_string(),
            object: object.clone(),
            present: current.is_some(),
            runs,
            since,
            rolled_back_from,
        });
    }
}

fn fold(seat: &WaveSeat, objects: &[ObjectState], running: &ProfilesRunning, plan: &TenantPlan) -> TenantRollout {
    let mine: Vec<&ObjectState> = objects.iter().filter(|o| o.profile == seat.profile).collect();
    let present: Vec<&&ObjectState> = mine.iter().filter(|o| o.present).collect();
    let runs = if present.is_empty() {
        None
    } else {
        present
            .iter()
            .map(|o| o.runs.as_deref().map(|runs| (&o.object, runs)))
            .collect::<Option<Vec<_>>>()
            .map(combined)
    };
    let changes = plan.changes.iter().filter(|c| c.profile() == Some(seat.profile.as_str()));
    let changes = changes.filter(|c| c.excepted.is_none() && c.action() != Action::Delete);
    let (pending, drifted) = changes.fold((0, 0), |(pending, drifted), change| match change.revision {
        Some(_) => (pending + 1, drifted),
        None => (pending, drifted + 1),
    });
    TenantRollout {
        profile: seat.profile.clone(),
        wave: seat.name.clone(),
        wave_number: seat.index + 1,
        runs,
        gets: running.get(&seat.profile).map(|p| p.revision.clone()).unwrap_or_default(),
        since: mine.iter().filter_map(|o| o.since.clone()).max(),
        present: present.len(),
        pending,
        drifted,
        rolled_back_from: mine.iter().find_map(|o| o.rolled_back_from.clone()),
        waiting: None,
    }
}

/// The revision of a profile in a tenant, as the manifests ask for it: one hash over the revisions of
/// the objects the profile delivers there (what a tenant's rollout `gets`).
pub fn profile_revision(desired: &TenantDesired, profile: &str) -> String {
    let mut objects: Vec<(ObjectRef, String)> = Vec::new();
    wanted::<Policies>(desired, profile, &mut objects);
    wanted::<Roles>(desired, profile, &mut objects);
    wanted::<DefenderRoles>(desired, profile, &mut objects);
    wanted::<DetectionRules>(desired, profile, &mut objects);
    combined(objects.iter().map(|(object, revision)| (object, revision.as_str())))
}

fn wanted<M: Managed>(desired: &TenantDesired, profile: &str, out: &mut Vec<(ObjectRef, String)>) {
    for wanted in M::desired(desired).iter().filter(|w| M::profile(w) == profile) {
        out.push((M::object(wanted).clone(), M::revision(wanted).to_string()));
    }
}

/// For each profile of the tenant that rolls out in waves, the revision the manifests ask for there.
pub type ProfilesRunning = BTreeMap<String, ProfileRunning>;

/// A profile's revision in a tenant, and whether the tenant has begun running it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileRunning {
    pub revision: String,
    /// Some object of the profile in the tenant was written with this revision: the tenant runs it,
    /// and a missing object is a repair, not part of a rollout.
    pub started: bool,
}

/// [`ProfilesRunning`] of a tenant, from its desired state and the stamps of its live objects.
pub fn profiles_running(desired: &TenantDesired, live: &LiveTenant) -> ProfilesRunning {
    let mut running = ProfilesRunning::new();
    for seat in &desired.waves {
        let revision = profile_revision(desired, &seat.profile);
        let mut started = false;
        started |= started_in::<Policies>(desired, live, &seat.profile, &revision);
        started |= started_in::<Roles>(desired, live, &seat.profile, &revision);
        started |= started_in::<DefenderRoles>(desired, live, &seat.profile, &revision);
        started |= started_in::<DetectionRules>(desired, live, &seat.profile, &revision);
        running.insert(seat.profile.clone(), ProfileRunning { revision, started });
    }
    running
}

fn started_in<M: Managed>(desired: &TenantDesired, live: &LiveTenant, profile: &str, revision: &str) -> bool {
    let Some(objects) = M::live(live) else { return false };
    let mine: Vec<&ObjectRef> =
        M::desired(desired).iter().filter(|w| M::profile(w) == profile).map(|w| M::object(w)).collect();
    objects.iter().any(|object| {
        M::owner(object).is_some_and(|owner| mine.contains(&&owner))
            && stamp_of(M::described(object)).and_then(|s| s.profile).as_deref() == Some(revision)
    })
}
