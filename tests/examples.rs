//! The shipped example and policy library validate and resolve as documented; generated artifacts
//! (CRDs, JSON Schemas) match what the types generate.

use std::path::{Path, PathBuf};

use tenantctl::engine::resolve::DesiredState;
use tenantctl::engine::resolve::validate_and_resolve_at;
use tenantctl::manifest::Diagnostic;
use tenantctl::manifest::generate::{crd_files, schema_files};
use tenantctl::manifest::load::{Input, Loaded, load_inputs};
use tenantctl::model::Kind;
use tenantctl::model::profile::Mode;

/// The day the examples' exceptions are judged at, whatever the clock says.
const TODAY: jiff::Timestamp = jiff::Timestamp::constant(1_796_083_200, 0);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(paths: &[&str]) -> (Loaded, DesiredState, Vec<Diagnostic>) {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(root().join(p))).collect();
    let mut loaded = load_inputs(&inputs, &mut || unreachable!("no stdin"));
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    let (resolution, semantic) = validate_and_resolve_at(&loaded.set, TODAY);
    diagnostics.extend(semantic);
    (loaded, resolution.desired, diagnostics)
}

#[test]
fn contoso_example_is_valid_without_warnings() {
    let (loaded, _, diagnostics) = load(&["examples/contoso"]);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    assert!(loaded.set.tenants.len() >= 8);
    let labels = |key: &str| -> std::collections::BTreeSet<String> {
        loaded.set.tenants.iter().filter_map(|t| t.object.metadata.labels.as_ref()?.get(key).cloned()).collect()
    };
    assert!(labels("business-group").len() >= 2);
    assert!(labels("region").len() >= 3);
    assert!(loaded.set.profiles.len() >= 3);
    assert!(loaded.set.profiles.iter().any(|p| p.object.spec.mode == Mode::Audit));
    let kinds: std::collections::BTreeSet<_> = loaded.set.policies.iter().map(|p| p.object.kind()).collect();
    assert!(kinds.len() >= 3, "antivirus, firewall and ASR policies: {kinds:?}");
}

