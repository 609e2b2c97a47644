use tenantctl::graph::client::GraphError;

use super::support::{CANARY, Lab, TENANT_A, TENANT_B, TENANT_UNCONSENTED, policy, state};

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_token_only_reaches_its_own_tenant() {
    let lab = Lab::serve(state(), &[]);
    let client = lab.client();
    let created = client.tenant(TENANT_A).create_policy(&policy("fw")).await.expect("create in A");
    let id = created.id.expect("id");
    assert_eq!(client.tenant(TENANT_A).get_policy(&id).await.expect("A reads its policy").name, "fw");
    assert!(client.tenant(TENANT_B).list_policies().await.expect("B lists").is_empty());
    match client.tenant(TENANT_B).get_policy(&id).await {
        Err(GraphError::Api(error)) => assert_eq!((error.status, error.code.as_str()), (404, "ResourceNotFound")),
        other => panic!("B must not see A's policy: {other:?}"),
    }
    assert_eq!(client.counts().token_requests, 2, "one token per tenant, cached");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_errors_name_the_tenant_and_the_aadsts_code_without_the_secret() {
    let lab = Lab::serve(state(), &[]);
    let wrong = lab.client_with("not-the-secret", |_| {});
    let error = wrong.tenant(TENANT_A).list_policies().await.expect_err("wrong secret");
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("token request for tenant {TENANT_A} failed: invalid_client (AADSTS7000215")),
        "{text}"
    );

    let client = lab.client();
    let error = client.tenant(TENANT_UNCONSENTED).list_policies().await.expect_err("not consented");
    assert!(error.to_string().contains("AADSTS700016"), "{error}");
    let error = client.tenant("dddddddd-0000-4000-8000-000000000009").list_policies().await.expect_err("no tenant");
    assert!(error.to_string().contains("AADSTS90002"), "{error}");
    for output in [format!("{error}"), format!("{error:?}"), format!("{client:?}", client = client.config())] {
        assert!(!output.contains(CANARY), "secret leaked: {output}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_canary_secret_appears_in_no_output_of_the_lab_or_the_cli() {
    let lab = Lab::serve(state(), &["--fault-5xx", "0.3", "--seed", "5"]);
    let client = lab.client();
    let tenant = client.tenant(TENANT_A);
    let created = tenant.create_policy(&policy("fw")).await;
    let listed = tenant.list_policies().await;
    let missing = tenant.get_policy("00000000-0000-0000-0000-000000000000").await;
    let wrong = lab.client_with("wrong", |_| {}).tenant(TENANT_B).list_policies().await;
    let mut outputs = vec![format!("{created:?}"), format!("{listed:?}"), format!("{missing:?}"), format!("{wrong:?}")];
    if let Err(error) = &wrong {
        outputs.push(error.to_string());
    }

    // The CLI against the same lab state, with debug logging on: plan output and errors.
    let manifests = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        manifests.path().join("tenants.yaml"),
        format!(
            "apiVersion: tenantctl.dev/v1alpha1\nkind: Tenant\nmetadata: {{name: a}}\nspec: {{tenantId: {TENANT_A}, displayName: A}}\n---\n\
             apiVersion: tenantctl.dev/v1alpha1\nkind: Tenant\nmetadata: {{name: c}}\nspec: {{tenantId: {TENANT_UNCONSENTED}, displayName: C}}\n---\n\
             apiVersion: tenantctl.dev/v1alpha1\nkind: FirewallPolicy\nmetadata: {{name: fw}}\nspec: {{displayName: fw, public: {{enabled: true}}}}\n---\n\
             apiVersion: tenantctl.dev/v1alpha1\nkind: DistributionProfile\nmetadata: {{name: p}}\nspec: {{tenantSelector: {{}}, policies: [{{kind: FirewallPolicy, name: fw}}], assignments: {{allDevices: true}}}}\n"
        ),
    )
    .expect("write");
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["plan", "-o", "json", "-f"])
        .arg(manifests.path())
        .args(["--graph-url", &lab.url, "--login-url", &lab.url])
        .env("AZURE_CLIENT_ID", super::support::CLIENT_ID)
        .env("AZURE_CLIENT_SECRET", CANARY)
        .env("RUST_LOG", "trace")
        .output()
        .expect("cli runs");
    assert_eq!(cli.status.code(), Some(3), "tenant c is unknown: {}", String::from_utf8_lossy(&cli.stderr));
    outputs.push(String::from_utf8_lossy(&cli.stdout).into_owned());
    outputs.push(String::from_utf8_lossy(&cli.stderr).into_owned());
    outputs.push(lab.output());
    for output in outputs {
        assert!(!output.contains(CANARY), "secret leaked: {output}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn workload_identity_federation_needs_no_secret_and_rereads_the_token_file() {
    use std::time::Duration;

    use tenantctl::graph::client::{Credential, Credentials, GraphClient, GraphConfig};

    let dir = state();
    let assertion = "eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.sig";
    super::support::write(
        dir.path(),
        "lab.json",
        &serde_json::json!({"apps": [{"clientId": super::support::CLIENT_ID, "clientSecret": CANARY, "federatedAssertion": assertion}]}),
    );
    let lab = Lab::serve(dir, &[]);
    let token_dir = tempfile::tempdir().expect("tempdir");
    let token_file = token_dir.path().join("azure-identity-token");
    std::fs::write(&token_file, format!("{assertion}\n")).expect("write");
    let mut config = GraphConfig::new(&lab.url, &lab.url).expect("config");
    config.backoff_base = Duration::from_millis(5);
    let credential =
        Credential::WorkloadIdentity { client_id: super::support::CLIENT_ID.into(), token_file: token_file.clone() };
    let client = GraphClient::new(config, Credentials::with_default(credential)).expect("client");
    client.tenant(TENANT_A).list_policies().await.expect("federated token accepted");

    // The kubelet rotated the file to a token the identity platform does not accept: the next token
    // request reads it again (and is refused), rather than reusing a cached assertion.
    std::fs::write(&token_file, "a-rotated-but-unknown-token").expect("write");
    let error = client.tenant(TENANT_B).list_policies().await.expect_err("new assertion read and refused");
    assert!(error.to_string().contains("AADSTS70021"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_assertions_are_signed_and_verified_end_to_end() {
    use tenantctl::graph::client::{Credential, Credentials, GraphClient, GraphConfig};

    let pem =
        std::fs::read_to_string(format!("{}/tests/fixtures/auth/client.pem", env!("CARGO_MANIFEST_DIR"))).expect("pem");
    let certificate = &pem[pem.find("-----BEGIN CERTIFICATE-----").expect("certificate")..];
    let dir = state();
    super::support::write(
        dir.path(),
        "lab.json",
        &serde_json::json!({"apps": [{"clientId": super::support::CLIENT_ID, "clientSecret": CANARY, "certificate": certificate}]}),
    );
    let lab = Lab::serve(dir, &[]);
    let config = GraphConfig::new(&lab.url, &lab.url).expect("config");
    let credential = Credential::certificate_from_pem(super::support::CLIENT_ID, &pem).expect("credential");
    let client = GraphClient::new(config.clone(), Credentials::with_default(credential)).expect("client");
    client.tenant(TENANT_A).list_policies().await.expect("the signed assertion is accepted");

    // Another key, same client id: refused.
    let impostor_pem =
        std::fs::read_to_string(format!("{}/tests/fixtures/auth/impostor.pem", env!("CARGO_MANIFEST_DIR")))
            .expect("pem");
    let impostor = Credential::certificate_from_pem(super::support::CLIENT_ID, &impostor_pem).expect("credential");
    let client = GraphClient::new(config, Credentials::with_default(impostor)).expect("client");
    let error = client.tenant(TENANT_B).list_policies().await.expect_err("wrong key");
    assert!(error.to_string().contains("AADSTS700027"), "{error}");
}
