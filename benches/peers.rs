//! `cargo bench --bench peers [-- --tenants 10 --policies 30 --latency-ms 50]`: the tools MSPs already
//! run beside tenantctl, on the same lab. IntuneCD 2.6.0 (from PyPI, unmodified) backs up every tenant
//! one after another and then one process per tenant at once; `tenantctl export` reads every tenant
//! one after another; `tenantctl plan` reads them all. Everything runs inside a private network and
//! mount namespace where `graph.microsoft.com` and `login.microsoftonline.com` are the lab, served over
//! TLS on 443 (tests/peers/intunecd-backup.sh with SIDE_BY_SIDE=1). One JSON line per scenario: the
//! Graph requests the lab counted (tokens included), wall seconds, the largest peak RSS of one process.

#[path = "../tests/support/external_tools.rs"]
mod external_tools;

use std::process::{Command, Stdio};

fn value(args: &[String], name: &str, default: u64) -> u64 {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (tenants, policies, latency) =
        (value(&args, "--tenants", 10), value(&args, "--policies", 30), value(&args, "--latency-ms", 50));
    let (root, intunecd) = (external_tools::root(), external_tools::installed("tests/peers/setup.sh"));

    let work = tempfile::tempdir().expect("tempdir");
    let state = work.path().join("lab");
    external_tools::lab_init(&state, tenants, policies);
    external_tools::configure_singletons(&state);

    let run = Command::new("bash")
        .arg(root.join("tests/peers/intunecd-backup.sh"))
        .arg(&state)
        .arg(work.path().join("out"))
        .env("SIDE_BY_SIDE", "1")
        .env("LAB_ARGS", format!("--latency-ms {latency}"))
        .env("TENANTCTL", env!("CARGO_BIN_EXE_tenantctl"))
        .env("INTUNECD", &intunecd)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("intunecd-backup.sh runs");
    if run.status.code() == Some(77) {
        eprintln!("skipped: the peers benchmark needs a private network namespace, which cannot be made here");
        return;
    }
    assert!(run.status.success(), "the side-by-side run failed ({})", run.status);
    for line in String::from_utf8_lossy(&run.stdout).lines() {
        let mut figures: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        figures["policies"] = policies.into();
        figures["latency_ms"] = latency.into();
        println!("{figures}");
    }
}
