//! `lab init`: deterministic output, manifests that validate, and live state that matches them except
//! where it was made to drift; and the hand-made Contoso seed of the README demo.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tenantctl::engine::resolve::DesiredState;
use tenantctl::engine::resolve::validate_and_resolve;
use tenantctl::lab::{InitOptions, LabError, init};
use tenantctl::manifest::load::{Input, load_inputs};
use tenantctl::model::ownership::marker;
use tenantctl::wire::ConfigurationPolicy;

fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(root).expect("inside").to_path_buf();
                files.insert(relative, std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

#[test]
fn the_same_seed_gives_identical_trees() {
    let options = InitOptions { tenants: 4, policies: 6, seed: 99 };
    let (a, b, c) = (tempfile::tempdir().expect("a"), tempfile::tempdir().expect("b"), tempfile::tempdir().expect("c"));
    let summary = init(a.path(), &options).expect("init a");
    init(b.path(), &options).expect("init b");
    init(c.path(), &InitOptions { seed: 100, ..options }).expect("init c");
    let (tree_a, tree_b) = (tree(a.path()), tree(b.path()));
    assert!(tree_a.len() > 40, "{} files", tree_a.len());
    assert_eq!(tree_a, tree_b, "byte-identical");
    assert_ne!(tree_a, tree(c.path()), "another seed, other content");
    assert_eq!((summary.tenants, summary.policies, summary.groups), (4, 24, 12));
    assert_eq!(summary.owned + summary.unmanaged, summary.policies);
    assert!(summary.drifted >= 1 && summary.unmanaged >= 4);

    let error = init(a.path(), &options).expect_err("a directory that is not empty");
    assert!(matches!(error, LabError::DirectoryNotEmpty(_)));
}

/// A live policy without what the server adds, to compare with what tenantctl renders.
fn as_written(live: &Value) -> ConfigurationPolicy {
    let mut policy: ConfigurationPolicy = serde_json::from_value(live.clone()).expect("wire policy");
    policy.id = None;
    policy.created_date_time = None;
    policy.last_modified_date_time = None;
    policy.setting_count = None;
    policy.is_assigned = None;
    policy.assignments = None;
    if let Some(reference) = &mut policy.template_reference {
        *reference = tenantctl::wire::TemplateReference::new(&reference.template_id);
    }
    for setting in &mut policy.settings {
        setting.id = None;
    }
    policy
}

fn live_policies(tenant_dir: &Path) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(tenant_dir.join("configurationPolicies")) else { return Vec::new() };
    entries
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.expect("entry").path()).expect("read")).expect("JSON"))
        .collect()
}

fn validated(paths: &[PathBuf]) -> DesiredState {
    let inputs: Vec<Input> = paths.iter().cloned().map(Input::Path).collect();
    let mut loaded = load_inputs(&inputs, &mut || unreachable!("no stdin"));
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    let (resolution, semantic) = validate_and_resolve(&loaded.set);
    diagnostics.extend(semantic);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    resolution.desired
}

#[test]
fn generated_manifests_validate_and_match_the_live_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = init(dir.path(), &InitOptions { tenants: 5, policies: 8, seed: 11 }).expect("init");
    let desired = validated(&[dir.path().join("manifests")]);
    assert_eq!(desired.tenants.len(), 5);

    let (mut in_sync, mut drifted, mut unmanaged) = (0, 0, 0);
    for tenant in &desired.tenants {
        let live = live_policies(&dir.path().join("tenants").join(&tenant.tenant_id));
        let owned: Vec<&Value> =
            live.iter().filter(|p| p["description"].as_str().is_some_and(|d| d.ends_with(']'))).collect();
        unmanaged += live.len() - owned.len();
        assert_eq!(owned.len(), tenant.policies.len(), "{}: every desired policy exists", tenant.name);
        for policy in &tenant.policies {
            let mark = marker(&policy.object);
            let matching: Vec<&&Value> =
                owned.iter().filter(|p| p["description"].as_str().expect("d").ends_with(&mark)).collect();
            assert_eq!(matching.len(), 1, "{}: {}", tenant.name, policy.object);
            let target = &matching[0]["assignments"][0]["target"]["@odata.type"];
            assert_eq!(target, "#microsoft.graph.allDevicesAssignmentTarget", "assigned as the profile says");
            if as_written(matching[0]) == *policy.payload { in_sync += 1 } else { drifted += 1 }
        }
        let names: Vec<&str> = live.iter().filter_map(|p| p["name"].as_str()).collect();
        let twins = names.iter().filter(|n| names.iter().filter(|m| m == n).count() > 1).count();
        assert!(twins >= 2, "{}: an unmanaged policy shares an owned one's name", tenant.name);
    }
    assert_eq!((drifted, in_sync + drifted, unmanaged), (summary.drifted, summary.owned, summary.unmanaged));
    assert!(in_sync > drifted);
}

