//! Scale benchmark: plan and apply across many tenants against the lab (a separate `tenantctl lab
//! serve` process) with latency, printing one JSON object per scenario.
//!
//! `cargo bench --bench scale -- [--tenants N] [--policies M] [--latency-ms L] [--concurrency C]
//! [--scenario NAME,…] [--only-validate]`. `--scenario` runs only the named scenarios (the others'
//! work that a named one needs, such as the apply that converges the lab before `plan-no-changes`,
//! is done unmeasured); `--only-validate` is `--scenario validate-resolve`, for document counts the
//! lab scenarios would take long to serve, such as 10,000 tenants.

#[path = "../tests/support/lab_process.rs"]
mod lab_process;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenantctl::engine::apply::{Interrupt, TenantOutcome, apply};
use tenantctl::engine::diff::PlanOptions;
use tenantctl::engine::observe::observe_and_plan;
use tenantctl::engine::plan::{Plan, TenantPlan};
use tenantctl::engine::policy_cache::{CacheStore, PolicyCache};
use tenantctl::engine::resolve::DesiredState;
use tenantctl::engine::resolve::{TenantDesired, validate_and_resolve};
use tenantctl::graph::client::{Credential, Credentials, GraphClient, GraphConfig, RequestBudget};
use tenantctl::lab::read_lab_credentials;
use tenantctl::manifest::load::{Input, load_inputs};
use tenantctl::util::fanout::for_each_tenant;

use lab_process::LabChild;

/// The allocator the tenantctl binary uses, so that the engine's figures here are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Settings {
    tenants: usize,
    policies: usize,
    latency_ms: u64,
    concurrency: usize,
    /// The lab's page size for lists read with `$expand=settings` (its default: 2).
    expanded_page_size: Option<usize>,
    /// Tenants the lab keeps in memory (its default: 256; the others are read from its folder).
    lab_resident_tenants: Option<usize>,
    /// The scenarios to measure.
    scenarios: Vec<String>,
}

/// Every scenario, in the order they run.
const SCENARIOS: &[&str] = &[
    "validate-resolve",
    "cli-plan-human",
    "cli-plan-json",
    "cli-plan-markdown",
    "plan-changes",
    "plan-no-changes",
    "plan-cold-cache",
    "plan-incremental",
    "per-resource-baseline",
    "apply-creates",
];

impl Settings {
    fn runs(&self, scenario: &str) -> bool {
        self.scenarios.iter().any(|s| s == scenario)
    }

    /// Whether any of these scenarios runs.
    fn runs_any(&self, scenarios: &[&str]) -> bool {
        scenarios.iter().any(|s| self.runs(s))
    }
}

fn settings() -> Settings {
    let args: Vec<String> = std::env::args().collect();
    let named = args.iter().position(|a| a == "--scenario").and_then(|i| args.get(i + 1));
    let mut scenarios: Vec<String> = match named {
        Some(list) => list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        None => SCENARIOS.iter().map(|s| s.to_string()).collect(),
    };
    if args.iter().any(|a| a == "--only-validate") {
        scenarios = vec!["validate-resolve".to_string()];
    }
    if let Some(unknown) = scenarios.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
        eprintln!("unknown scenario {unknown:?}; scenarios: {}", SCENARIOS.join(", "));
        std::process::exit(2);
    }
    let mut settings = Settings {
        tenants: 200,
        policies: 30,
        latency_ms: 50,
        concurrency: 64,
        expanded_page_size: None,
        lab_resident_tenants: None,
        scenarios,
    };
    let value =
        |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok());
    if let Some(n) = value("--tenants") {
        settings.tenants = n as usize;
    }
    if let Some(n) = value("--policies") {
        settings.policies = n as usize;
    }
    if let Some(n) = value("--latency-ms") {
        settings.latency_ms = n;
    }
    if let Some(n) = value("--concurrency") {
        settings.concurrency = n as usize;
    }
    settings.expanded_page_size = value("--expanded-page-size").map(|n| n as usize);
    settings.lab_resident_tenants = value("--lab-resident-tenants").map(|n| n as usize);
    settings
}

/// The lab as its own process, so that this process's memory is the engine's alone.
fn serve(state: &Path, s: &Settings) -> LabChild {
    let latency = s.latency_ms.to_string();
    // Intune's budget scaled down ten times (100 writes per 2 s), so that runs stay short.
    let mut args = vec!["--latency-ms".to_string(), latency, "--write-budget".into(), "100".into()];
    args.extend(["--write-window-ms".to_string(), "2000".to_string()]);
    if let Some(size) = s.expanded_page_size {
        args.extend(["--expanded-page-size".to_string(), size.to_string()]);
    }
    if let Some(resident) = s.lab_resident_tenants {
        args.extend(["--resident-tenants".to_string(), resident.to_string()]);
    }
    LabChild::serve(state, &args)
}

