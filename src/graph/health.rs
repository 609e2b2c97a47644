//! Reads what a rollout's health gates need of a tenant that got a revision: its incidents of the
//! gate's severities created since then, and the gate's hunting query.

use std::collections::BTreeMap;

use super::client::GraphClient;
use crate::engine::rollout::{Health, HealthCheck};
use crate::util::fanout::for_each_tenant;

/// The health of each checked tenant (by name). Tenant IDs come from `ids` (name → ID).
pub async fn read_health(
    client: &GraphClient,
    checks: Vec<HealthCheck>,
    ids: &BTreeMap<String, String>,
    concurrency: usize,
) -> BTreeMap<String, Health> {
    let read = for_each_tenant(checks, concurrency, |check| async move {
        let Some(id) = ids.get(&check.tenant) else { return (check.tenant, Health::default()) };
        (check.tenant.clone(), tenant_health(client, id, &check).await)
    })
    .await;
    read.into_iter().collect()
}

async fn tenant_health(client: &GraphClient, tenant_id: &str, check: &HealthCheck) -> Health {
    let tenant = client.tenant(tenant_id);
    // Without the time the tenant got the revision, no incident can be said to follow it.
    let incidents = match check.since {
        Some(since) => Some(tenant.list_incidents(None).await.map_err(|e| e.to_string()).map(|incidents| {
            incidents
                .into_iter()
                .filter(|i| check.severities.iter().any(|s| s.is(&i.severity)))
                .filter(|i| {
                    let created = i.created_date_time.as_deref().and_then(|c| c.parse::<jiff::Timestamp>().ok());
                    // An incident without a readable time counts: ignoring it could hide a failure.
                    created.is_none_or(|created| created >= since)
                })
                .map(|i| format!("{} \"{}\" ({})", i.id, i.display_name, i.severity))
                .collect()
        })),
        None => None,
    };
    let hunting_rows = match &check.hunting_query {
        Some(query) => {
            Some(tenant.run_hunting_query(query, None).await.map(|r| r.results.len() as u64).map_err(|e| e.to_string()))
        }
        None => None,
    };
    Health { incidents, hunting_rows }
}
