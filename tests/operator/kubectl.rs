//! The operator as a cluster admin drives it with the real kubectl: `kubectl get tenantctl` lists every
//! kind, a policy set to `off` (a boolean to YAML 1.1 readers) is admitted as the text it is and
//! delivered, and each policy action is an event of its own naming the policy.

use super::cluster::kubectl;
use super::harness::World;

const STRICT_OFF: &str = "
apiVersion: tenantctl.dev/v1alpha1
kind: AntivirusPolicy
metadata:
  name: av-network-protection-off
spec:
  displayName: Contoso AV - Network protection off
  settings:
    realTimeMonitoring: enabled
    networkProtection: \"off\"
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata:
  name: network-protection-off
spec:
  tenants: [northwind-us]
  policies: [{kind: AntivirusPolicy, name: av-network-protection-off}]
  assignments: {allDevices: true}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_lists_applies_off_and_sees_one_event_per_policy_action() {
    let world = World::new("op-kubectl").await;
    world.apply_contoso().await;
    world.apply(STRICT_OFF).await;
    let stored = kubectl(
        &[
            "get",
            "antiviruspolicy",
            "av-network-protection-off",
            "-n",
            &world.namespace,
            "-o",
            "jsonpath={.spec.settings.networkProtection}",
        ],
        None,
    )
    .expect("kubectl get");
    assert_eq!(stored, "off", "admitted and stored as text");

    let listed = kubectl(&["get", "tenantctl", "-n", &world.namespace], None).expect("kubectl get tenantctl");
    for kind in [
        "tenant.tenantctl.dev/fabrikam-emea",
        "distributionprofile.tenantctl.dev/baseline",
        "antiviruspolicy.tenantctl.dev/av-standard",
    ] {
        assert!(listed.contains(kind), "{kind} in:\n{listed}");
    }

    let _operator = world.operator("kubectl-0", "kubectl");
    world.wait_condition("northwind-us", "Ready", "True", "Reconciled").await;
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
    let tenants = kubectl(&["get", "tn", "-n", &world.namespace], None).expect("kubectl get tn");
    let header = tenants.lines().next().unwrap_or_default();
    for column in ["NAME", "DISPLAY NAME", "READY", "SYNCED", "REASON", "AGE"] {
        assert!(header.contains(column), "{column} in {header}");
    }

    // A changed policy changes what the tenant is planned from; Ready speaks of the new inputs once
    // they are written, and nothing is left reconciling.
    let inputs = |tenant: tenantctl::model::Tenant| tenant.status.and_then(|s| s.observed_inputs);
    let before = inputs(world.tenants().get("northwind-us").await.expect("tenant"));
    assert!(before.is_some());
    world.apply(&STRICT_OFF.replace("realTimeMonitoring: enabled", "realTimeMonitoring: disabled")).await;
    world
        .eventually("northwind-us reconciled with the changed policy", 30, || async {
            let tenant = world.tenants().get("northwind-us").await.map_err(|e| e.to_string())?;
            let conditions = tenant.status.clone().map(|s| s.conditions).unwrap_or_default();
            let is = |type_: &str, status: &str| conditions.iter().any(|c| c.type_ == type_ && c.status == status);
            let now = inputs(tenant);
            if now != before && is("Ready", "True") && is("Reconciling", "False") && is("Stalled", "False") {
                Ok(())
            } else {
                Err(format!("{now:?} {conditions:?}"))
            }
        })
        .await;

    // One event per created policy, each naming its policy as the related object.
    let events = world
        .eventually("a Created event per policy of fabrikam-emea", 30, || async {
            let events = kubectl(
                &[
                    "get",
                    "events.v1.events.k8s.io",
                    "-n",
                    &world.namespace,
                    "--field-selector",
                    "regarding.name=fabrikam-emea",
                    "-o",
                    "json",
                ],
                None,
            )?;
            let list: serde_json::Value = serde_json::from_str(&events).map_err(|e| e.to_string())?;
            let created: Vec<String> = list["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["reason"] == "Created")
                .map(|e| {
                    format!(
                        "{}/{}",
                        e["related"]["kind"].as_str().unwrap_or("?"),
                        e["related"]["name"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            if created.len() >= 2 { Ok(created) } else { Err(format!("{created:?}")) }
        })
        .await;
    assert!(events.contains(&"AntivirusPolicy/av-standard".to_string()), "{events:?}");
    assert!(events.contains(&"FirewallPolicy/firewall-baseline".to_string()), "{events:?}");
}
