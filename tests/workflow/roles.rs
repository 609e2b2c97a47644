//! Intune roles as code through the CLI and the lab: a role delivered by a profile is planned,
//! created with its assignment (groups named by display name, resolved per tenant), found in sync,
//! updated when its members change, and pruned (behind the blast-radius guard) when no profile
//! delivers it any more. Built-in roles are never touched.

use std::path::Path;

use serde_json::Value;

use super::support::*;

const ROLE: &str = "apiVersion: tenantctl.dev/v1alpha1
kind: IntuneRole
metadata: {name: soc-readers}
spec:
  displayName: SOC readers
  description: Read-only access for the SOC
  allowedResourceActions: [Microsoft.Intune_DeviceConfigurations_Read, Microsoft.Intune_ManagedDevices_Read]
  assignments:
    - displayName: SOC on retail devices
      members: [MEMBERS]
      scopeGroups: [SG-Retail-Devices]
";

/// The Contoso manifests, with `retail-hardening` delivering the role when `deliver` is set.
pub fn manifests(dir: &Path, deliver: bool, members: &str) {
    let contoso = root().join("examples/contoso");
    std::fs::create_dir_all(dir.join("policies")).expect("mkdir");
    std::fs::copy(contoso.join("tenants.yaml"), dir.join("tenants.yaml")).expect("copy");
    for entry in std::fs::read_dir(contoso.join("policies")).expect("policies") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.join("policies").join(entry.file_name())).expect("copy");
    }
    let mut profiles = std::fs::read_to_string(contoso.join("profiles.yaml")).expect("profiles");
    if deliver {
        let anchor = "    - {kind: AttackSurfaceReductionPolicy, name: asr-block}\n";
        assert!(profiles.contains(anchor));
        profiles = profiles.replacen(anchor, &format!("{anchor}  roles: [soc-readers]\n"), 1);
    }
    std::fs::write(dir.join("profiles.yaml"), profiles).expect("write");
    std::fs::write(dir.join("roles.yaml"), ROLE.replace("MEMBERS", members)).expect("write");
}

fn stored(lab: &Path, tenant: &str, collection: &str) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(lab.join("tenants").join(tenant).join(collection)) else { return Vec::new() };
    entries
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.expect("entry").path()).expect("read")).expect("json"))
        .collect()
}

fn group_id(lab: &Path, tenant: &str, name: &str) -> String {
    stored(lab, tenant, "groups")
        .into_iter()
        .find(|g| g["displayName"] == name)
        .and_then(|g| g["id"].as_str().map(str::to_string))
        .expect("group")
}

#[test]
fn roles_are_planned_applied_updated_and_pruned_like_policies() {
    let state = contoso_state();
    let lab = state.path();
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().to_string_lossy().to_string();
    manifests(work.path(), true, "SG-Break-Glass-Devices");

    let plan = with_lab(lab, &["plan", "-f", &dir, "--detailed-exitcode"]);
    expect_code(&plan, 2);
    let text = stdout(&plan);
    assert_eq!(text.matches("+ IntuneRole/soc-readers").count(), 3, "one per retail tenant: {text}");

    expect_code(&with_lab(lab, &["apply", "-f", &dir, "--auto-approve"]), 0);
    let roles = stored(lab, FABRIKAM_EMEA, "roleDefinitions");
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0]["displayName"], "SOC readers");
    assert!(
        roles[0]["description"]
            .as_str()
            .expect("description")
            .ends_with("[managed-by tenantctl: IntuneRole/soc-readers]")
    );
    let assignments = stored(lab, FABRIKAM_EMEA, "roleAssignments");
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0]["members"][0], group_id(lab, FABRIKAM_EMEA, "SG-Break-Glass-Devices"));
    assert_eq!(assignments[0]["resourceScopes"][0], group_id(lab, FABRIKAM_EMEA, "SG-Retail-Devices"));
    assert!(stored(lab, NORTHWIND_US, "roleDefinitions").is_empty(), "only the tenants the profile selects");

    let again = with_lab(lab, &["plan", "-f", &dir, "--detailed-exitcode"]);
    expect_code(&again, 0);

    // New members: an update of the assignment in place.
    manifests(work.path(), true, "SG-Retail-Devices");
    let update = with_lab(lab, &["plan", "-f", &dir]);
    let text = stdout(&update);
    assert_eq!(text.matches("~ IntuneRole/soc-readers").count(), 3, "{text}");
    assert!(text.contains("-     - SG-Break-Glass-Devices") && text.contains("+     - SG-Retail-Devices"), "{text}");
    expect_code(&with_lab(lab, &["apply", "-f", &dir, "--auto-approve"]), 0);
    let assignments = stored(lab, FABRIKAM_EMEA, "roleAssignments");
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0]["members"][0], group_id(lab, FABRIKAM_EMEA, "SG-Retail-Devices"));
    expect_code(&with_lab(lab, &["plan", "-f", &dir, "--detailed-exitcode"]), 0);

    // No profile delivers it: `baseline` prunes, but deleting every owned role needs confirmation.
    manifests(work.path(), false, "SG-Retail-Devices");
    let refused = with_lab(lab, &["apply", "-f", &dir, "--auto-approve"]);
    expect_code(&refused, 1);
    assert!(stdout(&refused).contains("tenantctl-owned roles") || stderr(&refused).contains("tenantctl-owned roles"));
    assert_eq!(stored(lab, FABRIKAM_EMEA, "roleDefinitions").len(), 1, "nothing deleted without confirmation");
    expect_code(&with_lab(lab, &["apply", "-f", &dir, "--auto-approve", "--allow-mass-delete"]), 0);
    assert!(stored(lab, FABRIKAM_EMEA, "roleDefinitions").is_empty());
    assert!(stored(lab, FABRIKAM_EMEA, "roleAssignments").is_empty());
    expect_code(&with_lab(lab, &["plan", "-f", &dir, "--detailed-exitcode"]), 0);
}
