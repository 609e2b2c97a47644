//! Real exported policies (`tests/corpus/`) held by a lab tenant: `export` writes them as typed
//! manifests that validate, `plan --adopt` shows nothing but the ownership marker, and after
//! `apply --adopt` the tenant holds the same settings it held before (Graph's server-owned fields and
//! OData annotations aside).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::{NORTHWIND_US, expect_code, root, stdout, stored_policies, tenantctl, with_lab};

/// A lab state whose one tenant (northwind-us) holds every corpus policy, unmanaged, as Graph would
/// return it: an id, timestamps, role scope tag ids (IntuneCD exports name the Default tag instead).
fn corpus_tenant() -> tempfile::TempDir {
    let state = tempfile::tempdir().expect("tempdir");
    let seed = root().join("examples/contoso/lab");
    std::fs::copy(seed.join("lab.json"), state.path().join("lab.json")).expect("lab.json");
    let tenant = state.path().join("tenants").join(NORTHWIND_US);
    std::fs::create_dir_all(tenant.join("configurationPolicies")).expect("mkdir");
    std::fs::copy(seed.join("tenants").join(NORTHWIND_US).join("tenant.json"), tenant.join("tenant.json"))
        .expect("tenant.json");
    let mut files: Vec<_> = std::fs::read_dir(root().join("tests/corpus"))
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for (index, path) in files.iter().enumerate() {
        let exported: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
        let mut policy = serde_json::Map::new();
        for (key, value) in exported.as_object().expect("object") {
            if !key.contains("@odata.") && key != "assignments" {
                policy.insert(key.clone(), value.clone());
            }
        }
        let id = format!("00000000-0000-4000-8000-{index:012}");
        policy.insert("id".into(), json!(id));
        policy.entry("createdDateTime").or_insert(json!("2025-01-06T08:00:00Z"));
        policy.entry("lastModifiedDateTime").or_insert(json!("2025-01-06T08:00:00Z"));
        if policy.get("roleScopeTagIds") == Some(&json!(["Default"])) {
            policy.insert("roleScopeTagIds".into(), json!(["0"]));
        }
        let file = tenant.join("configurationPolicies").join(format!("{id}.json"));
        std::fs::write(file, serde_json::to_vec_pretty(&policy).expect("encode")).expect("write");
    }
    state
}

/// What a tenant holds of a policy, as a person would compare it: annotations, nulls, defaults that
/// are not sent, Graph's own setting ids and list order aside.
fn held(policy: &Value) -> Value {
    let settings: Vec<Value> = policy["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .map(|setting| canonical(&setting["settingInstance"]))
        .collect();
    json!({
        "name": policy["name"],
        "platforms": policy["platforms"],
        "technologies": policy["technologies"],
        "roleScopeTagIds": policy["roleScopeTagIds"],
        "templateId": policy["templateReference"]["templateId"],
        "settings": sorted(settings),
    })
}

fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(key, value)| {
                    let annotation = key.contains("@odata.") && *key != "@odata.type";
                    // The type of a reference or a choice value is implied by where it stands.
                    let implied = *key == "@odata.type"
                        && value.as_str().is_some_and(|t| {
                            ["TemplateReference", "ChoiceSettingValue", "GroupSettingValue"]
                                .iter()
                                .any(|implied| t.ends_with(implied))
                        });
                    let default = *key == "useTemplateDefault" && **value == json!(false);
                    !annotation && !implied && !default && !value.is_null()
                })
                .map(|(key, value)| (key.clone(), canonical(value)))
                .collect(),
        ),
        Value::Array(items) => sorted(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn sorted(mut items: Vec<Value>) -> Value {
    items.sort_by_key(|item| item.to_string());
    Value::Array(items)
}

fn by_name(state: &Path) -> BTreeMap<String, Value> {
    stored_policies(state, NORTHWIND_US)
        .into_values()
        .map(|policy| (policy["name"].as_str().expect("name").to_string(), policy))
        .collect()
}

#[test]
fn real_exports_export_typed_adopt_with_only_the_marker_and_keep_their_settings() {
    let state = corpus_tenant();
    let lab = state.path();
    let before = by_name(lab);
    assert!(before.len() >= 17, "the whole corpus is loaded");

    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().to_string_lossy().to_string();
    let export = with_lab(lab, &["export", "--tenant", "northwind-us", "-f", "examples/contoso", "--out", &dir]);
    expect_code(&export, 0);
    let exported = std::fs::read_dir(out.path().join("policies")).expect("policies").count();
    assert_eq!(exported, before.len(), "one manifest per policy");
    let manifests: String = std::fs::read_dir(out.path().join("policies"))
        .expect("policies")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect();
    assert!(!manifests.contains("kind: SettingsCatalogPolicy"), "every policy exports as its typed kind");
    expect_code(&tenantctl(&["validate", "-f", &dir]), 0);

    let plan = with_lab(lab, &["plan", "-f", &dir, "--adopt", "-o", "json"]);
    expect_code(&plan, 0);
    let plan: Value = serde_json::from_slice(&plan.stdout).expect("plan JSON");
    let changes = plan["tenants"][0]["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), before.len());
    for change in changes {
        assert_eq!(change["action"], "adopt", "{change}");
        assert_eq!(change["fields"], json!(["description"]), "only the marker: {}", change["object"]);
    }

    let apply = with_lab(lab, &["apply", "-f", &dir, "--adopt", "--auto-approve"]);
    expect_code(&apply, 0);
    let after = by_name(lab);
    for (name, policy) in &before {
        let adopted = &after[name];
        assert_eq!(held(adopted), held(policy), "{name}: the tenant holds what it held before adoption");
        let description = adopted["description"].as_str().expect("description");
        assert!(description.contains("[managed-by tenantctl: "), "{name}: marked");
    }

    let replan = with_lab(lab, &["plan", "-f", &dir, "--detailed-exitcode"]);
    expect_code(&replan, 0);
    assert!(stdout(&replan).contains("No changes."), "{}", stdout(&replan));
}
