//! Microsoft's own Python SDKs against `tenantctl lab serve --tls`: msgraph-sdk, msgraph-beta-sdk,
//! azure-identity and MSAL from PyPI, unmodified (tests/sdk/setup.sh installs them into a venv cached
//! under .cache/), run by pytest over tests/sdk/. The SDKs are pointed at the lab only as a user points
//! them at another cloud: authority host, Graph base URL, no instance discovery, the lab's CA.
//!
//! The suite gets the lab's URL, its CA certificate and its state folder (apps, tenants, the stored
//! objects it checks answers against) from LAB_URL, LAB_CA and LAB_STATE, and the tenantctl binary
//! from LAB_BIN for the certificate tests, which start a lab of their own on a state folder whose app
//! carries a certificate they generate.

#[path = "support/external_tools.rs"]
mod external_tools;
#[path = "support/lab_process.rs"]
mod lab_process;

use std::process::{Command, Stdio};

use external_tools::{installed, lab_init, root};
use lab_process::LabChild;

#[test]
fn microsofts_python_sdks_work_against_the_lab() {
    // The venv's Python, installed on first use (about 70 s and 1.2 GB cold, under a second cached).
    let python = installed("tests/sdk/setup.sh");
    let work = tempfile::tempdir().expect("tempdir");
    let state = work.path().join("lab");
    // Two tenants with twelve policies each, groups, incidents and hunting rows: enough for paging
    // with $top=2 over several pages and for every filter the suite tries to match something.
    lab_init(&state, 2, 12);

    let lab = LabChild::serve(&state, &["--tls"]);
    assert!(lab.url.starts_with("https://127.0.0.1:"), "the lab serves https: {}", lab.url);
    let ca = state.join("tls/ca.pem");
    assert!(ca.is_file(), "the lab wrote its CA certificate to {}", ca.display());

    let pytest = Command::new(&python)
        .args(["-m", "pytest", "-q"])
        .arg(root().join("tests/sdk"))
        .current_dir(root())
        .env("LAB_URL", &lab.url)
        .env("LAB_CA", &ca)
        .env("LAB_STATE", &state)
        .env("LAB_BIN", env!("CARGO_BIN_EXE_tenantctl"))
        // No __pycache__ in the work tree; no CA bundle from the environment overriding the lab's.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("SSL_CERT_FILE")
        .env_remove("CURL_CA_BUNDLE")
        .stdin(Stdio::null())
        .output()
        .expect("pytest runs");
    if !pytest.status.success() {
        let lab_output = lab.output();
        panic!(
            "the SDK suite failed ({}):\n{}\n{}\n--- the lab said:\n{lab_output}",
            pytest.status,
            String::from_utf8_lossy(&pytest.stdout),
            String::from_utf8_lossy(&pytest.stderr),
        );
    }
}
