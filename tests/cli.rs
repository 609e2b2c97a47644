//! `tenantctl validate`, `schema` and `crds` as a user runs them.

use std::io::Write;
use std::process::{Command, Stdio};

fn tenantctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // The day the examples' exceptions are judged at, whatever the clock says.
        .env("TENANTCTL_NOW", "2026-12-01")
        .output()
        .expect("run tenantctl")
}

#[test]
fn validate_accepts_the_example() {
    let output = tenantctl(&["validate", "-f", "examples/contoso"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Valid: 34 documents in 21 files (9 tenants, 6 profiles, 10 policies, 2 roles, 3 detection rules, 1 exception, 1 override, 1 notification policy, 1 case).\n"
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
    assert_eq!(printed.matches("kind: CustomResourceDefinition").count(), 18);
    assert_eq!(names.len(), 18);
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
            "antivirus-exclusions-policy.json",
            "antivirus-policy.json",
            "attack-surface-reduction-policy.json",
            "case.json",
            "defender-role.json",
            "defender-update-controls-policy.json",
            "detection-rule.json",
            "distribution-profile.json",
            "endpoint-detection-policy.json",
            "firewall-policy.json",
            "firewall-rules-policy.json",
            "intune-role.json",
            "notification-policy.json",
            "policy-exception.json",
            "policy-override.json",
            "security-experience-policy.json",
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

#[test]
fn a_mistyped_flag_is_an_error_that_exits_1_not_the_changes_code() {
    let output = tenantctl(&["plan", "-f", "examples/contoso", "--detailed-exitcode", "--tennant", "x"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unexpected argument '--tennant'") && stderr.contains("'--tenant'"), "{stderr}");
    let help = tenantctl(&["plan", "--help"]);
    assert_eq!(help.status.code(), Some(0), "help is not an error");
}

#[test]
fn mistyped_fields_and_names_get_a_did_you_mean() {
    let output = tenantctl(&["validate", "-f", "tests/bad/12-unknown-spec-field.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown field `tenantID` (did you mean `tenantId`?)"), "{stderr}");
    let output = tenantctl(&[
        "plan",
        "--lab",
        "--lab-state",
        "/nonexistent",
        "-f",
        "examples/contoso",
        "--tenant",
        "northwind-su",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no such tenant in the manifests (did you mean `northwind-us`?)"), "{stderr}");
}

#[test]
fn colors_follow_no_color_and_clicolor_force() {
    let plan = |env: &[(&str, &str)]| {
        let state = tempfile::tempdir().expect("tempdir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenantctl"));
        command.args(["plan", "--lab", "--lab-state"]).arg(state.path().join("lab")).args(["-f", "examples/contoso"]);
        command.current_dir(env!("CARGO_MANIFEST_DIR")).env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
        for (name, value) in env {
            command.env(name, value);
        }
        String::from_utf8_lossy(&command.output().expect("run").stdout).into_owned()
    };
    assert!(plan(&[("CLICOLOR_FORCE", "1")]).contains("\x1b["), "forced colors when piped");
    assert!(!plan(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'), "NO_COLOR wins");
    assert!(!plan(&[]).contains('\x1b'), "plain when piped");
}

#[test]
fn a_piped_answer_confirms_an_apply_and_the_prompt_goes_to_standard_error() {
    let state = tempfile::tempdir().expect("tempdir");
    let run = |answer: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
            .args(["apply", "--lab", "--lab-state"])
            .arg(state.path().join("lab"))
            .args(["-f", "examples/contoso", "--tenant", "northwind-us"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child.stdin.take().expect("stdin").write_all(answer.as_bytes()).expect("write");
        child.wait_with_output().expect("wait")
    };
    let no = run("no\n");
    assert_eq!(no.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no.stderr).contains("Only 'yes' will be accepted"));
    assert!(!String::from_utf8_lossy(&no.stdout).contains("Only 'yes'"), "the prompt is not on standard output");
    assert!(String::from_utf8_lossy(&no.stdout).contains("Apply cancelled; nothing was written."));
    let yes = run("yes\n");
    assert_eq!(yes.status.code(), Some(0), "{}", String::from_utf8_lossy(&yes.stderr));
    assert!(
        String::from_utf8_lossy(&yes.stdout)
            .contains("Apply complete: 5 created, 1 updated, 0 deleted across 1 tenant.")
    );
    let nothing = run("");
    assert!(String::from_utf8_lossy(&nothing.stdout).contains("Nothing to apply."), "converged");
}

#[test]
fn without_credentials_the_command_stops_with_one_error_up_front() {
    let output = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args([
            "plan",
            "-f",
            "examples/contoso",
            "--graph-url",
            "http://127.0.0.1:9",
            "--login-url",
            "http://127.0.0.1:9",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("no credentials").count(), 1, "{stderr}");
    assert!(
        stderr.contains("no credentials for 7 tenants (adatum-apac, fabrikam-emea, fabrikam-us and 4 more)"),
        "{stderr}"
    );
    assert!(stderr.contains("--lab"), "{stderr}");
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let output = tenantctl(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0));
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains("tenantctl") && script.contains("detailed-exitcode"), "{shell}");
    }
    let bash = String::from_utf8_lossy(&tenantctl(&["completions", "bash"]).stdout).into_owned();
    let check = Command::new("bash").args(["-n", "-c", &bash]).status().expect("bash");
    assert!(check.success(), "the bash script parses");
}

#[test]
fn apply_reports_as_json_for_machines() {
    let state = tempfile::tempdir().expect("tempdir");
    let lab = state.path().join("lab").to_string_lossy().into_owned();
    let refused = tenantctl(&["apply", "--lab", "--lab-state", &lab, "-f", "examples/contoso", "-o", "json"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--auto-approve"));
    let args = ["apply", "--lab", "--lab-state", &lab, "-f", "examples/contoso", "--auto-approve", "-o", "json"];
    let output = tenantctl(&args);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(report["verdict"], "complete");
    assert_eq!(report["summary"]["created"], 66, "56 policies, 6 detection rules and 4 Defender roles");
    assert_eq!(report["summary"]["updated"], 1, "Fabrikam EMEA's ASR rule is excepted");
    assert_eq!(report["summary"]["tenants"], 9);
    let fabrikam = report["tenants"].as_array().expect("tenants").iter().find(|t| t["name"] == "fabrikam-emea");
    assert_eq!(fabrikam.map(|t| (t["created"].clone(), t["updated"].clone())), Some((10.into(), 0.into())));
}

/// Plan, drift, a saved plan and apply print for the Contoso example exactly what they printed when
/// the whole plan was held in memory (the digests pinned in `tests/fixtures/contoso-views/`).
#[test]
fn contoso_views_are_byte_for_byte_as_pinned() {
    let pinned = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/contoso-views/sha256.txt"),
    )
    .expect("pinned digests");
    let digest = |bytes: &[u8]| -> String {
        ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
    };
    let mut differ = Vec::new();
    for line in pinned.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (command, expected) = line.rsplit_once(' ').expect("command and digest");
        let words: Vec<&str> = command.split_whitespace().collect();
        let state = tempfile::tempdir().expect("tempdir");
        let saved = state.path().join("plan.json");
        let lab = state.path().join("lab");
        let mut args: Vec<&str> = vec![words[0], "--lab", "--lab-state", lab.to_str().expect("utf-8")];
        args.extend(["-f", "examples/contoso"]);
        let mut reads_file = false;
        for word in &words[1..] {
            if *word == "FILE" {
                args.push(saved.to_str().expect("utf-8"));
                reads_file = true;
            } else {
                args.push(word);
            }
        }
        let output = tenantctl(&args);
        assert!(matches!(output.status.code(), Some(0 | 2)), "{command}: {}", String::from_utf8_lossy(&output.stderr));
        let printed = if reads_file { std::fs::read(&saved).expect("saved plan") } else { output.stdout };
        if digest(&printed) != expected {
            differ.push(format!("{command}:\n{}", String::from_utf8_lossy(&printed)));
        }
    }
    assert!(differ.is_empty(), "differ from the pinned output:\n{}", differ.join("\n\n"));
}
