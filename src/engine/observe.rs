//! observe: read each tenant's live state — every object of the families the desired state manages,
//! and the groups its assignments name — in as few calls as the API allows, with bounded concurrency
//! across tenants. A tenant whose reads fail is unknown.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;

use super::access::{Need, READ_DEFENDER_ROLES, READ_DETECTION_RULES, needs_of_writes, read_needs};
use super::api::{Access, ApiError, FORBIDDEN, MISSING_PERMISSION, Reply, TenantApi};
use super::diff::{Observation, PlanOptions, plan_observed, plan_tenant};
use super::managed::{DefenderRoles, DetectionRules, LiveTenant, Managed, Policies, Roles};
use super::plan::{Plan, TenantPlan, TenantState};
use super::policy_cache::{CacheStore, PolicyCache};
use super::problem::{Category, Problem};
use super::resolve::{DesiredPolicy, DesiredState, TenantDesired};
use crate::wire::ConfigurationPolicy;

/// Observes and plans tenant by tenant: each tenant is planned as soon as it has been read, and its
/// live state dropped then, so that memory holds one plan per tenant instead of every tenant's live
/// objects, and planning overlaps the reads of other tenants. `connect` gives the API of a tenant;
/// `on_done` is called as each observed tenant finishes (for progress display).
pub async fn observe_and_plan<A, C>(
    connect: C,
    desired: &DesiredState,
    concurrency: usize,
    options: PlanOptions,
    caches: Option<&dyn CacheStore>,
    on_done: &(dyn Fn(&str) + Sync),
) -> Plan
where
    A: TenantApi,
    C: Fn(&TenantDesired) -> A,
{
    let mut plans = Vec::new();
    observe_and_plan_each(connect, desired, concurrency, options, caches, &mut |plan| {
        if plan.state != TenantState::Suspended {
            on_done(&plan.name);
        }
        plans.push(plan);
    })
    .await;
    Plan::new(plans)
}

