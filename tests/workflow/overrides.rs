//! Overrides and exceptions that let named settings differ, through the CLI and the lab: Contoso's
//! override appends an exclusion for Northwind US alone; two overrides of one setting are a named
//! error that writes nothing; an exception for one ASR rule keeps the tenant's value for it while the
//! rest of the policy is enforced.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::support::*;

const SHOPFLOOR: &str = "[managed-by tenantctl: AntivirusExclusionsPolicy/av-exclusions-shopfloor]";
const LSASS_AUDIT: &str = "blockcredentialstealingfromwindowslocalsecurityauthoritysubsystem_audit";
const ADOBE_AUDIT: &str = "blockadobereaderfromcreatingchildprocesses_audit";

/// The settings of each tenant's copy of the shop-floor exclusions, by tenant id, ids left out.
fn shopfloor_settings(state: &Path) -> BTreeMap<String, String> {
    let mut by_tenant = BTreeMap::new();
    for entry in std::fs::read_dir(state.join("tenants")).expect("tenants") {
        let tenant = entry.expect("entry").file_name().to_string_lossy().to_string();
        for policy in stored_policies(state, &tenant).values() {
            if policy["description"].as_str().is_some_and(|d| d.ends_with(SHOPFLOOR)) {
                let mut settings = policy["settings"].clone();
                strip_ids(&mut settings);
                by_tenant.insert(tenant.clone(), settings.to_string());
            }
        }
    }
    by_tenant
}

fn strip_ids(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("id");
            map.values_mut().for_each(strip_ids);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_ids),
        _ => {}
    }
}

/// The Contoso manifests (without the lab seed) copied into `dir`, one file replaced or added.
fn contoso_with(dir: &Path, file: &str, text: &str) {
    let contoso = root().join("examples/contoso");
    std::fs::create_dir_all(dir.join("policies")).expect("mkdir");
    for name in ["tenants.yaml", "profiles.yaml", "exceptions.yaml", "overrides.yaml", "notifications.yaml"] {
        std::fs::copy(contoso.join(name), dir.join(name)).expect("copy");
    }
    for entry in std::fs::read_dir(contoso.join("policies")).expect("policies") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.join("policies").join(entry.file_name())).expect("copy");
    }
    std::fs::write(dir.join(file), text).expect("write");
}

#[test]
fn an_override_appends_an_exclusion_for_one_tenant_only_and_the_others_stay_identical() {
    let state = contoso_state();
    let lab = state.path();
    let plan = with_lab(lab, &["plan", "-f", "examples/contoso", "-o", "json"]);
    let plan: Value = serde_json::from_str(&stdout(&plan)).expect("json plan");
    let northwind = plan["tenants"].as_array().expect("tenants").iter().find(|t| t["name"] == "northwind-us");
    let changes = northwind.expect("northwind-us")["changes"].as_array().expect("changes").clone();
    let shopfloor = changes.iter().find(|c| c["object"] == "AntivirusExclusionsPolicy/av-exclusions-shopfloor");
    assert_eq!(
        shopfloor.expect("the exclusions are created")["overridden"],
        serde_json::json!([{"override": "PolicyOverride/northwind-us-erp-cache", "edits": ["append exclusions.paths"]}])
    );

    expect_code(&with_lab(lab, &["apply", "--auto-approve", "-f", "examples/contoso"]), 0);
    let settings = shopfloor_settings(lab);
    assert_eq!(settings.len(), 6, "retail and manufacturing tenants get the exclusions: {settings:?}");
    assert!(settings[NORTHWIND_US].contains(r"C:\\ProgramData\\Northwind ERP\\Cache"), "{}", settings[NORTHWIND_US]);
    assert!(settings[NORTHWIND_US].contains(r"C:\\ProgramData\\Fabrikam MES\\Data"), "the baseline path stays");
    let others: BTreeSet<&String> = settings.iter().filter(|(id, _)| *id != NORTHWIND_US).map(|(_, s)| s).collect();
    assert_eq!(others.len(), 1, "every other tenant has exactly the baseline: {others:?}");
    assert!(!others.iter().any(|s| s.contains("Northwind ERP")));
    expect_code(&with_lab(lab, &["drift", "-f", "examples/contoso"]), 0);

    let out = tempfile::tempdir().expect("tempdir");
    let exported = with_lab(
        lab,
        &["export", "--tenant", "northwind-us", "-f", "examples/contoso", "--out", &out.path().to_string_lossy()],
    );
    expect_code(&exported, 0);
    let file = out.path().join("policies/antivirus-exclusions-av-exclusions-shopfloor.yaml");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(
        text.starts_with("# In this tenant the settings below include PolicyOverride/northwind-us-erp-cache (append exclusions.paths).\n"),
        "{text}"
    );
    assert!(text.contains(r"C:\ProgramData\Northwind ERP\Cache"), "{text}");
}

