//! The cross-tenant read commands against the lab over HTTP: `incidents` merges ten tenants' queues
//! with a tenant column, sorted and filtered, and lists a failing tenant as unknown (exit 3); `hunt`
//! merges one query's rows under a tenant column and reports what its caps cut.

#[allow(dead_code)]
#[path = "workflow/support.rs"]
mod support;

use std::path::Path;

use serde_json::Value;
use support::{LabProcess, expect_code, stderr, stdout};

const SEVERITIES: &[&str] = &["high", "medium", "low", "informational"];

/// A generated lab of ten tenants, served with the first one failing; returns its name and id.
fn ten_tenants() -> (tempfile::TempDir, LabProcess, String, String) {
    let state = tempfile::tempdir().expect("tempdir");
    expect_code(
        &support::tenantctl(&["lab", "init", &state.path().to_string_lossy(), "--tenants", "10", "--policies", "2"]),
        0,
    );
    let manifests = std::fs::read_to_string(state.path().join("manifests/tenants.yaml")).expect("tenants.yaml");
    let failing_id =
        manifests.lines().find_map(|l| l.trim().strip_prefix("tenantId: ")).expect("a tenant id").to_string();
    let lab = LabProcess::serve(state.path(), &["--failing-tenant", &failing_id]);
    (state, lab, "lab-tenant-0001".to_string(), failing_id)
}

fn manifests(state: &Path) -> String {
    state.join("manifests").to_string_lossy().to_string()
}

/// Incidents the lab holds for every tenant but `except`.
fn stored_incidents(state: &Path, except: &str) -> usize {
    let mut count = 0;
    for tenant in std::fs::read_dir(state.join("tenants")).expect("tenants") {
        let tenant = tenant.expect("entry").path();
        if tenant.ends_with(except) {
            continue;
        }
        count += std::fs::read_dir(tenant.join("incidents")).map(|d| d.count()).unwrap_or(0);
    }
    count
}

#[test]
fn incidents_from_ten_tenants_merge_sorted_with_the_failing_one_unknown() {
    let (state, lab, failing, failing_id) = ten_tenants();
    let output = lab.tenantctl(state.path(), &["incidents", "-f", &manifests(state.path()), "-o", "json"]);
    expect_code(&output, 3);
    assert!(stderr(&output).contains(&format!("unknown: {failing} ({failing_id})")), "{}", stderr(&output));
    let queue: Value = serde_json::from_str(&stdout(&output)).expect("json");
    let incidents = queue["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), stored_incidents(state.path(), &failing_id));
    assert_eq!(queue["tenantsRead"], 9);
    assert_eq!(queue["unknownTenants"][0]["tenant"], failing);
    let tenants: std::collections::BTreeSet<&str> = incidents.iter().filter_map(|i| i["tenant"].as_str()).collect();
    assert_eq!(tenants.len(), 9, "every reachable tenant with incidents contributes");
    assert!(!tenants.contains(failing.as_str()));
    let key = |i: &Value| {
        let rank = SEVERITIES.iter().position(|s| *s == i["severity"]).unwrap_or(SEVERITIES.len());
        let time: jiff::Timestamp = i["lastUpdateDateTime"].as_str().expect("time").parse().expect("timestamp");
        (rank, std::cmp::Reverse(time))
    };
    assert!(incidents.windows(2).all(|w| key(&w[0]) <= key(&w[1])), "sorted by severity, then newest first");

    let high = lab.tenantctl(
        state.path(),
        &[
            "incidents",
            "-f",
            &manifests(state.path()),
            "--severity",
            "high",
            "--status",
            "active,inProgress",
            "-o",
            "csv",
        ],
    );
    expect_code(&high, 3);
    let text = stdout(&high);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("TENANT,SEVERITY,STATUS,ID,UPDATED,ASSIGNED TO,TITLE"));
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.split(',').nth(1) == Some("high")), "{text}");
    assert!(rows.iter().all(|r| matches!(r.split(',').nth(2), Some("active" | "inProgress"))), "{text}");

    let none = lab.tenantctl(state.path(), &["incidents", "-f", &manifests(state.path()), "--since", "2999-01-01"]);
    expect_code(&none, 3);
    assert_eq!(stdout(&none).lines().count(), 1, "only the header: {}", stdout(&none));

    let one =
        lab.tenantctl(state.path(), &["incidents", "-f", &manifests(state.path()), "--tenant", "lab-tenant-0002"]);
    expect_code(&one, 0);
    assert!(stdout(&one).lines().skip(1).all(|l| l.starts_with("lab-tenant-0002 ")), "{}", stdout(&one));
}

