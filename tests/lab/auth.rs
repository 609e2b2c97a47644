//! The token endpoint (every error code) and bearer tokens bound to one tenant.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tenantctl::wire::common::{TokenErrorBody, TokenResponse};

use super::support::eventually::eventually_async;
use super::support::{GRAPH_SCOPE, TestLab, code, handmade_state};

const TENANT: &str = "11111111-1111-4111-8111-111111111111";
const OTHER_TENANT: &str = "22222222-2222-4222-8222-222222222222";
const APP: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const UNCONSENTED_APP: &str = "aaaaaaaa-0000-4000-8000-000000000002";
const ASSERTION: &str = "eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.sig";

async fn auth_lab() -> TestLab {
    let apps = json!([
        {"clientId": APP, "clientSecret": "right-secret", "federatedAssertion": ASSERTION},
        {"clientId": UNCONSENTED_APP, "clientSecret": "other-secret"}
    ]);
    let dir = handmade_state(apps, &[(TENANT, &[APP]), (OTHER_TENANT, &[APP, UNCONSENTED_APP])]);
    TestLab::start_in(dir, |_| {}).await
}

/// Sends a token request and checks the refusal: status, OAuth error, AADSTS code, body shape.
async fn refused(lab: &TestLab, tenant: &str, form: &[(&str, &str)], status: StatusCode, error: &str, aadsts: u64) {
    let response = lab.token_request(tenant, form).await;
    assert_eq!(response.status(), status, "{form:?}");
    let body: TokenErrorBody = response.json().await.expect("token error body");
    assert_eq!((body.error.as_str(), body.error_codes.as_slice()), (error, [aadsts].as_slice()), "{form:?}");
    let prefix = format!("AADSTS{aadsts}: ");
    assert!(body.error_description.starts_with(&prefix), "{}", body.error_description);
    assert!(
        body.error_description.contains("\r\nTrace ID: ") && body.error_description.contains("\r\nCorrelation ID: ")
    );
    let timestamp = body.timestamp.expect("timestamp");
    assert!(body.error_description.ends_with(&format!("\r\nTimestamp: {timestamp}")));
    assert!(body.trace_id.is_some() && body.correlation_id.is_some() && body.error_uri.is_some());
}

#[tokio::test]
async fn secret_and_federated_assertion_get_tokens() {
    let lab = auth_lab().await;
    let by_secret = [
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("client_secret", "right-secret"),
        ("scope", GRAPH_SCOPE),
    ];
    let response = lab.token_request(TENANT, &by_secret).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store, no-cache");
    let token: TokenResponse = response.json().await.expect("token");
    assert_eq!((token.token_type.as_str(), token.expires_in), ("Bearer", 3599));
    assert!(token.access_token.expose().len() >= 32);

    let by_assertion = [
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", ASSERTION),
        ("scope", GRAPH_SCOPE),
    ];
    assert_eq!(lab.token_request(TENANT, &by_assertion).await.status(), StatusCode::OK);
    let basic = lab
        .http
        .post(lab.url(&format!("/{TENANT}/oauth2/v2.0/token")))
        .basic_auth(APP, Some("right-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", GRAPH_SCOPE)])
        .send()
        .await
        .expect("answer");
    assert_eq!(basic.status(), StatusCode::OK, "client credentials in HTTP Basic");
}

