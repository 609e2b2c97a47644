//! resolve: profiles × tenants → for each tenant, the exact set of policies it must have, in Graph's
//! wire form (with the ownership marker), plus assignment intents. Pure.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kube::ResourceExt;

pub use super::desired::{
    ActiveException, DesiredDefenderRole, DesiredDetectionRule, DesiredPolicy, DesiredRole, DesiredState,
    ProfileRollout, RenderedForms, TenantDesired, WaveSeat, policy_revision, rendered_forms,
};
use super::revision::revision_of;
use crate::manifest::{Diagnostic, Manifest, ManifestSet, PolicyResource};
use crate::model::profile::{Assignments, Mode};
use crate::model::rollout::{Candidate, assign_waves};
use crate::model::select::profile_selects;
use crate::model::{Kind, ObjectRef, PolicyRef};

/// A warning for each exception that no longer holds: its object is enforced again.
fn expired_exceptions(set: &ManifestSet, now: jiff::Timestamp) -> Vec<Diagnostic> {
    set.exceptions
        .iter()
        .filter(|e| crate::model::exception::ends_at(&e.object.spec.expires).is_some_and(|end| now >= end))
        .map(|e| {
            let spec = &e.object.spec;
            let message = format!(
                "expired on {}: {}/{} is enforced again (owner {})",
                spec.expires, spec.target.kind, spec.target.name, spec.owner
            );
            Diagnostic::warning(message)
                .resource(format!("PolicyException/{}", e.name()))
                .path("spec.expires")
                .at(e.value_at("spec.expires"))
        })
        .collect()
}

/// An error for each exception that runs past the horizon (`maxExceptionDays`) of a profile that
/// delivers its object to a tenant it covers: the strictest such profile is named.
fn exceptions_beyond_horizon(set: &ManifestSet, now: jiff::Timestamp) -> Vec<Diagnostic> {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut out = Vec::new();
    for exception in &set.exceptions {
        let spec = &exception.object.spec;
        let (Some(object), Ok(expires)) = (spec.object(), spec.expires.trim().parse::<jiff::civil::Date>()) else {
            continue;
        };
        let namespace = exception.namespace();
        let namespace = namespace.as_str();
        let covered =
            set.tenants.iter().filter(|t| t.namespace() == namespace && spec.covers(&t.name(), t.object.labels()));
        let strictest = covered
            .flat_map(|t| {
                set.profiles.iter().filter(move |p| {
                    p.namespace() == namespace && profile_selects(&p.object.spec, &t.name(), t.object.labels())
                })
            })
            .filter(|p| p.object.spec.delivers(&object))
            .filter_map(|p| Some((p.object.spec.max_exception_days?, p.name())))
            .min();
        let Some((days, profile)) = strictest else { continue };
        let Ok(limit) = today.checked_add(jiff::Span::new().days(i64::from(days))) else { continue };
        if expires > limit {
            let message = format!(
                "expires {expires}, past the {days} days profile `{profile}` allows exceptions to what it delivers (until {limit} at the latest)"
            );
            out.push(
                Diagnostic::error(message)
                    .resource(format!("PolicyException/{}", exception.name()))
                    .path("spec.expires")
                    .at(exception.value_at("spec.expires")),
            );
        }
    }
    out
}

/// The exceptions of a namespace that cover a tenant: those that hold at `now`, and those that
/// expired.
fn covering_exceptions(
    set: &ManifestSet,
    namespace: &str,
    tenant: &str,
    labels: &std::collections::BTreeMap<String, String>,
    now: jiff::Timestamp,
) -> (Vec<ActiveException>, Vec<ActiveException>) {
    let mut covering: Vec<ActiveException> = set
        .exceptions
        .iter()
        .filter(|e| e.namespace() == namespace && e.object.spec.covers(tenant, labels))
        .filter(|e| crate::model::exception::ends_at(&e.object.spec.expires).is_some())
        .filter_map(|e| {
            let spec = &e.object.spec;
            Some(ActiveException {
                name: format!("PolicyException/{}", e.name()),
                object: spec.object()?,
                allow: spec.allow,
                settings: spec.settings.clone(),
                owner: spec.owner.clone(),
                reason: spec.reason.clone(),
                ticket: spec.ticket.clone(),
                expires: spec.expires.clone(),
            })
        })
        .collect();
    covering.sort_by(|a, b| a.name.cmp(&b.name));
    covering.into_iter().partition(|e| crate::model::exception::ends_at(&e.expires).is_some_and(|end| now < end))
}

