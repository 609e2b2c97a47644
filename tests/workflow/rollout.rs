//! Rolling a changed policy out in waves, through the CLI, the lab and git: Contoso's baseline goes
//! to Northwind US first, then the EMEA customers once the pilot has soaked, then everyone. A
//! high-severity incident in an EMEA tenant halts the rollout before the last wave (and is notified);
//! `rollback --from-git` returns the EMEA wave to the previous revision and nothing else; a clean run
//! promotes through every wave.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::support::*;

#[path = "../smtp/receivers.rs"]
#[allow(dead_code)]
mod receivers;

const FIREWALL: &str = "[managed-by tenantctl: FirewallPolicy/firewall-baseline]";
const PILOT: &[&str] = &["northwind-us"];
const EMEA: &[&str] = &["fabrikam-emea", "northwind-emea", "woodgrove-emea"];
const EVERYONE: &[&str] = &["adatum-apac", "fabrikam-us", "litware-us", "tailspin-apac"];
const NORTHWIND_EMEA: &str = "9d1f3b5a-7c26-4e8d-b0a4-2c6e8f1a3b55";

/// The Contoso tenants' IDs, by name.
fn tenant_ids() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("fabrikam-emea", "4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11"),
        ("fabrikam-us", "7a3e9c51-2d84-4f6b-8e10-3c9d2b7f4e22"),
        ("tailspin-apac", "0b6d4e2f-8a13-4c57-b9e2-5f7a1c3d8e33"),
        ("northwind-us", "c2e8a4f6-1b39-4d7e-a5c0-9e3b6d1f2a44"),
        ("northwind-emea", NORTHWIND_EMEA),
        ("adatum-apac", "3e5a7c9b-1d4f-4a6e-8c2b-7f9d1e3a5c66"),
        ("woodgrove-emea", "6c8e0a2d-4f71-4b9c-a3e5-1d7f9b2c4e77"),
        ("litware-us", "8e0a2c4f-6b93-4d1e-b5a7-3f9b1d5e7a99"),
    ])
}

/// `tenantctl ARGS` on the lab, at an instant.
fn at(now: &str, lab: &Path, manifests: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(args)
        .arg("-f")
        .arg(manifests)
        .arg("--lab")
        .arg("--lab-state")
        .arg(lab)
        .env("TENANTCTL_NOW", now)
        .env("SOC_WEBHOOK_TOKEN", "Bearer rollout-canary")
        .current_dir(root())
        .output()
        .expect("tenantctl runs")
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@contoso.example", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Contoso's manifests in a git repository (a webhook told about halted rollouts), committed; then
/// the firewall baseline's log size changed and committed again.
fn repository(dir: &Path, hook_url: &str) {
    contoso_manifests(dir, |profiles| profiles, "", |text| text);
    std::fs::write(
        dir.join("notifications.yaml"),
        format!(
            "apiVersion: tenantctl.dev/v1alpha1\nkind: NotificationPolicy\nmetadata: {{name: rollouts}}\nspec:\n  \
             triggers: [rolloutHalted]\n  webhook:\n    url: {hook_url}\n    authorization: {{env: SOC_WEBHOOK_TOKEN}}\n"
        ),
    )
    .expect("write");
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "baseline"]);
}

fn change_the_baseline(dir: &Path) {
    let path = dir.join("policies/firewall-baseline.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("logMaxFileSizeKb: 16384", "logMaxFileSizeKb: 32767")).expect("write");
    git(dir, &["commit", "-qam", "larger firewall logs"]);
}

/// Which tenants run the changed firewall baseline.
fn running_the_change(lab: &Path) -> Vec<&'static str> {
    let ids = tenant_ids();
    let mut running: Vec<&str> = ids
        .iter()
        .filter(|(_, id)| {
            stored_policies(lab, id).values().any(|p| {
                p["description"].as_str().is_some_and(|d| d.ends_with(FIREWALL))
                    && p["settings"].to_string().contains("32767")
            })
        })
        .map(|(name, _)| *name)
        .collect();
    running.sort();
    running
}

