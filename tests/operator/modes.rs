//! Audit mode writes nothing and reports drift; invalid or conflicting resources block writes and
//! say why; switching a profile to enforce writes.

use super::harness::World;
use super::support::{FABRIKAM_EMEA, markers, stored_policies};

const TENANT: &str = r#"
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: fabrikam-emea, labels: {business-group: retail}}
spec: {tenantId: 4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11, displayName: Fabrikam Retail EMEA}
"#;

fn profile(name: &str, policy: &str, mode: &str, assignments: &str) -> String {
    format!(
        "apiVersion: tenantctl.dev/v1alpha1\nkind: DistributionProfile\nmetadata: {{name: {name}}}\nspec:\n  \
         tenantSelector: {{matchLabels: {{business-group: retail}}}}\n  policies: [{policy}]\n  \
         assignments: {assignments}\n  mode: {mode}\n"
    )
}

fn example_policy(file: &str) -> String {
    std::fs::read_to_string(super::support::root().join("examples/contoso/policies").join(file)).expect("policy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_mode_writes_nothing_and_reports_drift_until_enforced() {
    let world = World::new("op-audit").await;
    world.apply(TENANT).await;
    world.apply(&example_policy("av-strict.yaml")).await;
    world.apply(&profile("strict", "{kind: AntivirusPolicy, name: av-strict}", "audit", "{allDevices: true}")).await;
    let before = stored_policies(world.lab_state(), FABRIKAM_EMEA);
    let _operator = world.operator("audit-0", "audit");

    world.wait_condition("fabrikam-emea", "Drifted", "True", "DriftDetected").await;
    world.wait_condition("fabrikam-emea", "Synced", "False", "Drifted").await;
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
    let status = world.tenants().get("fabrikam-emea").await.expect("tenant").status.expect("status");
    assert_eq!(format!("{:?}", status.policies[0].state), "Drifted");
    // Another sync interval (3 s) passes: still nothing written.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(stored_policies(world.lab_state(), FABRIKAM_EMEA), before, "audit mode wrote to the tenant");
    assert!(world.event_reasons("fabrikam-emea").await.contains(&"Drifted".to_string()));
    world
        .eventually("the profile to count the drifted tenant", 30, || async {
            let profile = world.profiles().get("strict").await.map_err(|e| e.to_string())?;
            match profile.status {
                Some(s) if s.tenants_matched == 1 && s.tenants_drifted == 1 => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;

    world.apply(&profile("strict", "{kind: AntivirusPolicy, name: av-strict}", "enforce", "{allDevices: true}")).await;
    world.wait_condition("fabrikam-emea", "Drifted", "False", "NoDrift").await;
    world.wait_condition("fabrikam-emea", "Synced", "True", "InSync").await;
    assert_eq!(
        markers(world.lab_state(), FABRIKAM_EMEA).get("[managed-by tenantctl: AntivirusPolicy/av-strict]"),
        Some(&1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_and_conflicting_resources_block_writes_and_say_why() {
    let world = World::new("op-invalid").await;
    world.apply(TENANT).await;
    world
        .apply(&profile("base", "{kind: FirewallPolicy, name: firewall-baseline}", "enforce", "{allDevices: true}"))
        .await;
    let before = stored_policies(world.lab_state(), FABRIKAM_EMEA);
    let _operator = world.operator("invalid-0", "invalid");

    let ready = world.wait_condition("fabrikam-emea", "Ready", "False", "InvalidResources").await;
    assert!(ready.message.contains("firewall-baseline"), "{}", ready.message);

    // The missing policy arrives: the tenant converges without any other change.
    world.apply(&example_policy("firewall-baseline.yaml")).await;
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
    let converged = stored_policies(world.lab_state(), FABRIKAM_EMEA);
    assert_eq!(converged.len(), before.len() + 1);

    // A second profile delivers the same policy to the same tenant, assigned differently.
    world
        .apply(&profile("other", "{kind: FirewallPolicy, name: firewall-baseline}", "enforce", "{allUsers: true}"))
        .await;
    let conflict = world.wait_condition("fabrikam-emea", "Conflict", "True", "ProfileConflict").await;
    assert!(conflict.message.contains("`base` and `other`"), "{}", conflict.message);
    world.wait_condition("fabrikam-emea", "Ready", "False", "InvalidResources").await;
    assert_eq!(stored_policies(world.lab_state(), FABRIKAM_EMEA), converged, "nothing written during the conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_profile_holds_back_only_the_tenants_it_selects() {
    let world = World::new("op-broken").await;
    world.apply_contoso().await;
    // Applied with kubectl like everything else: valid for the API server, broken for tenantctl (it
    // delivers a policy that does not exist).
    world
        .apply(
            "apiVersion: tenantctl.dev/v1alpha1\nkind: DistributionProfile\nmetadata: {name: pilot}\nspec:\n  tenants: [northwind-us]\n  policies: [{kind: AntivirusPolicy, name: av-pilot}]\n  assignments: {allDevices: true}\n",
        )
        .await;
    let _operator = world.operator("broken-0", "broken");
    let held = world.wait_condition("northwind-us", "Ready", "False", "InvalidResources").await;
    assert!(held.message.contains("AntivirusPolicy/av-pilot"), "{}", held.message);
    world.wait_condition("northwind-us", "Stalled", "True", "InvalidResources").await;
    for tenant in ["fabrikam-emea", "fabrikam-us", "adatum-apac"] {
        world.wait_condition(tenant, "Ready", "True", "Reconciled").await;
    }
    // The profile says what is wrong with it in its own status.
    let message = world
        .eventually("the pilot profile's Ready=False (Invalid)", 30, || async {
            let profile = world.profiles().get("pilot").await.map_err(|e| e.to_string())?;
            let ready = profile.status.and_then(|s| s.conditions.into_iter().find(|c| c.type_ == "Ready"));
            match ready {
                Some(c) if c.status == "False" && c.reason == "Invalid" => Ok(c.message),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    assert!(message.contains("AntivirusPolicy/av-pilot not found"), "{message}");
}
