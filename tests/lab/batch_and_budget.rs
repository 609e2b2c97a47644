//! `$batch` (limits, inner requests through the same logic, inner throttling) and the write budget
//! with each Retry-After mode.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tenantctl::wire::common::BatchResponse;

use super::support::eventually::eventually_async;
use super::support::{TestLab, code, firewall_request};

const POLICIES: &str = "/beta/deviceManagement/configurationPolicies";

fn get(id: usize, url: &str) -> Value {
    json!({"id": id.to_string(), "method": "GET", "url": url})
}

#[tokio::test]
async fn batch_dispatches_inner_requests_and_enforces_its_limit() {
    let lab = TestLab::generated(1, 2, |_| {}).await;
    let tenant = &lab.tenants()[0];
    let token = lab.token(tenant).await;
    let policy = &lab.stored_policy_ids(tenant)[0];

    let requests = json!({"requests": [
        get(1, &format!("/deviceManagement/configurationPolicies/{policy}?$expand=settings")),
        get(2, "deviceManagement/configurationPolicies/00000000-0000-0000-0000-000000000000"),
        get(3, "/groups?$filter=displayName%20eq%20'SG-Lab-Pilot'"),
        {"id": "4", "method": "POST", "url": "/deviceManagement/configurationPolicies", "body": firewall_request(),
         "headers": {"Content-Type": "application/json"}},
        {"id": "5", "method": "DELETE", "url": "/deviceManagement/configurationPolicies/{unknown}", "dependsOn": ["2"]},
        get(6, "/$batch")
    ]});
    let (status, body) = lab.send(Method::POST, &token, "/beta/$batch", Some(&requests)).await;
    assert_eq!(status, StatusCode::OK);
    let batch: BatchResponse = serde_json::from_value(body).expect("batch response shape");
    let statuses: Vec<(&str, u16)> = batch.responses.iter().map(|r| (r.id.as_str(), r.status)).collect();
    assert_eq!(statuses, [("1", 200), ("2", 404), ("3", 200), ("4", 201), ("5", 424), ("6", 400)]);
    let body = |i: usize| -> Value { serde_json::from_str(batch.responses[i].body_text()).expect("body") };
    let first = body(0);
    assert_eq!((first["id"].as_str(), first["settings"].is_array()), (Some(policy.as_str()), true));
    assert_eq!(body(2)["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(code(&body(1)), "ResourceNotFound");
    assert!(batch.responses[0].headers.as_ref().expect("headers").contains_key("Content-Type"));
    assert_eq!(lab.get_all(&token, POLICIES).await.0.len(), 3, "the inner create happened");

    let too_many: Vec<Value> = (0..21).map(|i| get(i, "/groups")).collect();
    let (status, body) = lab.send(Method::POST, &token, "/v1.0/$batch", Some(&json!({"requests": too_many}))).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "BadRequest"));
    let twenty: Vec<Value> = (0..20).map(|i| get(i, "/groups")).collect();
    assert_eq!(
        lab.send(Method::POST, &token, "/v1.0/$batch", Some(&json!({"requests": twenty}))).await.0,
        StatusCode::OK
    );
    let duplicate = json!({"requests": [get(1, "/groups"), get(1, "/groups")]});
    assert_eq!(lab.send(Method::POST, &token, "/v1.0/$batch", Some(&duplicate)).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn inner_writes_over_budget_are_throttled_while_the_batch_succeeds() {
    let lab = TestLab::generated(1, 0, |options| {
        options.write_budget =
            Some(tenantctl::lab::WriteBudget { writes: 2, window: std::time::Duration::from_secs(2) })
    })
    .await;
    let token = lab.token(&lab.tenants()[0]).await;
    let creates: Vec<Value> = (0..3)
        .map(|i| json!({"id": i.to_string(), "method": "POST", "url": "/deviceManagement/configurationPolicies", "body": firewall_request()}))
        .collect();
    let (status, body) = lab.send(Method::POST, &token, "/beta/$batch", Some(&json!({"requests": creates}))).await;
    assert_eq!(status, StatusCode::OK);
    let batch: BatchResponse = serde_json::from_value(body).expect("batch");
    let statuses: Vec<u16> = batch.responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [201, 201, 429]);
    let throttled = &batch.responses[2];
    assert_eq!(code(&serde_json::from_str(throttled.body_text()).expect("body")), "TooManyRequests");
    let retry_after = throttled.headers.as_ref().expect("headers")["Retry-After"].as_str().expect("Retry-After");
    assert!((1..=2).contains(&retry_after.parse::<u64>().expect("seconds")));
}

#[tokio::test]
async fn write_budget_throttles_with_and_without_retry_after() {
    let lab = TestLab::generated(2, 0, |options| {
        options.write_budget =
            Some(tenantctl::lab::WriteBudget { writes: 2, window: std::time::Duration::from_millis(1500) })
    })
    .await;
    let tenants = lab.tenants();
    let token = lab.token(&tenants[0]).await;
    let request = firewall_request();
    let create = || lab.try_send(Method::POST, &token, POLICIES, Some(&request));
    for _ in 0..2 {
        assert_eq!(create().await.expect("answer").status(), StatusCode::CREATED);
    }
    let throttled = create().await.expect("answer");
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers()["retry-after"], "2", "1.5 s rounded up to whole seconds");
    let body: Value = throttled.json().await.expect("JSON");
    assert_eq!(code(&body), "TooManyRequests");
    assert_eq!(lab.get(&token, POLICIES).await.0, StatusCode::OK, "reads are not budgeted");
    let other = lab.token(&tenants[1]).await;
    let elsewhere = lab.try_send(Method::POST, &other, POLICIES, Some(&firewall_request())).await.expect("answer");
    assert_eq!(elsewhere.status(), StatusCode::CREATED, "the budget is per tenant");

    lab.configure(json!({"retryAfter": "never"})).await;
    let bare = create().await.expect("answer");
    assert_eq!(bare.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(bare.headers().get("retry-after").is_none(), "Intune sometimes omits Retry-After");

    lab.configure(json!({"retryAfter": "alternate"})).await;
    let mut with_header = Vec::new();
    for _ in 0..4 {
        let response = create().await.expect("answer");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        with_header.push(response.headers().contains_key("retry-after"));
    }
    assert_eq!(with_header.iter().filter(|h| **h).count(), 2, "every other 429: {with_header:?}");
    assert_ne!(with_header[0], with_header[1]);

    // The window is 1.5 s from the first write: polled until a write is admitted again (refused
    // writes do not count against the budget, so polling does not hold the window shut).
    let create = &create;
    let status = eventually_async(std::time::Duration::from_secs(10), "the write window to slide", || async move {
        let status = create().await.expect("answer").status();
        (status != StatusCode::TOO_MANY_REQUESTS).then_some(status)
    })
    .await;
    assert_eq!(status, StatusCode::CREATED, "the window slid");
    lab.configure(json!({"writeBudget": null})).await;
    for _ in 0..3 {
        assert_eq!(create().await.expect("answer").status(), StatusCode::CREATED, "no budget, no limit");
    }
}
