//! observe: read each tenant's live state — every object of the families the desired state manages,
//! and the groups its assignments name — in as few calls as the API allows, with bounded concurrency
//! across tenants. A tenant whose reads fail is unknown.

use std::collections::{BTreeMap, BTreeSet};

use super::api::{Reply, TenantApi};
use super::diff::{Observation, PlanOptions, plan_observed, plan_tenant};
use super::managed::{LiveTenant, Managed, Policies, Roles};
use super::plan::{Plan, TenantPlan};
use super::policy_cache::{CacheStore, PolicyCache};
use super::resolve::{DesiredState, TenantDesired};
use crate::util::fanout::for_each_tenant;
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
    let tenants: Vec<&TenantDesired> = desired.tenants.iter().collect();
    let connect = &connect;
    let plans = for_each_tenant(tenants, concurrency, |tenant| async move {
        if tenant.suspended {
            return plan_tenant(tenant, None, options);
        }
        let mut cache = caches.map(|store| store.load(&tenant.tenant_id)).unwrap_or_default();
        let plan = match observe_and_plan_tenant(&connect(tenant), tenant, &mut cache, options).await {
            Ok((_, plan)) => {
                if let Some(store) = caches {
                    store.save(&tenant.tenant_id, cache);
                }
                plan
            }
            Err(error) => plan_tenant(tenant, Some(&Observation::Unknown(error.to_string())), options),
        };
        on_done(&tenant.name);
        plan
    })
    .await;
    Plan::new(plans)
}

/// One tenant: each managed family listed, the settings of the policies the plan compares read in
/// `$batch` requests of 20, and, when assignments name groups, one lookup of them.
pub async fn observe_tenant<A: TenantApi>(api: &A, tenant: &TenantDesired) -> Reply<LiveTenant> {
    observe_tenant_cached(api, tenant, &mut PolicyCache::default()).await
}

/// Observes one tenant (reusing what `cache` holds, see [`observe_tenant_cached`]) and plans it. When
/// the plan writes and the groups its assignments name came from the cache, they are looked up again
/// and the tenant planned again: no write rests on a cached lookup.
pub async fn observe_and_plan_tenant<A: TenantApi>(
    api: &A,
    tenant: &TenantDesired,
    cache: &mut PolicyCache,
    options: PlanOptions,
) -> Reply<(LiveTenant, TenantPlan)> {
    let (mut live, groups_cached) = observe(api, tenant, cache).await?;
    let plan = plan_observed(tenant, &live, options);
    if !(groups_cached && plan.writes().next().is_some()) {
        return Ok((live, plan));
    }
    live.groups = look_up_groups(api, tenant, cache).await?;
    let plan = plan_observed(tenant, &live, options);
    Ok((live, plan))
}

/// [`observe_tenant`], reusing the settings `cache` holds of policies whose version has not moved
/// since they were read (and the groups it last looked up, but for a while only), and keeping the
/// cache up to date.
pub async fn observe_tenant_cached<A: TenantApi>(
    api: &A,
    tenant: &TenantDesired,
    cache: &mut PolicyCache,
) -> Reply<LiveTenant> {
    observe(api, tenant, cache).await.map(|(live, _)| live)
}

/// The tenant, and whether its groups came from the cache.
async fn observe<A: TenantApi>(api: &A, tenant: &TenantDesired, cache: &mut PolicyCache) -> Reply<(LiveTenant, bool)> {
    let mut policies = Policies::list(api).await?;
    read_settings(api, tenant, &mut policies, cache).await?;
    let roles = if tenant.manages_roles { Some(Roles::list(api).await?) } else { None };
    let names = group_names(tenant);
    let (groups, cached) = match cache.groups_for(&names) {
        Some(groups) if !names.is_empty() => (groups, true),
        _ => (look_up_groups(api, tenant, cache).await?, false),
    };
    Ok((LiveTenant { policies, roles, groups }, cached))
}

/// The groups the tenant's assignments name.
fn group_names(tenant: &TenantDesired) -> Vec<String> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    names.extend(tenant.policies.iter().flat_map(Policies::group_names));
    names.extend(tenant.roles.iter().flat_map(Roles::group_names));
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
/// ones named like a desired policy (what `--adopt` would take over) — from the cache where their
/// version has not moved, else read. Other policies are only counted, and keep none. A policy
/// deleted between the list and the read is left out, as it would have been a moment later.
async fn read_settings<A: TenantApi>(
    api: &A,
    tenant: &TenantDesired,
    policies: &mut Vec<ConfigurationPolicy>,
    cache: &mut PolicyCache,
) -> Reply<()> {
    let names: BTreeSet<&str> = tenant.policies.iter().map(|p| p.payload.name.as_str()).collect();
    let compared = |p: &ConfigurationPolicy| Policies::owner(p).is_some() || names.contains(p.name.as_str());
    let mut to_read = Vec::new();
    for policy in policies.iter_mut().filter(|p| compared(p)) {
        let Some(id) = policy.id.clone() else { continue };
        if !policy.settings.is_empty() || policy.setting_count == Some(0) {
            continue;
        }
        match cache.settings_for(policy) {
            Some(settings) => policy.settings = settings,
            None => to_read.push(id),
        }
    }
    if !to_read.is_empty() {
        let mut read: BTreeMap<String, ConfigurationPolicy> =
            api.read_policies(&to_read).await?.into_iter().filter_map(|p| Some((p.id.clone()?, p))).collect();
        policies.retain_mut(|policy| {
            let Some(id) = policy.id.as_ref().filter(|id| to_read.contains(id)) else { return true };
            match read.remove(id) {
                Some(full) => {
                    cache.store(&full);
                    policy.settings = full.settings;
                    true
                }
                None => false,
            }
        });
    }
    cache.keep_only(policies.iter().filter(|p| compared(p)).filter_map(|p| p.id.as_deref()));
    Ok(())
}
