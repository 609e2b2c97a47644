//! Paging with `@odata.nextLink`, `$top`, `$expand`, `$select`, `$filter` on groups and incidents, and
//! advanced hunting.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::support::{TestLab, write};

const POLICIES: &str = "/beta/deviceManagement/configurationPolicies";

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["id"].as_str().expect("id").to_string()).collect()
}

#[tokio::test]
async fn paging_follows_next_links_and_sees_every_object_once() {
    let lab = TestLab::generated(1, 23, |options| options.page_size = 4).await;
    let tenant = &lab.tenants()[0];
    let token = lab.token(tenant).await;
    let stored = lab.stored_policy_ids(tenant);

    let (items, pages) = lab.get_all(&token, POLICIES).await;
    assert_eq!(pages, 6, "23 policies in pages of 4");
    assert_eq!(ids(&items), stored, "every policy exactly once, in a stable order");

    let (items, pages) = lab.get_all(&token, &format!("{POLICIES}?$top=2&$expand=settings")).await;
    assert_eq!((pages, ids(&items)), (12, stored.clone()), "$top pages, and the next links keep it");
    assert!(items.iter().all(|p| p.get("settings").is_some()), "next links keep $expand too");
    let (items, pages) = lab.get_all(&token, &format!("{POLICIES}?$top=100")).await;
    assert_eq!((pages, items.len()), (1, 23), "$top is honoured, up to the largest $top");
    let (items, pages) = lab.get_all(&token, &format!("{POLICIES}?$top=100&$expand=settings")).await;
    assert_eq!((pages, items.len()), (12, 23), "a list that expands settings pages two at a time, whatever $top asks");

    let (_, first) = lab.get(&token, POLICIES).await;
    let link = first["@odata.nextLink"].as_str().expect("next link");
    assert!(link.starts_with(&lab.server.url()) && link.contains("$skiptoken="), "{link}");
    let (status, _) = lab.get(&token, &format!("{POLICIES}?$skiptoken=forged")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A policy deleted while paging is never seen twice, nor does anything else go missing.
    let (_, first) = lab.get(&token, POLICIES).await;
    let seen_first = ids(first["value"].as_array().expect("value"));
    let doomed = stored.last().expect("policies");
    assert_eq!(lab.send(Method::DELETE, &token, &format!("{POLICIES}/{doomed}"), None).await.0, StatusCode::NO_CONTENT);
    let (rest, _) = lab.get_all(&token, first["@odata.nextLink"].as_str().expect("next")).await;
    let all: Vec<String> = seen_first.into_iter().chain(ids(&rest)).collect();
    assert_eq!(all, stored[..stored.len() - 1]);
}

#[tokio::test]
async fn settings_and_assignments_appear_only_when_expanded() {
    let lab = TestLab::generated(1, 3, |options| options.page_size = 2).await;
    let token = lab.token(&lab.tenants()[0]).await;
    let keys = |policy: &Value| (policy.get("settings").is_some(), policy.get("assignments").is_some());

    let (plain, _) = lab.get_all(&token, POLICIES).await;
    assert!(plain.iter().all(|p| keys(p) == (false, false) && p["settingCount"].as_u64() > Some(0)));
    for (expand, expected) in [
        ("settings", (true, false)),
        ("assignments", (false, true)),
        ("settings,assignments", (true, true)),
        ("assignments,settings", (true, true)),
    ] {
        let (items, _) = lab.get_all(&token, &format!("{POLICIES}?$expand={expand}")).await;
        assert!(items.iter().all(|p| keys(p) == expected), "{expand}");
        let id = items[0]["id"].as_str().expect("id");
        let (_, one) = lab.get(&token, &format!("{POLICIES}/{id}?$expand={expand}")).await;
        assert_eq!(keys(&one), expected, "single GET with {expand}");
        assert!(one["@odata.context"].as_str().expect("context").ends_with("/$entity"));
    }
    let (status, _) = lab.get(&token, &format!("{POLICIES}?$expand=owners")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let id = plain[0]["id"].as_str().expect("id");
    let (settings, pages) = lab.get_all(&token, &format!("{POLICIES}/{id}/settings?$top=1")).await;
    let count = plain[0]["settingCount"].as_u64().expect("count") as usize;
    assert_eq!((settings.len(), pages), (count, count), "the settings sub-collection pages too");
    let (_, selected) = lab.get(&token, &format!("{POLICIES}/{id}?$select=id,name")).await;
    let names: BTreeSet<&str> = selected.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(names, BTreeSet::from(["@odata.context", "id", "name"]));
}

#[tokio::test]
async fn groups_filter_by_display_name_with_quotes() {
    let dir = tempfile::tempdir().expect("tempdir");
    tenantctl::lab::init(dir.path(), &tenantctl::lab::InitOptions { tenants: 1, policies: 0, seed: 3 }).expect("init");
    let tenant_dir =
        std::fs::read_dir(dir.path().join("tenants")).expect("tenants").next().expect("one").expect("entry").path();
    let quoted = json!({"value": [
        {"id": "9e0d5f1a-0000-4000-8000-000000000001", "displayName": "O'Brien's Devices", "securityEnabled": true},
        {"id": "9e0d5f1a-0000-4000-8000-000000000002", "displayName": "O'Brien", "securityEnabled": true}
    ]});
    write(&tenant_dir.join("groups").join("handmade.json"), &quoted);
    let lab = TestLab::start_in(dir, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;

    for version in ["v1.0", "beta"] {
        let (status, page) =
            lab.get(&token, &format!("/{version}/groups?$filter=displayName eq 'O''Brien''s Devices'")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            ids(page["value"].as_array().expect("value")),
            ["9e0d5f1a-0000-4000-8000-000000000001"],
            "{version}"
        );
    }
    let encoded = "/v1.0/groups?%24filter=displayName+eq+%27SG-Break-Glass-Devices%27&%24select=id%2CdisplayName";
    let (_, page) = lab.get(&token, encoded).await;
    let found = page["value"].as_array().expect("value");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].as_object().expect("group").len(), 2, "$select keeps id and displayName");
    let (_, page) = lab.get(&token, "/v1.0/groups?$filter=displayName eq 'Nobody'").await;
    assert_eq!(page["value"], json!([]));
    let (all, _) = lab.get_all(&token, "/v1.0/groups").await;
    assert_eq!(all.len(), 5, "three generated groups and two hand-made ones");
    let (status, page) =
        lab.get(&token, "/v1.0/groups?$filter=startswith(displayName,'SG-') or displayName eq 'Nobody'").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> =
        page["value"].as_array().expect("value").iter().filter_map(|g| g["displayName"].as_str()).collect();
    assert!(!names.is_empty() && names.iter().all(|n| n.starts_with("SG-")), "{names:?}");
    let (status, body) = lab.get(&token, "/v1.0/groups?$filter=substringof('O',displayName)").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("BadRequest")));
}