#[test]
fn overrides_of_one_setting_for_one_tenant_are_a_named_error_and_nothing_is_written() {
    let state = contoso_state();
    let dir = tempfile::tempdir().expect("tempdir");
    let conflicting = "apiVersion: tenantctl.dev/v1alpha1
kind: PolicyOverride
metadata: {name: manufacturing-paths}
spec:
  tenantSelector: {matchLabels: {business-group: manufacturing}}
  target: {kind: AntivirusExclusionsPolicy, name: av-exclusions-shopfloor}
  reason: one path list for manufacturing
  set:
    exclusions.paths: ['D:\\MES']
";
    contoso_with(dir.path(), "conflicting.yaml", conflicting);
    let manifests = dir.path().to_string_lossy().to_string();
    let before = markers(state.path(), NORTHWIND_US);
    let applied = with_lab(state.path(), &["apply", "--auto-approve", "-f", &manifests]);
    expect_code(&applied, 1);
    let errors = stderr(&applied);
    assert!(
        errors.contains("error: PolicyOverride/northwind-us-erp-cache: spec.append.exclusions.paths: edits AntivirusExclusionsPolicy/av-exclusions-shopfloor where PolicyOverride/manufacturing-paths also edits it (`exclusions.paths`) for tenant `northwind-us`"),
        "{errors}"
    );
    assert_eq!(markers(state.path(), NORTHWIND_US), before, "nothing is written");
}

#[test]
fn an_exception_for_named_settings_keeps_the_tenants_values_and_enforces_the_rest() {
    let state = contoso_state();
    let lab = state.path();
    let dir = tempfile::tempdir().expect("tempdir");
    let exception =
        std::fs::read_to_string(root().join("examples/contoso/exceptions.yaml")).expect("exceptions").replace(
            "  allow: leaveAlone\n",
            "  allow: settingsDiffer\n  settings: [rules.blockCredentialStealingFromLsass]\n",
        );
    contoso_with(dir.path(), "exceptions.yaml", &exception);
    let manifests = dir.path().to_string_lossy().to_string();

    // Only the excepted rule differs: reported as excepted, not written, not drift.
    let plan = with_lab(lab, &["plan", "-f", &manifests]);
    assert!(
        stdout(&plan).contains(
            "excepted until 2027-06-30 (soc-lead@contoso.example: Till software v4 reads LSASS; the vendor's fix ships in 2027 Q2) — rules.blockCredentialStealingFromLsass may differ"
        ),
        "{}",
        stdout(&plan)
    );
    expect_code(&with_lab(lab, &["apply", "--auto-approve", "-f", &manifests]), 0);
    expect_code(&with_lab(lab, &["drift", "-f", &manifests]), 0);

    // The baseline moves on another rule: that is written, the excepted rule stays as the tenant has it.
    let asr = std::fs::read_to_string(dir.path().join("policies/asr-block.yaml")).expect("asr-block");
    let asr = asr.replace("blockAdobeReaderChildProcesses: block", "blockAdobeReaderChildProcesses: audit");
    std::fs::write(dir.path().join("policies/asr-block.yaml"), asr).expect("write");
    let plan = with_lab(lab, &["plan", "-f", &manifests]);
    assert!(
        stdout(&plan).contains(
            "rules.blockCredentialStealingFromLsass left as the tenant has them (PolicyException/fabrikam-emea-till-lsass until 2027-06-30)"
        ),
        "{}",
        stdout(&plan)
    );
    let applied = with_lab(lab, &["apply", "--auto-approve", "-f", &manifests]);
    expect_code(&applied, 0);
    let asr = stored_policies(lab, FABRIKAM_EMEA)
        .into_values()
        .find(|p| p["description"].as_str().is_some_and(|d| d.contains("AttackSurfaceReductionPolicy/asr-block")))
        .expect("asr-block")
        .to_string();
    assert!(asr.contains(ADOBE_AUDIT), "the rest of the policy is enforced: {asr}");
    assert!(asr.contains(LSASS_AUDIT), "the excepted rule keeps the tenant's value: {asr}");
    expect_code(&with_lab(lab, &["drift", "-f", &manifests]), 0);
}