#[test]
fn contoso_example_resolves_per_tenant() {
    let (_, desired, _) = load(&["examples/contoso"]);
    let summary: Vec<String> = desired
        .tenants
        .iter()
        .map(|t| {
            let mut policies: Vec<String> = t
                .policies
                .iter()
                .map(|p| {
                    format!("{} via {} ({:?}, {} group(s))", p.object, p.profile, p.mode, p.assignments.groups.len())
                })
                .collect();
            policies.extend(t.detection_rules.iter().map(|r| format!("{} via {} ({:?})", r.object, r.profile, r.mode)));
            format!("{}{}: {}", t.name, if t.suspended { " [suspended]" } else { "" }, policies.join("; "))
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"));

    let fabrikam = desired.tenants.iter().find(|t| t.name == "fabrikam-emea").expect("fabrikam-emea");
    let asr = fabrikam.policies.iter().find(|p| p.object.to_string() == "AttackSurfaceReductionPolicy/asr-block");
    let asr = asr.expect("asr-block");
    assert_eq!(asr.payload.name, "Contoso ASR - Block");
    assert!(asr.payload.description.ends_with("[managed-by tenantctl: AttackSurfaceReductionPolicy/asr-block]"));
    assert_eq!(asr.assignments.groups, vec!["SG-Retail-Devices".to_string()]);
    assert_eq!(fabrikam.prune_max_delete_percent, Some(30));
}

#[test]
fn every_library_policy_is_valid() {
    let dir = root().join("policies");
    let mut files = Vec::new();
    collect_yaml(&dir, &mut files);
    assert!(files.len() >= 5, "{files:?}");
    for file in files {
        let relative = file.strip_prefix(root()).expect("under root").to_string_lossy().to_string();
        let (loaded, _, diagnostics) = load(&[&relative]);
        assert!(diagnostics.is_empty(), "{relative}: {diagnostics:#?}");
        let resources = loaded.set.policies.len()
            + loaded.set.roles.len()
            + loaded.set.defender_roles.len()
            + loaded.set.detection_rules.len();
        assert_eq!(resources, 1, "{relative}: one policy, role or detection rule per file");
    }
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect_yaml(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// Regenerate with `cargo run -- crds --out crds`.
#[test]
fn committed_crds_match_the_types() {
    let files = crd_files().expect("crds");
    assert_eq!(files.len(), Kind::ALL.len());
    let kustomization = std::fs::read_to_string(root().join("deploy/kustomization.yaml")).expect("kustomization");
    for (name, generated) in files {
        let committed = std::fs::read_to_string(root().join("crds").join(&name)).unwrap_or_default();
        assert!(committed == generated, "crds/{name} is stale: run `cargo run -- crds --out crds`");
        let deployed = std::fs::read_to_string(root().join("deploy/crds").join(&name)).unwrap_or_default();
        assert!(deployed == generated, "deploy/crds/{name} is stale: run `cargo run -- crds --out deploy/crds`");
        let charted =
            std::fs::read_to_string(root().join("deploy/helm/tenantctl/crds").join(&name)).unwrap_or_default();
        assert!(
            charted == generated,
            "deploy/helm/tenantctl/crds/{name} is stale: run `cargo run -- crds --out deploy/helm/tenantctl/crds`"
        );
        assert!(kustomization.contains(&format!("  - crds/{name}\n")), "deploy/kustomization.yaml lacks crds/{name}");
    }
}

/// Regenerate with `cargo run -- schema --out schemas`.
#[test]
fn committed_schemas_match_the_types() {
    for (name, generated) in schema_files() {
        let committed = std::fs::read_to_string(root().join("schemas").join(&name)).unwrap_or_default();
        assert!(committed == generated, "schemas/{name} is stale: run `cargo run -- schema --out schemas`");
    }
}

/// Every YAML file a user hands to kubectl (or Helm, Argo CD, Flux: YAML 1.1 readers) reads the same
/// there as in tenantctl (YAML 1.2): no unquoted `on`, `off`, `yes`, `no`, octal or base-60 scalar.
#[test]
fn every_shipped_yaml_file_reads_the_same_in_yaml_1_1_and_1_2() {
    fn yaml_files(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            // Helm templates are not YAML until rendered; the chart test checks what they render.
            if path.is_dir() && !path.ends_with("templates") {
                yaml_files(&path, files);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["crds", "deploy", "examples", "policies"] {
        yaml_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "{files:?}");
    let mut traps = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        for plain in tenantctl::util::yaml11::ambiguous_scalars(&text).expect("parses") {
            traps.push(format!("{}:{}:{}: `{}`", file.display(), plain.line, plain.column, plain.value));
        }
    }
    assert!(traps.is_empty(), "unquoted scalars YAML 1.1 reads otherwise:\n{}", traps.join("\n"));
}

/// The image the manifests run is the one the Dockerfile documents building, at the crate's version.
#[test]
fn the_image_is_named_alike_everywhere() {
    let version = env!("CARGO_PKG_VERSION");
    let image = format!("ghcr.io/tenantctl/tenantctl:{version}");
    let read = |path: &str| std::fs::read_to_string(root().join(path)).expect(path);
    assert!(read("Dockerfile").contains(&format!("docker build -t {image} .")), "Dockerfile");
    assert!(read("deploy/deployment.yaml").contains(&format!("image: {image}")), "deploy/deployment.yaml");
    let chart: serde_yaml::Value = serde_yaml::from_str(&read("deploy/helm/tenantctl/Chart.yaml")).expect("Chart.yaml");
    assert_eq!(chart["appVersion"].as_str(), Some(version), "Chart.yaml appVersion");
    let values: serde_yaml::Value = serde_yaml::from_str(&read("deploy/helm/tenantctl/values.yaml")).expect("values");
    assert_eq!(values["image"]["repository"].as_str(), Some("ghcr.io/tenantctl/tenantctl"), "values.yaml");
}