/// Generates the state in another process, so that this process's peak memory is the engine's alone.
fn lab_init(dir: &Path, s: &Settings) {
    let status = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["lab", "init"])
        .arg(dir)
        .args(["--tenants", &s.tenants.to_string(), "--policies", &s.policies.to_string(), "--seed", "1"])
        .stdout(Stdio::null())
        .status()
        .expect("lab init");
    assert!(status.success(), "lab init failed");
}

fn client(lab: &LabChild, state: &Path) -> GraphClient {
    let app = read_lab_credentials(state).expect("lab.json");
    let mut config = GraphConfig::new(&lab.url, &lab.url).expect("config");
    config.budget = RequestBudget { writes: 90, requests: 900, window: Duration::from_secs(2) };
    config.throttle_backoff = Duration::from_millis(500);
    let credential = Credential::ClientSecret { client_id: app.client_id, secret: app.client_secret };
    GraphClient::new(config, Credentials::with_default(credential)).expect("client")
}

/// HTTP requests the client sent (a `$batch` is one), and Graph operations the lab answered (each
/// request of a batch counted, as Intune's throttling counts them).
#[derive(Clone, Copy, Debug, Default)]
struct Calls {
    requests: u64,
    operations: u64,
}

impl std::ops::Sub for Calls {
    type Output = Calls;
    fn sub(self, before: Calls) -> Calls {
        Calls { requests: self.requests - before.requests, operations: self.operations - before.operations }
    }
}

fn graph_calls(lab: &LabChild, graph: &GraphClient) -> Calls {
    Calls { requests: graph.counts().requests, operations: lab_calls(lab).operations }
}

mod reqwest {
    /// A GET on a separate thread and runtime (the benchmark's runtime is busy timing).
    pub fn blocking_get(url: &str) -> serde_json::Value {
        let url = url.to_string();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async { ::reqwest::get(url).await.expect("stats").json().await.expect("json") })
        })
        .join()
        .expect("stats thread")
    }
}

/// Starts a new peak: each scenario reports the memory it needed, not the largest before it.
/// The lab's process, whose memory is reported beside tenantctl's.
static LAB_PID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn lab_pid() -> Option<u32> {
    Some(LAB_PID.load(std::sync::atomic::Ordering::Relaxed)).filter(|pid| *pid != 0)
}

/// CPU seconds of this process and of the lab when the scenario started.
static CPU_AT_START: std::sync::Mutex<(f64, f64)> = std::sync::Mutex::new((0.0, 0.0));

/// User and system CPU seconds a process has used (Linux; 0 elsewhere).
fn cpu_seconds(process: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    let ticks = field(11) + field(12);
    ticks / 100.0
}

fn lab_cpu_seconds() -> f64 {
    lab_pid().map_or(0.0, |pid| cpu_seconds(&pid.to_string()))
}

fn reset_peak_rss() {
    *CPU_AT_START.lock().expect("cpu") = (cpu_seconds("self"), lab_cpu_seconds());
    // Writing 5 to clear_refs resets VmHWM (Linux 4.0 and later); elsewhere peaks accumulate.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    if let Some(pid) = lab_pid() {
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    }
}

fn peak_rss_mb() -> f64 {
    peak_rss_mb_of("self")
}

fn lab_peak_rss_mb() -> f64 {
    lab_pid().map_or(0.0, |pid| peak_rss_mb_of(&pid.to_string()))
}

fn peak_rss_mb_of(process: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn desired(state: &Path) -> (DesiredState, f64, usize) {
    let started = Instant::now();
    let loaded = load_inputs(&[Input::Path(state.join("manifests"))], &mut || unreachable!("no stdin"));
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics.first());
    let (resolution, diagnostics) = validate_and_resolve(&loaded.set);
    assert!(diagnostics.iter().all(|d| !d.is_error()), "{:?}", diagnostics.first());
    (resolution.desired, started.elapsed().as_secs_f64(), loaded.documents)
}

