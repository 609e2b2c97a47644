//! The operator at scale, against a real kube-apiserver and etcd (built by `tests/control-plane/`) and
//! the lab: first convergence of N tenants, then a window of periodic resyncs. Prints one JSON object
//! per phase: reconciles per second, API server requests per reconcile (and how many of them were
//! Tenant status writes), operator peak memory.
//!
//! `cargo bench --bench operator -- [--tenants 2000] [--policies 5] [--sync-interval-s 20] [--window-s 45]
//! [--replicas 1] [--shards 1]`: with several replicas (sharing `--shards`), figures are summed over them
//! and each one's peak memory is listed.

#[path = "../tests/operator/cluster.rs"]
#[allow(dead_code)]
mod cluster;
#[path = "../tests/support/lab_process.rs"]
mod lab_process;

mod support {
    pub fn root() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }
}

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cluster::{Cluster, OPERATOR_NAMESPACE};
use lab_process::LabChild;
use serde_json::{Value, json};

const NAMESPACE: &str = "bench";
const SECRET: &str = "bench-graph";

struct Settings {
    tenants: usize,
    policies: usize,
    sync_interval_s: u64,
    window_s: u64,
    replicas: usize,
    shards: u64,
}

fn settings() -> Settings {
    let args: Vec<String> = std::env::args().collect();
    let number = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Settings {
        tenants: number("--tenants", 2000) as usize,
        policies: number("--policies", 5) as usize,
        sync_interval_s: number("--sync-interval-s", 20),
        window_s: number("--window-s", 45),
        replicas: number("--replicas", 1).max(1) as usize,
        shards: number("--shards", 1).max(1),
    }
}

/// The API server's request counters: every request, and the Tenant status writes.
fn apiserver_requests(cluster: &Cluster) -> (f64, f64) {
    let text = cluster.kubectl(&["get", "--raw", "/metrics"], None).expect("apiserver metrics");
    let mut all = 0.0;
    let mut status_writes = 0.0;
    for line in text.lines().filter(|l| l.starts_with("apiserver_request_total{")) {
        let value: f64 = line.rsplit(' ').next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
        all += value;
        if line.contains("resource=\"tenants\"")
            && line.contains("subresource=\"status\"")
            && line.contains("verb=\"APPLY\"")
            || line.contains("resource=\"tenants\"")
                && line.contains("subresource=\"status\"")
                && line.contains("verb=\"PATCH\"")
        {
            status_writes += value;
        }
    }
    (all, status_writes)
}

/// The operator's metric (summed over labels), read from its log-announced address.
fn operator_metric(health_url: &str, name: &str) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let text = runtime.block_on(async {
        reqwest::get(format!("{health_url}/metrics")).await.expect("metrics").text().await.expect("text")
    });
    text.lines()
        .filter(|l| l.starts_with(name) && (l[name.len()..].starts_with('{') || l[name.len()..].starts_with(' ')))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Graph requests the lab has answered (token requests aside).
fn graph_requests(lab_url: &str) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let stats: Value = runtime.block_on(async {
        reqwest::get(format!("{lab_url}/_lab/stats?tenants=false")).await.expect("stats").json().await.expect("json")
    });
    let requests = stats["requests"].as_array().cloned().unwrap_or_default();
    requests
        .iter()
        .filter(|r| !r["route"].as_str().unwrap_or_default().contains("/oauth2/"))
        .map(|r| r["count"].as_f64().unwrap_or(0.0))
        .sum()
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0.0);
    (kb / 1024.0 * 10.0).round() / 10.0
}

fn ready_tenants(cluster: &Cluster) -> usize {
    let text = cluster
        .kubectl(
            &[
                "get",
                "tenants",
                "-n",
                NAMESPACE,
                "-o",
                "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}",
            ],
            None,
        )
        .unwrap_or_default();
    text.split_whitespace().filter(|s| *s == "True").count()
}

