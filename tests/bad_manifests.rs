//! The bad-manifest corpus: every file under `tests/bad/` must be rejected by `tenantctl validate`
//! with exit code 1, without panicking, and with exactly the messages pinned in `tests/snapshots/`.

use std::path::Path;
use std::process::Command;

fn validate(relative: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["validate", "-f", relative])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // Expiries are judged on a fixed day, so that the pinned messages do not move with the clock.
        .env("TENANTCTL_NOW", "2026-12-01")
        .output()
        .expect("run tenantctl")
}

#[test]
fn every_bad_manifest_is_rejected_with_its_pinned_messages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    insta::glob!("bad/*.yaml", |path| {
        let relative = path.strip_prefix(root).expect("under the crate").to_string_lossy().to_string();
        let output = validate(&relative);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{relative} must be rejected:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{relative} panicked:\n{stderr}");
        assert!(output.stdout.is_empty(), "{relative}: nothing on stdout when invalid");
        assert!(
            stderr.lines().any(|l| l.starts_with(&format!("{relative}:"))),
            "{relative}: errors name the file:\n{stderr}"
        );
        insta::assert_snapshot!(stderr);
    });
}

#[test]
fn the_corpus_is_large() {
    let count = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad"))
        .expect("tests/bad")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yaml")))
        .count();
    assert!(count >= 30, "{count} bad manifests");
}