fn report(scenario: &str, s: &Settings, calls: Calls, wall: f64, extra: Value) {
    let lower_bound = calls.requests as f64 / s.concurrency as f64 * s.latency_ms as f64 / 1000.0;
    let cpu_s = cpu_seconds("self") - CPU_AT_START.lock().expect("cpu").0;
    // Policies the scenario observed: every tenant's, for the scenarios that read tenants.
    let reads = scenario.starts_with("plan-") || scenario == "per-resource-baseline";
    let observed = if reads { s.tenants * s.policies } else { 0 };
    let mut line = json!({
        "scenario": scenario,
        "tenants": s.tenants,
        "policies": s.policies,
        "latency_ms": s.latency_ms,
        "concurrency": s.concurrency,
        "expanded_page_size": s.expanded_page_size,
        "lab_resident_tenants": s.lab_resident_tenants,
        "graph_calls": calls.requests,
        "calls_per_tenant": calls.requests as f64 / s.tenants as f64,
        "graph_operations": calls.operations,
        "wall_s": (wall * 1000.0).round() / 1000.0,
        "lower_bound_s": (lower_bound * 1000.0).round() / 1000.0,
        "ratio": if lower_bound > 0.0 { (wall / lower_bound * 100.0).round() / 100.0 } else { 0.0 },
        "cpu_s": (cpu_s * 100.0).round() / 100.0,
        "cpu_us_per_policy": (observed > 0).then(|| (cpu_s * 1e6 / observed as f64 * 10.0).round() / 10.0),
        "lab_cpu_s": ((lab_cpu_seconds() - CPU_AT_START.lock().expect("cpu").1) * 100.0).round() / 100.0,
        "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
        "lab_peak_rss_mb": (lab_peak_rss_mb() * 10.0).round() / 10.0,
    });
    if let (Some(line), Some(extra)) = (line.as_object_mut(), extra.as_object()) {
        line.extend(extra.clone());
    }
    println!("{line}");
}

fn main() {
    // As the tenantctl binary does.
    tenantctl::no_transparent_huge_pages();
    let s = settings();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("lab");
    lab_init(&state, &s);
    let (desired, validate_s, documents) = desired(&state);
    if s.runs("validate-resolve") {
        report("validate-resolve", &s, Calls::default(), validate_s, json!({"documents": documents}));
    }
    let plans: Vec<&str> =
        SCENARIOS.iter().copied().filter(|name| !matches!(*name, "validate-resolve" | "apply-creates")).collect();
    if s.runs_any(&plans) {
        plan_scenarios(&runtime, &s, &state, &desired);
    }
    if s.runs("apply-creates") {
        apply_creates(&runtime, &s, &dir.path().join("empty"), &desired);
    }
}

/// The plan scenarios, on the generated state (which has drift) and then on the converged one.
fn plan_scenarios(runtime: &tokio::runtime::Runtime, s: &Settings, state: &Path, desired: &DesiredState) {
    let lab = serve(state, s);
    LAB_PID.store(lab.id(), std::sync::atomic::Ordering::Relaxed);
    let graph = client(&lab, state);
    runtime.block_on(async {
        // The CLI as a user runs it, on the generated state (which has drift).
        for format in ["human", "json", "markdown"] {
            if s.runs(&format!("cli-plan-{format}")) {
                cli_plan(s, &lab, state, format);
            }
        }
        let converged = ["plan-no-changes", "plan-cold-cache", "plan-incremental", "per-resource-baseline"];
        if !s.runs_any(&["plan-changes"]) && !s.runs_any(&converged) {
            return;
        }
        // plan with changes (the generated state has drift)
        reset_peak_rss();
        let before = graph_calls(&lab, &graph);
        let started = Instant::now();
        let changes = plan_all(&graph, desired, s.concurrency).await;
        let wall = started.elapsed().as_secs_f64();
        let calls = graph_calls(&lab, &graph) - before;
        if s.runs("plan-changes") {
            let extra = json!({"updates": changes.summary.update, "creates": changes.summary.create});
            report("plan-changes", s, calls, wall, extra);
        }
        if !s.runs_any(&converged) {
            return;
        }
        let outcomes = apply_all(&graph, &changes, s.concurrency).await;
        assert!(outcomes.iter().all(|o| o.errors.is_empty()), "apply errors");
        drop(changes);

        if s.runs("plan-no-changes") {
            reset_peak_rss();
            let before = graph_calls(&lab, &graph);
            let started = Instant::now();
            let converged = plan_all(&graph, desired, s.concurrency).await;
            let wall = started.elapsed().as_secs_f64();
            assert!(!converged.has_changes(), "converged after apply");
            report("plan-no-changes", s, graph_calls(&lab, &graph) - before, wall, json!({}));
        }

        // Incremental: a first plan fills the caches, the next re-reads only what moved.
        if s.runs_any(&["plan-cold-cache", "plan-incremental"]) {
            let caches = MemoryCaches::default();
            reset_peak_rss();
            let before = graph_calls(&lab, &graph);
            let started = Instant::now();
            plan_cached(&graph, desired, s.concurrency, Some(&caches)).await;
            let wall = started.elapsed().as_secs_f64();
            if s.runs("plan-cold-cache") {
                report("plan-cold-cache", s, graph_calls(&lab, &graph) - before, wall, json!({}));
            }
            if s.runs("plan-incremental") {
                reset_peak_rss();
                let before = graph_calls(&lab, &graph);
                let started = Instant::now();
                let warm = plan_cached(&graph, desired, s.concurrency, Some(&caches)).await;
                let wall = started.elapsed().as_secs_f64();
                assert!(!warm.has_changes(), "still converged");
                report("plan-incremental", s, graph_calls(&lab, &graph) - before, wall, json!({}));
            }
        }

        // The same reads done per resource: list ids, then one GET per policy (Terraform's refresh).
        if s.runs("per-resource-baseline") {
            reset_peak_rss();
            let before = graph_calls(&lab, &graph);
            let started = Instant::now();
            per_resource_reads(&graph, desired, s.concurrency).await;
            let wall = started.elapsed().as_secs_f64();
            report("per-resource-baseline", s, graph_calls(&lab, &graph) - before, wall, json!({}));
        }
    });
}

