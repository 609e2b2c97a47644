//! A `tenantctl lab serve` process, its control endpoints, and `tenantctl` commands pointed at it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

#[path = "../support/lab_process.rs"]
mod lab_process;

use lab_process::LabChild;

/// The lab in a process of its own, so that killing an apply never touches it.
pub struct ServedLab {
    pub url: String,
    state: PathBuf,
    _process: LabChild,
}

impl ServedLab {
    pub fn serve(state: &Path, knobs: &[String]) -> ServedLab {
        let process = LabChild::serve(state, knobs);
        ServedLab { url: process.url.clone(), state: state.to_path_buf(), _process: process }
    }

    /// `tenantctl ARGS -f <state>/manifests`, signed in with the lab's app, quiet.
    pub fn tenantctl(&self, args: &[&str], concurrency: usize) -> Command {
        let lab: Value = serde_json::from_str(&std::fs::read_to_string(self.state.join("lab.json")).expect("lab.json"))
            .expect("lab.json is JSON");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenantctl"));
        command
            .args(args)
            .arg("-f")
            .arg(self.state.join("manifests"))
            .args(["--graph-url", &self.url, "--login-url", &self.url])
            .args(["--concurrency", &concurrency.to_string()])
            .env("AZURE_CLIENT_ID", lab["apps"][0]["clientId"].as_str().expect("client id"))
            .env("AZURE_CLIENT_SECRET", lab["apps"][0]["clientSecret"].as_str().expect("secret"))
            .env_remove("AZURE_FEDERATED_TOKEN_FILE")
            .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// Replaces the fault rates (`{}` turns every fault off).
    pub fn set_faults(&self, faults: &Value) {
        let body = serde_json::json!({ "faults": faults });
        let reply = control(|http| http.put(format!("{}/_lab/config", self.url)).json(&body));
        assert!(reply["faults"].is_object(), "the lab took the fault rates: {reply}");
    }

    /// How many Graph requests the lab answered with each status (`0`: connection dropped).
    pub fn replies_by_status(&self) -> BTreeMap<String, u64> {
        let stats = control(|http| http.get(format!("{}/_lab/stats", self.url)));
        serde_json::from_value(stats["totals"]["byStatus"].clone()).expect("totals by status")
    }

    /// Policy write requests (`POST`, `PUT`, `DELETE`) the lab received so far, whatever their answer:
    /// how far an apply got.
    pub fn policy_write_requests(&self) -> u64 {
        let stats = control(|http| http.get(format!("{}/_lab/stats", self.url)));
        let requests = stats["requests"].as_array().cloned().unwrap_or_default();
        requests
            .iter()
            .filter(|r| {
                r["method"] != "GET" && r["route"].as_str().is_some_and(|r| r.contains("configurationPolicies"))
            })
            .filter_map(|r| r["count"].as_u64())
            .sum()
    }
}

/// One request to the lab's control endpoints, on a runtime of its own (callers are synchronous).
fn control(request: impl FnOnce(&reqwest::Client) -> reqwest::RequestBuilder) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let http = reqwest::Client::new();
    let request = request(&http);
    runtime.block_on(async {
        let response = request.send().await.expect("the lab answers");
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.expect("JSON")
    })
}
