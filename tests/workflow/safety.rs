use super::support::*;

#[test]
fn unmanaged_policies_are_untouched_and_audit_mode_writes_nothing() {
    let state = contoso_state();
    let lab = state.path();
    // An audit-mode policy goes missing in one tenant: reported, never recreated.
    let northwind_dir = lab.join("tenants").join(NORTHWIND_US).join("configurationPolicies");
    for policy in stored_policies(lab, NORTHWIND_US).values() {
        if policy["name"] == "Contoso ASR - Audit" {
            std::fs::remove_file(northwind_dir.join(format!("{}.json", policy["id"].as_str().expect("id"))))
                .expect("remove");
        }
    }
    let unmanaged_before: Vec<_> = stored_policies(lab, FABRIKAM_EMEA)
        .into_values()
        .filter(|p| !p["description"].as_str().unwrap_or_default().contains("[managed-by tenantctl"))
        .collect();
    assert_eq!(unmanaged_before.len(), 1);

    expect_code(&with_lab(lab, &["apply", "-f", "examples/contoso", "--auto-approve"]), 0);

    let unmanaged_after: Vec<_> = stored_policies(lab, FABRIKAM_EMEA)
        .into_values()
        .filter(|p| !p["description"].as_str().unwrap_or_default().contains("[managed-by tenantctl"))
        .collect();
    assert_eq!(unmanaged_after, unmanaged_before, "the same-named unmanaged policy is untouched");
    assert!(!markers(lab, NORTHWIND_US).keys().any(|m| m.contains("asr-audit")), "audit mode created nothing");
    let plan = with_lab(lab, &["plan", "-f", "examples/contoso", "--detailed-exitcode"]);
    expect_code(&plan, 2);
    assert!(stdout(&plan).contains("! AttackSurfaceReductionPolicy/asr-audit"), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("0 to create, 0 to update, 0 to delete"), "{}", stdout(&plan));
}

#[test]
fn a_stale_saved_plan_is_refused_for_the_tenant_that_moved() {
    let state = contoso_state();
    let lab = state.path();
    let plan_dir = tempfile::tempdir().expect("tempdir");
    let plan_file = plan_dir.path().join("plan.json").to_string_lossy().to_string();
    expect_code(&with_lab(lab, &["plan", "-f", "examples/contoso", "--out", &plan_file]), 0);

    // Somebody edits a policy of fabrikam-emea in the portal after the plan was made.
    let (id, mut edited) = stored_policies(lab, FABRIKAM_EMEA).into_iter().next().expect("a policy");
    edited["lastModifiedDateTime"] = serde_json::json!("2026-11-27T23:59:59Z");
    let path = lab.join("tenants").join(FABRIKAM_EMEA).join("configurationPolicies");
    for entry in std::fs::read_dir(&path).expect("dir") {
        let file = entry.expect("entry").path();
        let text = std::fs::read_to_string(&file).expect("read");
        if text.contains(&id) {
            std::fs::write(&file, serde_json::to_vec_pretty(&edited).expect("json")).expect("write");
        }
    }
    let fabrikam_before = stored_policies(lab, FABRIKAM_EMEA);

    let apply = with_lab(lab, &["apply", &plan_file]);
    expect_code(&apply, 1);
    let text = stdout(&apply);
    assert!(text.contains("fabrikam-emea: refused: the tenant changed since the plan was made (stale)"), "{text}");
    assert!(text.contains("fabrikam-us: 11 created"), "other tenants are applied: {text}");
    assert_eq!(stored_policies(lab, FABRIKAM_EMEA), fabrikam_before, "nothing written to the stale tenant");
}

#[test]
fn invalid_manifests_are_rejected_before_any_request() {
    let state = contoso_state();
    let output = with_lab(state.path(), &["apply", "-f", "tests/bad/19-tenant-bad-guid.yaml", "--auto-approve"]);
    expect_code(&output, 1);
    assert!(stderr(&output).contains("is not a GUID"), "{}", stderr(&output));
    assert!(stderr(&output).contains("nothing was read or written"), "{}", stderr(&output));
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let state = contoso_state();
    let output = with_lab(state.path(), &["apply", "-f", "examples/contoso"]);
    expect_code(&output, 1);
    assert!(stderr(&output).contains("pass --auto-approve"), "{}", stderr(&output));
    assert_eq!(markers(state.path(), super::support::NORTHWIND_US).len(), 3, "nothing written");
}