#[test]
fn hunting_merges_rows_under_a_tenant_column_and_reports_cuts() {
    let (state, lab, failing, _) = ten_tenants();
    let query = ["hunt", "-f", &manifests(state.path()), "--query", "DeviceProcessEvents | take 3", "-o", "json"];
    let output = lab.tenantctl(state.path(), &query);
    expect_code(&output, 3);
    let merged: Value = serde_json::from_str(&stdout(&output)).expect("json");
    let columns: Vec<&str> =
        merged["schema"].as_array().expect("schema").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(columns, ["Tenant", "Timestamp", "DeviceName", "FileName", "InitiatingProcessFileName"]);
    assert_eq!(merged["results"].as_array().expect("rows").len(), 27, "3 rows from each of 9 tenants");
    assert_eq!(merged["results"][0]["Tenant"], "lab-tenant-0002");
    assert_eq!(merged["unknownTenants"][0]["tenant"], failing);

    let mut capped = query.to_vec();
    capped.extend(["--max-rows-per-tenant", "2", "--max-rows", "5"]);
    let output = lab.tenantctl(state.path(), &capped);
    let merged: Value = serde_json::from_str(&stdout(&output)).expect("json");
    assert_eq!(merged["results"].as_array().expect("rows").len(), 5);
    let text = stderr(&output);
    assert!(text.contains("5 rows from 9 tenants (27 returned; capped)"), "{text}");
    assert!(text.contains("cut: lab-tenant-0002 returned 3 rows, 2 kept"), "{text}");
    assert!(text.contains("cut: lab-tenant-0010 returned 3 rows, 0 kept"), "{text}");

    let table = lab.tenantctl(
        state.path(),
        &["hunt", "-f", &manifests(state.path()), "--query", "DeviceInfo", "--tenant", "lab-tenant-0003"],
    );
    expect_code(&table, 0);
    assert!(stdout(&table).starts_with("Tenant "), "{}", stdout(&table));
    let missing = support::tenantctl(&["hunt", "-f", &manifests(state.path())]);
    expect_code(&missing, 1);
    assert!(stderr(&missing).contains("--query"), "{}", stderr(&missing));
}

/// Every stored incident of a lab tenant, as the lab holds it.
fn incidents_of(state: &Path, tenant_id: &str) -> Vec<Value> {
    let dir = state.join("tenants").join(tenant_id).join("incidents");
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.expect("entry").path()).expect("read")).expect("json"))
        .collect()
}

