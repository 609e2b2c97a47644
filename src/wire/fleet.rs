//! Graph's fleet objects a unified view shows: Intune managed devices (`deviceManagement/
//! managedDevices`) and Entra ID Protection risky users (`identityProtection/riskyUsers`), as much of
//! each as the views need. Graph writes `null` for values it does not know; they read as empty.

use serde::{Deserialize, Serialize};

use super::common::null_as_default;

/// `microsoft.graph.managedDevice`, in part.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedDevice {
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub device_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub operating_system: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub os_version: String,
    /// `compliant`, `noncompliant`, `inGracePeriod`, `conflict`, `error`, `configManager`, `unknown`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub compliance_state: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub last_sync_date_time: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_principal_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub managed_device_owner_type: String,
}

/// `microsoft.graph.riskyUser`, in part.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskyUser {
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_principal_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_display_name: String,
    /// `low`, `medium`, `high`, `hidden`, `none`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub risk_level: String,
    /// `atRisk`, `confirmedCompromised`, `remediated`, `dismissed`, `confirmedSafe`, `none`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub risk_state: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub risk_detail: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub risk_last_updated_date_time: String,
}
