//! Three replicas share the tenants' shards: each reconciles about a third, every write lands once
//! (counted in the lab), and when one is killed (SIGKILL: no release) the others take its shards over
//! within a lease duration and reconcile its tenants.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::cluster::{Cluster, OPERATOR_NAMESPACE};
use super::harness::{OperatorOptions, World};
use super::support::{root, stored_policies};

/// Tenants in CI; `TENANTCTL_SHARDING_TENANTS=1000` runs the same test at a larger size by hand.
const DEFAULT_TENANTS: usize = 60;
const SHARDS: u16 = 12;
const REPLICAS: [&str; 3] = ["shard-a", "shard-b", "shard-c"];
const LEASE_DURATION_S: u64 = 6;
/// The sync interval in CI; `TENANTCTL_SHARDING_SYNC_S` sets another (a debug build re-reads 1,000
/// tenants every 3 s no faster than they come due).
const DEFAULT_SYNC_INTERVAL_S: u64 = 3;

fn sync_interval_s() -> u64 {
    std::env::var("TENANTCTL_SHARDING_SYNC_S").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_SYNC_INTERVAL_S)
}

fn tenant_count() -> usize {
    std::env::var("TENANTCTL_SHARDING_TENANTS").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_TENANTS)
}

/// A generated lab of `tenant_count()` tenants, consenting the app the cluster's credentials Secret names.
fn generated_lab() -> (tempfile::TempDir, usize) {
    let state = tempfile::tempdir().expect("tempdir");
    let init = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["lab", "init"])
        .arg(state.path())
        .args(["--tenants", &tenant_count().to_string(), "--policies", "3", "--seed", "7"])
        .output()
        .expect("lab init");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    // "Generated N tenants in DIR: P policies (O owned, D of them drifted; …"
    let summary = String::from_utf8_lossy(&init.stdout).to_string();
    let drifted: usize = summary
        .split(" of them drifted")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("drifted count in {summary:?}"));
    let generated: Value =
        serde_json::from_str(&std::fs::read_to_string(state.path().join("lab.json")).expect("lab.json")).expect("json");
    let contoso: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/contoso/lab/lab.json")).expect("contoso lab.json"),
    )
    .expect("json");
    let swaps = ["clientId", "clientSecret"].map(|field| {
        (
            generated["apps"][0][field].as_str().expect("generated app").to_string(),
            contoso["apps"][0][field].as_str().expect("contoso app").to_string(),
        )
    });
    let mut files = vec![state.path().join("lab.json")];
    for tenant in std::fs::read_dir(state.path().join("tenants")).expect("tenants") {
        files.push(tenant.expect("entry").path().join("tenant.json"));
    }
    for file in files {
        let mut text = std::fs::read_to_string(&file).expect("read");
        for (from, to) in &swaps {
            text = text.replace(from.as_str(), to);
        }
        std::fs::write(&file, text).expect("write");
    }
    (state, drifted)
}

/// The writes per tenant of one `tenantctl apply` to a copy of the lab at `state`.
async fn writes_of_one_apply(state: &Path) -> BTreeMap<String, u64> {
    let copy = tempfile::tempdir().expect("tempdir");
    super::support::copy(state, copy.path());
    let lab = super::support::LabProcess::serve(copy.path(), &[]);
    let app: Value =
        serde_json::from_str(&std::fs::read_to_string(copy.path().join("lab.json")).expect("lab.json")).expect("json");
    let apply = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["apply", "--auto-approve", "-f"])
        .arg(copy.path().join("manifests"))
        .args(["--graph-url", &lab.url, "--login-url", &lab.url])
        .env("AZURE_CLIENT_ID", app["apps"][0]["clientId"].as_str().expect("client id"))
        .env("AZURE_CLIENT_SECRET", app["apps"][0]["clientSecret"].as_str().expect("secret"))
        .output()
        .expect("tenantctl apply");
    assert!(apply.status.success(), "{}", String::from_utf8_lossy(&apply.stderr));
    writes_per_tenant(&lab.url).await
}

/// Where two counts of writes per tenant and route differ: `key: operators N, apply M`.
fn differences(operators: &BTreeMap<String, u64>, apply: &BTreeMap<String, u64>) -> Vec<String> {
    let keys: BTreeSet<&String> = operators.keys().chain(apply.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (ours, theirs) = (operators.get(key).copied().unwrap_or(0), apply.get(key).copied().unwrap_or(0));
            (ours != theirs).then(|| format!("{key}: operators {ours}, apply {theirs}"))
        })
        .collect()
}

