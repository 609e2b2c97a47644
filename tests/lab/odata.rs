//! OData as Graph does it: `$count` (option and path segment), `$orderby`, `$skip`, `$filter` with
//! its operators and functions, and a 400 for what an endpoint does not honour; the template catalog,
//! a policy's settings one by one, incidents with their alerts, alerts, built-in roles and Graph's
//! default property sets.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::support::{TestLab, code};

const POLICIES: &str = "/beta/deviceManagement/configurationPolicies";

fn names(page: &Value, key: &str) -> Vec<String> {
    page["value"].as_array().expect("value").iter().map(|v| v[key].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn count_orderby_skip_and_filters_are_honoured() {
    let lab = TestLab::generated(1, 9, |options| options.page_size = 4).await;
    let tenant = &lab.tenants()[0];
    let token = lab.token(tenant).await;

    let (status, page) = lab.get(&token, &format!("{POLICIES}?$count=true&$top=2")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["@odata.count"], 9, "the total of matching policies, not the page's");
    assert_eq!(page["value"].as_array().map(Vec::len), Some(2));
    let (_, plain) = lab.get(&token, POLICIES).await;
    assert!(plain.get("@odata.count").is_none(), "only when asked");

    let response = lab.try_send(Method::GET, &token, &format!("{POLICIES}/$count"), None).await.expect("answer");
    assert!(response.headers()["content-type"].to_str().expect("text").starts_with("text/plain"));
    assert_eq!(response.text().await.expect("body"), "9");

    let (all, _) = lab.get_all(&token, &format!("{POLICIES}?$orderby=name desc")).await;
    let mut sorted: Vec<String> = all.iter().map(|p| p["name"].as_str().expect("name").to_lowercase()).collect();
    let listed = sorted.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(listed, sorted, "sorted across pages");
    let (skipped, _) = lab.get_all(&token, &format!("{POLICIES}?$orderby=name desc&$skip=3")).await;
    assert_eq!(skipped.len(), 6);
    assert_eq!(skipped[0]["name"], all[3]["name"]);

    let first = all[0]["name"].as_str().expect("name").to_string();
    let quoted = first.replace('\'', "''");
    let (_, page) = lab.get(&token, &format!("{POLICIES}?$filter=name ne '{quoted}'&$count=true")).await;
    assert_eq!(page["@odata.count"], 8);
    let (_, page) = lab.get(&token, &format!("{POLICIES}?$filter=name in ('{quoted}', 'nothing')")).await;
    assert_eq!(names(&page, "name"), [first]);
    let (_, page) =
        lab.get(&token, &format!("{POLICIES}?$filter=lastModifiedDateTime ge 2000-01-01T00:00:00Z&$count=true")).await;
    assert_eq!(page["@odata.count"], 9);
    let (_, page) = lab.get(&token, &format!("{POLICIES}?$filter=lastModifiedDateTime lt 2000-01-01T00:00:00Z")).await;
    assert_eq!(page["value"], json!([]));

    for refused in [
        format!("{POLICIES}?$search=\"firewall\""),
        format!("{POLICIES}?$apply=groupby((name))"),
        format!("{POLICIES}?$filter=name like 'x'"),
        format!("{POLICIES}/{}?$skip=1", all[0]["id"].as_str().expect("id")),
        format!("{POLICIES}?$count=maybe"),
    ] {
        let (status, body) = lab.get(&token, &refused).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "BadRequest"), "{refused}: {body}");
    }
}

#[tokio::test]
async fn directory_counts_need_eventual_consistency_and_groups_have_graphs_properties() {
    let lab = TestLab::generated(1, 2, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;
    let (status, body) = lab.get(&token, "/v1.0/groups/$count").await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "Request_BadRequest"));
    let counted = lab
        .http
        .get(lab.url("/v1.0/groups/$count"))
        .bearer_auth(&token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .expect("answer");
    let total: usize = counted.text().await.expect("body").parse().expect("a number");
    let (_, page) = lab.get(&token, "/v1.0/groups?$count=true").await;
    assert!(page.get("@odata.count").is_none(), "ignored without ConsistencyLevel, as Entra does");
    assert_eq!(page["value"].as_array().map(Vec::len), Some(total));
    let group = &page["value"][0];
    for property in ["deletedDateTime", "groupTypes", "mailEnabled", "securityEnabled", "visibility", "proxyAddresses"]
    {
        assert!(group.get(property).is_some(), "{property} in {group}");
    }
    let id = group["id"].as_str().expect("id");
    let (_, one) = lab.get(&token, &format!("/v1.0/groups/{id}")).await;
    assert!(one["@odata.context"].as_str().expect("context").ends_with("/v1.0/$metadata#groups/$entity"));
}

