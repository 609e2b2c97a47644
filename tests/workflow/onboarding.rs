//! Onboarding through the real binary and the lab: `tenants check` names a tenant that has not
//! consented (with the link that fixes it, which works), a permission that is missing, and a licence
//! the Defender features lack; `plan` and `apply` refuse such a tenant before any write while the
//! others go ahead; `tenants add` writes a Tenant manifest that validates.

use std::path::Path;

use serde_json::{Value, json};

use super::support::*;

const FABRIKAM_US: &str = "7a3e9c51-2d84-4f6b-8e10-3c9d2b7f4e22";
const TAILSPIN_APAC: &str = "0b6d4e2f-8a13-4c57-b9e2-5f7a1c3d8e33";

fn edit_tenant_file(state: &Path, tenant: &str, edit: impl FnOnce(&mut Value)) {
    let path = state.join("tenants").join(tenant).join("tenant.json");
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    edit(&mut file);
    std::fs::write(&path, serde_json::to_string_pretty(&file).expect("json")).expect("write");
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("JSON: {}\n{}", stdout(output), stderr(output)))
}

fn tenant<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tenants"].as_array().expect("tenants").iter().find(|t| t["name"] == name).expect("tenant in report")
}

fn client_id(state: &Path) -> String {
    let lab: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("lab.json")).expect("read")).expect("json");
    lab["apps"][0]["clientId"].as_str().expect("client id").to_string()
}

#[test]
fn a_tenant_without_consent_gets_its_consent_link_and_following_it_makes_the_tenant_ready() {
    let state = contoso_state();
    edit_tenant_file(state.path(), FABRIKAM_EMEA, |file| file["consentedApps"] = json!([]));
    let lab = LabProcess::serve(state.path(), &[]);
    let selection = ["-f", "examples/contoso", "--tenant", "fabrikam-emea", "--tenant", "fabrikam-us"];
    let check = |extra: &[&str]| lab.tenantctl(state.path(), &[&["tenants", "check"], &selection[..], extra].concat());

    let output = check(&["-o", "json"]);
    expect_code(&output, 3);
    let report = json_of(&output);
    let refused = tenant(&report, "fabrikam-emea");
    let link = format!("{}/{FABRIKAM_EMEA}/adminconsent?client_id={}", lab.url, client_id(state.path()));
    assert_eq!((refused["ready"].as_bool(), refused["reason"].as_str()), (Some(false), Some("NotConsented")));
    assert_eq!(refused["consentUrl"], link.as_str(), "{report}");
    assert!(refused["message"].as_str().expect("message").contains("AADSTS700016"), "{report}");
    assert_eq!(tenant(&report, "fabrikam-us")["ready"], true, "the other tenant is ready: {report}");

    let table = check(&[]);
    expect_code(&table, 3);
    assert!(
        stdout(&table)
            .contains(&format!("the app is not consented in this tenant: an admin of the tenant consents at {link}"))
    );
    let plan = lab.tenantctl(state.path(), &[&["plan"], &selection[..]].concat());
    assert!(stdout(&plan).contains("the app is not consented in this tenant"), "plan says the same: {}", stdout(&plan));

    // The admin follows the link; the tenant is ready.
    let answered = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async { reqwest::get(&link).await.expect("lab answers").status() });
    assert!(answered.is_success(), "{answered}");
    expect_code(&check(&[]), 0);
}

#[test]
fn a_tenant_missing_the_rbac_write_permission_is_refused_before_any_write_while_the_others_are_applied() {
    let work = tempfile::tempdir().expect("tempdir");
    super::roles::manifests(work.path(), true, "SG-Retail-Devices");
    let manifests = work.path().to_string_lossy().to_string();
    let state = contoso_state();
    edit_tenant_file(state.path(), FABRIKAM_EMEA, |file| {
        file["grantedPermissions"] = json!([
            "DeviceManagementConfiguration.ReadWrite.All",
            "DeviceManagementRBAC.Read.All",
            "Group.Read.All",
            "CustomDetection.ReadWrite.All",
            "Organization.Read.All"
        ]);
    });
    let lab = LabProcess::serve(state.path(), &[]);
    let selection = ["-f", manifests.as_str(), "--tenant", "fabrikam-emea", "--tenant", "fabrikam-us"];
    let before = markers(state.path(), FABRIKAM_EMEA);

    let check = lab.tenantctl(state.path(), &[&["tenants", "check", "-o", "json"], &selection[..]].concat());
    expect_code(&check, 3);
    let checked = json_of(&check);
    let missing = &tenant(&checked, "fabrikam-emea")["missingPermissions"];
    assert_eq!(
        missing,
        &json!([{"permission": "DeviceManagementRBAC.ReadWrite.All", "purpose": "write Intune roles"}])
    );

    let plan = json_of(&lab.tenantctl(state.path(), &[&["plan", "-o", "json"], &selection[..]].concat()));
    let refused = tenant(&plan, "fabrikam-emea");
    assert_eq!(refused["state"], "failed", "{plan}");
    assert_eq!(refused["problems"][0]["category"], "missingPermission");
    assert!(refused["problems"][0]["message"].as_str().expect("message").contains("adminconsent?client_id="));
    assert_eq!(tenant(&plan, "fabrikam-us")["state"], "planned");

    let apply = lab.tenantctl(state.path(), &[&["apply", "--auto-approve", "-o", "json"], &selection[..]].concat());
    expect_code(&apply, 1);
    assert_eq!(json_of(&apply)["verdict"], "incomplete");
    assert_eq!(markers(state.path(), FABRIKAM_EMEA), before, "no write in the refused tenant");
    let stored_roles = state.path().join("tenants").join(FABRIKAM_EMEA).join("roleDefinitions");
    assert!(std::fs::read_dir(&stored_roles).map(|mut d| d.next().is_none()).unwrap_or(true), "no role either");
    assert!(!markers(state.path(), FABRIKAM_US).is_empty(), "the other tenant was written");
    let roles_there = state.path().join("tenants").join(FABRIKAM_US).join("roleDefinitions");
    assert_eq!(std::fs::read_dir(roles_there).expect("roles written").count(), 1);
}

