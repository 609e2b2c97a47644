//! `Tenant`: one customer or subsidiary Microsoft 365 tenant.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::status::TenantStatus;

/// One customer or subsidiary tenant. Grouping labels (business group, region, …) go in
/// `metadata.labels`; DistributionProfiles select tenants by them.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "Tenant",
    doc = "A Microsoft 365 tenant whose endpoint security policies tenantctl manages.",
    namespaced,
    status = "TenantStatus",
    shortname = "tn",
    shortname = "tnt",
    category = "tenantctl",
    printcolumn = r#"{"name":"Display name","type":"string","jsonPath":".spec.displayName"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Synced","type":"string","jsonPath":".status.conditions[?(@.type==\"Synced\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Access","type":"string","priority":1,"jsonPath":".status.conditions[?(@.type==\"AccessReady\")].reason"}"#,
    printcolumn = r#"{"name":"Tenant ID","type":"string","priority":1,"jsonPath":".spec.tenantId"}"#,
    printcolumn = r#"{"name":"Replica","type":"string","priority":1,"jsonPath":".status.reconciledBy"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantSpec {
    /// Microsoft Entra tenant ID (a GUID).
    #[schemars(regex(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
    pub tenant_id: String,
    /// Human-readable name shown in plans and status.
    #[schemars(length(min = 1))]
    pub display_name: String,
    /// How the managing organization reaches this tenant.
    #[serde(default)]
    pub access: AccessMethod,
    /// Where the credentials for this tenant come from. Never an inline secret. When absent, the
    /// runtime's default credentials apply (environment variables for the CLI, the operator's
    /// configured Secret or workload identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialsRef>,
    /// When true, tenantctl neither reads nor writes this tenant.
    #[serde(default)]
    pub suspend: bool,
    /// What the operator does with this tenant's tenantctl-owned policies when the Tenant is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

// How the managing organization is granted access to the tenant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AccessMethod {
    /// Granular delegated admin privileges (Partner Center), with the multi-tenant app consented.
    #[default]
    Gdap,
    /// Entra B2B collaboration.
    B2b,
    /// Azure Lighthouse.
    Lighthouse,
}

/// Reference to the credentials of the app registration used for this tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialsRef {
    /// Application (client) ID of the multi-tenant app consented in this tenant (a GUID). Defaults to
    /// the runtime's client ID (`AZURE_CLIENT_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
    pub client_id: Option<String>,
    /// Kind of credential.
    #[serde(default)]
    pub method: CredentialMethod,
    /// Kubernetes Secret in the Tenant's namespace that holds the credential (operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
    /// Environment variable that holds the client secret or the certificate path (CLI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

// Kind of client credential.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CredentialMethod {
    /// OAuth2 client secret.
    #[default]
    ClientSecret,
    /// Certificate (signed client assertion).
    Certificate,
    /// Workload identity federation: a projected token file, no secret at all.
    WorkloadIdentity,
}

/// A key in a Kubernetes Secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeyRef {
    /// Name of the Secret.
    pub name: String,
    /// Key in the Secret. Defaults to `clientSecret` (or `tls.key` for certificates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

// What happens to tenant-side policies when the Tenant resource is deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DeletionPolicy {
    /// Leave the policies in the tenant; they stop being managed.
    #[default]
    Orphan,
    /// Delete the tenantctl-owned policies from the tenant.
    Delete,
}