#[tokio::test]
async fn templates_and_their_setting_definitions_come_from_the_reference_tables() {
    let lab = TestLab::generated(1, 2, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;
    let templates = "/beta/deviceManagement/configurationPolicyTemplates";
    let (all, _) = lab.get_all(&token, templates).await;
    assert_eq!(all.len(), 8);
    let (_, page) =
        lab.get(&token, &format!("{templates}?$filter=templateFamily eq 'endpointSecurityFirewall'&$count=true")).await;
    assert_eq!(page["@odata.count"], 2);
    let asr = "e8c053d6-9f95-42b1-a7f1-ebfd71c67a4b_1";
    let (status, template) = lab.get(&token, &format!("{templates}/{asr}")).await;
    assert_eq!((status, template["displayName"].as_str()), (StatusCode::OK, Some("Attack Surface Reduction Rules")));
    let (settings, _) =
        lab.get_all(&token, &format!("{templates}/{asr}/settingTemplates?$expand=settingDefinitions")).await;
    let rules = settings
        .iter()
        .find(|s| s["settingInstanceTemplate"]["settingInstanceTemplateId"] == "19600663-e264-4c02-8f55-f2983216d6d7")
        .expect("the ASR rules group");
    let definitions = rules["settingDefinitions"].as_array().expect("definitions");
    assert!(definitions.len() > 19, "the group, every rule and its exclusions: {}", definitions.len());
    assert!(definitions.iter().any(|d| d["options"].as_array().is_some_and(|o| o.iter().any(|o| {
        o["itemId"].as_str().is_some_and(|i| i.ends_with("blockexecutablecontentfromemailclientandwebmail_block"))
    }))));
    let (status, _) = lab.get(&token, &format!("{templates}/nope_1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = lab.get(&token, "/v1.0/deviceManagement/configurationPolicyTemplates").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "beta only");
}

#[tokio::test]
async fn a_policys_settings_one_by_one() {
    let lab = TestLab::generated(1, 2, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;
    let (all, _) = lab.get_all(&token, POLICIES).await;
    let id = all[0]["id"].as_str().expect("id");
    let settings = format!("{POLICIES}/{id}/settings");
    let (before, _) = lab.get_all(&token, &format!("{settings}?$expand=settingDefinitions")).await;
    assert!(!before.is_empty());
    let first_id = before[0]["id"].as_str().expect("setting id");
    assert!(before[0]["settingDefinitions"].is_array());
    let (status, one) = lab.get(&token, &format!("{settings}/{first_id}")).await;
    assert_eq!((status, &one["settingInstance"]), (StatusCode::OK, &before[0]["settingInstance"]));

    let added = json!({"settingInstance": before[0]["settingInstance"].clone()});
    let (status, created) = lab.send(Method::POST, &token, &settings, Some(&added)).await;
    assert_eq!(status, StatusCode::CREATED);
    let new_id = created["id"].as_str().expect("id").to_string();
    assert_eq!(lab.get_all(&token, &settings).await.0.len(), before.len() + 1);
    let (status, _) = lab.send(Method::PATCH, &token, &format!("{settings}/{new_id}"), Some(&added)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = lab.send(Method::DELETE, &token, &format!("{settings}/{new_id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(lab.get_all(&token, &settings).await.0.len(), before.len());
    let (status, _) = lab.get(&token, &format!("{settings}/{new_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn incidents_expand_their_alerts_and_roles_include_intunes_built_ins() {
    let lab = TestLab::generated(1, 2, |_| {}).await;
    let tenant = &lab.tenants()[0];
    let token = lab.token(tenant).await;
    let (incidents, _) = lab.get_all(&token, "/v1.0/security/incidents?$expand=alerts").await;
    let incident = &incidents[0];
    for property in ["summary", "priorityScore", "lastModifiedBy", "resolvingComment", "alerts"] {
        assert!(incident.get(property).is_some(), "{property} in {incident}");
    }
    let id = incident["id"].as_str().expect("id");
    let (status, one) = lab.get(&token, &format!("/v1.0/security/incidents/{id}?$expand=alerts")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(one["@odata.context"].as_str().expect("context").ends_with("#security/incidents/$entity"));
    let (alerts, _) = lab.get_all(&token, "/v1.0/security/alerts_v2").await;
    let expanded: usize = incidents.iter().map(|i| i["alerts"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(alerts.len(), expanded, "every alert belongs to an incident");
    let (status, body) = lab.get(&token, "/v1.0/security/incidents?$expand=comments").await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "ExpandNotSupported"));

    let (roles, _) = lab.get_all(&token, "/v1.0/deviceManagement/roleDefinitions?$filter=isBuiltIn eq true").await;
    assert_eq!(roles.len(), 7);
    assert!(roles.iter().any(|r| r["displayName"] == "Read Only Operator"));
}

#[tokio::test]
async fn expanded_lists_can_page_smaller_than_plain_ones() {
    let lab = TestLab::generated(1, 9, |options| options.expanded_page_size = Some(2)).await;
    let token = lab.token(&lab.tenants()[0]).await;
    let (plain, pages) = lab.get_all(&token, POLICIES).await;
    assert_eq!((plain.len(), pages), (9, 1), "plain lists page at the page size");
    let (expanded, pages) = lab.get_all(&token, &format!("{POLICIES}?$expand=settings,assignments")).await;
    assert_eq!((expanded.len(), pages), (9, 5), "expanded lists page at the expanded page size");
    assert!(expanded.iter().all(|p| p["settings"].is_array()));
    lab.configure(json!({"expandedPageSize": null})).await;
    let (_, pages) = lab.get_all(&token, &format!("{POLICIES}?$expand=settings")).await;
    assert_eq!(pages, 1);
}
