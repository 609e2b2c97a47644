//! security/rules/detectionRules: client-chosen ids, the create refusals Defender gives (a taken id or
//! name 409, a taken alert title 400, `let` in a near-real-time rule, no asset mapped, a mapped column
//! the query does not return), update and delete, the create quota, and the permission.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tenantctl::wire::detection::DetectionRule;

use super::support::{TestLab, code};

const RULES: &str = "/beta/security/rules/detectionRules";

fn rule(id: &str, name: &str, title: &str) -> Value {
    json!({
        "id": id,
        "displayName": name,
        "description": "Office started a script host.",
        "status": "enabled",
        "queryCondition": {"queryText": "DeviceProcessEvents | where InitiatingProcessFileName =~ 'winword.exe' | project Timestamp, ReportId, DeviceId"},
        "schedule": {"frequency": "PT1H"},
        "detectionAction": {
            "alertTemplate": {
                "title": title,
                "description": "An Office application started a script interpreter.",
                "severity": "medium",
                "tactics": [{"tactic": "Execution", "techniques": [{"technique": "T1204", "subTechniques": ["T1204.002"]}]}],
                "entityMappings": {"hosts": [{"@odata.type": "#microsoft.graph.security.hostEntityMapping", "deviceIdColumn": "DeviceId"}]}
            },
            "automatedActions": {"isolateDevices": [{"deviceIdColumn": "DeviceId", "isolationType": "full"}]}
        }
    })
}

#[tokio::test]
async fn rules_are_created_under_the_clients_id_and_duplicates_are_refused() {
    let lab = TestLab::generated(1, 0, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;

    let (status, created) =
        lab.send(Method::POST, &token, RULES, Some(&rule("office-child", "Office child", "T1"))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "office-child");
    assert!(created["createdDateTime"].is_string() && created["createdBy"].is_string());
    assert!(created["@odata.context"].as_str().is_some_and(|c| c.ends_with("#security/rules/detectionRules/$entity")));
    let typed: DetectionRule = serde_json::from_value(created).expect("the client's wire type reads it");
    assert!(typed.is_enabled());

    let again = lab.send(Method::POST, &token, RULES, Some(&rule("office-child", "Other name", "T2"))).await;
    assert_eq!((again.0, code(&again.1)), (StatusCode::CONFLICT, "Conflict"), "{}", again.1);
    let same_name = lab.send(Method::POST, &token, RULES, Some(&rule("other", "Office child", "T2"))).await;
    assert_eq!(same_name.0, StatusCode::CONFLICT, "{}", same_name.1);
    let same_title = lab.send(Method::POST, &token, RULES, Some(&rule("other", "Other", "T1"))).await;
    assert_eq!(same_title.0, StatusCode::BAD_REQUEST, "{}", same_title.1);
    assert!(same_title.1["error"]["message"].as_str().is_some_and(|m| m.contains("alert title")));

    let refused = |mut body: Value, change: &dyn Fn(&mut Value)| {
        change(&mut body);
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (refused(rule("", "N1", "U1"), &|_| {}), "'id' is required"),
        (refused(rule("1abc", "N1", "U1"), &|_| {}), "Invalid rule identifier"),
        (
            refused(rule("nrt", "N1", "U1"), &|b| {
                b["schedule"]["frequency"] = json!("PT0S");
                b["queryCondition"]["queryText"] =
                    json!("let x = 1; DeviceProcessEvents | project Timestamp, ReportId, DeviceId");
            }),
            "'let'",
        ),
        (
            refused(rule("noasset", "N1", "U1"), &|b| {
                b["detectionAction"]["alertTemplate"]["entityMappings"] = json!({})
            }),
            "At least one asset",
        ),
        (
            refused(rule("column", "N1", "U1"), &|b| {
                b["detectionAction"]["alertTemplate"]["entityMappings"] =
                    json!({"hosts": [{"deviceIdColumn": "DeviceName"}]});
            }),
            "DeviceName",
        ),
        (refused(rule("freq", "N1", "U1"), &|b| b["schedule"]["frequency"] = json!("PT2H")), "schedule"),
        (
            refused(rule("table", "N1", "U1"), &|b| b["queryCondition"]["queryText"] = json!("Devices | take 1")),
            "Devices",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = lab.send(Method::POST, &token, RULES, Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{message} should mention {expected}");
    }

    let path = format!("{RULES}/office-child");
    let (status, _) = lab.send(Method::PATCH, &token, &path, Some(&json!({"id": "x"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the id is the URL's");
    let (status, patched) = lab.send(Method::PATCH, &token, &path, Some(&json!({"status": "disabled"}))).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(lab.get(&token, &path).await.1["status"], "disabled");
    let (all, _) = lab.get_all(&token, RULES).await;
    assert_eq!(all.len(), 1);
    let (status, _) = lab.send(Method::DELETE, &token, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(lab.get(&token, &path).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn creates_are_limited_per_app_and_the_permission_is_required() {
    let lab = TestLab::generated(1, 0, |_| {}).await;
    let tenant = lab.tenants()[0].clone();
    lab.configure(json!({"detectionCreateBudget": {"writes": 2, "windowMs": 60000}})).await;
    let token = lab.token(&tenant).await;
    for i in 0..2 {
        let body = rule(&format!("r{i}"), &format!("R{i}"), &format!("T{i}"));
        assert_eq!(lab.send(Method::POST, &token, RULES, Some(&body)).await.0, StatusCode::CREATED);
    }
    let third = lab.try_send(Method::POST, &token, RULES, Some(&rule("r2", "R2", "T2"))).await.expect("answered");
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().get("retry-after").is_some());
    assert_eq!(lab.get(&token, &format!("{RULES}/r0")).await.0, StatusCode::OK, "reads are not limited");

    lab.configure(json!({"withheld": {tenant.clone(): ["CustomDetection.ReadWrite.All"]}})).await;
    let without = lab.token(&tenant).await;
    let (status, body) = lab.get(&without, RULES).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("CustomDetection.Read.All")), "{body}");
}
