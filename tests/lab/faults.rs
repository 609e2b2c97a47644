//! Injected faults over real HTTP: 503 and 429 before anything happens, connections dropped before
//! anything happens, responses lost after the write committed, and unreachable tenants.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::support::{TestLab, code, firewall_request};

const POLICIES: &str = "/beta/deviceManagement/configurationPolicies";

fn named(items: &[Value], name: &str) -> usize {
    items.iter().filter(|p| p["name"] == name).count()
}

#[tokio::test]
async fn server_errors_and_resets_happen_before_anything_is_done() {
    let lab = TestLab::generated(1, 2, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;
    let mut request = firewall_request();
    request["name"] = json!("Created under faults");

    lab.configure(json!({"faults": {"serverError": 1.0}})).await;
    let (status, body) = lab.send(Method::POST, &token, POLICIES, Some(&request)).await;
    assert_eq!((status, code(&body)), (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"));
    assert!(body["error"]["innerError"]["request-id"].is_string());
    assert_eq!(
        lab.token_request(&lab.tenants()[0], &[]).await.status(),
        StatusCode::BAD_REQUEST,
        "not the token endpoint"
    );

    lab.configure(json!({"faults": {"connectionReset": 1.0}})).await;
    let error = lab.try_send(Method::POST, &token, POLICIES, Some(&request)).await.expect_err("no response at all");
    assert!(!error.is_status() && !error.is_timeout(), "{error:?}");
    let error = lab.try_send(Method::GET, &token, POLICIES, None).await.expect_err("reads are dropped too");
    assert!(!error.is_status(), "{error:?}");
    assert_eq!(lab.http.get(lab.url("/_lab/config")).send().await.expect("control endpoints").status(), StatusCode::OK);

    lab.configure(json!({"faults": {}})).await;
    let (items, _) = lab.get_all(&token, POLICIES).await;
    assert_eq!((items.len(), named(&items, "Created under faults")), (2, 0), "neither fault created anything");
}

#[tokio::test]
async fn a_lost_response_still_commits_the_write() {
    let lab = TestLab::generated(1, 0, |_| {}).await;
    let tenant = lab.tenants()[0].clone();
    let token = lab.token(&tenant).await;
    let mut request = firewall_request();
    request["name"] = json!("Committed but unanswered");

    lab.configure(json!({"faults": {"lostResponse": 1.0}})).await;
    let error = lab.try_send(Method::POST, &token, POLICIES, Some(&request)).await.expect_err("no response at all");
    assert!(!error.is_status() && !error.is_timeout(), "{error:?}");
    assert_eq!(lab.get(&token, POLICIES).await.0, StatusCode::OK, "reads are not lost");

    lab.configure(json!({"faults": {}})).await;
    let (items, _) = lab.get_all(&token, POLICIES).await;
    assert_eq!(named(&items, "Committed but unanswered"), 1, "the write committed exactly once");
    assert_eq!(lab.stored_policy_ids(&tenant).len(), 1, "and reached the state directory");
    let stats = lab.stats().await;
    let dropped =
        stats["requests"].as_array().expect("requests").iter().find(|r| r["status"] == 0).expect("a dropped request");
    assert_eq!(dropped["route"], "POST /beta/deviceManagement/configurationPolicies");
}

#[tokio::test]
async fn failing_tenants_answer_503_and_the_others_do_not() {
    let lab = TestLab::generated(2, 1, |_| {}).await;
    let tenants = lab.tenants();
    let (failing, healthy) = (&tenants[0], &tenants[1]);
    lab.configure(json!({"failingTenants": [failing]})).await;
    let token = lab.token(failing).await;
    let (status, body) = lab.get(&token, POLICIES).await;
    assert_eq!((status, code(&body)), (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"));
    let (status, _) = lab.get(&token, "/v1.0/groups").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(lab.get(&lab.token(healthy).await, POLICIES).await.0, StatusCode::OK);

    lab.configure(json!({"failingTenants": []})).await;
    assert_eq!(lab.get(&token, POLICIES).await.0, StatusCode::OK, "recovered");
}

#[tokio::test]
async fn fault_sequences_follow_the_seed() {
    async fn statuses(seed: u64) -> Vec<StatusCode> {
        let lab = TestLab::generated(1, 0, |options| {
            options.seed = seed;
            options.faults.server_error = 0.5;
        })
        .await;
        let token = lab.token(&lab.tenants()[0]).await;
        let mut seen = Vec::new();
        for _ in 0..24 {
            seen.push(lab.get(&token, "/v1.0/groups").await.0);
        }
        seen
    }
    let first = statuses(42).await;
    assert_eq!(first, statuses(42).await);
    assert!(first.contains(&StatusCode::OK) && first.contains(&StatusCode::SERVICE_UNAVAILABLE));
}

#[tokio::test]
async fn requests_inside_a_batch_get_server_errors_of_their_own() {
    let lab = TestLab::generated(1, 0, |options| {
        options.seed = 5;
        options.faults.server_error = 0.5;
    })
    .await;
    let token = lab.token(&lab.tenants()[0]).await;
    let requests: Vec<Value> =
        (0..20).map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/groups"})).collect();
    let batch = json!({"requests": requests});
    for _ in 0..20 {
        let (status, body) = lab.send(Method::POST, &token, "/v1.0/$batch", Some(&batch)).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            continue;
        }
        assert_eq!(status, StatusCode::OK);
        let statuses: Vec<u64> =
            body["responses"].as_array().expect("responses").iter().filter_map(|r| r["status"].as_u64()).collect();
        assert!(statuses.contains(&503) && statuses.contains(&200), "{statuses:?}");
        return;
    }
    panic!("no batch got through at a 50% fault rate");
}

#[tokio::test]
async fn injected_throttling_answers_429_with_retry_after_and_does_nothing() {
    let lab = TestLab::generated(1, 0, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;
    let mut request = firewall_request();
    request["name"] = json!("Created while throttled");

    lab.configure(json!({"faults": {"throttle": 1.0}})).await;
    let response = lab.try_send(Method::POST, &token, POLICIES, Some(&request)).await.expect("an answer");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(code(&body), "TooManyRequests");
    let batch = json!({"requests": [{"id": "1", "method": "GET", "url": "/groups"}]});
    let (status, body) = lab.send(Method::POST, &token, "/v1.0/$batch", Some(&batch)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the batch itself is throttled first: {body}");

    lab.configure(json!({"faults": {"throttle": 1.0}, "retryAfter": "never"})).await;
    let response = lab.try_send(Method::GET, &token, POLICIES, None).await.expect("an answer");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("retry-after").is_none(), "the Retry-After mode applies to injected 429s");

    lab.configure(json!({"faults": {}})).await;
    let (items, _) = lab.get_all(&token, POLICIES).await;
    assert_eq!(named(&items, "Created while throttled"), 0, "a throttled write did nothing");
}

#[tokio::test]
async fn requests_inside_a_batch_are_throttled_on_their_own() {
    let lab = TestLab::generated(1, 0, |options| {
        options.seed = 9;
        options.faults.throttle = 0.5;
    })
    .await;
    let token = lab.token(&lab.tenants()[0]).await;
    let requests: Vec<Value> =
        (0..20).map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/groups"})).collect();
    let batch = json!({"requests": requests});
    for _ in 0..20 {
        let (status, body) = lab.send(Method::POST, &token, "/v1.0/$batch", Some(&batch)).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            continue;
        }
        let responses = body["responses"].as_array().expect("responses").clone();
        let throttled: Vec<&Value> = responses.iter().filter(|r| r["status"] == 429).collect();
        assert!(!throttled.is_empty() && throttled.len() < responses.len(), "{body}");
        assert!(throttled.iter().all(|r| r["headers"]["Retry-After"] == "1"), "{body}");
        return;
    }
    panic!("no batch got through at a 50% throttle rate");
}
