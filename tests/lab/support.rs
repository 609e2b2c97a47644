//! A lab on a free loopback port with its state in a temporary directory, and a reqwest client that
//! speaks to it the way any Graph client would.

use std::path::{Path, PathBuf};

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tenantctl::lab::{InitOptions, LabApp, LabOptions, LabServer, default_addr, init, read_lab_credentials};

#[path = "../support/eventually.rs"]
pub mod eventually;
#[path = "../support/lab_process.rs"]
pub mod lab_process;

pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

pub struct TestLab {
    pub server: LabServer,
    pub dir: TempDir,
    pub http: reqwest::Client,
    pub app: LabApp,
}

/// Options for tests: no budget, no latency, unless a test says otherwise.
pub fn quiet_options(state_dir: &Path) -> LabOptions {
    LabOptions {
        state_dir: state_dir.to_path_buf(),
        write_budget: None,
        detection_create_budget: None,
        ..LabOptions::default()
    }
}

impl TestLab {
    /// A lab over `lab init` state.
    pub async fn generated(tenants: usize, policies: usize, configure: impl FnOnce(&mut LabOptions)) -> TestLab {
        let dir = tempfile::tempdir().expect("tempdir");
        init(dir.path(), &InitOptions { tenants, policies, seed: 7 }).expect("lab init");
        TestLab::start_in(dir, configure).await
    }

    /// A lab over whatever `dir` holds.
    pub async fn start_in(dir: TempDir, configure: impl FnOnce(&mut LabOptions)) -> TestLab {
        let mut options = quiet_options(dir.path());
        configure(&mut options);
        let server = LabServer::start(options, default_addr()).await.expect("lab starts");
        let app = read_lab_credentials(dir.path()).expect("lab credentials");
        TestLab { server, dir, http: reqwest::Client::new(), app }
    }

    /// Stops the lab and starts a new one on the same state directory.
    pub async fn restart(self) -> TestLab {
        let TestLab { server, dir, .. } = self;
        server.shutdown().await;
        TestLab::start_in(dir, |_| {}).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// Tenant ids of the state directory, sorted.
    pub fn tenants(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.dir.path().join("tenants"))
            .expect("tenants dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        ids.sort();
        ids
    }

    pub fn tenant_dir(&self, tenant: &str) -> PathBuf {
        self.dir.path().join("tenants").join(tenant)
    }

    /// Ids of the policies stored for a tenant, sorted.
    pub fn stored_policy_ids(&self, tenant: &str) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.tenant_dir(tenant).join("configurationPolicies"))
            .expect("policies dir")
            .map(|e| e.expect("entry").path().file_stem().expect("stem").to_string_lossy().into_owned())
            .collect();
        ids.sort();
        ids
    }

    pub async fn token_request(&self, tenant: &str, form: &[(&str, &str)]) -> Response {
        let url = self.url(&format!("/{tenant}/oauth2/v2.0/token"));
        self.http.post(url).form(form).send().await.expect("token endpoint answers")
    }

    pub async fn token(&self, tenant: &str) -> String {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.app.client_id.as_str()),
            ("client_secret", self.app.client_secret.expose()),
            ("scope", GRAPH_SCOPE),
        ];
        let response = self.token_request(tenant, &form).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("token JSON");
        body["access_token"].as_str().expect("access_token").to_string()
    }

    /// Sends a Graph request; `path` may be absolute (a next link) or start with `/`.
    pub async fn try_send(
        &self,
        method: Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Result<Response> {
        let url = if path.starts_with("http") { path.to_string() } else { self.url(path) };
        let mut request = self.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await
    }

    pub async fn send(&self, method: Method, token: &str, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let response = self.try_send(method, token, path, body).await.expect("lab answers");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") })
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, token, path, None).await
    }

    /// Every item of a collection, following `@odata.nextLink` verbatim. Returns items and page count.
    pub async fn get_all(&self, token: &str, path: &str) -> (Vec<Value>, usize) {
        let (mut items, mut pages) = (Vec::new(), 0);
        let mut next = Some(path.to_string());
        while let Some(link) = next.take() {
            let (status, page) = self.get(token, &link).await;
            assert_eq!(status, StatusCode::OK, "{link}: {page}");
            let value = page["value"].as_array().expect("value").clone();
            if !link.to_ascii_lowercase().contains("count=true") {
                assert!(page.get("@odata.count").is_none(), "@odata.count only when $count=true asks: {link}");
            }
            items.extend(value);
            pages += 1;
            next = page["@odata.nextLink"].as_str().map(str::to_string);
        }
        (items, pages)
    }

    pub async fn configure(&self, knobs: Value) {
        let response = self.http.put(self.url("/_lab/config")).json(&knobs).send().await.expect("config");
        assert_eq!(response.status(), StatusCode::OK, "{knobs}");
    }

    pub async fn stats(&self) -> Value {
        self.http.get(self.url("/_lab/stats")).send().await.expect("stats").json().await.expect("stats JSON")
    }
}

/// The documented firewall create request (graph-samples).
pub fn firewall_request() -> Value {
    sample("configurationPolicy-create-firewall.request.json")
}

pub fn sample(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("sample")).expect("sample JSON")
}

/// Writes a JSON file, creating its folder.
pub fn write(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, serde_json::to_string_pretty(value).expect("JSON")).expect("write");
}

/// A hand-written state directory: `apps` as given, tenants consenting the listed client ids.
pub fn handmade_state(apps: Value, tenants: &[(&str, &[&str])]) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("lab.json"), &json!({"apps": apps}));
    for (tenant, consented) in tenants {
        let description = json!({"displayName": format!("Tenant {tenant}"), "consentedApps": consented});
        write(&dir.path().join("tenants").join(tenant).join("tenant.json"), &description);
    }
    dir
}

/// A Graph error body's `error.code`.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}
