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
