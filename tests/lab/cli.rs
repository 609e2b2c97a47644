//! `tenantctl lab init` and `tenantctl lab serve` as a user runs them.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::support::eventually::eventually;
use super::support::lab_process::LabChild;

fn tenantctl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tenantctl"))
}

#[tokio::test]
async fn serve_prints_its_url_first_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let init = tenantctl()
        .args(["lab", "init"])
        .arg(dir.path())
        .args(["--tenants", "2", "--policies", "3"])
        .output()
        .expect("init runs");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let summary = String::from_utf8(init.stdout).expect("UTF-8");
    assert_eq!(summary.lines().count(), 1);
    assert!(summary.starts_with("Generated 2 tenants"), "{summary}");

    let mut lab =
        LabChild::serve(dir.path(), &["--page-size", "2", "--fault-5xx", "0", "--retry-after", "never", "--seed", "3"]);
    let url = lab.url.clone();

    let config: Value =
        reqwest::get(format!("{url}/_lab/config")).await.expect("lab answers").json().await.expect("JSON");
    assert_eq!((config["pageSize"].as_u64(), config["retryAfter"].as_str()), (Some(2), Some("never")));
    assert_eq!(config["writeBudget"]["writes"], 100, "Intune's budget by default");

    let terminated = Command::new("kill").args(["-TERM", &lab.id().to_string()]).status().expect("kill runs");
    assert!(terminated.success());
    let status = eventually(Duration::from_secs(10), "the lab to stop on SIGTERM", || lab.try_wait());
    assert!(status.success(), "{status}");
}

#[test]
fn serve_refuses_non_loopback_addresses_and_bad_knobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = tenantctl()
        .args(["lab", "serve", "--state"])
        .arg(dir.path())
        .args(["--addr", "0.0.0.0:0"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--allow-remote"), "{stderr}");

    let output = tenantctl()
        .args(["lab", "serve", "--state"])
        .arg(dir.path())
        .args(["--fault-reset", "1.5"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    std::fs::write(dir.path().join("notes.txt"), "mine").expect("write");
    let output = tenantctl().args(["lab", "serve", "--state"]).arg(dir.path()).output().expect("runs");
    assert_eq!(output.status.code(), Some(1), "a folder that is neither empty nor a lab is an error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("has no lab.json") && stderr.contains("lab init"), "{stderr}");
    assert_eq!(stderr.matches("lab.json").count(), 1, "the cause is said once: {stderr}");
}

#[tokio::test]
async fn serve_seeds_a_new_folder_with_the_example_lab_and_serves_https() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("new");
    let lab = LabChild::serve(&state, &["--tls"]);
    assert!(lab.url.starts_with("https://127.0.0.1:"), "{}", lab.url);
    let ca = std::fs::read(state.join("tls/ca.pem")).expect("the CA is written to the state folder");
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("PEM"))
        .build()
        .expect("client");
    let app = tenantctl::lab::read_lab_credentials(&state).expect("seeded with an app");
    let tenant = std::fs::read_dir(state.join("tenants")).expect("tenants").next().expect("a tenant").expect("entry");
    let tenant = tenant.file_name().to_string_lossy().into_owned();

    let discovery: Value = http
        .get(format!("{}/{tenant}/v2.0/.well-known/openid-configuration", lab.url))
        .send()
        .await
        .expect("discovery answers")
        .json()
        .await
        .expect("JSON");
    let token_endpoint = discovery["token_endpoint"].as_str().expect("token_endpoint");
    assert_eq!(token_endpoint, format!("{}/{tenant}/oauth2/v2.0/token", lab.url));
    let keys: Value = http
        .get(discovery["jwks_uri"].as_str().expect("jwks_uri"))
        .send()
        .await
        .expect("keys answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(keys["keys"][0]["kty"], "RSA");

    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.expose()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let token: Value = http.post(token_endpoint).form(&form).send().await.expect("token").json().await.expect("JSON");
    assert_eq!(token["ext_expires_in"], token["expires_in"]);
    let access_token = token["access_token"].as_str().expect("access_token");
    assert_eq!(access_token.split('.').count(), 3, "a JWT");
    let page: Value = http
        .get(format!("{}/beta/deviceManagement/configurationPolicies?$top=1", lab.url))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("Graph answers")
        .json()
        .await
        .expect("JSON");
    let context = page["@odata.context"].as_str().expect("context");
    assert!(context.starts_with(&format!("{}/beta/$metadata#", lab.url)), "links use https: {context}");
    if let Some(next) = page["@odata.nextLink"].as_str() {
        assert!(next.starts_with("https://"), "{next}");
    }
    let refused = http.get(format!("{}/v1.0/groups", lab.url)).bearer_auth("forged").send().await.expect("answer");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    let challenge = refused.headers()["www-authenticate"].to_str().expect("text");
    assert!(challenge.starts_with("Bearer realm=\"\", authorization_uri=\"https://"), "{challenge}");

    // tenantctl itself over the lab's TLS: trusting the lab's CA with --ca-file, refused without it.
    let plan = |trust: bool| {
        let mut command = tenantctl();
        command
            .args(["plan", "-f"])
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/contoso"))
            .args(["--graph-url", &lab.url, "--login-url", &lab.url])
            .env("AZURE_CLIENT_ID", &app.client_id)
            .env("AZURE_CLIENT_SECRET", app.client_secret.expose())
            .env_remove("TENANTCTL_CA_FILE");
        if trust {
            command.arg("--ca-file").arg(state.join("tls/ca.pem"));
        }
        command.output().expect("plan runs")
    };
    let trusted = plan(true);
    let said = String::from_utf8_lossy(&trusted.stderr);
    // The example keeps one tenant the app cannot reach (exit 3); every other is read over TLS.
    assert_eq!(trusted.status.code(), Some(3), "{said}");
    assert!(said.contains("Observed 8 tenants"), "{said}");
    let untrusted = plan(false);
    assert_eq!(untrusted.status.code(), Some(1), "nothing is read without trusting the lab's CA");

    let output = lab.output();
    assert!(output.contains("seeded") && output.contains("example lab") && output.contains("ca.pem"), "{output}");
}
