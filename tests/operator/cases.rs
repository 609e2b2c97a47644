//! A Case applied with kubectl: the operator writes it onto its member incidents in the lab (tag,
//! owner, one comment however often it reconciles) and shows every member's live state in the
//! Case's status.

use kube::api::Api;
use tenantctl::model::Case;

use super::harness::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_is_written_onto_its_incidents_once_and_shows_its_members() {
    let world = World::new("op-cases").await;
    world.apply_contoso().await;
    let _operator = world.operator("cases-0", "cases");
    let cases: Api<Case> = Api::namespaced(world.admin.clone(), &world.namespace);
    let status = world
        .eventually("the case's members in its status", 60, || async {
            let case = cases.get("lsass-wave").await.map_err(|e| e.to_string())?;
            match case.status {
                Some(status) if status.member_count == 3 => Ok(status),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    let members: Vec<String> = status.members.iter().map(|m| format!("{}/{}", m.tenant, m.id)).collect();
    assert_eq!(members, ["fabrikam-emea/2001", "fabrikam-us/2010", "northwind-emea/2041"]);
    assert_eq!(status.open_tasks, 2);

    // Several syncs later (3 s apart), each member still has the tag and the comment once.
    tokio::time::sleep(std::time::Duration::from_secs(8)).await;
    let path = world.lab_state().join("tenants").join(super::support::FABRIKAM_EMEA).join("incidents/2001.json");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("incident")).expect("json");
    let tags = stored["customTags"].as_array().expect("tags");
    assert_eq!(tags.iter().filter(|t| *t == "case:lsass-wave").count(), 1, "{stored}");
    let comments = stored["comments"].as_array().expect("comments");
    let links =
        comments.iter().filter(|c| c["comment"].as_str().is_some_and(|t| t.starts_with("Linked to case lsass-wave")));
    assert_eq!(links.count(), 1, "{stored}");
}
