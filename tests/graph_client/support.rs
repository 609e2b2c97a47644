//! A `tenantctl lab serve` process over a state directory, and clients configured for it.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;
use tenantctl::graph::client::{Credential, Credentials, GraphClient, GraphConfig, RequestBudget};
use tenantctl::util::secret::Secret;
use tenantctl::wire::ConfigurationPolicy;

#[path = "../support/lab_process.rs"]
mod lab_process;

use lab_process::LabChild;

/// The lab's app secret in these tests: it must never show up in any output.
pub const CANARY: &str = "canary-7f3a9c2e-secret";
pub const CLIENT_ID: &str = "0c1d2e3f-4a5b-4c6d-8e7f-901234567890";
pub const TENANT_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const TENANT_B: &str = "bbbbbbbb-0000-4000-8000-000000000002";
/// A tenant whose directory exists but that never consented to the app.
pub const TENANT_UNCONSENTED: &str = "cccccccc-0000-4000-8000-000000000003";

pub struct Lab {
    pub url: String,
    // Declared before the directory: fields drop in order, so the lab stops before its state goes.
    process: LabChild,
    /// Kept so the state directory lives as long as the lab.
    _dir: TempDir,
}

/// A state directory with two consenting tenants, one that did not consent, and groups.
pub fn state() -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "lab.json", &json!({"apps": [{"clientId": CLIENT_ID, "clientSecret": CANARY}]}));
    for (tenant, consented) in [(TENANT_A, true), (TENANT_B, true), (TENANT_UNCONSENTED, false)] {
        let apps = if consented { vec![CLIENT_ID] } else { vec![] };
        write(
            dir.path(),
            &format!("tenants/{tenant}/tenant.json"),
            &json!({"displayName": tenant, "consentedApps": apps}),
        );
        std::fs::create_dir_all(dir.path().join(format!("tenants/{tenant}/configurationPolicies"))).expect("dir");
        write(
            dir.path(),
            &format!("tenants/{tenant}/groups/groups.json"),
            &json!({"value": [
                {"id": format!("{}-0001", &tenant[..8]), "displayName": "Pilot Devices"},
                {"id": format!("{}-0002", &tenant[..8]), "displayName": "O'Brien Devices"}
            ]}),
        );
    }
    dir
}

pub fn write(root: &Path, relative: &str, value: &Value) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
    std::fs::write(path, serde_json::to_vec_pretty(value).expect("json")).expect("write");
}

impl Lab {
    /// Starts `tenantctl lab serve` on a port the OS picks.
    pub fn serve(dir: TempDir, args: &[&str]) -> Lab {
        let process = LabChild::serve(dir.path(), args);
        Lab { url: process.url.clone(), process, _dir: dir }
    }

    /// Everything the lab process printed (it is stopped first).
    pub fn output(self) -> String {
        self.process.output()
    }

    pub fn client_with(&self, secret: &str, tune: impl FnOnce(&mut GraphConfig)) -> GraphClient {
        let mut config = GraphConfig::new(&self.url, &self.url).expect("config");
        config.backoff_base = Duration::from_millis(5);
        config.throttle_backoff = Duration::from_millis(100);
        config.max_retries = 10;
        config.budget = RequestBudget { writes: 1000, requests: 10_000, window: Duration::from_secs(20) };
        tune(&mut config);
        let credential = Credential::ClientSecret { client_id: CLIENT_ID.into(), secret: Secret::new(secret) };
        GraphClient::new(config, Credentials::with_default(credential)).expect("client")
    }

    pub fn client(&self) -> GraphClient {
        self.client_with(CANARY, |_| {})
    }

    pub async fn configure(&self, knobs: Value) {
        let response =
            reqwest::Client::new().put(format!("{}/_lab/config", self.url)).json(&knobs).send().await.expect("lab");
        assert!(response.status().is_success(), "{}", response.text().await.unwrap_or_default());
    }

    pub async fn stats(&self) -> Value {
        reqwest::get(format!("{}/_lab/stats", self.url)).await.expect("lab").json().await.expect("json")
    }

    /// Requests counted for a route and status, over every tenant.
    pub async fn count(&self, route: &str, status: u64) -> u64 {
        let stats = self.stats().await;
        stats["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter(|r| r["route"] == route && r["status"] == status)
            .map(|r| r["count"].as_u64().unwrap_or(0))
            .sum()
    }
}

/// A small valid firewall policy, owned (`[managed-by tenantctl: …]`) under `name`.
pub fn policy(name: &str) -> ConfigurationPolicy {
    let spec: tenantctl::model::TypedSpec = serde_json::from_value(
        json!({"displayName": name, "public": {"enabled": true, "defaultInboundAction": "block"}}),
    )
    .expect("spec");
    let description = format!("[managed-by tenantctl: FirewallPolicy/{}]", name.to_lowercase());
    tenantctl::mapping::template::to_wire(&tenantctl::model::template::firewall::TABLE, &spec, &description)
}