#[tokio::test]
async fn the_contoso_seed_loads_and_shows_what_the_readme_demo_needs() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/contoso");
    let desired = validated(std::slice::from_ref(&example));
    let seed = example.join("lab");
    let copy = tempfile::tempdir().expect("tempdir");
    copy_tree(&seed, copy.path());
    let lab = super::support::TestLab::start_in(copy, |_| {}).await;
    assert_eq!(lab.tenants().len(), desired.tenants.len(), "a lab tenant per Tenant");

    for tenant in &desired.tenants {
        let token = lab.token(&tenant.tenant_id).await;
        let (groups, _) = lab.get_all(&token, "/v1.0/groups").await;
        let names: Vec<&str> = groups.iter().filter_map(|g| g["displayName"].as_str()).collect();
        assert!(names.contains(&"SG-Retail-Devices") && names.contains(&"SG-Break-Glass-Devices"), "{}", tenant.name);
        let (incidents, _) = lab.get_all(&token, "/v1.0/security/incidents").await;
        assert!((2..=4).contains(&incidents.len()), "{}", tenant.name);
        let live = live_policies(&seed.join("tenants").join(&tenant.tenant_id));
        for policy in &tenant.policies {
            let owned =
                live.iter().find(|p| p["description"].as_str().is_some_and(|d| d.ends_with(&marker(&policy.object))));
            match (tenant.name.as_str(), policy.object.to_string().as_str()) {
                ("fabrikam-emea", "AttackSurfaceReductionPolicy/asr-block") => {
                    let live = owned.expect("the drifted ASR policy");
                    let text = serde_json::to_string(&live["settings"]).expect("JSON");
                    assert!(text.contains("blockcredentialstealingfromwindowslocalsecurityauthoritysubsystem_audit"));
                    assert_ne!(as_written(live), *policy.payload, "drifted");
                    let mut undrifted = text.replace("subsystem_audit", "subsystem_block");
                    undrifted = format!("{{\"settings\": {undrifted}}}");
                    let settings: Value = serde_json::from_str(&undrifted).expect("JSON");
                    let mut fixed = live.clone();
                    fixed["settings"] = settings["settings"].clone();
                    assert_eq!(as_written(&fixed), *policy.payload, "drifted in exactly that rule");
                    let targets: Vec<&str> = live["assignments"]
                        .as_array()
                        .expect("assigned")
                        .iter()
                        .filter_map(|a| a["target"]["@odata.type"].as_str())
                        .collect();
                    assert_eq!(
                        targets,
                        ["#microsoft.graph.groupAssignmentTarget", "#microsoft.graph.exclusionGroupAssignmentTarget"]
                    );
                }
                ("northwind-us", "FirewallPolicy/firewall-baseline") => {
                    assert_eq!(as_written(owned.expect("the firewall policy")), *policy.payload, "in sync");
                }
                _ => {}
            }
        }
    }
    let fabrikam = desired.tenants.iter().find(|t| t.name == "fabrikam-emea").expect("fabrikam-emea");
    let live = live_policies(&seed.join("tenants").join(&fabrikam.tenant_id));
    let unmanaged = live.iter().find(|p| p["name"] == "Contoso AV - Standard").expect("the unmanaged look-alike");
    assert!(!unmanaged["description"].as_str().expect("description").contains("managed-by tenantctl"));
}

fn copy_tree(from: &Path, to: &Path) {
    for (relative, bytes) in tree(from) {
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(target, bytes).expect("write");
    }
}
