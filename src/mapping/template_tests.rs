//! Every setting of every typed kind, in every option, survives `typed → wire → typed`; what the
//! reader cannot type survives verbatim.

use serde_json::{Map, Value, json};

use super::*;
use crate::model::template::{self, Node, Shape};

/// Enough rounds for every option of every choice to be chosen at least once.
const ROUNDS: usize = 10;

fn put(scope: &mut Map<String, Value>, path: &[String], value: Value) {
    assert!(set(scope, path, value), "path {path:?} is free");
}

fn populate(nodes: &[Node], scope: &mut Map<String, Value>, round: usize) {
    for node in nodes {
        populate_node(node, scope, round);
    }
}

fn populate_node(node: &Node, scope: &mut Map<String, Value>, round: usize) {
    match &node.shape {
        Shape::Group => populate(&node.children, scope, round),
        Shape::GroupList { .. } => {
            let items = (0..2)
                .map(|i| {
                    let mut item = Map::new();
                    populate(&node.children, &mut item, round + i);
                    Value::Object(item)
                })
                .collect();
            put(scope, &node.path, Value::Array(items));
        }
        Shape::Choice(options) => {
            let option = &options[round % options.len()];
            put(scope, &node.path, option.value.to_json());
            for child in &node.children {
                if child.under.is_empty() || child.under.contains(&option.suffix.as_str()) {
                    populate_node(child, scope, round);
                }
            }
        }
        Shape::ChoiceList(options) => {
            let count = 1 + round % options.len();
            put(scope, &node.path, options.iter().take(count).map(|o| o.value.to_json()).collect());
        }
        Shape::Integer { min, max } => {
            put(scope, &node.path, json!(min + (round as i64 * 7) % (max - min + 1)));
        }
        Shape::Text(rule) if rule.secret => {}
        Shape::Text(_) => put(scope, &node.path, json!(format!("{}-{round}", node.path.join("-")))),
        Shape::TextList { .. } => {
            let items = (0..=round % 3).map(|i| json!(format!("C:\\{}\\{i}", node.path.join("\\")))).collect();
            put(scope, &node.path, Value::Array(items));
        }
    }
}

fn spec(settings: Map<String, Value>) -> TypedSpec {
    TypedSpec { display_name: "P".into(), description: "d".into(), additional_settings: Vec::new(), settings }
}

#[test]
fn every_setting_and_every_option_of_every_kind_round_trips() {
    for (kind, table) in template::tables() {
        for round in 0..ROUNDS {
            let mut settings = Map::new();
            populate(&table.nodes, &mut settings, round);
            let problems = template::check::check(&table.nodes, &settings, "spec", &[]);
            assert!(problems.is_empty(), "{kind} round {round}: {problems:?}");
            let original = spec(settings);
            let wire = to_wire(table, &original, "d");
            let read = from_wire(table, &wire, "d");
            assert_eq!(read, original, "{kind} round {round}");
        }
    }
}

#[test]
fn every_typed_setting_is_set_in_some_round() {
    for (kind, table) in template::tables() {
        let mut seen = std::collections::HashSet::new();
        for round in 0..ROUNDS {
            let mut settings = Map::new();
            populate(&table.nodes, &mut settings, round);
            let wire = serde_json::to_string(&to_wire(table, &spec(settings), "d")).expect("json");
            for node in table.all_nodes() {
                if wire.contains(&format!("\"{}\"", node.id)) {
                    seen.insert(node.id.clone());
                }
            }
        }
        let secret = |n: &&Node| matches!(n.shape, Shape::Text(rule) if rule.secret);
        let missing: Vec<&str> = table
            .all_nodes()
            .into_iter()
            .filter(|n| !secret(n))
            .filter(|n| !seen.contains(&n.id))
            .map(|n| n.id.as_str())
            .collect();
        assert!(missing.is_empty(), "{kind}: never written: {missing:?}");
    }
}