/// Successful writes the lab answered, per tenant and route.
async fn writes_per_tenant(lab_url: &str) -> BTreeMap<String, u64> {
    let stats: Value =
        reqwest::get(format!("{lab_url}/_lab/stats?tenants=false")).await.expect("stats").json().await.expect("json");
    let mut writes = BTreeMap::new();
    for request in stats["requests"].as_array().expect("requests") {
        let method = request["method"].as_str().unwrap_or_default();
        let status = request["status"].as_u64().unwrap_or_default();
        let route = request["route"].as_str().unwrap_or_default();
        // `$batch` carries the reads of policies' settings; tokens are no write either.
        if method != "GET" && (200..300).contains(&status) && !route.contains("/oauth2/") && !route.contains("$batch") {
            let tenant = request["tenant"].as_str().unwrap_or("-").to_string();
            *writes.entry(format!("{tenant} {route}")).or_default() += request["count"].as_u64().unwrap_or_default();
        }
    }
    writes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_the_tenants_and_take_over_from_a_dead_one() {
    let tenant_total = tenant_count();
    // Convergence waits grow with the tenants; 180 s covers CI's 60 with room to spare.
    let converge_s = 180 + tenant_total as u64 / 2;
    let (state, drifted) = generated_lab();
    let expected = writes_of_one_apply(state.path()).await;
    let world = World::serving(Cluster::shared().await, "op-shards", state).await;
    let manifests = world.lab_state().join("manifests");
    world
        .cluster
        .kubectl(&["apply", "-R", "-n", &world.namespace, "-f", &manifests.to_string_lossy()], None)
        .unwrap_or_else(|e| panic!("{e}"));
    let sync_s = sync_interval_s();
    let sync_interval: &'static str = format!("{sync_s}s").leak();
    let options = OperatorOptions { sync_interval, shards: SHARDS, ..OperatorOptions::default() };
    let mut replicas: Vec<_> = REPLICAS.iter().map(|id| world.operator_with(id, "shards", &options)).collect();

    // Every tenant Ready, and the shards spread four per replica.
    let tenants = world.tenants();
    world
        .eventually("every tenant Ready, four shards per replica", converge_s, || async {
            let list = tenants.list(&ListParams::default()).await.map_err(|e| e.to_string())?;
            let ready = list
                .items
                .iter()
                .filter(|t| {
                    t.status
                        .as_ref()
                        .is_some_and(|s| s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
                })
                .count();
            let mut owned = Vec::new();
            for replica in &replicas {
                owned.push(replica.metric("tenantctl_shards_owned").await);
            }
            if ready == tenant_total && owned.iter().all(|&o| o == 4.0) {
                Ok(())
            } else {
                Err(format!("{ready} of {tenant_total} Ready; shards owned {owned:?}"))
            }
        })
        .await;
    // Each replica reconciled about a third of the tenants (they re-read theirs every interval).
    let by_replica = world
        .eventually(
            "every replica to have reconciled its own tenants",
            30 + 2 * sync_s + tenant_total as u64 / 10,
            || async {
                let list = tenants.list(&ListParams::default()).await.map_err(|e| e.to_string())?;
                let mut by: BTreeMap<String, usize> = BTreeMap::new();
                for tenant in &list.items {
                    let who = tenant.status.as_ref().and_then(|s| s.reconciled_by.clone()).unwrap_or_default();
                    *by.entry(who).or_default() += 1;
                }
                if REPLICAS.iter().all(|r| by.get(*r).is_some_and(|&n| n >= tenant_total / 6))
                    && by.len() == REPLICAS.len()
                {
                    Ok(by)
                } else {
                    Err(format!("reconciled by {by:?}"))
                }
            },
        )
        .await;
    eprintln!("tenants per replica: {by_replica:?}");
    let leases: Api<Lease> = Api::namespaced(world.admin.clone(), OPERATOR_NAMESPACE);
    let mut holders = BTreeSet::new();
    for shard in 0..SHARDS {
        let lease = leases.get(&format!("shards-shard-{shard}")).await.expect("shard lease");
        holders.insert(lease.spec.and_then(|s| s.holder_identity).unwrap_or_default());
    }
    assert_eq!(holders.len(), REPLICAS.len(), "shard holders {holders:?}");

    // First convergence, while shards moved from the first replica to the others: each tenant got
    // exactly the writes one `apply` makes to a copy of the same lab.
    let writes = writes_per_tenant(&world.lab.url).await;
    let differ = differences(&writes, &expected);
    if !differ.is_empty() {
        // What the replicas did about shards and about the tenants that differ, to tell why.
        for (replica, process) in REPLICAS.iter().zip(&replicas) {
            for line in process.log_text().lines() {
                if line.contains("shard") || differ.iter().any(|d| d.get(..36).is_some_and(|id| line.contains(id))) {
                    eprintln!("{replica}: {line}");
                }
            }
        }
    }
    assert_eq!(differ, Vec::<String>::new(), "writes per tenant: the operators' and one apply's");
    assert_eq!(expected.values().sum::<u64>(), drifted as u64, "one write per drifted policy: {expected:?}");
    let all = tenants.list(&ListParams::default()).await.expect("tenants").items;
    let tenant_ids: Vec<String> = all.iter().map(|t| t.spec.tenant_id.clone()).collect();

    // Kill one replica; change a policy every tenant receives.
    reqwest::Client::new().delete(format!("{}/_lab/stats", world.lab.url)).send().await.expect("reset stats");
    let victim = 1;
    let victims_tenants: BTreeSet<String> = all
        .iter()
        .filter(|t| t.status.as_ref().and_then(|s| s.reconciled_by.as_deref()) == Some(REPLICAS[victim]))
        .map(|t| t.spec.tenant_id.clone())
        .collect();
    assert!(!victims_tenants.is_empty());
    replicas[victim].kill();
    let killed = Instant::now();
    let av = std::fs::read_to_string(manifests.join("policies/lab-av-01.yaml"))
        .expect("lab-av-01.yaml")
        .replace("description: Generated by tenantctl lab init", "description: Changed after a replica died.");
    world.apply(&av).await;
    let changed = |id: &str| {
        stored_policies(world.lab_state(), id)
            .values()
            .any(|p| p["description"].as_str().unwrap_or_default().starts_with("Changed after a replica died."))
    };
    world
        .eventually(
            "the dead replica's tenants to be reconciled by the others",
            90 + sync_s + tenant_total as u64 / 10,
            || async {
                let missing = tenant_ids.iter().filter(|id| !changed(id)).count();
                if missing == 0 { Ok(()) } else { Err(format!("{missing} tenants without the change")) }
            },
        )
        .await;
    let took_over = killed.elapsed();
    eprintln!("the change reached every tenant {:.1} s after the kill", took_over.as_secs_f64());
    assert!(
        took_over < Duration::from_secs(LEASE_DURATION_S + sync_s + 40 + tenant_total as u64 / 10),
        "took {took_over:?} (lease {LEASE_DURATION_S} s, interval {sync_s} s)"
    );
    // Exactly one write per tenant: the changed policy, written once, by one replica.
    let writes = writes_per_tenant(&world.lab.url).await;
    let of_tenant = |id: &str| writes.iter().filter(|(key, _)| key.starts_with(id)).map(|(_, n)| n).sum::<u64>();
    let not_once: Vec<(&String, u64)> =
        tenant_ids.iter().map(|id| (id, of_tenant(id))).filter(|(_, count)| *count != 1).collect();
    assert_eq!(not_once, Vec::<(&String, u64)>::new(), "tenants not written exactly once after the kill");
    for survivor in [0, 2] {
        assert_eq!(replicas[survivor].metric("tenantctl_shards_owned").await, 6.0, "{}", REPLICAS[survivor]);
    }
    // A tenant's status is patched after its writes land, so the lab may show the change a moment
    // before the status names the survivor that made it.
    world
        .eventually("the dead replica's tenants to show a survivor in their status", 30, || async {
            let list = tenants.list(&ListParams::default()).await.map_err(|e| e.to_string())?;
            let stale: Vec<String> = list
                .items
                .iter()
                .filter(|t| victims_tenants.contains(&t.spec.tenant_id))
                .filter(|t| t.status.as_ref().and_then(|s| s.reconciled_by.as_deref()) == Some(REPLICAS[victim]))
                .map(|t| t.spec.tenant_id.clone())
                .collect();
            if stale.is_empty() { Ok(()) } else { Err(format!("still reconciled by {}: {stale:?}", REPLICAS[victim])) }
        })
        .await;
}
