//! Detection rules as code through the CLI and the lab: the Contoso retail profile's rules are
//! created once in each retail tenant under ids tenantctl chose, a changed query is an update of the
//! same rule, audit mode only reports, a rule no profile delivers is pruned behind the blast-radius
//! guard, a create whose answer was lost is found, and the preview counts what each new or changed
//! rule would have matched in each tenant.

use std::path::Path;

use serde_json::Value;

use super::support::*;

const FABRIKAM_US: &str = "7a3e9c51-2d84-4f6b-8e10-3c9d2b7f4e22";
const TAILSPIN_APAC: &str = "0b6d4e2f-8a13-4c57-b9e2-5f7a1c3d8e33";

/// The Contoso manifests, the profiles and the `detect-lsass-unusual-access.yaml` file edited.
fn manifests(dir: &Path, profiles: impl Fn(String) -> String, lsass: impl Fn(String) -> String) {
    contoso_manifests(dir, profiles, "detect-lsass-unusual-access.yaml", lsass);
}

fn rules(state: &Path, tenant: &str) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(state.join("tenants").join(tenant).join("detectionRules")) else {
        return Vec::new();
    };
    let mut rules: Vec<Value> = entries
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.expect("entry").path()).expect("read")).expect("json"))
        .collect();
    rules.sort_by(|a, b| a["displayName"].as_str().cmp(&b["displayName"].as_str()));
    rules
}

fn lsass_query(state: &Path, tenant: &str) -> String {
    let rules = rules(state, tenant);
    let lsass = rules.iter().find(|r| r["displayName"] == "LSASS opened by an unusual process").expect("lsass rule");
    lsass["queryCondition"]["queryText"].as_str().expect("query").to_string()
}

const NARROWER: &str = "    | where FileName =~ \"lsass.exe\"\n";

fn narrower(text: String) -> String {
    assert!(text.contains(NARROWER));
    text.replacen(NARROWER, &format!("{NARROWER}    | where InitiatingProcessFileName !startswith \"Sense\"\n"), 1)
}

#[test]
fn rules_are_created_once_updated_audited_and_pruned() {
    let state = contoso_state();
    let lab = state.path();
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().to_string_lossy().to_string();
    manifests(work.path(), |p| p, |r| r);

    let plan = with_lab(lab, &["plan", "-f", &dir]);
    let text = stdout(&plan);
    assert_eq!(text.matches("+ DetectionRule/").count(), 6, "three rules in each retail tenant but Tailspin: {text}");
    expect_code(&with_lab(lab, &["apply", "-f", &dir, "--auto-approve"]), 0);
    let created = rules(lab, FABRIKAM_EMEA);
    assert_eq!(created.len(), 3);
    for rule in &created {
        let id = rule["id"].as_str().expect("id");
        assert!(id.starts_with("tenantctl-") && id.len() == 42, "{id}");
        assert!(rule["description"].as_str().is_some_and(|d| d.contains("[managed-by tenantctl: DetectionRule/")));
    }
    let ids: Vec<Value> = created.iter().map(|r| r["id"].clone()).collect();
    let us_ids: Vec<Value> = rules(lab, FABRIKAM_US).iter().map(|r| r["id"].clone()).collect();
    assert_eq!(us_ids.len(), 3);
    assert!(ids.iter().all(|id| !us_ids.contains(id)), "ids are per tenant");
    assert!(rules(lab, TAILSPIN_APAC).is_empty(), "excluded tenants get nothing");
    expect_code(&with_lab(lab, &["plan", "-f", &dir, "--detailed-exitcode"]), 0);

    // A changed query is an update of the same rule.
    manifests(work.path(), |p| p, narrower);
    let update = with_lab(lab, &["plan", "-f", &dir]);
    let text = stdout(&update);
    assert_eq!(text.matches("~ DetectionRule/lsass-unusual-access").count(), 2, "{text}");
    assert!(text.contains("update (query)"), "{text}");
    expect_code(&with_lab(lab, &["apply", "-f", &dir, "--auto-approve"]), 0);
    let after: Vec<Value> = rules(lab, FABRIKAM_EMEA).iter().map(|r| r["id"].clone()).collect();
    assert_eq!(after, ids, "updated in place, not recreated");
    assert!(lsass_query(lab, FABRIKAM_EMEA).contains("!startswith \"Sense\""));

    // Audit mode reports the drift and writes nothing.
    let audit = |p: String| {
        p.replace("  excludeTenants: [tailspin-apac]\n", "  excludeTenants: [tailspin-apac]\n  mode: audit\n")
    };
    manifests(work.path(), audit, |r| r);
    let drift = with_lab(lab, &["drift", "-f", &dir]);
    expect_code(&drift, 2);
    expect_code(&with_lab(lab, &["apply", "-f", &dir, "--auto-approve"]), 0);
    assert!(lsass_query(lab, FABRIKAM_EMEA).contains("!startswith \"Sense\""), "audit mode wrote nothing");

    // One rule fewer: a third of the tenant's rules, past `baseline`'s 30 % guard, so it waits for
    // confirmation.
    let fewer = |p: String| {
        p.replace(
            "[lsass-unusual-access, office-script-host, new-local-admin]",
            "[office-script-host, new-local-admin]",
        )
    };
    manifests(work.path(), fewer, |r| r);
    let refused = with_lab(lab, &["apply", "-f", &dir, "--auto-approve"]);
    expect_code(&refused, 1);
    let said = format!("{}{}", stdout(&refused), stderr(&refused));
    assert!(said.contains("refusing to delete 1 of 3 tenantctl-owned detection rules"), "{said}");
    assert_eq!(rules(lab, FABRIKAM_EMEA).len(), 3, "nothing deleted past the guard");
    let prune = with_lab(lab, &["plan", "-f", &dir, "--allow-mass-delete"]);
    assert_eq!(stdout(&prune).matches("- DetectionRule/lsass-unusual-access").count(), 2, "{}", stdout(&prune));
    expect_code(&with_lab(lab, &["apply", "-f", &dir, "--auto-approve", "--allow-mass-delete"]), 0);
    let left: Vec<Value> = rules(lab, FABRIKAM_EMEA).iter().map(|r| r["displayName"].clone()).collect();
    assert_eq!(left, ["Account added to local Administrators", "Office application started a script host"]);
    expect_code(&with_lab(lab, &["plan", "-f", &dir, "--detailed-exitcode"]), 0);
}