#[test]
fn unknown_settings_options_and_secrets_are_kept_verbatim_where_they_were() {
    let table = &*template::asr::TABLE;
    let rules = "device_vendor_msft_policy_config_defender_attacksurfacereductionrules";
    let new_rule = json!({
        "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
        "settingDefinitionId": format!("{rules}_blocksomethingnew"),
        "choiceSettingValue": {"value": format!("{rules}_blocksomethingnew_block"), "children": []},
    });
    let unknown_top = json!({
        "@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance",
        "settingDefinitionId": "device_vendor_msft_policy_config_defender_somethingelse",
        "simpleSettingValue": {"@odata.type": "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue", "value": 3},
    });
    let mut original =
        spec(json!({"rules": {"blockCredentialStealingFromLsass": "block"}}).as_object().cloned().unwrap_or_default());
    original.additional_settings = vec![
        AdditionalSetting { parent: Some(rules.into()), setting_instance: new_rule.clone() },
        AdditionalSetting { parent: None, setting_instance: unknown_top.clone() },
    ];
    let wire = to_wire(table, &original, "d");
    let text = serde_json::to_value(&wire).expect("json");
    let group = &text["settings"][0]["settingInstance"]["groupSettingCollectionValue"][0]["children"];
    assert_eq!(group.as_array().map(Vec::len), Some(2), "the new rule sits beside the typed one: {group}");
    let read = from_wire(table, &wire, "d");
    assert_eq!(read.settings, original.settings);
    assert_eq!(read.additional_settings.len(), 2);
    assert_eq!(read.additional_settings[0].parent.as_deref(), Some(rules));
    let instance = |v: &Value| serde_json::from_value::<SettingInstance>(v.clone()).expect("instance");
    assert_eq!(instance(&read.additional_settings[0].setting_instance), instance(&new_rule));
    assert_eq!(read.additional_settings[1].parent, None);

    // An option the table does not know keeps the whole setting, children and all.
    let mut odd = to_wire(table, &original, "d");
    if let SettingInstance::GroupCollection { group_setting_collection_value, .. } =
        &mut odd.settings[0].setting_instance
        && let SettingInstance::Choice { choice_setting_value, .. } = &mut group_setting_collection_value[0].children[0]
    {
        choice_setting_value.value =
            format!("{rules}_blockcredentialstealingfromwindowslocalsecurityauthoritysubsystem_7");
    }
    let read = from_wire(table, &odd, "d");
    assert!(read.settings.get("rules").is_none_or(|r| r.as_object().is_some_and(Map::is_empty)), "{:?}", read.settings);
    let settings = |p: &ConfigurationPolicy| {
        crate::mapping::testing::normalized(&serde_json::to_value(&p.settings).expect("json"))
    };
    assert_eq!(settings(&to_wire(table, &read, "d")), settings(&odd));
}

#[test]
fn firewall_rules_carry_template_references_on_the_first_rule_only() {
    let table = &*template::firewall_rules::TABLE;
    let settings = json!({"rules": [
        {"name": "Allow HTTPS", "direction": "in", "action": "allow", "protocol": 6, "localPorts": ["443"]},
        {"name": "Block Telnet", "direction": "in", "action": "block", "protocol": 6, "localPorts": ["23"]},
    ]});
    let wire = serde_json::to_value(to_wire(table, &spec(settings.as_object().cloned().unwrap_or_default()), "d"))
        .expect("json");
    let groups = &wire["settings"][0]["settingInstance"]["groupSettingCollectionValue"];
    assert_eq!(groups.as_array().map(Vec::len), Some(2));
    let first = &groups[0]["children"][0];
    assert_eq!(
        first["settingInstanceTemplateReference"]["settingInstanceTemplateId"],
        "116a696a-3270-493e-9938-c336cf05ea98"
    );
    assert!(groups[1]["children"][0].get("settingInstanceTemplateReference").is_none());
    let direction = &groups[0]["children"][1]["choiceSettingValue"]["value"];
    assert_eq!(direction, "vendor_msft_firewall_mdmstore_firewallrules_{firewallrulename}_direction_in");
}

#[test]
fn the_documented_firewall_create_request_reads_typed_and_renders_back_identically() {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/graph/configurationPolicy-create-firewall.request.json");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("json");
    let policy: ConfigurationPolicy = serde_json::from_value(sample.clone()).expect("wire");
    let table = &*template::firewall::TABLE;
    let spec = from_wire(table, &policy, &policy.description);
    assert!(spec.additional_settings.is_empty(), "{:?}", spec.additional_settings);
    assert_eq!(spec.settings["domain"]["enabled"], true);
    assert_eq!(spec.settings["domain"]["defaultInboundAction"], "block");
    let rendered = serde_json::to_value(to_wire(table, &spec, &policy.description)).expect("json");
    assert_eq!(
        crate::mapping::testing::normalized(&rendered["settings"]),
        crate::mapping::testing::normalized(&sample["settings"])
    );
    for field in ["name", "description", "platforms", "technologies", "roleScopeTagIds", "templateReference"] {
        assert_eq!(rendered[field], sample[field], "{field}");
    }
}
