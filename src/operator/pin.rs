//! A profile pinned to a previous revision (`spec.rollout.pin`): the tenants the pin covers are
//! planned with the profile's objects as the operator recorded them at that revision, each stamped
//! "rolled back from" the revision it leaves. Other profiles' objects are planned as they are.

use kube::ResourceExt;

use super::context::{Context, namespace_of};
use super::revisions;
use crate::engine::resolve::{DesiredState, TenantDesired, validate_and_resolve_at};
use crate::engine::rollback::{rollback_state, with_rolled_back};
use crate::model::rollout::Pin;

/// The tenant's desired state with every pin that covers it applied, or why a pin cannot be.
pub async fn pinned(ctx: &Context, desired: TenantDesired) -> Result<TenantDesired, String> {
    let namespace = desired.namespace.clone();
    let mut desired = desired;
    let profiles = ctx.stores.profiles.state();
    let selecting: Vec<_> = profiles
        .iter()
        .filter(|p| namespace_of(p.as_ref()) == namespace && desired.profiles.contains(&p.name_any()))
        .collect();
    for profile in selecting {
        let name = profile.name_any();
        let Some(pin) = profile.spec.rollout.as_ref().and_then(|r| r.pin.as_ref()) else { continue };
        if !covers(pin, &desired, &name) {
            continue;
        }
        let documents = revisions::recorded(&ctx.kube, &namespace, &name, &pin.revision)
            .await
            .map_err(|error| format!("cannot read the recorded revisions of DistributionProfile/{name}: {error}"))?
            .ok_or_else(|| {
                format!(
                    "DistributionProfile/{name} is pinned to revision {}, which the operator has not recorded \
                     (it records each revision it rolls out, the last ten)",
                    pin.revision
                )
            })?;
        let set = revisions::as_recorded(&ctx.manifest_set(&namespace), &documents)?;
        let now = crate::util::clock::now().unwrap_or_else(|_| jiff::Timestamp::now());
        let (resolution, _) = validate_and_resolve_at(&set, now);
        let current = DesiredState { tenants: vec![desired.clone()], ..DesiredState::default() };
        let rollback = rollback_state(&current, &resolution.desired, &name, std::slice::from_ref(&desired.name));
        if let Some(rolled_back) = rollback.desired.tenants.first() {
            desired = with_rolled_back(&desired, rolled_back, &name);
        }
    }
    Ok(desired)
}

/// Whether a pin covers the tenant: its wave (when it names one) and its list (when it has one).
fn covers(pin: &Pin, desired: &TenantDesired, profile: &str) -> bool {
    let in_wave =
        pin.wave.as_ref().is_none_or(|wave| desired.waves.iter().any(|s| s.profile == profile && &s.name == wave));
    let named = pin.tenants.is_empty() || pin.tenants.contains(&desired.name);
    in_wave && named
}
