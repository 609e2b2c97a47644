//! `kubectl apply` of the Contoso example: the operator converges the lab tenants, reports Ready,
//! propagates a patched policy, repairs drift made in the tenant within the sync interval, and
//! aggregates profile status. The CLI, run afterwards against the same lab, agrees that nothing is
//! left to change.

use serde_json::Value;
use tenantctl::graph::client::{Credential, Credentials, GraphClient, GraphConfig};
use tenantctl::util::secret::Secret;

use super::harness::{CONTOSO_TENANTS, World};
use super::support::{FABRIKAM_EMEA, markers};

const AV_MARKER: &str = "[managed-by tenantctl: AntivirusPolicy/av-standard]";
const FIREWALL_MARKER: &str = "[managed-by tenantctl: FirewallPolicy/firewall-baseline]";

fn lab_client(world: &World) -> GraphClient {
    let lab: Value =
        serde_json::from_str(&std::fs::read_to_string(world.lab_state().join("lab.json")).expect("lab.json"))
            .expect("json");
    let credential = Credential::ClientSecret {
        client_id: lab["apps"][0]["clientId"].as_str().expect("client id").to_string(),
        secret: Secret::new(lab["apps"][0]["clientSecret"].as_str().expect("secret").to_string()),
    };
    let config = GraphConfig::new(&world.lab.url, &world.lab.url).expect("config");
    GraphClient::new(config, Credentials::with_default(credential)).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contoso_converges_propagates_patches_and_repairs_drift() {
    let world = World::new("op-converge").await;
    world.apply_contoso().await;
    let operator = world.operator("converge-0", "converge");

    for tenant in CONTOSO_TENANTS {
        world.wait_condition(tenant, "Ready", "True", "Reconciled").await;
    }
    world.wait_condition("proseware-apac", "Ready", "False", "Suspended").await;
    // Its own credential (named by environment variable) is used, not the operator-wide one.
    let woodgrove = world.wait_condition("woodgrove-emea", "Ready", "False", "Unreachable").await;
    assert!(woodgrove.message.contains("2b4d6f8a-0c1e-4a3b-9d5f-7e9a1c3b5d88"), "{}", woodgrove.message);
    world.wait_condition("fabrikam-emea", "Synced", "True", "InSync").await;
    world.wait_condition("northwind-us", "Drifted", "False", "NoDrift").await;

    let fabrikam = world.tenants().get("fabrikam-emea").await.expect("tenant");
    assert_eq!(fabrikam.metadata.finalizers.as_deref(), Some(&["tenantctl.dev/deletion-policy".to_string()][..]));
    let status = fabrikam.status.expect("status");
    assert_eq!(status.observed_generation, fabrikam.metadata.generation);
    assert!(status.last_sync_time.is_some());
    let policies: Vec<String> = status.policies.iter().map(|p| format!("{}:{:?}", p.policy, p.state)).collect();
    assert_eq!(policies.len(), 8, "{policies:?}");
    assert!(world.event_reasons("fabrikam-emea").await.contains(&"Created".to_string()));
    assert_eq!(markers(world.lab_state(), FABRIKAM_EMEA).get(AV_MARKER), Some(&1));

    // The CLI, on the same manifests and lab, finds nothing left to do (woodgrove-emea stays unknown).
    let plan = world.lab.tenantctl(world.lab_state(), &["plan", "-f", "examples/contoso", "--detailed-exitcode"]);
    super::support::expect_code(&plan, 3);
    let text = super::support::stdout(&plan);
    assert!(text.contains("Plan: 0 to create, 0 to update, 0 to delete"), "{text}");

    // Profiles aggregate their tenants.
    let profile = world
        .eventually("retail-hardening status", 30, || async {
            let profile = world.profiles().get("retail-hardening").await.map_err(|e| e.to_string())?;
            match profile.status {
                Some(s) if s.tenants_matched > 0 && s.tenants_in_sync == s.tenants_matched => Ok(s),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    assert_eq!((profile.tenants_drifted, profile.tenants_failed), (0, 0));
    // A patched policy reaches every tenant that receives it.
    let av = std::fs::read_to_string(super::support::root().join("examples/contoso/policies/av-standard.yaml"))
        .expect("av-standard.yaml")
        .replace("description: Defender Antivirus standard protection", "description: Patched through the cluster.");
    world.apply(&av).await;
    world
        .eventually("the patched description in the lab", 30, || async {
            match world.description_of(FABRIKAM_EMEA, AV_MARKER) {
                Some(d) if d.starts_with("Patched through the cluster.") => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;

    // Drift made directly in the tenant is repaired within the sync interval (3 s here).
    let graph = lab_client(&world).tenant(FABRIKAM_EMEA);
    let live = graph.list_policies().await.expect("list");
    let firewall = live.iter().find(|p| p.description.ends_with(FIREWALL_MARKER)).expect("firewall policy");
    graph.delete_policy(firewall.id.as_deref().expect("id")).await.expect("delete");
    assert_eq!(markers(world.lab_state(), FABRIKAM_EMEA).get(FIREWALL_MARKER), None);
    world
        .eventually("the deleted firewall policy to be re-created", 30, || async {
            match markers(world.lab_state(), FABRIKAM_EMEA).get(FIREWALL_MARKER) {
                Some(1) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;

    // A setting changed in the tenant (through Graph, as the portal does) is repaired too: the
    // policy's version moved, so the operator reads it again rather than trusting what it kept.
    let live = graph.list_policies_in_full().await.expect("list");
    let mut av = live.into_iter().find(|p| p.description.ends_with(AV_MARKER)).expect("antivirus policy");
    let settings = av.settings.len();
    av.settings.pop();
    graph.update_policy(av.id.as_deref().expect("id"), &av).await.expect("update");
    world
        .eventually("the removed antivirus setting to be restored", 30, || async {
            let live = graph.list_policies_in_full().await.map_err(|e| e.to_string())?;
            match live.iter().find(|p| p.description.ends_with(AV_MARKER)).map(|p| p.settings.len()) {
                Some(count) if count == settings => Ok(()),
                other => Err(format!("{other:?} of {settings} settings")),
            }
        })
        .await;

    // Health and metrics.
    assert_eq!(operator.get("/healthz").await.0, 200);
    assert_eq!(operator.get("/readyz").await.0, 200, "{}", operator.log_text());
    assert_eq!(operator.metric("tenantctl_leader").await, 1.0);
    assert!(operator.metric("tenantctl_reconciles_total").await > 0.0);
    assert!(operator.metric("tenantctl_graph_requests_total").await > 0.0);
    assert!(operator.metric("tenantctl_policy_writes_total").await > 0.0);
    assert!(
        !operator.log_text().contains(super::harness::LAB_SECRET),
        "the client secret appears in the operator's logs"
    );
}
