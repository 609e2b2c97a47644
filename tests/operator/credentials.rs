//! Per-tenant credentials from a Kubernetes Secret the Tenant references: a missing Secret is
//! reported (nothing read or written) until it appears; its content is never logged.

use super::harness::{LAB_SECRET, World};
use super::support::{FABRIKAM_EMEA, markers};

const FIREWALL: &str = "[managed-by tenantctl: FirewallPolicy/firewall-baseline]";

const RESOURCES: &str = r#"
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: fabrikam-emea, labels: {business-group: retail}}
spec:
  tenantId: 4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11
  displayName: Fabrikam Retail EMEA
  credentials:
    clientId: 5f0c8a2e-3b71-4d96-a8e4-1c7b9d2f6e10
    secretRef: {name: fabrikam-graph, key: secret}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: baseline}
spec:
  tenantSelector: {matchLabels: {business-group: retail}}
  policies: [{kind: FirewallPolicy, name: firewall-baseline}]
  assignments: {allDevices: true}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_uses_the_secret_it_references_once_it_exists() {
    let world = World::new("op-credentials").await;
    world.apply(RESOURCES).await;
    world
        .apply(
            &std::fs::read_to_string(super::support::root().join("examples/contoso/policies/firewall-baseline.yaml"))
                .expect("policy"),
        )
        .await;
    let operator = world.operator("credentials-0", "credentials");

    let missing = world.wait_condition("fabrikam-emea", "Ready", "False", "CredentialsUnavailable").await;
    assert!(missing.message.contains("Secret op-credentials/fabrikam-graph not found"), "{}", missing.message);
    assert_eq!(markers(world.lab_state(), FABRIKAM_EMEA).get(FIREWALL), None);

    // A wrong secret: the token endpoint refuses it, the tenant is unreachable, nothing is written.
    world.apply("apiVersion: v1\nkind: Secret\nmetadata: {name: fabrikam-graph}\nstringData: {secret: wrong}\n").await;
    world.wait_condition("fabrikam-emea", "Ready", "False", "Unreachable").await;
    assert_eq!(markers(world.lab_state(), FABRIKAM_EMEA).get(FIREWALL), None);

    // Rotated to the right one: picked up at the next sync.
    world
        .apply(&format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: fabrikam-graph}}\nstringData: {{secret: {LAB_SECRET}}}\n"
        ))
        .await;
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
    assert_eq!(markers(world.lab_state(), FABRIKAM_EMEA).get(FIREWALL), Some(&1));
    assert!(!operator.log_text().contains(LAB_SECRET), "the client secret appears in the operator's logs");
}