#[test]
fn a_tenant_without_defender_p2_is_flagged_for_the_defender_features_only() {
    let state = contoso_state();
    let lab = LabProcess::serve(state.path(), &["--withhold", &format!("{FABRIKAM_US}=WINDEFATP")]);
    let args = ["tenants", "check", "-f", "examples/contoso", "--tenant", "tailspin-apac", "--tenant", "fabrikam-us"];
    let output = lab.tenantctl(state.path(), &[&args[..], &["--for", "apply,incidents,hunt", "-o", "json"]].concat());
    expect_code(&output, 3);
    let report = json_of(&output);
    let rules =
        ["DetectionRule/lsass-unusual-access", "DetectionRule/new-local-admin", "DetectionRule/office-script-host"];
    for (name, delivered) in [("tailspin-apac", &[][..]), ("fabrikam-us", &rules[..])] {
        let flagged = tenant(&report, name);
        assert_eq!(flagged["reason"], "MissingLicence", "{report}");
        assert!(flagged.get("missingPermissions").is_none(), "{report}");
        let mut features: Vec<&str> = delivered.to_vec();
        features.extend(["EndpointDetectionPolicy/edr-onboarding", "advanced hunting", "incidents"]);
        assert_eq!(
            flagged["missingLicences"],
            json!([{"licence": "Microsoft Defender for Endpoint Plan 2", "features": features}]),
            "Intune is there; only the Defender features (detection rules where delivered) are flagged: {report}"
        );
    }
    assert_eq!(tenant(&report, "tailspin-apac")["licences"], json!(["SPB"]));
    // Without the Defender policy and commands, the same tenant is ready.
    let plan_only = lab.tenantctl(
        state.path(),
        &["tenants", "check", "-f", "examples/contoso", "--tenant", "tailspin-apac", "--profile", "retail-hardening"],
    );
    expect_code(&plan_only, 0);
    let _ = TAILSPIN_APAC;
}

#[test]
fn tenants_add_writes_a_manifest_that_validates_and_refuses_a_duplicate() {
    let state = contoso_state();
    // A customer the lab has and the manifests do not: a copy of Fabrikam under a new id.
    let newco = "5d7f9b1c-3e5a-4c7e-9f1b-3d5f7a9c1e22";
    let from = state.path().join("tenants").join(FABRIKAM_US);
    let to = state.path().join("tenants").join(newco);
    std::fs::create_dir_all(&to).expect("mkdir");
    std::fs::copy(from.join("tenant.json"), to.join("tenant.json")).expect("copy");
    edit_tenant_file(state.path(), newco, |file| file["displayName"] = json!("Contoso Newco APAC"));
    let lab = LabProcess::serve(state.path(), &[]);

    let work = tempfile::tempdir().expect("tempdir");
    super::roles::manifests(work.path(), false, "SG-Retail-Devices");
    let dir = work.path().to_string_lossy().to_string();
    let tenants_file = work.path().join("tenants.yaml");
    let out = tenants_file.to_string_lossy().to_string();
    let add = |args: &[&str]| {
        lab.tenantctl(state.path(), &[&["tenants", "add"], args, &["-f", dir.as_str(), "--out", out.as_str()]].concat())
    };
    let output = add(&[newco, "-l", "business-group=retail", "-l", "region=apac"]);
    expect_code(&output, 0);
    let written = std::fs::read_to_string(&tenants_file).expect("read");
    assert!(written.contains("name: contoso-newco-apac"), "{written}");
    assert!(written.contains("displayName: Contoso Newco APAC"), "read from the tenant's organization: {written}");
    expect_code(&tenantctl(&["validate", "-f", &dir]), 0);
    let check = lab.tenantctl(state.path(), &["tenants", "check", "-f", &dir, "--tenant", "contoso-newco-apac"]);
    expect_code(&check, 0);

    // The same tenant again: refused, the file unchanged.
    let again = add(&[newco, "--name", "newco-again"]);
    expect_code(&again, 1);
    assert!(stderr(&again).contains(newco), "{}", stderr(&again));
    assert_eq!(std::fs::read_to_string(&tenants_file).expect("read"), written);

    // A tenant that cannot be read needs its display name given.
    let unknown = "9a9a9a9a-1b1b-4c4c-8d8d-2e2e2e2e2e2e";
    let unread = add(&[unknown]);
    expect_code(&unread, 1);
    assert!(stderr(&unread).contains("give --display-name"), "{}", stderr(&unread));
    let named = add(&[unknown, "--display-name", "Future Customer"]);
    expect_code(&named, 0);
    expect_code(&tenantctl(&["validate", "-f", &dir]), 0);
}
