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
pub fn tenant_rollouts(desired: &TenantDesired, live: &LiveTenant, plan: &TenantPlan) -> Vec<TenantRollout> {
    if desired.waves.is_empty() {
        return Vec::new();
    }
    let mut objects = Vec::new();
    collect::<Policies>(desired, live, plan, &mut objects);
    collect::<Roles>(desired, live, plan, &mut objects);
    collect::<DefenderRoles>(desired, live, plan, &mut objects);
    collect::<DetectionRules>(desired, live, plan, &mut objects);
    desired.waves.iter().map(|seat| fold(seat, &objects, plan)).collect()
}

/// One desired object as the tenant runs it.
struct ObjectState {
    profile: String,
    object: ObjectRef,
    gets: String,
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
        let since = stamp.as_ref().filter(|s| s.revision == gets).and_then(|s| s.since.clone());
        let rolled_back_from =
            stamp.and_then(|s| s.rolled_back_from).filter(|from| *from == gets).map(|from| format!("{object} {from}"));
        out.push(ObjectState {
            profile: M::profile(wanted).to_string(),
            object: object.clone(),
            gets,
            present: current.is_some(),
            runs,
            since,
            rolled_back_from,
        });
    }
}

fn fold(seat: &WaveSeat, objects: &[ObjectState], plan: &TenantPlan) -> TenantRollout {
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
        gets: combined(mine.iter().map(|o| (&o.object, o.gets.as_str()))),
        since: mine.iter().filter_map(|o| o.since.clone()).max(),
        present: present.len(),
        pending,
        drifted,
        rolled_back_from: mine.iter().find_map(|o| o.rolled_back_from.clone()),
        waiting: None,
    }
}