#[tokio::test]
async fn every_token_error_has_its_code() {
    let lab = auth_lab().await;
    let form = |grant: &'static str, client: &'static str, secret: &'static str, scope: &'static str| {
        [("grant_type", grant), ("client_id", client), ("client_secret", secret), ("scope", scope)]
    };
    let ok = form("client_credentials", APP, "right-secret", GRAPH_SCOPE);
    refused(
        &lab,
        TENANT,
        &form("password", APP, "right-secret", GRAPH_SCOPE),
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        70003,
    )
    .await;
    let wrong_scope = form("client_credentials", APP, "right-secret", "https://graph.microsoft.com/User.Read");
    refused(&lab, TENANT, &wrong_scope, StatusCode::BAD_REQUEST, "invalid_scope", 70011).await;
    refused(&lab, "33333333-3333-4333-8333-333333333333", &ok, StatusCode::BAD_REQUEST, "invalid_request", 90002).await;
    let unknown_client = form("client_credentials", "aaaaaaaa-0000-4000-8000-00000000ffff", "x", GRAPH_SCOPE);
    refused(&lab, TENANT, &unknown_client, StatusCode::BAD_REQUEST, "unauthorized_client", 700016).await;
    let not_consented = form("client_credentials", UNCONSENTED_APP, "other-secret", GRAPH_SCOPE);
    refused(&lab, TENANT, &not_consented, StatusCode::BAD_REQUEST, "unauthorized_client", 700016).await;
    assert_eq!(lab.token_request(OTHER_TENANT, &not_consented).await.status(), StatusCode::OK, "consented there");
    refused(
        &lab,
        TENANT,
        &form("client_credentials", APP, "wrong-secret", GRAPH_SCOPE),
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000215,
    )
    .await;
    let wrong_assertion = [
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", "eyJ.forged.token"),
        ("scope", GRAPH_SCOPE),
    ];
    refused(&lab, TENANT, &wrong_assertion, StatusCode::UNAUTHORIZED, "invalid_client", 70021).await;
    let no_scope = [("grant_type", "client_credentials"), ("client_id", APP), ("client_secret", "right-secret")];
    refused(&lab, TENANT, &no_scope, StatusCode::BAD_REQUEST, "invalid_scope", 70011).await;
    let no_grant = [("client_id", APP), ("client_secret", "right-secret"), ("scope", GRAPH_SCOPE)];
    refused(&lab, TENANT, &no_grant, StatusCode::BAD_REQUEST, "unsupported_grant_type", 70003).await;
    let no_client = [("grant_type", "client_credentials"), ("client_secret", "right-secret"), ("scope", GRAPH_SCOPE)];
    refused(&lab, TENANT, &no_client, StatusCode::BAD_REQUEST, "invalid_request", 900144).await;
    let no_credential = [("grant_type", "client_credentials"), ("client_id", APP), ("scope", GRAPH_SCOPE)];
    refused(&lab, TENANT, &no_credential, StatusCode::UNAUTHORIZED, "invalid_client", 7000218).await;
}

#[tokio::test]
async fn graph_refuses_missing_unknown_and_expired_tokens() {
    let lab = TestLab::generated(1, 2, |options| options.token_lifetime = Duration::from_millis(300)).await;
    let path = "/beta/deviceManagement/configurationPolicies";
    let anonymous = lab.http.get(lab.url(path)).send().await.expect("answer");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("request-id"));
    let body: Value = anonymous.json().await.expect("JSON");
    assert_eq!(code(&body), "InvalidAuthenticationToken");
    assert!(body["error"]["innerError"]["request-id"].is_string() && body["error"]["innerError"]["date"].is_string());

    let (status, body) = lab.get("not-a-token", path).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken"));
    let token = lab.token(&lab.tenants()[0]).await;
    assert_eq!(lab.get(&token, path).await.0, StatusCode::OK);
    // The token lives 300 ms: polled until refused, whatever the machine's speed.
    let (lab, token) = (&lab, &token);
    let (status, body) = eventually_async(Duration::from_secs(10), "the token to expire", || async move {
        let reply = lab.get(token, path).await;
        (reply.0 != StatusCode::OK).then_some(reply)
    })
    .await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken"), "expired");
}

#[tokio::test]
async fn a_token_only_ever_sees_its_own_tenant() {
    let lab = TestLab::generated(2, 4, |_| {}).await;
    let tenants = lab.tenants();
    for (reader, other) in [(&tenants[0], &tenants[1]), (&tenants[1], &tenants[0])] {
        let token = lab.token(reader).await;
        let (items, _) = lab.get_all(&token, "/beta/deviceManagement/configurationPolicies").await;
        let mut seen: Vec<String> = items.iter().map(|p| p["id"].as_str().expect("id").to_string()).collect();
        seen.sort();
        assert_eq!(seen, lab.stored_policy_ids(reader), "a list is exactly the token's tenant's policies");
        for id in lab.stored_policy_ids(other) {
            let path = format!("/beta/deviceManagement/configurationPolicies/{id}");
            let (status, body) = lab.get(&token, &path).await;
            assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "ResourceNotFound"), "the other tenant's {id}");
            assert_eq!(lab.send(Method::DELETE, &token, &path, None).await.0, StatusCode::NOT_FOUND);
        }
    }
    assert_eq!(
        lab.stored_policy_ids(&tenants[0]).len() + lab.stored_policy_ids(&tenants[1]).len(),
        8,
        "nothing deleted"
    );
}
