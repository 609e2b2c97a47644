use serde_json::{Value, json};

use super::support::*;

const WOODGROVE: &str = "6c8e0a2d-4f71-4b9c-a3e5-1d7f9b2c4e77";
const WOODGROVE_APP: &str = "2b4d6f8a-0c1e-4a3b-9d5f-7e9a1c3b5d88";
const WOODGROVE_SECRET: &str = "woodgrove-app-secret";

/// Woodgrove's own app (the one its Tenant manifest names) is registered in the lab and is the only
/// app consented in Woodgrove's tenant: the default app cannot read or write there.
fn woodgrove_with_its_own_app(state: &std::path::Path) {
    let lab_file = state.join("lab.json");
    let mut lab: Value = serde_json::from_str(&std::fs::read_to_string(&lab_file).expect("lab.json")).expect("json");
    lab["apps"]
        .as_array_mut()
        .expect("apps")
        .push(json!({"clientId": WOODGROVE_APP, "clientSecret": WOODGROVE_SECRET}));
    std::fs::write(&lab_file, lab.to_string()).expect("write lab.json");
    let tenant_file = state.join("tenants").join(WOODGROVE).join("tenant.json");
    let mut tenant: Value =
        serde_json::from_str(&std::fs::read_to_string(&tenant_file).expect("tenant.json")).expect("json");
    tenant["consentedApps"] = json!([WOODGROVE_APP]);
    std::fs::write(&tenant_file, tenant.to_string()).expect("write tenant.json");
}

/// `tenantctl ARGS` against a lab where Woodgrove answers only to its own app, with its secret in
/// the environment variable its Tenant manifest names.
fn with_woodgrove_app(lab: &LabProcess, state: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut command = lab.command(state, args);
    command.env("WOODGROVE_CLIENT_SECRET", WOODGROVE_SECRET);
    command.output().expect("tenantctl runs")
}

#[test]
fn a_tenant_with_its_own_credentials_is_written_with_them() {
    let state = contoso_state();
    woodgrove_with_its_own_app(state.path());
    let lab = LabProcess::serve(state.path(), &[]);
    let args = ["apply", "-f", "examples/contoso", "--tenant", "woodgrove-emea", "--auto-approve"];
    let apply = with_woodgrove_app(&lab, state.path(), &args);
    expect_code(&apply, 0);
    assert!(stdout(&apply).contains("woodgrove-emea: 9 created"), "{}", stdout(&apply));
}

#[test]
fn a_saved_plan_records_the_credentials_reference_and_is_applied_with_it() {
    let state = contoso_state();
    woodgrove_with_its_own_app(state.path());
    let lab = LabProcess::serve(state.path(), &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let saved = dir.path().join("plan.json").to_string_lossy().to_string();
    let args = ["plan", "-f", "examples/contoso", "--tenant", "woodgrove-emea", "--out", &saved];
    expect_code(&with_woodgrove_app(&lab, state.path(), &args), 0);
    let text = std::fs::read_to_string(&saved).expect("plan.json");
    assert!(text.contains("WOODGROVE_CLIENT_SECRET") && !text.contains(WOODGROVE_SECRET), "{text}");
    let apply = with_woodgrove_app(&lab, state.path(), &["apply", &saved]);
    expect_code(&apply, 0);
    assert!(stdout(&apply).contains("woodgrove-emea: 9 created"), "{}", stdout(&apply));
}
