//! Custom detection rules between the client and the lab, through the engine's door: a rule the
//! manifests render is created under its id and read back equal, a second create of the id is the
//! `conflict` the engine answers by reading the rule of that id, a missing id reads as none.

use tenantctl::engine::api::{CONFLICT, TenantApi};
use tenantctl::manifest::load::{Loaded, load_text};
use tenantctl::mapping::detection_rule::{comparable, to_wire};
use tenantctl::model::detection::DetectionRuleSpec;

use super::support::{Lab, TENANT_A, state};

fn spec() -> DetectionRuleSpec {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/detections/office-script-host.yaml"))
            .expect("library rule");
    let mut loaded = Loaded::default();
    load_text(&mut loaded, "office-script-host.yaml".into(), &text);
    loaded.set.detection_rules.into_iter().next().expect("a rule").object.spec
}

#[tokio::test]
async fn a_rendered_rule_round_trips_and_a_second_create_is_a_conflict() {
    let lab = Lab::serve(state(), &[]);
    let graph = lab.client().tenant(TENANT_A);
    let rule = to_wire(&spec(), "tenantctl-0123456789abcdef", "Office started a script host.".into());

    let created = TenantApi::create_detection_rule(&graph, &rule).await.expect("created");
    assert_eq!(created.id.as_deref(), Some("tenantctl-0123456789abcdef"));
    let read = graph.get_detection_rule("tenantctl-0123456789abcdef").await.expect("read").expect("found");
    assert_eq!(comparable(&read), comparable(&rule), "the lab keeps what was sent");
    let listed = graph.list_detection_rules().await.expect("list");
    assert_eq!(listed.len(), 1);

    let again = TenantApi::create_detection_rule(&graph, &rule).await.expect_err("a duplicate");
    assert_eq!(again.category, CONFLICT);
    assert!(graph.get_detection_rule("tenantctl-none").await.expect("read").is_none());

    let mut disabled = rule.clone();
    disabled.id = None;
    disabled.status = Some("disabled".into());
    TenantApi::update_detection_rule(&graph, "tenantctl-0123456789abcdef", &disabled).await.expect("updated");
    let read = graph.get_detection_rule("tenantctl-0123456789abcdef").await.expect("read").expect("found");
    assert!(!read.is_enabled());
    TenantApi::delete_detection_rule(&graph, "tenantctl-0123456789abcdef").await.expect("deleted");
    assert!(graph.list_detection_rules().await.expect("list").is_empty());
}
