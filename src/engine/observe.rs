//! observe: read each tenant's live state — every object of the families the desired state manages,
//! and the groups its assignments name — in as few calls as the API allows, with bounded concurrency
//! across tenants. A tenant whose reads fail is unknown.

use std::collections::{BTreeMap, BTreeSet};

use super::api::{Reply, TenantApi};
use super::diff::{Observation, PlanOptions, plan_tenant};
use super::managed::{LiveTenant, Managed, Policies, Roles};
use super::plan::Plan;
use super::resolve::{DesiredState, TenantDesired};
use crate::util::fanout::for_each_tenant;

/// Observes and plans tenant by tenant: each tenant is planned as soon as it has been read, and its
/// live state dropped then, so that memory holds one plan per tenant instead of every tenant's live
/// objects, and planning overlaps the reads of other tenants. `connect` gives the API of a tenant;
/// `on_done` is called as each observed tenant finishes (for progress display).
pub async fn observe_and_plan<A, C>(
    connect: C,
    desired: &DesiredState,
    concurrency: usize,
    options: PlanOptions,
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
        let observation = match observe_tenant(&connect(tenant), tenant).await {
            Ok(live) => Observation::Observed(live),
            Err(error) => Observation::Unknown(error.to_string()),
        };
        let plan = plan_tenant(tenant, Some(&observation), options);
        on_done(&tenant.name);
        plan
    })
    .await;
    Plan::new(plans)
}

/// One tenant: each managed family listed (policies in one paged list with `$expand`), and, when
/// assignments name groups, one lookup of them.
pub async fn observe_tenant<A: TenantApi>(api: &A, tenant: &TenantDesired) -> Reply<LiveTenant> {
    let policies = Policies::list(api).await?;
    let roles = if tenant.manages_roles { Some(Roles::list(api).await?) } else { None };
    let mut names: BTreeSet<String> = BTreeSet::new();
    names.extend(tenant.policies.iter().flat_map(Policies::group_names));
    names.extend(tenant.roles.iter().flat_map(Roles::group_names));
    let groups = if names.is_empty() {
        BTreeMap::new()
    } else {
        api.find_groups(&names.into_iter().collect::<Vec<_>>()).await?
    };
    Ok(LiveTenant { policies, roles, groups })
}
