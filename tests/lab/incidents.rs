//! Triage writes on incidents as Graph v1.0 takes them: `PATCH` sets what it may and refuses unknown
//! enum values and read-only properties; `POST …/comments` appends and answers the whole list; both
//! need `SecurityIncident.ReadWrite.All`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::support::TestLab;

#[tokio::test]
async fn incidents_are_updated_and_commented_with_graphs_refusals() {
    let lab = TestLab::generated(1, 0, |_| {}).await;
    let token = lab.token(&lab.tenants()[0]).await;
    let (_, list) = lab.get(&token, "/v1.0/security/incidents").await;
    let id = list["value"][0]["id"].as_str().expect("an incident").to_string();
    let path = format!("/v1.0/security/incidents/{id}");

    let body = json!({"status": "resolved", "classification": "truePositive", "determination": "malware",
        "assignedTo": "soc@contoso.example", "customTags": ["case:lsass"]});
    let (status, updated) = lab.send(Method::PATCH, &token, &path, Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!((updated["status"].as_str(), updated["determination"].as_str()), (Some("resolved"), Some("malware")));
    assert_eq!(updated["customTags"], json!(["case:lsass"]));

    for (refused, needle) in [
        (
            json!({"status": "closed"}),
            "Requested value 'closed' was not found in enum 'microsoft.graph.security.incidentStatus'",
        ),
        (json!({"classification": "bad"}), "alertClassification"),
        (json!({"severity": "low"}), "Property 'severity' is read-only"),
        (json!({"customTags": "x"}), "customTags"),
    ] {
        let (status, error) = lab.send(Method::PATCH, &token, &path, Some(&refused)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}: {error}");
        assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains(needle)), "{error}");
    }

    let comment = json!({"@odata.type": "microsoft.graph.security.alertComment", "comment": "Seen by the SOC"});
    let (status, comments) = lab.send(Method::POST, &token, &format!("{path}/comments"), Some(&comment)).await;
    assert_eq!(status, StatusCode::OK, "{comments}");
    let listed = comments["value"].as_array().expect("the comments");
    assert_eq!(listed.last().map(|c| c["comment"].clone()), Some(Value::from("Seen by the SOC")));
    assert!(listed.last().is_some_and(|c| c["createdDateTime"].is_string()));
    let empty = lab.send(Method::POST, &token, &format!("{path}/comments"), Some(&json!({"comment": " "}))).await;
    assert_eq!(empty.0, StatusCode::BAD_REQUEST);
    let missing = lab.send(Method::PATCH, &token, "/v1.0/security/incidents/999999", Some(&body)).await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
}
