//! Running `tenantctl` against a copy of the Contoso lab seed, and reading what the lab stored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

#[path = "../support/lab_process.rs"]
mod lab_process;

use lab_process::LabChild;

pub const FABRIKAM_EMEA: &str = "4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11";
pub const NORTHWIND_US: &str = "c2e8a4f6-1b39-4d7e-a5c0-9e3b6d1f2a44";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh copy of the Contoso lab seed.
pub fn contoso_state() -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy(&root().join("examples/contoso/lab"), dir.path());
    dir
}

/// Copies a folder, recursively.
pub fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// `tenantctl ARGS` from the crate root.
pub fn tenantctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(args)
        .current_dir(root())
        .env("TENANTCTL_NOW", TODAY)
        .output()
        .expect("tenantctl runs")
}

/// The day the tests run on, whatever the clock says: the examples' exceptions hold then.
pub const TODAY: &str = "2026-12-01";

/// `tenantctl ARGS --lab --lab-state STATE`.
pub fn with_lab(state: &Path, args: &[&str]) -> Output {
    let state = state.to_string_lossy().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--lab", "--lab-state", &state]);
    tenantctl(&all)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit code, with both streams in the message when it is not the expected one.
pub fn expect_code(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", stdout(output), stderr(output));
}

/// The policies the lab stored for a tenant, by id (both single-object files and collections).
pub fn stored_policies(state: &Path, tenant: &str) -> BTreeMap<String, Value> {
    let dir = state.join("tenants").join(tenant).join("configurationPolicies");
    let mut policies = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(&dir) else { return policies };
    for entry in entries {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let items = match value.get("value").and_then(Value::as_array) {
            Some(items) => items.clone(),
            None => vec![value],
        };
        for item in items {
            let id = item["id"].as_str().unwrap_or_default().to_string();
            policies.insert(id, item);
        }
    }
    policies
}

/// How many stored policies of a tenant carry each ownership marker.
pub fn markers(state: &Path, tenant: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for policy in stored_policies(state, tenant).values() {
        let description = policy["description"].as_str().unwrap_or_default();
        if let Some(start) = description.rfind("[managed-by tenantctl: ") {
            *counts.entry(description[start..].to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// A `tenantctl lab serve` process (for fault knobs the in-process `--lab` does not take).
pub struct LabProcess {
    pub url: String,
    process: Option<LabChild>,
    state: PathBuf,
    knobs: Vec<String>,
}

impl LabProcess {
    pub fn serve(state: &Path, knobs: &[&str]) -> LabProcess {
        let process = LabChild::serve(state, knobs);
        let knobs = knobs.iter().map(|k| k.to_string()).collect();
        LabProcess { url: process.url.clone(), process: Some(process), state: state.to_path_buf(), knobs }
    }

    /// Stops the lab (an outage of Graph: connections are refused).
    pub fn stop(&mut self) {
        self.process = None;
    }

    /// Starts the lab again on its address and state.
    pub fn restart(&mut self) {
        let addr = self.url.trim_start_matches("http://").to_string();
        self.process = Some(LabChild::serve_on(&addr, &self.state, &self.knobs));
    }

    /// `tenantctl ARGS` pointed at this lab with the seed's app credentials.
    pub fn tenantctl(&self, state: &Path, args: &[&str]) -> Output {
        self.command(state, args).output().expect("tenantctl runs")
    }

    /// The command `tenantctl` would run, to add to.
    pub fn command(&self, state: &Path, args: &[&str]) -> Command {
        let app: Value =
            serde_json::from_str(&std::fs::read_to_string(state.join("lab.json")).expect("lab.json")).expect("json");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenantctl"));
        command
            .env("TENANTCTL_NOW", TODAY)
            .args(args)
            .args(["--graph-url", &self.url, "--login-url", &self.url])
            .env("AZURE_CLIENT_ID", app["apps"][0]["clientId"].as_str().expect("client id"))
            .env("AZURE_CLIENT_SECRET", app["apps"][0]["clientSecret"].as_str().expect("secret"))
            .env_remove("AZURE_FEDERATED_TOKEN_FILE")
            .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
            .current_dir(root());
        command
    }
}

/// The Contoso manifests copied into `dir`, the profiles and one file of `policies/` edited.
pub fn contoso_manifests(dir: &Path, profiles: impl Fn(String) -> String, file: &str, edit: impl Fn(String) -> String) {
    let contoso = root().join("examples/contoso");
    std::fs::create_dir_all(dir.join("policies")).expect("mkdir");
    std::fs::copy(contoso.join("tenants.yaml"), dir.join("tenants.yaml")).expect("copy");
    for entry in std::fs::read_dir(contoso.join("policies")).expect("policies") {
        let entry = entry.expect("entry");
        let text = std::fs::read_to_string(entry.path()).expect("read");
        let text = if entry.file_name() == file { edit(text) } else { text };
        std::fs::write(dir.join("policies").join(entry.file_name()), text).expect("write");
    }
    let text = std::fs::read_to_string(contoso.join("profiles.yaml")).expect("profiles");
    std::fs::write(dir.join("profiles.yaml"), profiles(text)).expect("write");
}
