//! The tenant itself: `GET /v1.0/organization` (its name and domains) and `GET /v1.0/subscribedSkus`
//! (the subscriptions it holds, with their service plans). Fields tenantctl does not use are ignored.

use serde::{Deserialize, Serialize};

/// An item of `GET /organization` (a collection of one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// The tenant id.
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub verified_domains: Vec<VerifiedDomain>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedDomain {
    pub name: String,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub is_initial: bool,
}

/// A subscription of the tenant (`subscribedSku`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    pub sku_id: String,
    /// `SPE_E5`, `SPB`, …
    pub sku_part_number: String,
    /// `Enabled`, `Warning`, `Suspended`, `Deleted`, `LockedOut`.
    pub capability_status: String,
    #[serde(default)]
    pub service_plans: Vec<ServicePlanInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlanInfo {
    pub service_plan_id: String,
    #[serde(default)]
    pub service_plan_name: String,
    /// `Success`, `Disabled`, `PendingInput`, `PendingActivation`, `PendingProvisioning`, `Error`.
    #[serde(default)]
    pub provisioning_status: String,
}

impl SubscribedSku {
    /// Whether the subscription is usable: enabled, or in its grace period (`Warning`).
    pub fn is_active(&self) -> bool {
        matches!(self.capability_status.as_str(), "Enabled" | "Warning")
    }

    /// The service plans the subscription provides now.
    pub fn provisioned_plans(&self) -> impl Iterator<Item = &ServicePlanInfo> {
        self.service_plans.iter().filter(|p| p.provisioning_status == "Success" && self.is_active())
    }
}