fn start_operator(
    cluster: &Cluster,
    lab_url: &str,
    s: &Settings,
    identity: &str,
    log: &std::path::Path,
) -> (Child, String) {
    let sync_interval_s = s.sync_interval_s;
    let child = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["operator", "--kubeconfig"])
        .arg(cluster.operator_kubeconfig())
        .args(["--namespace", NAMESPACE, "--operator-namespace", OPERATOR_NAMESPACE, "--credentials-secret", SECRET])
        .args(["--lease-name", "bench", "--health-addr", "127.0.0.1:0", "--concurrency", "16"])
        .args(["--identity", identity, "--shards", &s.shards.to_string()])
        .args(["--sync-interval", &format!("{sync_interval_s}s"), "--graph-url", lab_url, "--login-url", lab_url])
        .env("RUST_LOG", "info")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("KUBECONFIG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log"))
        .spawn()
        .expect("operator starts");
    let mut child = child;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        for line in text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()) {
            if line["fields"]["message"] == "serving /metrics, /healthz and /readyz" {
                return (child, format!("http://{}", line["fields"]["addr"].as_str().unwrap_or_default()));
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the operator did not start:\n{}", std::fs::read_to_string(log).unwrap_or_default());
}

fn main() {
    let s = settings();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("lab");
    let init = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["lab", "init"])
        .arg(&state)
        .args(["--tenants", &s.tenants.to_string(), "--policies", &s.policies.to_string(), "--seed", "1"])
        .output()
        .expect("lab init");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let cluster = runtime.block_on(Cluster::private());
    let namespace = format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}}}\n");
    cluster.kubectl(&["apply", "-f", "-"], Some(&namespace)).expect("namespace");
    let lab_app: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("lab.json")).expect("lab.json")).expect("json");
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {SECRET}}}\nstringData: {{clientId: '{}', clientSecret: '{}'}}\n",
        lab_app["apps"][0]["clientId"].as_str().expect("client id"),
        lab_app["apps"][0]["clientSecret"].as_str().expect("secret"),
    );
    cluster.kubectl(&["apply", "-n", OPERATOR_NAMESPACE, "-f", "-"], Some(&secret)).expect("secret");
    let manifests = state.join("manifests");
    let started = Instant::now();
    cluster
        .kubectl(&["apply", "--server-side", "-R", "-n", NAMESPACE, "-f", &manifests.to_string_lossy()], None)
        .expect("kubectl apply of the manifests");
    let apply_s = started.elapsed().as_secs_f64();

    let lab = LabChild::serve(&state, &["--latency-ms", "0"]);
    let (requests_before, status_before) = apiserver_requests(cluster);
    let started = Instant::now();
    let mut operators: Vec<(Child, String)> = (0..s.replicas)
        .map(|i| {
            start_operator(cluster, &lab.url, &s, &format!("bench-{i}"), &dir.path().join(format!("operator-{i}.log")))
        })
        .collect();
    let metric = |name: &str| operators.iter().map(|(_, health)| operator_metric(health, name)).sum::<f64>();
    let peaks =
        |operators: &[(Child, String)]| operators.iter().map(|(child, _)| peak_rss_mb(child.id())).collect::<Vec<_>>();
    // Tenants that cannot be Ready (suspended ones) are left out by counting against the ones that get there.
    let expected = s.tenants;
    let mut last_ready = 0;
    let mut stalled_since = Instant::now();
    loop {
        let ready = ready_tenants(cluster);
        if ready >= expected {
            break;
        }
        if ready > last_ready {
            (last_ready, stalled_since) = (ready, Instant::now());
        } else if stalled_since.elapsed() > Duration::from_secs(60) {
            eprintln!("{ready} of {expected} tenants Ready; stopped waiting");
            break;
        }
        // Listing every Tenant is a load on the API server of its own: not too often at scale.
        std::thread::sleep(Duration::from_millis(if s.tenants > 1000 { 5000 } else { 500 }));
    }
    let converge_s = started.elapsed().as_secs_f64();
    let reconciles = metric("tenantctl_reconciles_total");
    let (requests_after, status_after) = apiserver_requests(cluster);
    let line = json!({
        "phase": "first-convergence",
        "replicas": s.replicas,
        "shards": s.shards,
        "tenants": s.tenants,
        "policies": s.policies,
        "kubectl_apply_s": (apply_s * 100.0).round() / 100.0,
        "ready": ready_tenants(cluster),
        "converge_s": (converge_s * 100.0).round() / 100.0,
        "reconciles": reconciles,
        "reconciles_per_s": (reconciles / converge_s * 10.0).round() / 10.0,
        "apiserver_requests_per_reconcile": ((requests_after - requests_before) / reconciles.max(1.0) * 100.0).round() / 100.0,
        "tenant_status_writes": status_after - status_before,
        "operator_peak_rss_mb": peaks(&operators),
    });
    println!("{line}");

    // Periodic resyncs of tenants that are in sync: reads of Graph, and no status write. (After one
    // interval and a half: the first resync records the policies written as in sync.)
    std::thread::sleep(Duration::from_millis(s.sync_interval_s * 1500));
    let (requests_before, status_before) = apiserver_requests(cluster);
    let reconciles_before = metric("tenantctl_reconciles_total");
    let graph_before = graph_requests(&lab.url);
    std::thread::sleep(Duration::from_secs(s.window_s));
    let reconciles = metric("tenantctl_reconciles_total") - reconciles_before;
    let graph_reads = graph_requests(&lab.url) - graph_before;
    let (requests_after, status_after) = apiserver_requests(cluster);
    let line = json!({
        "phase": "steady-resyncs",
        "replicas": s.replicas,
        "tenants": s.tenants,
        "window_s": s.window_s,
        "sync_interval_s": s.sync_interval_s,
        "reconciles": reconciles,
        "apiserver_requests_per_reconcile": ((requests_after - requests_before) / reconciles.max(1.0) * 100.0).round() / 100.0,
        "graph_reads_per_reconcile": (graph_reads / reconciles.max(1.0) * 100.0).round() / 100.0,
        "tenant_status_writes": status_after - status_before,
        "operator_peak_rss_mb": peaks(&operators),
    });
    println!("{line}");
    for (operator, _) in &mut operators {
        let _ = operator.kill();
        let _ = operator.wait();
    }
    drop(lab);
}