/// Runs `getrusage` for the child it starts: the peak memory and CPU of a process that has exited.
const RUSAGE: &str = r#"
import resource, subprocess, sys
with open(sys.argv[1], 'wb') as out:
    code = subprocess.run(sys.argv[2:], stdout=out).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(code, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
"#;

/// `tenantctl plan` as a user runs it (its own process, its view written to a file), on the state
/// with drift: wall, calls, and the process's peak memory and CPU.
fn cli_plan(s: &Settings, lab: &LabChild, state: &Path, format: &str) {
    let app = read_lab_credentials(state).expect("lab.json");
    let before = lab_calls(lab);
    let lab_cpu = lab_cpu_seconds();
    let output = state.with_file_name(format!("plan.{format}"));
    let started = Instant::now();
    let run = Command::new("python3")
        .args(["-c", RUSAGE])
        .arg(&output)
        .arg(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["plan", "-o", format, "--concurrency", &s.concurrency.to_string(), "-f"])
        .arg(state.join("manifests"))
        .args(["--graph-url", &lab.url, "--login-url", &lab.url])
        .env("AZURE_CLIENT_ID", &app.client_id)
        .env("AZURE_CLIENT_SECRET", app.client_secret.expose())
        .output()
        .expect("python3 runs tenantctl plan");
    let wall = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&run.stdout);
    let figures: Vec<f64> = text.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    let [code, max_rss_kb, cpu_s] = figures[..] else { panic!("rusage: {text}") };
    assert!(code == 0.0 || code == 2.0, "tenantctl plan exited {code}");
    // The requests tenantctl counted, as it says: "Observed N tenants in T s (R Graph requests, …".
    let said = String::from_utf8_lossy(&run.stderr);
    let requests: u64 = said
        .split_once(" s (")
        .and_then(|(_, rest)| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in: {said}"));
    let calls = Calls { requests, operations: (lab_calls(lab) - before).operations };
    let lower_bound = calls.requests as f64 / s.concurrency as f64 * s.latency_ms as f64 / 1000.0;
    let observed = (s.tenants * s.policies) as f64;
    let line = json!({
        "scenario": format!("cli-plan-{format}"),
        "tenants": s.tenants,
        "policies": s.policies,
        "latency_ms": s.latency_ms,
        "concurrency": s.concurrency,
        "graph_calls": calls.requests,
        "calls_per_tenant": calls.requests as f64 / s.tenants as f64,
        "graph_operations": calls.operations,
        "wall_s": (wall * 1000.0).round() / 1000.0,
        "lower_bound_s": (lower_bound * 1000.0).round() / 1000.0,
        "ratio": if lower_bound > 0.0 { (wall / lower_bound * 100.0).round() / 100.0 } else { 0.0 },
        "cpu_s": (cpu_s * 100.0).round() / 100.0,
        "cpu_us_per_policy": (cpu_s * 1e6 / observed * 10.0).round() / 10.0,
        "lab_cpu_s": ((lab_cpu_seconds() - lab_cpu) * 100.0).round() / 100.0,
        "peak_rss_mb": (max_rss_kb / 1024.0 * 10.0).round() / 10.0,
        "output_mb": (std::fs::metadata(&output).map_or(0, |m| m.len()) as f64 / 1e6 * 100.0).round() / 100.0,
    });
    println!("{line}");
}

/// Graph operations the lab answered (each request of a `$batch` counted; tokens are not).
fn lab_calls(lab: &LabChild) -> Calls {
    let stats: Value = reqwest::blocking_get(&format!("{}/_lab/stats?tenants=false", lab.url));
    let operations = stats["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            let route = r["route"].as_str().unwrap_or_default();
            !route.contains("/oauth2/") && !route.ends_with("/$batch")
        })
        .map(|r| r["count"].as_u64().unwrap_or(0))
        .sum();
    Calls { requests: 0, operations }
}

