use super::support::*;

#[test]
fn plan_apply_plan_converges_and_repairs_drift() {
    let state = contoso_state();
    let lab = state.path();

    let first = with_lab(lab, &["plan", "-f", "examples/contoso", "--detailed-exitcode"]);
    expect_code(&first, 2);
    let text = stdout(&first);
    assert!(
        text.contains("= AttackSurfaceReductionPolicy/asr-block") && text.contains("excepted until 2027-06-30"),
        "the drifted ASR policy, held back by Contoso's exception: {text}"
    );
    assert!(text.contains("-     blockCredentialStealingFromLsass: audit"), "{text}");
    assert!(text.contains("+     blockCredentialStealingFromLsass: block"), "{text}");
    assert!(text.contains("· 1 unmanaged object left alone"), "{text}");
    assert!(
        text.contains("~ FirewallRulesPolicy/firewall-rules-baseline"),
        "the firewall rule opened to any address: {text}"
    );
    assert!(text.contains("-     - '*'") && text.contains("+     - 10.20.0.0/24"), "{text}");
    assert!(text.contains("Plan: 66 to create, 1 to update, 0 to delete across 9 tenants"), "{text}");

    let drift = with_lab(lab, &["drift", "-f", "examples/contoso"]);
    expect_code(&drift, 2);

    let apply = with_lab(lab, &["apply", "-f", "examples/contoso", "--auto-approve"]);
    expect_code(&apply, 0);
    assert!(
        stdout(&apply).contains("Apply complete: 66 created, 1 updated, 0 deleted across 9 tenants."),
        "{}",
        stdout(&apply)
    );

    let second = with_lab(lab, &["plan", "-f", "examples/contoso", "--detailed-exitcode"]);
    expect_code(&second, 0);
    assert!(stdout(&second).contains("No changes."), "{}", stdout(&second));
    expect_code(&with_lab(lab, &["drift", "-f", "examples/contoso"]), 0);
    for counts in [markers(lab, FABRIKAM_EMEA), markers(lab, NORTHWIND_US)] {
        assert!(counts.values().all(|n| *n == 1), "one policy per marker: {counts:?}");
    }
}

#[test]
fn json_and_markdown_outputs_are_documents() {
    let state = contoso_state();
    let json = with_lab(state.path(), &["plan", "-f", "examples/contoso", "-o", "json"]);
    expect_code(&json, 0);
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan JSON on stdout");
    assert_eq!(plan["summary"]["create"], 66);
    assert_eq!(plan["summary"]["update"], 1);
    assert_eq!(plan["summary"]["excepted"], 1);
    assert_eq!(plan["summary"]["unknownTenants"], 0);
    let markdown = with_lab(state.path(), &["plan", "-f", "examples/contoso", "-o", "markdown"]);
    assert!(stdout(&markdown).starts_with("### tenantctl plan"));
}

#[test]
fn export_round_trips_to_manifests_that_plan_no_changes() {
    let state = contoso_state();
    let lab = state.path();
    expect_code(&with_lab(lab, &["apply", "-f", "examples/contoso", "--auto-approve"]), 0);
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().to_string_lossy().to_string();
    let export = with_lab(lab, &["export", "--tenant", "northwind-us", "-f", "examples/contoso", "--out", &dir]);
    expect_code(&export, 0);
    assert!(stdout(&export).starts_with("Exported 8 policies of northwind-us"), "{}", stdout(&export));
    expect_code(&tenantctl(&["validate", "-f", &dir]), 0);
    let replan = with_lab(lab, &["plan", "-f", &dir, "--detailed-exitcode"]);
    expect_code(&replan, 0);
    assert!(stdout(&replan).contains("No changes."), "{}", stdout(&replan));

    // A tenant with groups in its assignments exports them by name.
    let fabrikam = tempfile::tempdir().expect("tempdir");
    let fabrikam_dir = fabrikam.path().to_string_lossy().to_string();
    expect_code(
        &with_lab(lab, &["export", "--tenant", "fabrikam-emea", "-f", "examples/contoso", "--out", &fabrikam_dir]),
        0,
    );
    let profiles = std::fs::read_to_string(fabrikam.path().join("profiles.yaml")).expect("profiles");
    assert!(profiles.contains("SG-Retail-Devices") && profiles.contains("SG-Break-Glass-Devices"), "{profiles}");
    expect_code(&tenantctl(&["validate", "-f", &fabrikam_dir]), 0);
    // Its detection rules too, under their names, planned as they are.
    for rule in ["lsass-unusual-access", "office-script-host", "new-local-admin"] {
        assert!(fabrikam.path().join("detections").join(format!("{rule}.yaml")).is_file(), "{rule}");
    }
    let replan = with_lab(lab, &["plan", "-f", &fabrikam_dir]);
    assert!(!stdout(&replan).contains("DetectionRule/"), "{}", stdout(&replan));

    // A corporate tenant's Defender roles come back as DefenderRole manifests, planned as they are.
    let litware = tempfile::tempdir().expect("tempdir");
    let litware_dir = litware.path().to_string_lossy().to_string();
    expect_code(
        &with_lab(lab, &["export", "--tenant", "litware-us", "-f", "examples/contoso", "--out", &litware_dir]),
        0,
    );
    let tier2 = std::fs::read_to_string(litware.path().join("roles/defender-soc-tier2.yaml")).expect("exported role");
    assert!(tier2.contains("liveResponse: basic") && tier2.contains("SG-SOC-Tier2"), "{tier2}");
    expect_code(&tenantctl(&["validate", "-f", &litware_dir]), 0);
    let replan = with_lab(lab, &["plan", "-f", &litware_dir]);
    assert!(!stdout(&replan).contains("DefenderRole/"), "{}", stdout(&replan));
}
