//! A test's world: its namespace, its lab (a `tenantctl lab serve` process on a copy of the Contoso
//! seed), and operator processes running as the service account.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Client;
use kube::api::Api;
use serde_json::Value;
use tempfile::TempDir;
use tenantctl::model::{DistributionProfile, Tenant};

use super::cluster::{CREDENTIALS_SECRET, Cluster, OPERATOR_NAMESPACE};
use super::support::{LabProcess, contoso_state, root};

pub struct World {
    pub cluster: &'static Cluster,
    pub admin: Client,
    pub namespace: String,
    pub state: TempDir,
    pub lab: LabProcess,
}

impl World {
    /// A fresh namespace and a fresh lab.
    pub async fn new(namespace: &str) -> World {
        World::on(Cluster::shared().await, namespace).await
    }

    /// A fresh namespace and a fresh lab on `cluster`.
    pub async fn on(cluster: &'static Cluster, namespace: &str) -> World {
        World::serving(cluster, namespace, contoso_state()).await
    }

    /// A fresh namespace and a lab serving `state`.
    pub async fn serving(cluster: &'static Cluster, namespace: &str, state: TempDir) -> World {
        let admin = cluster.admin().await;
        let namespace_yaml = format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {namespace}}}\n");
        cluster.kubectl(&["apply", "-f", "-"], Some(&namespace_yaml)).unwrap_or_else(|e| panic!("{e}"));
        let lab = LabProcess::serve(state.path(), &[]);
        World { cluster, admin, namespace: namespace.to_string(), state, lab }
    }

    /// The Contoso example (tenants, profiles, exceptions, policies) with kubectl, into the namespace.
    pub async fn apply_contoso(&self) {
        let contoso = root().join("examples/contoso");
        let files = ["tenants.yaml", "profiles.yaml", "exceptions.yaml", "overrides.yaml", "cases.yaml", "policies"];
        for path in files.map(|file| contoso.join(file)) {
            let path = path.to_string_lossy();
            self.cluster
                .kubectl(&["apply", "-n", &self.namespace, "-f", &path], None)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    pub async fn apply(&self, yaml: &str) {
        self.cluster
            .kubectl(&["apply", "-n", &self.namespace, "-f", "-"], Some(yaml))
            .unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn tenants(&self) -> Api<Tenant> {
        Api::namespaced(self.admin.clone(), &self.namespace)
    }

    pub fn profiles(&self) -> Api<DistributionProfile> {
        Api::namespaced(self.admin.clone(), &self.namespace)
    }

    /// An operator for this namespace, competing for `lease`.
    pub fn operator(&self, identity: &str, lease: &str) -> OperatorProcess {
        OperatorProcess::start(self, identity, lease, &OperatorOptions::default())
    }

    /// An operator with its own sync interval and clock.
    pub fn operator_with(&self, identity: &str, lease: &str, options: &OperatorOptions) -> OperatorProcess {
        OperatorProcess::start(self, identity, lease, options)
    }

    /// Waits until `check` returns `Some`, or fails with `what` and the last state seen.
    pub async fn eventually<T, F, Fut>(&self, what: &str, timeout_s: u64, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let deadline = Instant::now() + Duration::from_secs(timeout_s);
        loop {
            match check().await {
                Ok(value) => return value,
                Err(last) if Instant::now() > deadline => panic!("timed out waiting for {what}; last seen: {last}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    }

    /// The condition `type_` of a Tenant.
    pub async fn condition(&self, tenant: &str, type_: &str) -> Option<Condition> {
        let tenant = self.tenants().get(tenant).await.ok()?;
        tenant.status?.conditions.into_iter().find(|c| c.type_ == type_)
    }

    /// Waits until the Tenant's condition has `status` and `reason`.
    pub async fn wait_condition(&self, tenant: &str, type_: &str, status: &str, reason: &str) -> Condition {
        let what = format!("{tenant} {type_}={status} ({reason})");
        self.eventually(&what, 60, || async {
            match self.condition(tenant, type_).await {
                Some(c) if c.status == status && c.reason == reason => Ok(c),
                other => Err(format!("{other:?}")),
            }
        })
        .await
    }

    /// Names of the events recorded for a Tenant, with their reasons.
    pub async fn event_reasons(&self, tenant: &str) -> Vec<String> {
        let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(self.admin.clone(), &self.namespace);
        let events = api.list(&Default::default()).await.expect("events");
        events
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(tenant))
            .filter_map(|e| e.reason)
            .collect()
    }

    pub fn lab_state(&self) -> &Path {
        self.state.path()
    }

    /// The objects of one collection of a tenant (`detectionRules`…), one file each, as the lab
    /// stores them. The lab writes through temporary files (`.name.json.….tmp`): only stored ones count.
    pub fn stored(&self, tenant: &str, collection: &str) -> Vec<serde_json::Value> {
        let dir = self.lab_state().join("tenants").join(tenant).join(collection);
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        entries
            .map(|e| e.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .map(|path| serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json"))
            .collect()
    }

    /// The description of the tenant's policy that carries `marker`, as the lab stores it.
    pub fn description_of(&self, tenant: &str, marker: &str) -> Option<String> {
        super::support::stored_policies(self.lab_state(), tenant)
            .values()
            .map(|p| p["description"].as_str().unwrap_or_default().to_string())
            .find(|d| d.ends_with(marker))
    }
}

/// How an operator process runs.
pub struct OperatorOptions {
    pub sync_interval: &'static str,
    /// A running clock that starts at this instant (`TENANTCTL_CLOCK_FROM`); by default the clock
    /// stands still on the day the examples' exceptions are judged at.
    pub clock_from: Option<&'static str>,
    /// Tenant shards shared by the replicas (`--shards`).
    pub shards: u16,
}

impl Default for OperatorOptions {
    fn default() -> OperatorOptions {
        OperatorOptions { sync_interval: "3s", clock_from: None, shards: 1 }
    }
}

/// `tenantctl operator` as its own process, as the service account, logging JSON to a file.
pub struct OperatorProcess {
    child: Child,
    pub log: PathBuf,
    pub health_url: String,
    _log_dir: TempDir,
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OperatorProcess {
    fn start(world: &World, identity: &str, lease: &str, options: &OperatorOptions) -> OperatorProcess {
        let log_dir = tempfile::tempdir().expect("tempdir");
        let log = log_dir.path().join("operator.log");
        let lab_app: Value =
            serde_json::from_str(&std::fs::read_to_string(world.lab_state().join("lab.json")).expect("lab.json"))
                .expect("json");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenantctl"));
        match options.clock_from {
            Some(from) => command.env("TENANTCTL_CLOCK_FROM", from).env_remove("TENANTCTL_NOW"),
            // The day the examples' exceptions are judged at, whatever the clock says.
            None => command.env("TENANTCTL_NOW", super::support::TODAY),
        };
        let child = command
            .args(["operator", "--kubeconfig"])
            .arg(world.cluster.operator_kubeconfig())
            .args(["--namespace", &world.namespace, "--operator-namespace", OPERATOR_NAMESPACE])
            .args(["--credentials-secret", CREDENTIALS_SECRET, "--lease-name", lease, "--identity", identity])
            .args(["--sync-interval", options.sync_interval, "--lease-duration", "6s", "--health-addr", "127.0.0.1:0"])
            .args(["--notification-settle", "4s", "--shards", &options.shards.to_string()])
            .args(["--graph-url", &world.lab.url, "--login-url", &world.lab.url])
            // woodgrove-emea names its own credential by environment variable.
            .env("WOODGROVE_CLIENT_SECRET", lab_app["apps"][0]["clientSecret"].as_str().expect("secret"))
            .env("RUST_LOG", "info")
            .env_remove("AZURE_CLIENT_ID")
            .env_remove("AZURE_CLIENT_SECRET")
            .env_remove("KUBECONFIG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("tenantctl operator starts");
        let mut operator = OperatorProcess { child, log, health_url: String::new(), _log_dir: log_dir };
        operator.health_url = operator.wait_for_health_addr();
        operator
    }

    fn wait_for_health_addr(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            for line in self.log_lines() {
                if line["fields"]["message"] == "serving /metrics, /healthz and /readyz" {
                    return format!("http://{}", line["fields"]["addr"].as_str().expect("addr"));
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the operator exited with {status}:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the operator did not start serving:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The JSON log lines so far.
    pub fn log_lines(&self) -> Vec<Value> {
        BufReader::new(std::fs::File::open(&self.log).expect("log"))
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str(&line).ok())
            .collect()
    }

    /// A metric's value from `/metrics` (the sum over its label sets), 0 when absent.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = reqwest::get(format!("{}/metrics", self.health_url))
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body");
        text.lines()
            .filter(|line| line.split(['{', ' ']).next() == Some(name))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::get(format!("{}{path}", self.health_url)).await.expect("GET");
        (response.status().as_u16(), response.text().await.expect("body"))
    }

    /// SIGKILL: no release of the lease, no cleanup.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The client secret of the Contoso lab's app: it must never appear in output.
pub const LAB_SECRET: &str = "contoso-lab-only-secret";

/// Tenants of the Contoso example that are reconciled (not suspended).
/// (`woodgrove-emea` names its own app, which the lab's tenant has not consented: it stays unreachable.)
pub const CONTOSO_TENANTS: &[&str] =
    &["fabrikam-emea", "fabrikam-us", "tailspin-apac", "northwind-us", "northwind-emea", "adatum-apac", "litware-us"];
