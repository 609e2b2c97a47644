//! The operator when its control plane fails under it: kube-apiserver killed with `kill -9` in the
//! middle of a reconcile wave and started again. The watches must heal by themselves within seconds —
//! a change made once the API server is back is applied within 10 s — and nothing is duplicated.
//! The API server case runs on a control plane of its own, so that the other cases never see the
//! outage; the Graph outage stops the lab.

use std::time::{Duration, Instant};

use super::cluster::Cluster;
use super::harness::{CONTOSO_TENANTS, World};
use super::support::{FABRIKAM_EMEA, markers, root};

const AV_MARKER: &str = "[managed-by tenantctl: AntivirusPolicy/av-standard]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_apiserver_restart_a_change_is_applied_within_seconds() {
    let cluster = Cluster::private().await;
    let world = World::on(cluster, "op-faults").await;
    world.apply_contoso().await;
    let _operator = world.operator("faults-0", "faults");
    // Killed once the first wave is reconciled, and down long enough for backoffs to grow.
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
    cluster.restart_apiserver(15);
    let back = Instant::now();

    let av = std::fs::read_to_string(root().join("examples/contoso/policies/av-standard.yaml"))
        .expect("av-standard.yaml")
        .replace("description: Defender Antivirus standard protection", "description: Changed after the outage.");
    world.apply(&av).await;
    world
        .eventually("the change in the lab", 30, || async {
            match world.description_of(FABRIKAM_EMEA, AV_MARKER) {
                Some(d) if d.starts_with("Changed after the outage.") => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    let took = back.elapsed();
    println!("{{\"scenario\":\"apiserver-restart\",\"applied_after_ready_s\":{:.2}}}", took.as_secs_f64());
    assert!(took < Duration::from_secs(10), "applied {took:?} after the API server was back");
    assert!(markers(world.lab_state(), FABRIKAM_EMEA).values().all(|&copies| copies == 1), "no duplicate");
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_outage_takes_every_tenant_out_of_ready_within_an_interval_and_back() {
    let mut world = World::new("op-outage").await;
    world.apply_contoso().await;
    let _operator = world.operator("outage-0", "outage");
    for tenant in CONTOSO_TENANTS {
        world.wait_condition(tenant, "Ready", "True", "Reconciled").await;
    }
    // Graph goes away: connections are refused. Within one sync interval (3 s here) no tenant says
    // Ready: the operator sees the endpoint refuse and marks every tenant, without waiting for each
    // tenant's next reconcile.
    world.lab.stop();
    let down = Instant::now();
    for tenant in CONTOSO_TENANTS {
        world.wait_condition(tenant, "Ready", "False", "Unreachable").await;
    }
    let all_out = down.elapsed();
    println!("{{\"scenario\":\"graph-outage\",\"all_tenants_unready_after_s\":{:.2}}}", all_out.as_secs_f64());
    assert!(all_out < Duration::from_secs(3), "every tenant left Ready after {all_out:?}");
    world.lab.restart();
    for tenant in CONTOSO_TENANTS {
        world.wait_condition(tenant, "Ready", "True", "Reconciled").await;
    }
    assert!(markers(world.lab_state(), FABRIKAM_EMEA).values().all(|&copies| copies == 1), "no duplicate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_whose_reads_hang_are_marked_stale_and_recover() {
    let world = World::new("op-stale").await;
    world.apply_contoso().await;
    let _operator = world.operator("stale-0", "stale");
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
    // Graph answers, but only after 25 s: reconciles hang in their reads, longer than three intervals.
    let configure = |latency_ms: u64| {
        let url = format!("{}/_lab/config", world.lab.url);
        async move {
            let reply =
                reqwest::Client::new().put(url).json(&serde_json::json!({"latencyMs": latency_ms})).send().await;
            assert!(reply.expect("lab config").status().is_success());
        }
    };
    configure(25_000).await;
    let stale = world.wait_condition("fabrikam-emea", "Ready", "False", "Stale").await;
    assert!(stale.message.contains("not read successfully for"), "{}", stale.message);
    configure(0).await;
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
}
