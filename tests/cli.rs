//! `tenantctl validate`, `schema` and `crds` as a user runs them.

use std::io::Write;
use std::process::{Command, Stdio};

fn tenantctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run tenantctl")
}

#[test]
fn validate_accepts_the_example() {
    let output = tenantctl(&["validate", "-f", "examples/contoso"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Valid: 20 documents in 8 files (9 tenants, 5 profiles, 5 policies, 1 notification policy).\n"
    );
}

#[test]
fn validate_reads_several_paths_and_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["validate", "-f", "policies/asr", "-f", "-"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let tenant = "apiVersion: tenantctl.dev/v1alpha1\nkind: Tenant\nmetadata: {name: t}\nspec: {tenantId: nope, displayName: T}\n";
    child.stdin.take().expect("stdin").write_all(tenant.as_bytes()).expect("write");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("<stdin>:4:18: error: Tenant/t: spec.tenantId: `nope` is not a GUID"), "{stderr}");
    assert!(stderr.contains("in 3 documents (3 files)"), "{stderr}");
}

#[test]
fn validate_reports_a_missing_path() {
    let output = tenantctl(&["validate", "-f", "does/not/exist"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: does/not/exist: cannot read"));
}

#[test]
fn crds_print_every_kind_as_committed() {
    let output = tenantctl(&["crds"]);
    assert_eq!(output.status.code(), Some(0));
    let printed = String::from_utf8_lossy(&output.stdout);
    let mut expected = String::new();
    let mut names: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/crds"))
        .expect("crds")
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    for path in &names {
        let text = std::fs::read_to_string(path).expect("crd");
        assert!(printed.contains(&text), "{} is printed", path.display());
        expected.push_str(&text);
    }
    assert_eq!(printed.matches("kind: CustomResourceDefinition").count(), 8);
    assert_eq!(names.len(), 8);
}

#[test]
fn schema_writes_one_file_per_kind_and_an_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_string_lossy().to_string();
    let output = tenantctl(&["schema", "--out", &out]);
    assert_eq!(output.status.code(), Some(0));
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "antivirus-policy.json",
            "attack-surface-reduction-policy.json",
            "distribution-profile.json",
            "firewall-policy.json",
            "intune-role.json",
            "notification-policy.json",
            "settings-catalog-policy.json",
            "tenant.json",
            "tenantctl.json"
        ]
    );
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("attack-surface-reduction-policy.json")).expect("read"),
    )
    .expect("json");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["properties"]["kind"]["const"], "AttackSurfaceReductionPolicy");
}
