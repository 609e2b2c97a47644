//! observe: read each tenant's live state — every configuration policy with settings and assignments,
//! and the groups the desired assignments name — in as few Graph calls as the API allows, with
//! bounded concurrency across tenants. A tenant whose reads fail is unknown.

use std::collections::{BTreeMap, BTreeSet};

use super::diff::{LiveTenant, Observation, PlanOptions, plan_tenant};
use super::plan::Plan;
use super::resolve::{DesiredState, TenantDesired};
use crate::graph::client::{GraphClient, GraphError, for_each_tenant};

/// Observes every tenant that is not suspended. `on_done` is called as each tenant finishes (for
/// progress display).
pub async fn observe(
    client: &GraphClient,
    desired: &DesiredState,
    concurrency: usize,
    on_done: &(dyn Fn(&str) + Sync),
) -> BTreeMap<String, Observation> {
    let tenants: Vec<&TenantDesired> = desired.tenants.iter().filter(|t| !t.suspended).collect();
    let results = for_each_tenant(tenants, concurrency, |tenant| async move {
        let observation = observe_one(client, tenant).await;
        on_done(&tenant.name);
        (tenant.name.clone(), observation)
    })
    .await;
    results.into_iter().collect()
}

/// Observes and plans tenant by tenant: each tenant is planned as soon as it has been read, and its
/// live state dropped then, so that memory holds one plan per tenant instead of every tenant's live
/// policies, and planning overlaps the reads of other tenants. The plan is the one
/// [`plan`](super::diff::plan) makes from [`observe`]'s observations.
pub async fn observe_and_plan(
    client: &GraphClient,
    desired: &DesiredState,
    concurrency: usize,
    options: PlanOptions,
    on_done: &(dyn Fn(&str) + Sync),
) -> Plan {
    let tenants: Vec<&TenantDesired> = desired.tenants.iter().collect();
    let plans = for_each_tenant(tenants, concurrency, |tenant| async move {
        if tenant.suspended {
            return plan_tenant(tenant, None, options);
        }
        let observation = observe_one(client, tenant).await;
        let plan = plan_tenant(tenant, Some(&observation), options);
        on_done(&tenant.name);
        plan
    })
    .await;
    Plan::new(plans)
}

async fn observe_one(client: &GraphClient, tenant: &TenantDesired) -> Observation {
    match observe_tenant(client, tenant).await {
        Ok(live) => Observation::Observed(live),
        Err(error) => Observation::Unknown(error.to_string()),
    }
}

/// One list (with `$expand`, following next links) and, when assignments name groups, one `$batch`
/// of group lookups.
pub async fn observe_tenant(client: &GraphClient, tenant: &TenantDesired) -> Result<LiveTenant, GraphError> {
    let graph = client.tenant(&tenant.tenant_id);
    let policies = graph.list_policies().await?;
    let mut names: BTreeSet<String> = tenant
        .policies
        .iter()
        .flat_map(|p| p.assignments.groups.iter().chain(&p.assignments.exclude_groups))
        .cloned()
        .collect();
    names.extend(super::roles::group_names(tenant));
    let groups = if names.is_empty() {
        BTreeMap::new()
    } else {
        graph.find_groups(&names.into_iter().collect::<Vec<_>>()).await?
    };
    let roles = if tenant.manages_roles {
        let definitions = graph.list_role_definitions().await?;
        let assignments = graph.list_role_assignments().await?;
        Some(super::roles::LiveRoles { definitions, assignments })
    } else {
        None
    };
    Ok(LiveTenant { policies, groups, roles })
}
