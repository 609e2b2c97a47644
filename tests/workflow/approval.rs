//! A tenant whose Multi Admin Approval holds configuration-policy writes (`lab serve
//! --require-approval`): apply files one approval request per write and reports the tenant awaiting
//! approval, asks nothing twice, carries out what approvers approved on the next apply, and reports
//! (without asking again) what they rejected.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{LabProcess, NORTHWIND_US, contoso_state, markers, stdout};

/// The lab's approval requests of northwind-us, by id.
fn requests(lab: &LabProcess) -> BTreeMap<String, Value> {
    let url = format!("{}/_lab/approvals/{NORTHWIND_US}", lab.url);
    let listed: Value =
        runtime().block_on(async { reqwest::get(&url).await.expect("lab answers").json().await.expect("JSON") });
    listed["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|r| (r["id"].as_str().expect("id").to_string(), r.clone()))
        .collect()
}

/// An approver's decision on a request.
fn decide(lab: &LabProcess, id: &str, decision: &str) {
    let url = format!("{}/_lab/approvals/{NORTHWIND_US}/{id}/{decision}", lab.url);
    let status = runtime().block_on(async {
        reqwest::Client::new()
            .post(&url)
            .body(r#"{"justification": "CAB-4711"}"#)
            .send()
            .await
            .expect("lab answers")
            .status()
    });
    assert!(status.is_success(), "{decision} {id}: {status}");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn with_status<'a>(requests: &'a BTreeMap<String, Value>, status: &str) -> Vec<&'a Value> {
    requests.values().filter(|r| r["status"] == status).collect()
}

fn apply_json(lab: &LabProcess, state: &std::path::Path) -> (Option<i32>, Value) {
    let args = ["apply", "-f", "examples/contoso", "--tenant", "northwind-us", "--auto-approve", "-o", "json"];
    let output = lab.tenantctl(state, &args);
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("JSON: {}", stdout(&output)));
    (output.status.code(), report)
}

#[test]
fn held_writes_wait_for_approval_and_resume_once_approved() {
    let state = contoso_state();
    let lab = LabProcess::serve(state.path(), &["--require-approval", NORTHWIND_US]);
    let before = markers(state.path(), NORTHWIND_US);

    // Every write is held: one request each, the tenant awaits approval, nothing is written.
    let (code, report) = apply_json(&lab, state.path());
    assert_eq!(code, Some(3), "awaiting approval is not done, and not an error: {report}");
    assert_eq!(report["verdict"], "awaitingApproval");
    let held = report["tenants"][0]["awaitingApproval"].as_array().expect("held writes").len();
    assert_eq!(held, 6, "{report}");
    assert!(report["tenants"][0].get("errors").is_none(), "nothing failed: {report}");
    let filed = requests(&lab);
    assert_eq!(with_status(&filed, "needsApproval").len(), held);
    for request in filed.values() {
        let why = request["requestJustification"].as_str().expect("justification");
        assert!(why.starts_with("tenantctl apply of plan "), "the justification names the plan: {why}");
    }
    assert_eq!(markers(state.path(), NORTHWIND_US), before, "nothing written before approval");

    // Applying again asks nothing twice.
    let (code, _) = apply_json(&lab, state.path());
    assert_eq!(code, Some(3));
    assert_eq!(requests(&lab).len(), held, "no second request for a write that waits");

    // The plan names the requests that wait.
    let plan =
        lab.tenantctl(state.path(), &["plan", "-f", "examples/contoso", "--tenant", "northwind-us", "-o", "json"]);
    let plan: Value = serde_json::from_slice(&plan.stdout).expect("plan JSON");
    assert_eq!(plan["tenants"][0]["approvalRequests"].as_array().map(Vec::len), Some(held), "{plan}");

    // The approver rejects the firewall rules update and approves the creates.
    let rejected = filed
        .values()
        .find(|r| r["payloadOperation"] == "PUT")
        .and_then(|r| r["id"].as_str())
        .expect("the drifted firewall rules' update")
        .to_string();
    for id in filed.keys() {
        decide(&lab, id, if *id == rejected { "reject" } else { "approve" });
    }

    // The approved creates are carried out; each new policy's assignment is a write of its own,
    // held in turn. The rejected update is reported, not asked again.
    let (code, report) = apply_json(&lab, state.path());
    assert_eq!(code, Some(1), "a rejected write is a failure: {report}");
    let errors = report["tenants"][0]["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{report}");
    let message = errors[0]["message"].as_str().expect("message");
    assert!(message.contains(&rejected) && message.contains("rejected: CAB-4711"), "{message}");
    let after_creates = requests(&lab);
    assert_eq!(with_status(&after_creates, "completed").len(), held - 1, "the approved requests were used");
    let assigns = with_status(&after_creates, "needsApproval");
    assert_eq!(assigns.len(), held - 1, "each new policy's assignment waits: {after_creates:?}");
    assert_eq!(with_status(&after_creates, "rejected").len(), 1);

    for request in assigns {
        decide(&lab, request["id"].as_str().expect("id"), "approve");
    }
    let (code, report) = apply_json(&lab, state.path());
    assert_eq!(code, Some(1), "only the rejected update is left: {report}");
    assert_eq!(report["summary"]["updated"], 5, "{report}");
    let finished = requests(&lab);
    assert_eq!(finished.len(), 2 * held - 1, "the rejected write was not asked again");
    assert_eq!(with_status(&finished, "needsApproval").len(), 0);

    // Every policy exists once.
    let owned = markers(state.path(), NORTHWIND_US);
    assert!(owned.values().all(|count| *count == 1), "no duplicates: {owned:?}");
    assert_eq!(owned.len(), before.len() + 5, "{owned:?}");
}