/// Desired state plus what stood in the way (conflicts, unrenderable policies).
#[derive(Debug, Default)]
pub struct Resolution {
    pub desired: DesiredState,
    pub diagnostics: Vec<Diagnostic>,
}

/// The pipeline's front half: validate every object, then resolve what validated. Diagnostics of both,
/// validation's first.
pub fn validate_and_resolve(set: &ManifestSet) -> (Resolution, Vec<Diagnostic>) {
    validate_and_resolve_at(set, jiff::Timestamp::now())
}

/// [`validate_and_resolve`], exceptions judged as of `now` (a clock the caller controls).
pub fn validate_and_resolve_at(set: &ManifestSet, now: jiff::Timestamp) -> (Resolution, Vec<Diagnostic>) {
    let mut diagnostics = crate::manifest::validate::validate(set);
    let mut resolution = resolve_at(set, now);
    diagnostics.append(&mut resolution.diagnostics);
    (resolution, diagnostics)
}

/// The id of a detection rule in a tenant: `tenantctl-` and a digest of the tenant, namespace and
/// rule name, so every run and every replica picks the same one. Defender takes ids of letters,
/// digits, `-` and `_`, starting with a letter, at most 100 long.
pub fn rule_id(tenant_id: &str, namespace: &str, name: &str) -> String {
    let input = format!("{}/{namespace}/{name}", tenant_id.to_ascii_lowercase());
    let digest = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
    let hex: String = digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("tenantctl-{hex}")
}

/// Who delivers a policy to a tenant, and how.
struct Delivery<'a> {
    profile: &'a str,
    profile_index: usize,
    policy_index: usize,
    mode: Mode,
    assignments: &'a Assignments,
}

/// Profiles that disagree on how one policy reaches some tenants.
struct Conflict<'a> {
    first: &'a Delivery<'a>,
    second_profile: usize,
    second_policy_index: usize,
    what: &'static str,
    tenants: Vec<String>,
}

/// For each profile that rolls out in waves (by index), the wave of each tenant it selects (by name).
fn rollout_waves(
    set: &ManifestSet,
    tenant_order: &[usize],
    selecting: &[Vec<usize>],
) -> HashMap<usize, BTreeMap<String, usize>> {
    let mut waves = HashMap::new();
    for (pi, profile) in set.profiles.iter().enumerate() {
        let Some(rollout) = &profile.object.spec.rollout else { continue };
        let names: Vec<(String, &Manifest<crate::model::Tenant>)> = tenant_order
            .iter()
            .zip(selecting)
            .filter(|(_, profiles)| profiles.contains(&pi))
            .map(|(&ti, _)| (set.tenants[ti].name(), &set.tenants[ti]))
            .collect();
        let candidates: Vec<Candidate<'_>> = names
            .iter()
            .map(|(name, tenant)| Candidate {
                name,
                tenant_id: &tenant.object.spec.tenant_id,
                labels: tenant.object.labels(),
            })
            .collect();
        waves.insert(pi, assign_waves(rollout, &profile.name(), &candidates));
    }
    waves
}

/// Resolves a validated manifest set. Profiles are applied in name order, so the result is the same
/// whatever the order of the input files.
pub fn resolve(set: &ManifestSet) -> Resolution {
    resolve_at(set, jiff::Timestamp::now())
}

