//! IntuneCD 2.6.0, the Python Intune backup tool from PyPI, unmodified, backs up a lab tenant as it
//! backs up a real one (tests/peers/setup.sh installs it into a venv cached under .cache/).
//!
//! IntuneCD has no setting for another cloud: it talks to https://login.microsoftonline.com and
//! https://graph.microsoft.com. tests/peers/intunecd-backup.sh therefore runs it inside a private
//! network and mount namespace where both names are 127.0.0.1 (a hosts file bind-mounted over
//! /etc/hosts) and `tenantctl lab serve --tls --addr 127.0.0.1:443` answers with a certificate for
//! both, its CA the only one trusted. IntuneCD runs its default backup, every module, in standalone
//! mode with the tenant and app from the lab's state (TENANT_NAME, CLIENT_ID, CLIENT_SECRET), with
//! --append-id so that same-named policies keep a file each.
//!
//! tests/peers/check_backup.py then requires: no error in IntuneCD's log, no lab answer >= 400 (IntuneCD
//! ignores most failures and still exits 0, and drops failed $batch sub-requests silently), and every
//! Settings Catalog policy of the tenant backed up once, its settings equal to the lab's stored JSON and
//! its scope tags and assignments as IntuneCD renders the stored ones.
//!
//! The test is skipped, saying why, only when the script cannot make the namespaces (exit 77: not
//! root, or a sandbox without unshare).

#[path = "support/external_tools.rs"]
mod external_tools;

use std::path::Path;
use std::process::{Command, Stdio};

use external_tools::{configure_singletons, installed, lab_init, root};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("<{}: {e}>", path.display()))
}

#[test]
fn intunecd_backs_up_a_lab_tenant() {
    // The venv's IntuneCD-startbackup, installed on first use (about 20 s and 90 MB cold).
    let intunecd = installed("tests/peers/setup.sh");
    let python = intunecd.with_file_name("python");
    let work = tempfile::tempdir().expect("tempdir");
    let state = work.path().join("lab");
    let out = work.path().join("out");
    // One tenant with thirty policies: more than one page of configurationPolicies (25), so IntuneCD
    // follows @odata.nextLink, and more than one $batch of twenty for settings and assignments.
    lab_init(&state, 1, 30);
    configure_singletons(&state);

    let backup = Command::new("bash")
        .arg(root().join("tests/peers/intunecd-backup.sh"))
        .arg(&state)
        .arg(&out)
        .env("TENANTCTL", env!("CARGO_BIN_EXE_tenantctl"))
        .env("INTUNECD", &intunecd)
        // The script's diagnostics stay off: IntuneCD talks to the lab itself, as given.
        .env_remove("TRACE")
        .env_remove("INTUNECD_ARGS")
        .env_remove("TENANT")
        .stdin(Stdio::null())
        .output()
        .expect("intunecd-backup.sh runs");
    let said = String::from_utf8_lossy(&backup.stderr);
    if backup.status.code() == Some(77) {
        eprintln!("skipped: IntuneCD needs a private network namespace, which cannot be made here:\n{said}");
        return;
    }
    let report = || {
        format!(
            "--- the script said:\n{said}\n--- IntuneCD said:\n{}\n--- the lab said:\n{}\n--- the lab counted:\n{}",
            read(&out.join("intunecd.log")),
            read(&out.join("lab.log")),
            read(&out.join("stats.json")),
        )
    };
    assert!(backup.status.success(), "the IntuneCD backup failed ({}):\n{}", backup.status, report());

    let check = Command::new(&python)
        .arg(root().join("tests/peers/check_backup.py"))
        .arg(&state)
        .arg(&out)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("TENANT")
        .stdin(Stdio::null())
        .output()
        .expect("check_backup.py runs");
    assert!(
        check.status.success(),
        "IntuneCD's backup does not match the lab:\n{}{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr),
        report(),
    );
}
