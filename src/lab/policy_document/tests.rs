use super::*;

const NOW: &str = "2025-01-02T03:04:05.0000000Z";

fn firewall_request() -> Value {
    let text = include_str!("../../../tests/fixtures/graph/configurationPolicy-create-firewall.request.json");
    serde_json::from_str(text).expect("sample")
}

#[test]
fn create_fills_server_fields_like_intune() {
    let policy = created(&firewall_request(), "p1", NOW).expect("valid");
    assert_eq!(policy["id"], "p1");
    assert_eq!((policy["createdDateTime"].as_str(), policy["lastModifiedDateTime"].as_str()), (Some(NOW), Some(NOW)));
    assert_eq!(policy["settingCount"], 3);
    assert_eq!(policy["isAssigned"], false);
    assert_eq!(policy["templateReference"]["templateFamily"], "endpointSecurityFirewall");
    assert_eq!(policy["templateReference"]["templateDisplayName"], "Windows Firewall");
    let ids: Vec<&str> =
        policy["settings"].as_array().expect("settings").iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, ["0", "1", "2"]);
    assert_eq!(policy["settings"][1]["settingInstance"], firewall_request()["settings"][1]["settingInstance"]);
    assert_eq!(policy["assignments"], json!([]));
}

#[test]
fn create_refuses_what_graph_refuses() {
    let mut missing_name = firewall_request();
    missing_name.as_object_mut().expect("object").remove("name");
    let mut unknown = firewall_request();
    unknown["displayName"] = json!("x");
    let mut bad_setting = firewall_request();
    bad_setting["settings"][0] = json!({"@odata.type": "#microsoft.graph.deviceManagementConfigurationSetting"});
    for body in [missing_name, unknown, bad_setting, json!([]), json!({"name": "n", "platforms": "windows10"})] {
        assert!(created(&body, "p", NOW).is_err(), "{body}");
    }
    let mut annotated = firewall_request();
    annotated["@odata.type"] = json!("#microsoft.graph.deviceManagementConfigurationPolicy");
    annotated["id"] = json!("client-made");
    assert_eq!(created(&annotated, "p", NOW).expect("annotations and read-only fields are ignored")["id"], "p");
}

#[test]
fn put_replaces_settings_and_keeps_server_fields() {
    let policy = created(&firewall_request(), "p1", NOW).expect("valid");
    let (policy, _) = assigned(
        &policy,
        "p1",
        &json!({"assignments": [{"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}]}),
    )
    .expect("assign");
    let later = "2025-02-01T00:00:00.0000000Z";
    let body = json!({"name": "renamed", "platforms": "windows10", "technologies": "mdm", "settings": []});
    let put = replaced(&policy, &body, later).expect("valid");
    assert_eq!((put["name"].as_str(), put["description"].as_str()), (Some("renamed"), Some("")));
    assert_eq!((put["settingCount"].as_u64(), put["settings"].as_array().map(Vec::len)), (Some(0), Some(0)));
    assert_eq!((put["createdDateTime"].as_str(), put["lastModifiedDateTime"].as_str()), (Some(NOW), Some(later)));
    assert_eq!(put["isAssigned"], true);
    assert_eq!(put["assignments"], policy["assignments"]);
    assert_eq!(put["templateReference"]["templateFamily"], "none");
}

#[test]
fn patch_merges_properties_but_not_settings() {
    let policy = created(&firewall_request(), "p1", NOW).expect("valid");
    let merged = patched(&policy, &json!({"description": "new", "settings": []}), "later").expect("valid");
    assert_eq!(merged["description"], "new");
    assert_eq!(merged["settings"], policy["settings"]);
    assert_eq!(merged["name"], policy["name"]);
    assert!(patched(&policy, &json!({"name": ""}), "later").is_err());
    assert!(patched(&policy, &json!({"colour": "red"}), "later").is_err());
}

#[test]
fn assign_replaces_the_set_with_graph_ids() {
    let policy = created(&firewall_request(), "p1", NOW).expect("valid");
    let body = json!({"assignments": [
        {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g1"}},
        {"target": {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": "g2"}},
        {"target": {"@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget"}}
    ]});
    let (policy, assignments) = assigned(&policy, "p1", &body).expect("assign");
    let ids: Vec<&str> = assignments.iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids, ["p1_g1", "p1_g2", format!("p1_{ALL_LICENSED_USERS_ID}").as_str()]);
    assert_eq!(assignments[0]["source"], "direct");
    assert_eq!(assignments[0]["sourceId"], "p1");
    assert_eq!(assignments[0]["target"]["deviceAndAppManagementAssignmentFilterType"], "none");
    let (policy, assignments) = assigned(&policy, "p1", &json!({"assignments": []})).expect("clear");
    assert!(assignments.is_empty());
    assert_eq!(policy["isAssigned"], false);
    for bad in [
        json!({}),
        json!({"assignments": [{}]}),
        json!({"assignments": [{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget"}}]}),
    ] {
        assert!(assigned(&policy, "p1", &bad).is_err(), "{bad}");
    }
}

#[test]
fn responses_show_navigation_properties_only_when_expanded() {
    let mut policy = created(&firewall_request(), "p1", NOW).expect("valid");
    policy.insert("@odata.context".into(), json!("https://graph.microsoft.com/beta/$metadata#x/$entity"));
    policy.insert("settings@odata.context".into(), json!("https://graph.microsoft.com/beta/$metadata#y"));
    let plain = rendered(&policy, None, Expansion::default(), None);
    assert!(!plain.contains_key("settings") && !plain.contains_key("assignments"));
    assert!(plain.keys().all(|k| !k.contains("@odata.context")));
    let both = Expansion::parse(&["assignments".into(), "settings".into()]).expect("expand");
    let expanded = rendered(&policy, None, both, None);
    assert!(expanded.contains_key("settings") && expanded.contains_key("assignments"));
    assert_eq!(both.context_suffix(), "(settings(),assignments())");
    assert!(Expansion::parse(&["settingDefinitions".into()]).is_err());
    let selected = rendered(&policy, None, Expansion::default(), Some(&["id".to_string(), "name".to_string()]));
    assert_eq!(selected.keys().collect::<Vec<_>>(), ["name", "id"]);
}

#[test]
fn a_policy_kept_without_its_settings_renders_as_the_whole_policy_does() {
    let mut whole = created(&firewall_request(), "p1", NOW).expect("valid");
    whole.shift_remove("settingCount");
    let settings = whole.get("settings").cloned().expect("settings");
    let text = serde_json::value::to_raw_value(&settings).expect("text");
    let mut head = whole.clone();
    head.shift_remove("settings");
    let both = Expansion::parse(&["settings".into(), "assignments".into()]).expect("expand");
    assert_eq!(rendered(&head, Some(&text), both, None), rendered(&whole, None, both, None));
    let plain = rendered(&head, Some(&text), Expansion::default(), None);
    assert_eq!(plain["settingCount"], json!(settings.as_array().expect("array").len()), "counted from the text");

    let body = Value::Object(rendered(&head, Some(&text), Expansion::default(), None));
    let spliced = with_text_property(&body, "settings", Some(&text)).expect("spliced");
    let parsed: Value = serde_json::from_str(spliced.get()).expect("JSON");
    assert_eq!(parsed["settings"], settings);
    assert_eq!(parsed["name"], body["name"]);
    let empty = with_text_property(&json!({}), "settings", None).expect("spliced");
    assert_eq!(empty.get(), r#"{"settings":[]}"#);
}
