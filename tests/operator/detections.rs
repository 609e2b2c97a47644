//! Detection rules applied with kubectl reach the retail tenants through the operator: created once
//! under tenantctl's ids, reported per rule in the Tenant's status, with an event each; a query
//! changed in the cluster is an update of the same rule.

use super::cluster::kubectl;
use super::harness::World;
use super::support::FABRIKAM_EMEA;

fn rules(world: &World) -> Vec<serde_json::Value> {
    let mut rules = world.stored(FABRIKAM_EMEA, "detectionRules");
    rules.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    rules
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detection_rules_applied_with_kubectl_reach_the_tenants_and_follow_changes() {
    let world = World::new("op-detections").await;
    world.apply_contoso().await;
    let listed = kubectl(&["get", "drule", "-n", &world.namespace], None).expect("kubectl get drule");
    for name in ["lsass-unusual-access", "office-script-host", "new-local-admin"] {
        assert!(listed.contains(name), "{name} in:\n{listed}");
    }
    let _operator = world.operator("detections-0", "detections");
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
    world
        .eventually("three rules in the lab", 30, || async {
            let rules = rules(&world);
            if rules.len() == 3 { Ok(()) } else { Err(format!("{rules:?}")) }
        })
        .await;
    let ids: Vec<serde_json::Value> = rules(&world).iter().map(|r| r["id"].clone()).collect();
    let status = world
        .eventually("every rule in sync in the status", 30, || async {
            let tenant = world.tenants().get("fabrikam-emea").await.map_err(|e| e.to_string())?;
            let status = tenant.status.unwrap_or_default();
            let states: Vec<String> = status.detection_rules.iter().map(|r| format!("{:?}", r.state)).collect();
            if states.len() == 3 && states.iter().all(|s| s == "InSync") {
                Ok(status)
            } else {
                Err(format!("{states:?}"))
            }
        })
        .await;
    assert!(
        status.detection_rules.iter().all(|r| r.graph_id.as_deref().is_some_and(|id| id.starts_with("tenantctl-")))
    );
    let events = world.event_reasons("fabrikam-emea").await;
    assert!(events.contains(&"Created".to_string()), "{events:?}");

    // The query changes in the cluster: the same rule is updated.
    let file = super::support::root().join("examples/contoso/policies/detect-lsass-unusual-access.yaml");
    let text = std::fs::read_to_string(file).expect("rule");
    let anchor = "    | where FileName =~ \"lsass.exe\"\n";
    assert!(text.contains(anchor));
    let narrower =
        text.replacen(anchor, &format!("{anchor}    | where InitiatingProcessFileName !startswith \"Sense\"\n"), 1);
    world.apply(&narrower).await;
    world
        .eventually("the query updated in the lab", 45, || async {
            let rules = rules(&world);
            let updated = rules.iter().any(|r| {
                r["queryCondition"]["queryText"].as_str().is_some_and(|q| q.contains("!startswith \"Sense\""))
            });
            if updated { Ok(()) } else { Err("not yet".to_string()) }
        })
        .await;
    let after: Vec<serde_json::Value> = rules(&world).iter().map(|r| r["id"].clone()).collect();
    assert_eq!(after, ids, "updated in place");
}
