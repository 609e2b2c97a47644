//! The operator in a tenant whose Multi Admin Approval holds configuration-policy writes: the Tenant
//! says it awaits approval (not failed), syncs ask nothing twice, and once approvers approve, the
//! next syncs carry the writes out.

use serde_json::{Value, json};

use super::harness::World;
use super::support::{NORTHWIND_US, markers};

async fn approval_requests(world: &World) -> Vec<Value> {
    let url = format!("{}/_lab/approvals/{NORTHWIND_US}", world.lab.url);
    let listed: Value = reqwest::get(url).await.expect("lab").json().await.expect("JSON");
    listed["value"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_held_for_approval_waits_then_converges_once_approved() {
    let world = World::new("op-approval").await;
    let config = format!("{}/_lab/config", world.lab.url);
    let reply = reqwest::Client::new().put(config).json(&json!({"approvalTenants": [NORTHWIND_US]})).send().await;
    assert!(reply.expect("lab config").status().is_success());
    world.apply_contoso().await;
    let _operator = world.operator("approval-0", "approval");

    let held = world.wait_condition("northwind-us", "Ready", "False", "AwaitingApproval").await;
    assert!(held.message.contains("approval request"), "{}", held.message);
    assert!(!approval_requests(&world).await.is_empty());
    // Several syncs later (3 s each), still one request per write. (More writes may have asked by
    // then: the baseline's wait for its rollout to be decided.)
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    let requests = approval_requests(&world).await;
    let writes: std::collections::BTreeSet<&str> =
        requests.iter().map(|r| r["requestJustification"].as_str().unwrap_or_default()).collect();
    assert_eq!(writes.len(), requests.len(), "no request is filed twice: {requests:#?}");
    assert!(world.event_reasons("northwind-us").await.contains(&"AwaitingApproval".to_string()));

    // The approver approves whatever waits (the creates, then the new policies' assignments).
    world
        .eventually("northwind-us reconciled once approved", 90, || async {
            for request in approval_requests(&world).await.iter().filter(|r| r["status"] == "needsApproval") {
                let id = request["id"].as_str().unwrap_or_default();
                let url = format!("{}/_lab/approvals/{NORTHWIND_US}/{id}/approve", world.lab.url);
                let _ = reqwest::Client::new().post(url).send().await;
            }
            match world.condition("northwind-us", "Ready").await {
                Some(c) if c.status == "True" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    let owned = markers(world.lab_state(), NORTHWIND_US);
    assert!(owned.values().all(|&copies| copies == 1), "no duplicate: {owned:?}");
}
