//! A lab state as the peer tools need it, shared by the IntuneCD test and the peers benchmark.
//! Included with `#[path]` by each of them.

use std::path::Path;

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
