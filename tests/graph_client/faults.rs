use serde_json::json;
use tenantctl::graph::client::{GraphError, WriteFence};

use super::support::{Lab, TENANT_A, policy, state};

#[tokio::test(flavor = "multi_thread")]
async fn reads_survive_server_errors_and_connection_resets() {
    let lab = Lab::serve(state(), &["--page-size", "2", "--seed", "11"]);
    let client = lab.client();
    let tenant = client.tenant(TENANT_A);
    for i in 0..6 {
        tenant.create_policy(&policy(&format!("fw-{i}"))).await.expect("create");
    }
    lab.configure(json!({"faults": {"serverError": 0.3, "connectionReset": 0.3}})).await;
    for _ in 0..5 {
        assert_eq!(tenant.list_policies().await.expect("list despite faults").len(), 6);
    }
    assert!(client.counts().retries >= 3, "faults happened and were retried: {:?}", client.counts());
    assert!(lab.count("GET /beta/deviceManagement/configurationPolicies", 503).await > 0);
    assert!(lab.count("GET /beta/deviceManagement/configurationPolicies", 0).await > 0, "dropped connections");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_response_is_lost_is_reported_ambiguous_and_did_commit() {
    let lab = Lab::serve(state(), &["--fault-lost-response", "1"]);
    let client = lab.client();
    let tenant = client.tenant(TENANT_A);
    let error = tenant.create_policy(&policy("fw")).await.expect_err("no response");
    assert!(error.is_ambiguous(), "{error}");
    assert!(matches!(error, GraphError::Transport { .. }), "{error:?}");
    lab.configure(json!({"faults": {"lostResponse": 0}})).await;
    let policies = tenant.list_policies().await.expect("list");
    assert_eq!(policies.len(), 1, "the create committed, and was not sent twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotent_writes_are_retried_through_lost_responses() {
    let lab = Lab::serve(state(), &["--seed", "3"]);
    let client = lab.client();
    let tenant = client.tenant(TENANT_A);
    let id = tenant.create_policy(&policy("fw")).await.expect("create").id.expect("id");
    lab.configure(json!({"faults": {"lostResponse": 0.5}})).await;
    let mut changed = policy("fw");
    changed.description = "[managed-by tenantctl: FirewallPolicy/fw] changed".replace(" changed", "");
    changed.name = "fw renamed".into();
    tenant.update_policy(&id, &changed).await.expect("PUT retried until a response arrives");
    tenant.delete_policy(&id).await.expect("DELETE: a 404 after a lost response means deleted");
    lab.configure(json!({"faults": {"lostResponse": 0}})).await;
    assert!(tenant.list_policies().await.expect("list").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn throttled_writes_wait_with_and_without_retry_after() {
    for mode in ["always", "never", "alternate"] {
        let lab = Lab::serve(state(), &["--write-budget", "3", "--write-window-ms", "600", "--retry-after", mode]);
        let client = lab.client();
        let tenant = client.tenant(TENANT_A);
        for i in 0..8 {
            tenant.create_policy(&policy(&format!("fw-{i}"))).await.expect("create despite 429");
        }
        assert_eq!(tenant.list_policies().await.expect("list").len(), 8, "{mode}: no duplicates");
        assert!(client.counts().throttled > 0, "{mode}: the lab throttled");
        assert!(lab.count("POST /beta/deviceManagement/configurationPolicies", 429).await > 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_pacing_below_the_budget_is_never_throttled() {
    let lab = Lab::serve(state(), &["--write-budget", "5", "--write-window-ms", "1000"]);
    let client = lab.client_with(super::support::CANARY, |config| {
        config.budget.writes = 4;
        config.budget.window = std::time::Duration::from_millis(1000);
    });
    let tenant = client.tenant(TENANT_A);
    for i in 0..10 {
        tenant.create_policy(&policy(&format!("fw-{i}"))).await.expect("create");
    }
    assert_eq!(client.counts().throttled, 0, "the client paced itself");
    assert_eq!(lab.count("POST /beta/deviceManagement/configurationPolicies", 429).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_tenant_fails_after_bounded_retries() {
    let lab = Lab::serve(state(), &["--failing-tenant", TENANT_A]);
    let client = lab.client_with(super::support::CANARY, |config| config.max_retries = 2);
    match client.tenant(TENANT_A).list_policies().await {
        Err(GraphError::Api(error)) => assert_eq!(error.status, 503),
        other => panic!("expected 503: {other:?}"),
    }
    assert_eq!(client.counts().retries, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_throttling_is_waited_out_as_retry_after_asks() {
    let lab = Lab::serve(state(), &["--fault-throttle", "0.4", "--seed", "21"]);
    // Were Retry-After ignored, every 429 would wait this long: the test could not finish in time.
    let client = lab.client_with(super::support::CANARY, |config| {
        config.throttle_backoff = std::time::Duration::from_secs(3600);
        config.max_retries = 20;
    });
    let tenant = client.tenant(TENANT_A);
    let work = async {
        for i in 0..6 {
            tenant.create_policy(&policy(&format!("fw-{i}"))).await.expect("create despite 429");
        }
        tenant.list_policies().await.expect("list despite 429")
    };
    let policies = tokio::time::timeout(std::time::Duration::from_secs(60), work)
        .await
        .expect("Retry-After was honoured instead of the long throttle backoff");
    assert_eq!(policies.len(), 6, "a throttled create is repeated, never duplicated");
    assert!(client.counts().throttled > 0, "the lab throttled");
    assert!(lab.count("POST /beta/deviceManagement/configurationPolicies", 429).await > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_fails_fast_instead_of_backing_off() {
    // Nothing listens on the discard port of loopback: every connection is refused.
    let mut config =
        tenantctl::graph::client::GraphConfig::new("http://127.0.0.1:9", "http://127.0.0.1:9").expect("config");
    config.max_retries = 6;
    let credential = tenantctl::graph::client::Credential::ClientSecret {
        client_id: super::support::CLIENT_ID.into(),
        secret: tenantctl::util::secret::Secret::new(super::support::CANARY),
    };
    let client = tenantctl::graph::client::GraphClient::new(
        config,
        tenantctl::graph::client::Credentials::with_default(credential),
    )
    .expect("client");
    let error = client.tenant(TENANT_A).list_policies().await.expect_err("refused");
    assert!(matches!(error, GraphError::Auth { .. }), "{error}");
    let counts = client.counts();
    // Two quick retries (250 ms, 500 ms), not six exponential ones from the default backoff.
    assert_eq!((counts.token_requests, counts.retries, counts.requests), (3, 2, 0), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_write_fence_stops_writes_before_they_leave_and_lets_reads_through() {
    let lab = Lab::serve(state(), &[]);
    let client = lab.client();
    let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = open.clone();
    let fence = WriteFence::new(move || flag.load(std::sync::atomic::Ordering::SeqCst));
    let tenant = client.tenant(TENANT_A).fenced(fence);
    let id = tenant.create_policy(&policy("fw")).await.expect("create while open").id.expect("id");
    open.store(false, std::sync::atomic::Ordering::SeqCst);
    let error = tenant.create_policy(&policy("fw-2")).await.expect_err("closed");
    assert!(matches!(error, GraphError::WriteStopped { .. }), "{error:?}");
    assert!(!error.is_ambiguous(), "nothing was sent: {error}");
    let error = tenant.delete_policy(&id).await.expect_err("closed");
    assert!(matches!(error, GraphError::WriteStopped { .. }), "{error:?}");
    assert_eq!(tenant.list_policies().await.expect("reads go on").len(), 1);
    assert_eq!(lab.count("POST /beta/deviceManagement/configurationPolicies", 201).await, 1, "one create left");
    assert_eq!(lab.count("DELETE /beta/deviceManagement/configurationPolicies/{id}", 204).await, 0, "no delete left");
}