#[test]
fn a_bulk_update_writes_every_reachable_tenant_once_and_lists_the_unreachable_one() {
    let state = tempfile::tempdir().expect("tempdir");
    let path = state.path().to_string_lossy().to_string();
    expect_code(&support::tenantctl(&["lab", "init", &path, "--tenants", "3", "--policies", "1"]), 0);
    let manifests_text = std::fs::read_to_string(state.path().join("manifests/tenants.yaml")).expect("tenants.yaml");
    let ids: Vec<String> =
        manifests_text.lines().filter_map(|l| l.trim().strip_prefix("tenantId: ")).map(str::to_string).collect();
    let (failing, reachable) = (ids[0].clone(), ids[1..].to_vec());
    let lab = LabProcess::serve(state.path(), &["--failing-tenant", &failing]);
    let update = [
        "incidents",
        "update",
        "-f",
        &manifests(state.path()),
        "--severity",
        "high",
        "--set-status",
        "inProgress",
        "--assign-to",
        "soc@contoso.example",
        "--add-tag",
        "triaged",
        "--comment",
        "Triaged across tenants",
        "--yes",
        "-o",
        "json",
    ];
    let first = lab.tenantctl(state.path(), &update);
    expect_code(&first, 3);
    assert!(stderr(&first).contains("unknown: lab-tenant-0001"), "{}", stderr(&first));
    let report: Value = serde_json::from_str(&stdout(&first)).expect("json");
    let results: Vec<&str> =
        report["incidents"].as_array().expect("incidents").iter().filter_map(|i| i["result"].as_str()).collect();
    assert!(!results.is_empty() && results.iter().all(|r| *r == "updated"), "{results:?}");
    let written_tenants: std::collections::BTreeSet<&str> =
        report["incidents"].as_array().expect("incidents").iter().filter_map(|i| i["tenant"].as_str()).collect();
    assert_eq!(written_tenants.len(), 2, "both reachable tenants are written: {written_tenants:?}");

    let check = || {
        for tenant in &reachable {
            for incident in incidents_of(state.path(), tenant).iter().filter(|i| i["severity"] == "high") {
                assert_eq!(incident["status"], "inProgress", "{incident}");
                assert_eq!(incident["assignedTo"], "soc@contoso.example");
                assert!(incident["customTags"].as_array().expect("tags").contains(&Value::from("triaged")));
                let comments = incident["comments"].as_array().expect("comments");
                let ours = comments.iter().filter(|c| c["comment"] == "Triaged across tenants").count();
                assert_eq!(ours, 1, "commented once: {incident}");
            }
        }
    };
    check();
    let again = lab.tenantctl(state.path(), &update);
    expect_code(&again, 3);
    let report: Value = serde_json::from_str(&stdout(&again)).expect("json");
    assert!(report["incidents"].as_array().expect("incidents").iter().all(|i| i["result"] == "unchanged"));
    check();

    let missing = lab.tenantctl(
        state.path(),
        &[
            "incidents",
            "update",
            "-f",
            &manifests(state.path()),
            "lab-tenant-0002/999999",
            "--set-status",
            "resolved",
            "--yes",
        ],
    );
    expect_code(&missing, 1);
    assert!(stderr(&missing).contains("no such incident"), "{}", stderr(&missing));
}

#[test]
fn devices_and_identities_merge_the_reachable_tenants_with_caps() {
    let (state, lab, failing, _) = ten_tenants();
    let devices = lab.tenantctl(
        state.path(),
        &["devices", "-f", &manifests(state.path()), "--max-rows-per-tenant", "2", "-o", "json"],
    );
    expect_code(&devices, 3);
    assert!(stderr(&devices).contains(&format!("unknown: {failing}")), "{}", stderr(&devices));
    assert!(stderr(&devices).contains("cut: lab-tenant-0002 matched"), "{}", stderr(&devices));
    let view: Value = serde_json::from_str(&stdout(&devices)).expect("json");
    let rows = view["rows"].as_array().expect("rows");
    let mut per_tenant: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for row in rows {
        *per_tenant.entry(row["tenant"].as_str().expect("tenant")).or_default() += 1;
        assert!(row["deviceName"].is_string() && row["complianceState"].is_string(), "{row}");
    }
    assert_eq!(per_tenant.len(), 9, "every reachable tenant: {per_tenant:?}");
    assert!(per_tenant.values().all(|n| *n == 2), "at most two each: {per_tenant:?}");
    assert!(view["tenants"].as_array().expect("tenants").iter().all(|t| t["returned"].as_u64() >= Some(4)));

    let risky = lab.tenantctl(
        state.path(),
        &["identities", "-f", &manifests(state.path()), "--risk-state", "atRisk", "--max-rows", "5", "-o", "csv"],
    );
    expect_code(&risky, 3);
    let text = stdout(&risky);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("TENANT,USER,NAME,RISK LEVEL,RISK STATE,DETAIL,UPDATED"));
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty() && rows.len() <= 5, "{text}");
    assert!(rows.iter().all(|r| r.split(',').nth(4) == Some("atRisk")), "{text}");
}