/// Observes and plans every tenant, `concurrency` at a time, and hands each tenant's plan to
/// `on_plan` as soon as it is made (in the order they finish): no more than `concurrency` tenants'
/// live state is held at once, and nothing of a tenant once handed over.
pub async fn observe_and_plan_each<A, C>(
    connect: C,
    desired: &DesiredState,
    concurrency: usize,
    options: PlanOptions,
    caches: Option<&dyn CacheStore>,
    on_plan: &mut dyn FnMut(TenantPlan),
) where
    A: TenantApi,
    C: Fn(&TenantDesired) -> A,
{
    let connect = &connect;
    let mut plans = futures_util::stream::iter(desired.tenants.iter())
        .map(|tenant| async move {
            if tenant.suspended {
                return plan_tenant(tenant, None, options);
            }
            let mut cache = caches.map_or_else(PolicyCache::none, |store| store.load(&tenant.tenant_id));
            match observe_and_plan_tenant(&connect(tenant), tenant, &mut cache, options).await {
                Ok((_, plan)) => {
                    if let Some(store) = caches {
                        store.save(&tenant.tenant_id, cache);
                    }
                    plan
                }
                Err(error) => unknown(tenant, &error, options),
            }
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(plan) = plans.next().await {
        on_plan(plan);
    }
}

/// The plan of a tenant that could not be read, or whose reads the app may not make.
fn unknown(tenant: &TenantDesired, error: &ApiError, options: PlanOptions) -> TenantPlan {
    let mut plan = plan_tenant(tenant, Some(&Observation::Unknown(error.to_string())), options);
    if error.category == MISSING_PERMISSION {
        plan.problems.iter_mut().for_each(|p| p.category = Category::MissingPermission);
    }
    plan
}

/// One tenant: each managed family listed, the settings of the policies the plan compares read in
/// `$batch` requests of 20, and, when assignments name groups, one lookup of them.
pub async fn observe_tenant<A: TenantApi>(api: &A, tenant: &TenantDesired) -> Reply<LiveTenant> {
    observe(api, tenant, &mut PolicyCache::none()).await.map(|(live, _)| live)
}

/// Observes one tenant and plans it, relying on `cache` for the policies whose version has not moved
/// since their settings were seen equal to the desired ones (and for the groups it last looked up,
/// for a while), and keeping the cache up to date. When the plan writes, whatever came from the
/// cache is read again and the tenant planned again: no write rests on the cache.
///
/// The app's permissions are checked first: a tenant whose reads it may not make is not read (an
/// error of category [`MISSING_PERMISSION`]), and a plan whose writes it may not make is refused
/// ahead, with what to grant, so that `apply` writes nothing there.
pub async fn observe_and_plan_tenant<A: TenantApi>(
    api: &A,
    tenant: &TenantDesired,
    cache: &mut PolicyCache,
    options: PlanOptions,
) -> Reply<(LiveTenant, TenantPlan)> {
    let access = api.access().await?;
    if let Some(refusal) = access.refusal(&read_needs(tenant)) {
        return Err(ApiError::new(MISSING_PERMISSION, refusal.to_string()));
    }
    let (live, plan) = observe_and_plan_cached(api, tenant, cache, options).await?;
    Ok((live, refuse_unpermitted_writes(plan, &access)))
}

/// A plan whose writes need a permission the app lacks keeps its changes, to show, and fails the
/// tenant with what to grant: `apply` refuses a tenant so planned.
fn refuse_unpermitted_writes(mut plan: TenantPlan, access: &Access) -> TenantPlan {
    if let Some(refusal) = access.refusal(&needs_of_writes(plan.writes())) {
        plan.problems.push(Problem::tenant(Category::MissingPermission, refusal.to_string()));
        plan.state = TenantState::Failed;
    }
    plan
}

async fn observe_and_plan_cached<A: TenantApi>(
    api: &A,
    tenant: &TenantDesired,
    cache: &mut PolicyCache,
    options: PlanOptions,
) -> Reply<(LiveTenant, TenantPlan)> {
    let (mut live, groups_cached) = observe(api, tenant, cache).await?;
    let plan = plan_observed(tenant, &live, options);
    let from_cache = groups_cached || !live.settings_in_sync.is_empty();
    if !from_cache || plan.writes().next().is_none() {
        return Ok((live, plan));
    }
    if groups_cached {
        live.groups = look_up_groups(api, tenant, cache).await?;
    }
    let vouched: Vec<String> = std::mem::take(&mut live.settings_in_sync).into_iter().collect();
    read_in_full(api, &mut live.policies, &vouched, cache).await?;
    let plan = plan_observed(tenant, &live, options);
    Ok((live, plan))
}

/// The tenant, and whether its groups came from the cache.
async fn observe<A: TenantApi>(api: &A, tenant: &TenantDesired, cache: &mut PolicyCache) -> Reply<(LiveTenant, bool)> {
    let mut policies = Policies::list(api).await?;
    let settings_in_sync = read_settings(api, tenant, &mut policies, cache).await?;
    let roles = if tenant.manages_roles { Some(Roles::list(api).await?) } else { None };
    let detection_rules =
        read_family::<A, DetectionRules>(api, tenant, tenant.manages_detection_rules, READ_DETECTION_RULES).await?;
    let defender_roles =
        read_family::<A, DefenderRoles>(api, tenant, tenant.manages_defender_roles, READ_DEFENDER_ROLES).await?;
    // What the roles may name: read only where roles are delivered.
    let defender_actions = if tenant.defender_roles.is_empty() {
        None
    } else {
        Some(api.list_defender_actions().await?.into_iter().collect())
    };
    let names = group_names(tenant);
    let (groups, groups_cached) = match cache.groups_for(&names) {
        Some(groups) if !names.is_empty() => (groups, true),
        _ => (look_up_groups(api, tenant, cache).await?, false),
    };
    let live =
        LiveTenant { policies, roles, defender_roles, defender_actions, detection_rules, groups, settings_in_sync };
    Ok((live, groups_cached))
}

/// A family's live objects, when the tenant manages it. A tenant that receives none of the family and
/// only prunes is not read where the app may not read the family (its token says so, or Graph answers
/// 403): the family is then neither planned nor pruned there, and the rest of the tenant goes on.
async fn read_family<A: TenantApi, M: Managed>(
    api: &A,
    tenant: &TenantDesired,
    manages: bool,
    read: Need,
) -> Reply<Option<Vec<M::Live>>> {
    if !manages {
        return Ok(None);
    }
    if !M::desired(tenant).is_empty() {
        return M::list(api).await.map(Some);
    }
    let granted = api.access().await.ok().and_then(|access| access.granted);
    if granted.is_some_and(|granted| !read.is_met_by(&granted)) {
        return Ok(None);
    }
    match M::list(api).await {
        Ok(objects) => Ok(Some(objects)),
        Err(error) if error.category == FORBIDDEN => Ok(None),
        Err(error) => Err(error),
    }
}

/// The groups the tenant's assignments name.
fn group_names(tenant: &TenantDesired) -> Vec<String> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    names.extend(tenant.policies.iter().flat_map(Policies::group_names));
    names.extend(tenant.roles.iter().flat_map(Roles::group_names));
    names.extend(tenant.defender_roles.iter().flat_map(DefenderRoles::group_names));
    names.into_iter().collect()
}

/// One lookup of the groups the tenant's assignments name (none when they name none), kept in the
/// cache.
async fn look_up_groups<A: TenantApi>(
    api: &A,
    tenant: &TenantDesired,
    cache: &mut PolicyCache,
) -> Reply<super::assignments::GroupsByName> {
    let names = group_names(tenant);
    let groups = if names.is_empty() { BTreeMap::new() } else { api.find_groups(&names).await? };
    cache.store_groups(&groups);
    Ok(groups)
}

/// Fills in the settings of the policies the plan compares — the ones tenantctl owns, and unmanaged
/// ones named like a desired policy (what `--adopt` would take over). A policy whose version has not
/// moved since its settings were seen equal to the desired ones is not read: it is answered as in
/// sync, so that the plan compares the rest of it, and a plan that writes reads it after all. Other
/// policies are only counted, and keep no settings.
async fn read_settings<A: TenantApi>(
    api: &A,
    tenant: &TenantDesired,
    policies: &mut Vec<ConfigurationPolicy>,
    cache: &mut PolicyCache,
) -> Reply<BTreeSet<String>> {
    let by_owner: BTreeMap<&crate::model::ObjectRef, &DesiredPolicy> =
        tenant.policies.iter().map(|d| (&d.object, d)).collect();
    let by_name: BTreeMap<&str, &DesiredPolicy> =
        tenant.policies.iter().map(|d| (d.payload.name.as_str(), d)).collect();
    let owned = |p: &ConfigurationPolicy| Policies::owner(p);
    let compared = |p: &ConfigurationPolicy| owned(p).is_some() || by_name.contains_key(p.name.as_str());
    let mut to_read = Vec::new();
    let mut in_sync = BTreeSet::new();
    for policy in policies.iter_mut().filter(|p| compared(p)) {
        let Some(id) = policy.id.clone() else { continue };
        if !policy.settings.is_empty() || policy.setting_count == Some(0) {
            continue;
        }
        let desired = match owned(policy) {
            Some(owner) => by_owner.get(&owner).copied(),
            None => by_name.get(policy.name.as_str()).copied(),
        };
        match (cache.settings_digest_for(policy), desired) {
            (Some(seen), Some(desired)) if seen == &*desired.settings_digest => {
                in_sync.insert(id);
            }
            _ => to_read.push(id),
        }
    }
    read_in_full(api, policies, &to_read, cache).await?;
    cache.keep_only(policies.iter().filter(|p| compared(p)).filter_map(|p| p.id.as_deref()));
    Ok(in_sync)
}

/// Reads the settings of these policies and records them in the cache. A policy deleted between the
/// list and the read is left out, as it would have been a moment later.
async fn read_in_full<A: TenantApi>(
    api: &A,
    policies: &mut Vec<ConfigurationPolicy>,
    ids: &[String],
    cache: &mut PolicyCache,
) -> Reply<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut read: BTreeMap<String, ConfigurationPolicy> =
        api.read_policies(ids).await?.into_iter().filter_map(|p| Some((p.id.clone()?, p))).collect();
    policies.retain_mut(|policy| {
        let Some(id) = policy.id.as_ref().filter(|id| ids.contains(id)) else { return true };
        match read.remove(id) {
            Some(full) => {
                cache.store(&full);
                policy.settings = full.settings;
                true
            }
            None => false,
        }
    });
    Ok(())
}