#[tokio::test]
async fn incidents_page_and_filter_and_hunting_answers() {
    let lab = TestLab::generated(1, 0, |options| options.page_size = 2).await;
    let token = lab.token(&lab.tenants()[0]).await;
    let (incidents, pages) = lab.get_all(&token, "/v1.0/security/incidents").await;
    assert!((3..=5).contains(&incidents.len()) && pages >= 2);
    let severities: BTreeSet<&str> = incidents.iter().filter_map(|i| i["severity"].as_str()).collect();
    assert!(severities.len() >= 2, "varied severities: {severities:?}");
    let (high, _) = lab.get_all(&token, "/v1.0/security/incidents?$filter=severity eq 'high'").await;
    assert_eq!(high.len(), incidents.iter().filter(|i| i["severity"] == "high").count());

    let query = json!({"Query": "DeviceProcessEvents | take 3", "Timespan": "P7D"});
    let (status, results) = lab.send(Method::POST, &token, "/v1.0/security/runHuntingQuery", Some(&query)).await;
    assert_eq!(status, StatusCode::OK);
    let typed: tenantctl::wire::common::HuntingQueryResponse = serde_json::from_value(results).expect("hunting shape");
    assert_eq!(typed.results.len(), 3);
    let (status, _) = lab.send(Method::POST, &token, "/v1.0/security/runHuntingQuery", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Advanced hunting refuses what is not a query over one of its tables; the lab does too.
    for nonsense in ["this is not kql", "Devices | take 3"] {
        let body = json!({"Query": nonsense});
        let (status, error) = lab.send(Method::POST, &token, "/v1.0/security/runHuntingQuery", Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{nonsense}");
        assert_eq!(error["error"]["code"], "BadRequest", "{error}");
    }
}
