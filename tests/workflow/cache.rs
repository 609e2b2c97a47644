//! `--cache DIR`: a plan keeps what it read of each tenant, and the next one lists each tenant once
//! and re-reads only the policies whose version moved — a change made by someone else in between is
//! seen, and repaired.

use std::path::Path;

use super::support::*;

/// Graph requests and tenants of the "Observed N tenants in … (M Graph requests, …)" line.
fn observed(output: &std::process::Output) -> (usize, usize) {
    let text = stderr(output);
    let line = text.lines().find(|l| l.starts_with("Observed ")).unwrap_or_else(|| panic!("{text}"));
    let number_before = |word: &str| -> usize {
        let end = line.find(word).unwrap_or_else(|| panic!("{line}"));
        line[..end]
            .trim_end()
            .rsplit([' ', '('])
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{line}"))
    };
    (number_before(" tenant"), number_before(" Graph request"))
}

fn copy_manifests(to: &Path) {
    for name in ["tenants.yaml", "profiles.yaml", "notifications.yaml"] {
        std::fs::copy(root().join("examples/contoso").join(name), to.join(name)).expect("copy");
    }
    std::fs::create_dir_all(to.join("policies")).expect("mkdir");
    for entry in std::fs::read_dir(root().join("examples/contoso/policies")).expect("policies") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, to.join("policies").join(path.file_name().expect("name"))).expect("copy");
    }
}

#[test]
fn a_cached_plan_lists_each_tenant_once_and_sees_what_changed_since() {
    let state = contoso_state();
    let lab = state.path();
    expect_code(&with_lab(lab, &["apply", "-f", "examples/contoso", "--auto-approve"]), 0);
    let cache = tempfile::tempdir().expect("tempdir");
    let cache = cache.path().to_string_lossy().to_string();
    let plan = |manifests: &str| with_lab(lab, &["plan", "-f", manifests, "--detailed-exitcode", "--cache", &cache]);

    let cold = plan("examples/contoso");
    expect_code(&cold, 0);
    let (tenants, cold_requests) = observed(&cold);
    let warm = plan("examples/contoso");
    expect_code(&warm, 0);
    // Every pruning tenant lists its policies, detection rules and Defender roles (definitions and
    // assignments); the two that receive Defender roles read the action catalogue too, and the one
    // excepted policy's settings, which differ from the manifests, are read again. Nothing else.
    assert_eq!(
        observed(&warm),
        (tenants, 4 * tenants + 2 + 1),
        "one list per family and tenant, nothing else read: cold {cold_requests}"
    );

    // Someone else changes Fabrikam EMEA's antivirus policy through Graph.
    let other = tempfile::tempdir().expect("tempdir");
    copy_manifests(other.path());
    let av = other.path().join("policies/av-standard.yaml");
    let text =
        std::fs::read_to_string(&av).expect("read").replace("cloudBlockLevel: high", "cloudBlockLevel: zeroTolerance");
    std::fs::write(&av, text).expect("write");
    let other_dir = other.path().to_string_lossy().to_string();
    expect_code(&with_lab(lab, &["apply", "-f", &other_dir, "--tenant", "fabrikam-emea", "--auto-approve"]), 0);

    let after = plan("examples/contoso");
    expect_code(&after, 2);
    let shown = stdout(&after);
    assert!(shown.contains("~ AntivirusPolicy/av-standard") && shown.contains("zeroTolerance"), "{shown}");
    let (_, requests) = observed(&after);
    assert!(requests < cold_requests, "only what moved is read again: {requests} of {cold_requests}");

    expect_code(&with_lab(lab, &["apply", "-f", "examples/contoso", "--auto-approve", "--cache", &cache]), 0);
    let repaired = plan("examples/contoso");
    expect_code(&repaired, 0);
    assert!(stdout(&repaired).contains("No changes."), "{}", stdout(&repaired));
}