/// Every policy read on its own after a list of ids, as a refresh-per-resource design reads.
async fn per_resource_reads(graph: &GraphClient, desired: &DesiredState, concurrency: usize) {
    let tenants: Vec<String> = desired.tenants.iter().filter(|t| !t.suspended).map(|t| t.tenant_id.clone()).collect();
    for_each_tenant(tenants, concurrency, |tenant| async move {
        let client = graph.tenant(&tenant);
        let ids: Vec<String> = client.list_policies().await.expect("list").into_iter().filter_map(|p| p.id).collect();
        for id in ids {
            client.get_policy(&id).await.expect("get");
        }
    })
    .await;
}

/// Every desired policy missing: apply creates them under the write budget.
fn apply_creates(runtime: &tokio::runtime::Runtime, s: &Settings, empty: &Path, desired: &DesiredState) {
    lab_init(empty, s);
    for tenant in std::fs::read_dir(empty.join("tenants")).expect("tenants") {
        let policies = tenant.expect("entry").path().join("configurationPolicies");
        let _ = std::fs::remove_dir_all(&policies);
        std::fs::create_dir_all(&policies).expect("mkdir");
    }
    let lab = serve(empty, s);
    LAB_PID.store(lab.id(), std::sync::atomic::Ordering::Relaxed);
    let graph = client(&lab, empty);
    runtime.block_on(async {
        let creates = plan_all(&graph, desired, s.concurrency).await;
        reset_peak_rss();
        let before = graph_calls(&lab, &graph);
        let counts = graph.counts();
        let started = Instant::now();
        let outcomes = apply_all(&graph, &creates, s.concurrency).await;
        let wall = started.elapsed().as_secs_f64();
        let created: usize = outcomes.iter().map(|o| o.created).sum();
        let throttled = graph.counts().throttled - counts.throttled;
        let per_tenant: BTreeMap<&str, usize> = outcomes.iter().map(|o| (o.name.as_str(), o.created)).collect();
        let most = per_tenant.values().copied().max().unwrap_or(0);
        report(
            "apply-creates",
            s,
            graph_calls(&lab, &graph) - before,
            wall,
            json!({"created": created, "throttled_replies": throttled, "writes_per_tenant": most * 2}),
        );
    });
}

/// Observes and plans every tenant through the client, as `plan` does.
async fn plan_all(graph: &GraphClient, desired: &DesiredState, concurrency: usize) -> Plan {
    plan_cached(graph, desired, concurrency, None).await
}

/// [`plan_all`], keeping each tenant's observation in `caches` (as `plan --cache` and the operator).
async fn plan_cached(
    graph: &GraphClient,
    desired: &DesiredState,
    concurrency: usize,
    caches: Option<&dyn CacheStore>,
) -> Plan {
    let connect = |t: &TenantDesired| graph.tenant(&t.tenant_id);
    observe_and_plan(connect, desired, concurrency, PlanOptions::default(), caches, &|_| {}).await
}

/// Observations kept in memory between plans.
#[derive(Default)]
struct MemoryCaches(std::sync::Mutex<std::collections::HashMap<String, PolicyCache>>);

impl CacheStore for MemoryCaches {
    fn load(&self, tenant_id: &str) -> PolicyCache {
        self.0.lock().expect("lock").remove(tenant_id).unwrap_or_default()
    }

    fn save(&self, tenant_id: &str, cache: PolicyCache) {
        self.0.lock().expect("lock").insert(tenant_id.to_string(), cache);
    }
}

/// Applies a whole plan through the client, as `apply` does.
async fn apply_all(graph: &GraphClient, plan: &Plan, concurrency: usize) -> Vec<TenantOutcome> {
    let connect = |t: &TenantPlan| graph.tenant(&t.tenant_id);
    apply(connect, plan, concurrency, false, &Interrupt::default(), &|_| {}).await
}
