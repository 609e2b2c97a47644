//! What the tests and benchmarks that run other tools against the lab share: the tools' setup scripts
//! (each installs into `.cache/` and prints what to run), a generated lab state, and the singletons a
//! peer tool expects of a managed tenant. Included with `#[path]` by each of them; each uses part of it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a setup script (a path below the root), which installs a tool on first use, and returns the
/// path it prints.
pub fn installed(script: &str) -> PathBuf {
    let setup = Command::new("bash").arg(root().join(script)).output().expect("the setup script runs");
    assert!(setup.status.success(), "{script} failed:\n{}", String::from_utf8_lossy(&setup.stderr));
    PathBuf::from(String::from_utf8_lossy(&setup.stdout).trim())
}

/// `tenantctl lab init STATE --tenants N --policies M`.
pub fn lab_init(state: &Path, tenants: u64, policies: u64) {
    let init = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["lab", "init", "--tenants", &tenants.to_string(), "--policies", &policies.to_string()])
        .arg(state)
        .stdin(Stdio::null())
        .output()
        .expect("tenantctl lab init runs");
    assert!(init.status.success(), "lab init failed:\n{}", String::from_utf8_lossy(&init.stderr));
}

/// The tenant has an APNs certificate and a bound Managed Google Play account, as a tenant that manages
/// Apple and Android devices does. (For a tenant without them Graph answers 404 and an unbound account,
/// which the lab serves too, and which IntuneCD 2.6.0 logs as errors of its own.)
pub fn configure_singletons(state: &Path) {
    let tenants = std::fs::read_dir(state.join("tenants")).expect("tenants");
    for tenant in tenants {
        let singletons = tenant.expect("tenant").path().join("singletons");
        std::fs::create_dir_all(&singletons).expect("singletons folder");
        let apns = serde_json::json!({
            "id": "00000000-0000-0000-0000-000000000001",
            "appleIdentifier": "mdm-admin@lab.tenantctl.dev",
            "topicIdentifier": "com.apple.mgmt.External.6e2d4a1f-7f3b-4c2a-9d1e-5b8c7a6f4e3d",
            "lastModifiedDateTime": "2026-01-15T09:30:00Z",
            "expirationDateTime": "2027-01-15T09:30:00Z",
            "certificateUploadStatus": null,
            "certificateUploadFailureReason": null,
            "certificateSerialNumber": "4F1C2A0E6B7D4C3E",
            "certificate": null
        });
        let google_play = serde_json::json!({
            "id": "00000000-0000-0000-0000-000000000002",
            "bindStatus": "boundAndValidated",
            "lastAppSyncDateTime": "2026-01-15T09:30:00Z",
            "lastAppSyncStatus": "success",
            "ownerUserPrincipalName": "mdm-admin@lab.tenantctl.dev",
            "ownerOrganizationName": "Lab Tenant",
            "lastModifiedDateTime": "2026-01-15T09:30:00Z",
            "enrollmentTarget": "none",
            "targetGroupIds": [],
            "deviceOwnerManagementEnabled": false,
            "androidDeviceOwnerFullyManagedEnrollmentEnabled": false,
            "managedGooglePlayInitialScopeTagIds": [],
            "companyCodes": []
        });
        for (name, object) in
            [("applePushNotificationCertificate", apns), ("androidManagedStoreAccountEnterpriseSettings", google_play)]
        {
            let text = serde_json::to_string_pretty(&object).expect("JSON");
            std::fs::write(singletons.join(format!("{name}.json")), text).expect("singleton written");
        }
    }
}
