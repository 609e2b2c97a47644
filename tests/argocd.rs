//! The Argo CD health check shipped in `deploy/argocd/health.yaml`, run by a real Lua runtime (lupa,
//! installed by `tests/argocd/setup.sh`) on Tenants as the operator leaves them.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Lua of the health check, as Argo CD reads it from its ConfigMap.
fn script() -> PathBuf {
    let config: Value =
        serde_yaml::from_str(&std::fs::read_to_string(root().join("deploy/argocd/health.yaml")).expect("read"))
            .expect("yaml");
    let lua = config["data"]["resource.customizations.health.tenantctl.dev_Tenant"].as_str().expect("the check");
    let path = std::env::temp_dir().join(format!("tenantctl-health-{}.lua", std::process::id()));
    std::fs::write(&path, lua).expect("write");
    path
}

fn health(python: &str, script: &PathBuf, tenant: &Value) -> (String, String) {
    let mut child = Command::new(python)
        .arg(root().join("tests/argocd/health.py"))
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child.stdin.take().expect("stdin").write_all(tenant.to_string().as_bytes()).expect("write");
    let output = child.wait_with_output().expect("ends");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).expect("json");
    (result["status"].as_str().unwrap_or_default().into(), result["message"].as_str().unwrap_or_default().into())
}

fn tenant(generation: i64, observed: i64, conditions: &[(&str, &str, &str)]) -> Value {
    let conditions: Vec<Value> = conditions
        .iter()
        .map(|(t, s, r)| json!({"type": t, "status": s, "reason": r, "message": format!("{t} {r}")}))
        .collect();
    json!({"metadata": {"name": "t", "generation": generation}, "status": {"observedGeneration": observed, "conditions": conditions}})
}

#[test]
fn the_health_check_reads_the_operators_conditions() {
    let setup = Command::new("bash").arg(root().join("tests/argocd/setup.sh")).output().expect("setup.sh runs");
    assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));
    let python = String::from_utf8_lossy(&setup.stdout).trim().to_string();
    let script = script();
    let cases = [
        (json!({"metadata": {"name": "t", "generation": 1}}), "Progressing"),
        (tenant(2, 1, &[("Ready", "True", "Reconciled")]), "Progressing"),
        (
            tenant(
                1,
                1,
                &[
                    ("Ready", "False", "Reconciling"),
                    ("Reconciling", "True", "Writing"),
                    ("Stalled", "False", "Progressing"),
                ],
            ),
            "Progressing",
        ),
        (
            tenant(
                1,
                1,
                &[
                    ("Ready", "True", "Reconciled"),
                    ("Reconciling", "False", "Idle"),
                    ("Stalled", "False", "Progressing"),
                ],
            ),
            "Healthy",
        ),
        (tenant(1, 1, &[("Ready", "False", "InvalidResources"), ("Stalled", "True", "InvalidResources")]), "Degraded"),
        (
            tenant(
                1,
                1,
                &[("Ready", "False", "SyncFailed"), ("Reconciling", "False", "Idle"), ("Stalled", "False", "Retrying")],
            ),
            "Degraded",
        ),
    ];
    for (object, expected) in cases {
        let (status, message) = health(&python, &script, &object);
        assert_eq!(status, expected, "{object} → {message}");
    }
}