#[test]
fn lost_create_answers_are_found_by_id_and_never_duplicated() {
    let state = contoso_state();
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().to_string_lossy().to_string();
    manifests(work.path(), |p| p, |r| r);
    let retail = ["--tenant", "fabrikam-emea", "--tenant", "fabrikam-us"];
    let lab = LabProcess::serve(state.path(), &["--fault-lost-response", "0.5", "--seed", "23"]);
    for _ in 0..3 {
        lab.tenantctl(state.path(), &[&["apply", "-f", &dir, "--auto-approve"], &retail[..]].concat());
    }
    drop(lab);
    expect_code(&with_lab(state.path(), &[&["apply", "-f", &dir, "--auto-approve"], &retail[..]].concat()), 0);
    for tenant in [FABRIKAM_EMEA, FABRIKAM_US] {
        let names: Vec<String> = rules(state.path(), tenant)
            .iter()
            .map(|r| r["displayName"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(names.len(), 3, "one of each, however many answers were lost: {names:?}");
    }
    expect_code(&with_lab(state.path(), &[&["plan", "-f", &dir, "--detailed-exitcode"], &retail[..]].concat()), 0);
}

#[test]
fn the_preview_counts_what_new_and_changed_rules_would_have_matched() {
    let state = contoso_state();
    let lab = state.path();
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().to_string_lossy().to_string();
    manifests(work.path(), |p| p, |r| r);

    let preview = with_lab(lab, &["detections", "preview", "-f", &dir, "-o", "json", "--max-alerts", "10"]);
    expect_code(&preview, 2);
    let report: Value = serde_json::from_str(&stdout(&preview)).expect("json");
    let count = |tenant: &str, rule: &str| {
        let rules = report["rules"].as_array().expect("rules");
        let found = rules.iter().find(|r| r["tenant"] == tenant && r["rule"] == rule).expect("previewed");
        (
            found["alerts"].as_u64().expect("alerts"),
            found["change"].as_str().unwrap_or_default().to_string(),
            found["noisy"] == true,
        )
    };
    assert_eq!(count("fabrikam-emea", "office-script-host"), (6, "new".into(), false), "inside 30 days only");
    assert_eq!(
        count("fabrikam-emea", "lsass-unusual-access"),
        (1, "new".into(), false),
        "Defender's own processes left out"
    );
    assert_eq!(count("fabrikam-us", "new-local-admin"), (14, "new".into(), true), "the noisy one");
    assert_eq!(report["rules"].as_array().map(Vec::len), Some(6), "Tailspin gets no rules");

    let week = with_lab(
        lab,
        &["detections", "preview", "-f", &dir, "-o", "json", "--lookback", "P7D", "--rule", "office-script-host"],
    );
    expect_code(&week, 0);
    let report: Value = serde_json::from_str(&stdout(&week)).expect("json");
    assert_eq!(report["rules"][0]["alerts"], 5, "{report}");

    expect_code(&with_lab(lab, &["apply", "-f", &dir, "--auto-approve"]), 0);
    let quiet = with_lab(lab, &["detections", "preview", "-f", &dir, "-o", "json"]);
    let report: Value = serde_json::from_str(&stdout(&quiet)).expect("json");
    assert_eq!(report["rules"], serde_json::json!([]), "nothing new or changed once applied");
    manifests(work.path(), |p| p, narrower);
    let changed = with_lab(lab, &["detections", "preview", "-f", &dir, "-o", "json"]);
    let report: Value = serde_json::from_str(&stdout(&changed)).expect("json");
    let rules = report["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 2, "{report}");
    assert!(rules.iter().all(|r| r["change"] == "queryChanged" && r["rule"] == "lsass-unusual-access"));
}

#[test]
fn a_preview_the_app_may_not_run_says_so_per_rule() {
    let state = contoso_state();
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().to_string_lossy().to_string();
    manifests(work.path(), |p| p, |r| r);
    let lab = LabProcess::serve(state.path(), &["--withhold", &format!("{FABRIKAM_US}=ThreatHunting.Read.All")]);
    let preview = lab.tenantctl(state.path(), &["detections", "preview", "-f", &dir, "--rule", "new-local-admin"]);
    expect_code(&preview, 3);
    let text = stdout(&preview);
    let us = text.lines().find(|l| l.starts_with("fabrikam-us")).expect("a line for fabrikam-us");
    assert!(us.contains("?") && us.contains("query failed"), "{text}");
    let said = stderr(&preview);
    assert!(
        said.contains("query failed: new-local-admin in fabrikam-us: ") && said.contains("ThreatHunting.Read.All"),
        "{said}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("fabrikam-emea") && l.contains(" 2")),
        "the other tenant is counted: {text}"
    );
}
