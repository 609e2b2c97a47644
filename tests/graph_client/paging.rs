use std::collections::BTreeSet;

use super::support::{Lab, TENANT_A, policy, state};

#[tokio::test(flavor = "multi_thread")]
async fn paging_over_many_pages_returns_every_policy_once_with_settings_and_assignments() {
    let lab = Lab::serve(state(), &["--page-size", "3", "--max-top", "3", "--write-budget", "0"]);
    let client = lab.client();
    let tenant = client.tenant(TENANT_A);
    for i in 0..40 {
        tenant.create_policy(&policy(&format!("fw-{i:02}"))).await.expect("create");
    }
    let policies = tenant.list_policies_in_full().await.expect("list");
    assert_eq!(policies.len(), 40);
    let ids: BTreeSet<_> = policies.iter().filter_map(|p| p.id.clone()).collect();
    assert_eq!(ids.len(), 40, "each policy exactly once");
    assert!(policies.iter().all(|p| !p.settings.is_empty() && p.assignments.is_some()), "expanded");
    let pages = lab.count("GET /beta/deviceManagement/configurationPolicies", 200).await;
    assert_eq!(pages, 14, "40 policies in pages of 3, every next link followed");
    let batches = lab.count("POST /beta/$batch", 200).await;
    assert_eq!(batches, 2, "the settings of 40 policies in batches of 20");
}

/// A tenant's settings are read a few `$batch` requests at once: 80 policies take one round trip, not
/// four. Read one after another, the four batches could not take less than four times the latency.
#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_read_batches_are_in_flight_together() {
    let lab = Lab::serve(state(), &["--write-budget", "0"]);
    let tenant = lab.client().tenant(TENANT_A);
    let mut ids = Vec::new();
    for i in 0..80 {
        let created = tenant.create_policy(&policy(&format!("fw-{i:02}"))).await.expect("create");
        ids.push(created.id.expect("id"));
    }
    let latency = std::time::Duration::from_millis(500);
    lab.configure(serde_json::json!({"latencyMs": latency.as_millis()})).await;
    let started = std::time::Instant::now();
    let read = tenant.read_policies(&ids).await.expect("read");
    let elapsed = started.elapsed();
    assert_eq!(read.len(), 80);
    assert_eq!(lab.count("POST /beta/$batch", 200).await, 4, "80 policies in batches of 20");
    assert!(elapsed < latency * 4, "four batches one after another: {elapsed:?}");
}
