//! What the app may do in a tenant: the application permissions its token carries (the `roles`
//! claim), the admin-consent link of the tenant, and the tenant's own description and subscriptions.

use std::collections::BTreeSet;
use std::sync::PoisonError;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::TenantClient;
use super::error::GraphError;
use crate::engine::api::Access;
use crate::wire::organization::{Organization, SubscribedSku};

impl TenantClient {
    /// The permissions the tenant granted the app, as a fresh or cached token says, and the consent
    /// link. A refused token is the token endpoint's error, explained.
    pub async fn access(&self) -> Result<Access, GraphError> {
        let token = self.token().await?;
        Ok(Access { granted: granted_roles(token.expose()), consent_url: self.consent_url() })
    }

    /// Where an admin of the tenant consents to the app (with its configured permissions):
    /// `{login}/{tenant}/adminconsent?client_id=…`. None when the tenant has no credential.
    pub fn consent_url(&self) -> Option<String> {
        let credentials = self.client.inner.credentials.read().unwrap_or_else(PoisonError::into_inner);
        let client_id = credentials.for_tenant(&self.tenant_id).ok()?.client_id().to_string();
        drop(credentials);
        self.consent_url_for(&client_id)
    }

    pub(super) fn consent_url_for(&self, client_id: &str) -> Option<String> {
        let mut url = self.client.inner.config.login_url.clone();
        url.path_segments_mut().ok()?.pop_if_empty().extend([self.tenant_id.as_str(), "adminconsent"]);
        url.query_pairs_mut().append_pair("client_id", client_id);
        Some(url.to_string())
    }

    /// The tenant's organization object (`GET /v1.0/organization`, a collection of one).
    pub async fn organization(&self) -> Result<Option<Organization>, GraphError> {
        let url = self.url("v1.0", "/organization?$select=id,displayName,verifiedDomains")?;
        Ok(self.get_all::<Organization>(url).await?.into_iter().next())
    }

    /// The tenant's subscriptions, with their service plans (`GET /v1.0/subscribedSkus`).
    pub async fn subscribed_skus(&self) -> Result<Vec<SubscribedSku>, GraphError> {
        let url = self.url("v1.0", "/subscribedSkus?$select=skuId,skuPartNumber,capabilityStatus,servicePlans")?;
        self.get_all(url).await
    }
}

/// The application permissions of an app-only access token (its `roles` claim; none when the claim
/// is absent). `None` when the token cannot be read as a JWT or is a user's token: Graph's tokens are
/// not promised to stay readable, and then Graph's own answers decide.
pub fn granted_roles(token: &str) -> Option<BTreeSet<String>> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    if claims.get("scp").is_some() || claims.get("tid").is_none() {
        return None;
    }
    let roles = claims.get("roles").and_then(|r| r.as_array()).map(Vec::as_slice).unwrap_or_default();
    Some(roles.iter().filter_map(|r| r.as_str()).map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: serde_json::Value) -> String {
        format!("e30.{}.c2ln", URL_SAFE_NO_PAD.encode(claims.to_string()))
    }

    #[test]
    fn roles_come_from_an_app_only_token() {
        let granted = granted_roles(&token(serde_json::json!({"tid": "t", "roles": ["A.Read.All", "B"]})));
        assert_eq!(granted, Some(["A.Read.All".to_string(), "B".to_string()].into()));
        assert_eq!(granted_roles(&token(serde_json::json!({"tid": "t"}))), Some(BTreeSet::new()), "none granted");
        assert_eq!(granted_roles(&token(serde_json::json!({"tid": "t", "scp": "User.Read"}))), None, "a user's");
        assert_eq!(granted_roles("opaque-token"), None);
        assert_eq!(granted_roles("a.!!!.c"), None);
    }
}