fn sorted(groups: &[&[&'static str]]) -> Vec<&'static str> {
    let mut all: Vec<&str> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    all.sort();
    all
}

fn plan_json(now: &str, lab: &Path, manifests: &Path) -> Value {
    let plan = at(now, lab, manifests, &["plan", "-o", "json"]);
    expect_code(&plan, 0);
    serde_json::from_str(&stdout(&plan)).expect("json plan")
}

fn rollout(plan: &Value) -> &Value {
    let rollouts = plan["rollouts"].as_array().expect("rollouts");
    rollouts.iter().find(|r| r["profile"] == "baseline").expect("the baseline's rollout")
}

fn tenant<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["tenants"].as_array().expect("tenants").iter().find(|t| t["name"] == name).expect("tenant")
}

/// Every stored policy of every tenant, by tenant and id.
fn every_policy(lab: &Path) -> BTreeMap<String, BTreeMap<String, Value>> {
    tenant_ids().values().map(|id| (id.to_string(), stored_policies(lab, id))).collect()
}

/// Contoso applied on the first of December from a git repository, then its firewall baseline
/// changed and committed; a webhook receiver for the notifications.
struct Scene {
    /// When the scene starts: the lab dates what it stores with the real clock, so the runs' clock
    /// (`TENANTCTL_NOW`) starts there too, and moves hours and days ahead between runs.
    base: jiff::Timestamp,
    work: tempfile::TempDir,
    repo: std::path::PathBuf,
    lab: tempfile::TempDir,
    received: receivers::Received,
}

impl Scene {
    fn changed_baseline() -> Scene {
        let (hook_url, received) = receivers::webhook_receiver();
        let work = tempfile::tempdir().expect("tempdir");
        let (repo, lab) = (work.path().join("repo"), contoso_state());
        let now = jiff::Timestamp::now();
        let base = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
        repository(&repo, &hook_url);
        expect_code(&at(&base.to_string(), lab.path(), &repo, &["apply", "--auto-approve"]), 0);
        change_the_baseline(&repo);
        Scene { base, work, repo, lab, received }
    }

    /// The instant `hours` after the scene starts.
    fn after(&self, hours: i64) -> String {
        self.base.checked_add(jiff::SignedDuration::from_hours(hours)).unwrap_or(self.base).to_string()
    }
}

#[test]
fn a_change_rolls_out_in_waves_halts_on_an_incident_and_rolls_back_one_wave() {
    let scene = Scene::changed_baseline();
    let (work, repo, lab, received) = (scene.work.path(), &scene.repo, scene.lab.path(), &scene.received);

    // Wave 1 gets it; the others wait, and say why.
    let plan = plan_json(&scene.after(6), lab, repo);
    assert_eq!(rollout(&plan)["state"], "advancing", "{:#}", rollout(&plan));
    let fabrikam = &tenant(&plan, "fabrikam-emea")["rollouts"][0];
    assert_eq!((fabrikam["wave"].as_str(), fabrikam["waveNumber"].as_u64()), (Some("emea"), Some(2)));
    assert_ne!(fabrikam["runs"], fabrikam["gets"], "{fabrikam:#}");
    assert!(fabrikam["waiting"].as_str().is_some_and(|w| w.contains("waits for wave 1 (pilot)")), "{fabrikam:#}");
    // Narrowing a run to a later wave's tenant does not skip the waves before it.
    let narrowed = at(&scene.after(6), lab, repo, &["apply", "--auto-approve", "--tenant", "litware-us"]);
    expect_code(&narrowed, 0);
    assert!(stdout(&narrowed).contains("Nothing to apply."), "{}", stdout(&narrowed));
    assert!(stdout(&narrowed).contains("wave 3 (everyone) waits for wave 1 (pilot)"), "{}", stdout(&narrowed));
    expect_code(&at(&scene.after(6), lab, repo, &["apply", "--auto-approve"]), 0);
    assert_eq!(running_the_change(lab), PILOT);

    // Wave 2 waits for the pilot's soak time: nothing is written.
    let plan = plan_json(&scene.after(12), lab, repo);
    assert_eq!(rollout(&plan)["state"], "waiting");
    assert!(rollout(&plan)["reason"].as_str().is_some_and(|r| r.contains("wave 1 (pilot) soaks until")));
    let early = at(&scene.after(12), lab, repo, &["apply", "--auto-approve"]);
    expect_code(&early, 0);
    assert!(stdout(&early).contains("Nothing to apply."), "{}", stdout(&early));
    assert_eq!(running_the_change(lab), PILOT);

    // Soaked: wave 2 gets it, wave 3 does not in the same run.
    expect_code(&at(&scene.after(25), lab, repo, &["apply", "--auto-approve"]), 0);
    assert_eq!(running_the_change(lab), sorted(&[PILOT, EMEA]));

    // A high-severity incident in a wave-2 tenant after it got the change halts the rollout.
    let incident = serde_json::json!({
        "id": "9001", "tenantId": NORTHWIND_EMEA, "displayName": "Ransomware behaviour on FILESRV01",
        "createdDateTime": scene.after(26), "lastUpdateDateTime": scene.after(26),
        "status": "active", "severity": "high", "classification": "unknown", "determination": "unknown",
        "customTags": [], "systemTags": [], "comments": []
    });
    let incidents = lab.join("tenants").join(NORTHWIND_EMEA).join("incidents");
    std::fs::write(incidents.join("9001.json"), incident.to_string()).expect("write incident");
    let plan = plan_json(&scene.after(72), lab, repo);
    assert_eq!(rollout(&plan)["state"], "halted", "{:#}", rollout(&plan));
    assert_eq!(rollout(&plan)["blockedBy"], "northwind-emea");
    assert!(rollout(&plan)["reason"].as_str().is_some_and(|r| r.contains("9001")), "{:#}", rollout(&plan));
    expect_code(&at(&scene.after(72), lab, repo, &["apply", "--auto-approve"]), 0);
    assert_eq!(running_the_change(lab), sorted(&[PILOT, EMEA]), "the last wave keeps its revision");
    let notify_state = work.join("notify-state");
    let drift =
        at(&scene.after(72), lab, repo, &["drift", "--notify", "--notify-state", &notify_state.to_string_lossy()]);
    expect_code(&drift, 0);
    let posts = received.lock().expect("lock").clone();
    assert_eq!(posts.len(), 1, "one notification: {posts:#?}");
    assert!(posts[0].1.to_string().contains("rollout of DistributionProfile/baseline"), "{:#}", posts[0].1);
    assert!(posts[0].1.to_string().contains("northwind-emea"), "{:#}", posts[0].1);

    // Rollback of wave 2 to the previous commit: its firewall baselines only.
    let before = every_policy(lab);
    let rollback = at(
        &scene.after(73),
        lab,
        repo,
        &["rollback", "--profile", "baseline", "--from-git", "HEAD~1", "--wave", "emea", "--auto-approve"],
    );
    expect_code(&rollback, 0);
    assert!(
        stdout(&rollback).contains("Apply complete: 0 created, 3 updated, 0 deleted across 3 tenants."),
        "{}",
        stdout(&rollback)
    );
    assert_eq!(running_the_change(lab), PILOT, "wave 1 keeps the new revision");
    let after = every_policy(lab);
    let ids = tenant_ids();
    for (tenant, policies) in &before {
        for (id, policy) in policies {
            let is_emea = EMEA.iter().any(|name| ids[name] == tenant);
            let rolled_back = is_emea && policy["description"].as_str().is_some_and(|d| d.ends_with(FIREWALL));
            if !rolled_back {
                assert_eq!(Some(policy), after[tenant].get(id), "{tenant}/{id} is untouched");
            }
        }
        assert_eq!(policies.len(), after[tenant].len(), "{tenant}: nothing created or deleted");
    }

    // The rollout stays halted on the rollback: the next apply does not bring the revision back.
    let plan = plan_json(&scene.after(96), lab, repo);
    assert_eq!(rollout(&plan)["state"], "halted");
    assert!(rollout(&plan)["reason"].as_str().is_some_and(|r| r.contains("rolled back")), "{:#}", rollout(&plan));
    let held = at(&scene.after(96), lab, repo, &["apply", "--auto-approve"]);
    expect_code(&held, 0);
    assert!(stdout(&held).contains("Nothing to apply."), "{}", stdout(&held));
    assert_eq!(running_the_change(lab), PILOT);
}

#[test]
fn a_clean_rollout_promotes_through_every_wave_one_per_run() {
    let scene = Scene::changed_baseline();
    let (work, repo, lab, received) = (scene.work.path(), &scene.repo, scene.lab.path(), &scene.received);

    let runs = [
        (6, sorted(&[PILOT])),
        (25, sorted(&[PILOT, EMEA])),
        (26, sorted(&[PILOT, EMEA])),
        (50, sorted(&[PILOT, EMEA, EVERYONE])),
    ];
    for (hours, running) in runs {
        expect_code(&at(&scene.after(hours), lab, repo, &["apply", "--auto-approve"]), 0);
        assert_eq!(running_the_change(lab), running, "after the apply {hours} h in");
    }
    let plan = plan_json(&scene.after(51), lab, repo);
    assert_eq!(rollout(&plan)["state"], "complete", "{:#}", rollout(&plan));
    let waves: Vec<(u64, u64)> = rollout(&plan)["waves"]
        .as_array()
        .expect("waves")
        .iter()
        .map(|w| (w["current"].as_u64().unwrap_or(0), w["tenants"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(waves, vec![(1, 1), (3, 3), (4, 4)]);
    let notify_state = work.join("notify-state");
    let drift =
        at(&scene.after(51), lab, repo, &["drift", "--notify", "--notify-state", &notify_state.to_string_lossy()]);
    expect_code(&drift, 0);
    assert!(received.lock().expect("lock").is_empty(), "a clean rollout notifies nothing");
}
