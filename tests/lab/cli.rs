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
    let output = tenantctl().args(["lab", "serve", "--state"]).arg(dir.path()).output().expect("runs");
    assert_eq!(output.status.code(), Some(1), "an empty state directory is an error");
    assert!(String::from_utf8_lossy(&output.stderr).contains("lab.json"));
}
