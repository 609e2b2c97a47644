use std::process::Stdio;
use std::time::Duration;

use super::eventually::eventually;
use super::support::*;

/// Every marker across the Contoso tenants, with how many live policies carry it.
fn all_markers(state: &std::path::Path) -> Vec<usize> {
    let tenants = std::fs::read_dir(state.join("tenants")).expect("tenants");
    tenants
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .flat_map(|tenant| markers(state, &tenant).into_values())
        .collect()
}

#[test]
fn an_interrupted_apply_finishes_its_writes_in_flight_says_what_it_did_and_exits_130() {
    let state = contoso_state();
    // Slow enough that the apply is still writing when it is interrupted.
    let lab = LabProcess::serve(state.path(), &["--latency-ms", "150"]);
    let before = all_markers(state.path()).len();
    let mut command =
        lab.command(state.path(), &["apply", "-f", "examples/contoso", "--auto-approve", "--concurrency", "1"]);
    let child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("apply starts");
    eventually(Duration::from_secs(60), "a first write", || (all_markers(state.path()).len() > before).then_some(()));
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(kill.success());
    let output = child.wait_with_output().expect("apply ends");
    expect_code(&output, 130);
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(err.contains("Interrupted: finishing the writes in flight"), "{err}");
    assert!(out.contains("Apply interrupted: ") && out.contains("not started."), "{out}");
    assert!(!out.contains("Apply complete"), "{out}");

    // What was written is whole, and a rerun finishes the job without a duplicate.
    // Woodgrove's own app is not in the seed: it stays unknown (exit 3), as in every Contoso run.
    let rerun = lab.tenantctl(state.path(), &["apply", "-f", "examples/contoso", "--auto-approve"]);
    expect_code(&rerun, 3);
    assert!(
        all_markers(state.path()).iter().all(|&copies| copies == 1),
        "no duplicate: {:?}",
        all_markers(state.path())
    );
    let plan = lab.tenantctl(state.path(), &["plan", "-f", "examples/contoso"]);
    assert!(stdout(&plan).contains("Plan: 0 to create, 0 to update, 0 to delete"), "{}", stdout(&plan));
}