/// [`resolve`], exceptions judged as of `now`.
pub fn resolve_at(set: &ManifestSet, now: jiff::Timestamp) -> Resolution {
    let mut diagnostics = expired_exceptions(set, now);
    diagnostics.extend(exceptions_beyond_horizon(set, now));
    let mut overriding = super::overrides::Overriding::new(set);
    let mut rendered: HashMap<(String, PolicyRef), (RenderedForms, Arc<PolicyResource>)> = HashMap::new();
    for policy in &set.policies {
        match rendered_forms(&policy.object) {
            Ok(forms) => {
                rendered
                    .insert((policy.namespace(), policy.object.reference()), (forms, Arc::new(policy.object.clone())));
            }
            Err(errors) => {
                for error in errors {
                    diagnostics.push(
                        Diagnostic::error(error.message)
                            .resource(policy.object.reference().to_string())
                            .path(format!("spec.{}", error.setting))
                            .at(policy.value_at(&format!("spec.{}", error.setting))),
                    );
                }
            }
        }
    }

    let mut profile_order: Vec<usize> = (0..set.profiles.len()).collect();
    profile_order.sort_by_key(|&i| (set.profiles[i].namespace(), set.profiles[i].name()));

    let mut tenant_order: Vec<usize> = (0..set.tenants.len()).collect();
    tenant_order.sort_by_key(|&i| (set.tenants[i].namespace(), set.tenants[i].name()));

    let mut conflicts: BTreeMap<(usize, usize, PolicyRef), Conflict> = BTreeMap::new();
    let mut desired = DesiredState::default();
    // For each tenant (in order), the profiles that select it (in name order).
    let selecting: Vec<Vec<usize>> = tenant_order
        .iter()
        .map(|&ti| {
            let tenant = &set.tenants[ti];
            profile_order
                .iter()
                .copied()
                .filter(|&pi| {
                    let profile = &set.profiles[pi];
                    profile.namespace() == tenant.namespace()
                        && profile_selects(&profile.object.spec, &tenant.name(), tenant.object.labels())
                })
                .collect()
        })
        .collect();
    let deliveries_store: Vec<Vec<Delivery>> = selecting
        .iter()
        .map(|profiles| {
            profiles
                .iter()
                .flat_map(|&pi| {
                    let profile = &set.profiles[pi];
                    (0..profile.object.spec.policies.len()).map(move |policy_index| Delivery {
                        profile: profile.object.metadata.name.as_deref().unwrap_or_default(),
                        profile_index: pi,
                        policy_index,
                        mode: profile.object.spec.mode,
                        assignments: &profile.object.spec.assignments,
                    })
                })
                .collect()
        })
        .collect();

    let waves = rollout_waves(set, &tenant_order, &selecting);
    for (pi, profile) in set.profiles.iter().enumerate() {
        let Some(rollout) = &profile.object.spec.rollout else { continue };
        let suspended = |name: &str| set.tenant(&profile.namespace(), name).is_some_and(|t| t.object.spec.suspend);
        let members = waves.get(&pi).into_iter().flatten().filter(|(name, _)| !suspended(name));
        let rollout = ProfileRollout {
            rollout: Arc::new(rollout.clone()),
            members: members.map(|(name, index)| (name.clone(), *index)).collect(),
        };
        desired.rollouts.insert((profile.namespace(), profile.name()), rollout);
    }
    // A policy's revision depends on its rendering and its profile's assignments: computed once for
    // every tenant that receives it alike.
    let mut policy_revisions: HashMap<(usize, PolicyRef), Arc<str>> = HashMap::new();
    for ((&ti, deliveries), selecting) in tenant_order.iter().zip(&deliveries_store).zip(&selecting) {
        let tenant = &set.tenants[ti];
        let namespace = tenant.namespace();
        let mut chosen: BTreeMap<PolicyRef, &Delivery> = BTreeMap::new();
        for delivery in deliveries {
            let reference = &set.profiles[delivery.profile_index].object.spec.policies[delivery.policy_index];
            match chosen.get(reference) {
                None => {
                    chosen.insert(reference.clone(), delivery);
                }
                Some(first) => {
                    let what = match (first.mode != delivery.mode, first.assignments != delivery.assignments) {
                        (true, true) => "modes and assignments",
                        (true, false) => "modes",
                        (false, true) => "assignments",
                        (false, false) => continue,
                    };
                    conflicts
                        .entry((first.profile_index, delivery.profile_index, reference.clone()))
                        .or_insert_with(|| Conflict {
                            first,
                            second_profile: delivery.profile_index,
                            second_policy_index: delivery.policy_index,
                            what,
                            tenants: Vec::new(),
                        })
                        .tenants
                        .push(tenant.name());
                }
            }
        }

        let profiles: Vec<String> = selecting.iter().map(|&pi| set.profiles[pi].name()).collect();
        let prune_max_delete_percent = selecting
            .iter()
            .map(|&pi| &set.profiles[pi].object.spec)
            .filter(|spec| spec.mode == Mode::Enforce && spec.prune.enabled)
            .map(|spec| spec.prune.max_delete_percent)
            .min();
        let policies = chosen
            .into_iter()
            .filter_map(|(reference, delivery)| {
                let ((payload, comparable, compared, digest), resource) =
                    rendered.get(&(namespace.clone(), reference.clone()))?;
                let revision = policy_revisions
                    .entry((delivery.profile_index, reference.clone()))
                    .or_insert_with(|| policy_revision(comparable, delivery.assignments))
                    .clone();
                Some(DesiredPolicy {
                    object: ObjectRef::from(&reference),
                    kind: reference.kind,
                    profile: delivery.profile.to_string(),
                    mode: delivery.mode,
                    assignments: delivery.assignments.clone(),
                    payload: Arc::clone(payload),
                    comparable: Arc::clone(comparable),
                    compared: Arc::clone(compared),
                    settings_digest: Arc::clone(digest),
                    resource: Arc::clone(resource),
                    revision,
                    overridden: Vec::new(),
                })
            })
            .collect();
        let mut roles: BTreeMap<String, DesiredRole> = BTreeMap::new();
        let mut defender_roles: BTreeMap<String, DesiredDefenderRole> = BTreeMap::new();
        for &pi in selecting {
            let profile = &set.profiles[pi];
            for name in &profile.object.spec.roles {
                if let Some(role) = set.defender_role(&namespace, name) {
                    defender_roles.entry(name.clone()).or_insert_with(|| DesiredDefenderRole {
                        object: ObjectRef::new(Kind::DefenderRole, name.clone()),
                        profile: profile.name(),
                        mode: profile.object.spec.mode,
                        spec: Arc::new(role.object.spec.clone()),
                        revision: revision_of(&role.object.spec),
                        overridden: Vec::new(),
                    });
                }
                let Some(role) = set.role(&namespace, name) else { continue };
                roles.entry(name.clone()).or_insert_with(|| DesiredRole {
                    object: ObjectRef::new(Kind::IntuneRole, name.clone()),
                    profile: profile.name(),
                    mode: profile.object.spec.mode,
                    spec: Arc::new(role.object.spec.clone()),
                    revision: revision_of(&role.object.spec),
                    overridden: Vec::new(),
                });
            }
        }
        let manages_roles = !roles.is_empty()
            || prune_max_delete_percent.is_some() && set.roles.iter().any(|r| r.namespace() == namespace);
        let mut rules: BTreeMap<String, DesiredDetectionRule> = BTreeMap::new();
        for &pi in selecting {
            let profile = &set.profiles[pi];
            for name in &profile.object.spec.detection_rules {
                let Some(rule) = set.detection_rule(&namespace, name) else { continue };
                rules.entry(name.clone()).or_insert_with(|| DesiredDetectionRule {
                    object: ObjectRef::new(Kind::DetectionRule, name.clone()),
                    profile: profile.name(),
                    mode: profile.object.spec.mode,
                    id: rule_id(&tenant.object.spec.tenant_id, &namespace, name),
                    spec: Arc::new(rule.object.spec.clone()),
                    revision: revision_of(&rule.object.spec),
                    overridden: Vec::new(),
                });
            }
        }
        let manages_defender_roles = !defender_roles.is_empty()
            || prune_max_delete_percent.is_some() && set.defender_roles.iter().any(|r| r.namespace() == namespace);
        let manages_detection_rules = !rules.is_empty()
            || prune_max_delete_percent.is_some() && set.detection_rules.iter().any(|r| r.namespace() == namespace);
        let (exceptions, expired_exceptions) =
            covering_exceptions(set, &namespace, &tenant.name(), tenant.object.labels(), now);
        let mut tenant_desired = TenantDesired {
            exceptions,
            expired_exceptions,
            roles: roles.into_values().collect(),
            manages_roles,
            detection_rules: rules.into_values().collect(),
            manages_detection_rules,
            defender_roles: defender_roles.into_values().collect(),
            manages_defender_roles,
            name: tenant.name(),
            namespace,
            tenant_id: tenant.object.spec.tenant_id.clone(),
            display_name: tenant.object.spec.display_name.clone(),
            credentials: tenant.object.spec.credentials.clone(),
            suspended: tenant.object.spec.suspend,
            profiles,
            policies,
            prune_max_delete_percent,
            rolled_back_from: BTreeMap::new(),
            waves: selecting
                .iter()
                .filter_map(|&pi| {
                    let rollout = set.profiles[pi].object.spec.rollout.as_ref()?;
                    let index = *waves.get(&pi)?.get(&tenant.name())?;
                    let name = rollout.waves.get(index)?.name.clone();
                    Some(WaveSeat { profile: set.profiles[pi].name(), index, name })
                })
                .collect(),
        };
        overriding.apply(tenant, &mut tenant_desired);
        desired.tenants.push(tenant_desired);
    }
    diagnostics.extend(overriding.diagnostics());

    for ((_, _, reference), conflict) in conflicts {
        let second = &set.profiles[conflict.second_profile];
        let path = format!("spec.policies[{}]", conflict.second_policy_index);
        diagnostics.push(
            Diagnostic::error(format!(
                "{reference} reaches {} from profiles `{}` and `{}` with different {}",
                crate::util::plural::tenant_list(&conflict.tenants),
                conflict.first.profile,
                second.name(),
                conflict.what
            ))
            .resource(format!("DistributionProfile/{}", second.name()))
            .path(path.clone())
            .at(second.value_at(&path)),
        );
    }
    Resolution { desired, diagnostics }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::manifest::load::{Loaded, load_text};

    const POLICY: &str = "
apiVersion: tenantctl.dev/v1alpha1
kind: FirewallPolicy
metadata: {name: fw}
spec: {displayName: FW, public: {enabled: true}}
";

    fn tenant(name: &str, labels: &str) -> String {
        format!(
            "---\napiVersion: tenantctl.dev/v1alpha1\nkind: Tenant\nmetadata: {{name: {name}, labels: {labels}}}\nspec: {{tenantId: 00000000-0000-0000-0000-00000000000{}, displayName: {name}}}\n",
            name.len() % 10
        )
    }

    fn profile(name: &str, body: &str) -> String {
        format!(
            "---\napiVersion: tenantctl.dev/v1alpha1\nkind: DistributionProfile\nmetadata: {{name: {name}}}\nspec: {body}\n"
        )
    }

    fn resolve_text(text: &str) -> Resolution {
        let mut loaded = Loaded::default();
        load_text(&mut loaded, Arc::from("t.yaml"), text);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        resolve(&loaded.set)
    }

    #[test]
    fn identical_deliveries_merge_and_the_first_profile_by_name_wins() {
        let text = [
            POLICY.to_string(),
            tenant("a", "{region: emea}"),
            profile("zeta", "{tenantSelector: {matchLabels: {region: emea}}, policies: [{kind: FirewallPolicy, name: fw}], assignments: {allDevices: true}}"),
            profile("alpha", "{tenants: [a], policies: [{kind: FirewallPolicy, name: fw}], assignments: {allDevices: true}}"),
        ]
        .concat();
        let resolution = resolve_text(&text);
        assert!(resolution.diagnostics.is_empty(), "{:?}", resolution.diagnostics);
        let tenant = &resolution.desired.tenants[0];
        assert_eq!(tenant.profiles, vec!["alpha", "zeta"]);
        assert_eq!(tenant.policies.len(), 1);
        assert_eq!(tenant.policies[0].profile, "alpha");
        assert_eq!(tenant.policies[0].payload.description, "[managed-by tenantctl: FirewallPolicy/fw]");
    }

    #[test]
    fn different_modes_or_assignments_conflict_naming_both_profiles() {
        let text = [
            POLICY.to_string(),
            tenant("a", "{region: emea}"),
            tenant("bb", "{region: emea}"),
            profile("one", "{tenantSelector: {matchLabels: {region: emea}}, policies: [{kind: FirewallPolicy, name: fw}], assignments: {allDevices: true}}"),
            profile("two", "{tenantSelector: {}, policies: [{kind: FirewallPolicy, name: fw}], assignments: {allUsers: true}, mode: audit}"),
        ]
        .concat();
        let resolution = resolve_text(&text);
        let messages: Vec<String> = resolution.diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            messages,
            vec![
                "t.yaml:25:40: error: DistributionProfile/two: spec.policies[0]: FirewallPolicy/fw reaches tenants `a`, `bb` from profiles `one` and `two` with different modes and assignments"
            ]
        );
    }

    #[test]
    fn profiles_only_select_tenants_of_their_namespace_and_prune_takes_the_strictest_share() {
        let text = [
            POLICY.to_string(),
            tenant("a", "{}"),
            "---\napiVersion: tenantctl.dev/v1alpha1\nkind: Tenant\nmetadata: {name: other, namespace: elsewhere}\nspec: {tenantId: 00000000-0000-0000-0000-000000000009, displayName: X}\n".to_string(),
            profile("p", "{tenantSelector: {}, policies: [{kind: FirewallPolicy, name: fw}], prune: {enabled: true, maxDeletePercent: 50}}"),
            profile("q", "{tenantSelector: {}, policies: [], prune: {enabled: true, maxDeletePercent: 10}}"),
            profile("r", "{tenantSelector: {}, policies: [], mode: audit, prune: {enabled: true, maxDeletePercent: 1}}"),
        ]
        .concat();
        let resolution = resolve_text(&text);
        let by_name: BTreeMap<&str, &TenantDesired> =
            resolution.desired.tenants.iter().map(|t| (t.name.as_str(), t)).collect();
        assert_eq!(by_name["a"].policies.len(), 1);
        assert!(by_name["other"].policies.is_empty(), "the profile lives in another namespace");
        assert_eq!(by_name["a"].prune_max_delete_percent, Some(10), "audit profiles never prune");
    }
}
