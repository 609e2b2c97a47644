//! The Microsoft identity platform's metadata for each tenant, which MSAL and azure-identity read
//! before they ask for a token: the OpenID discovery documents (v2.0 and v1) and the signing keys.
//! Every URL in them is the lab's, as the client addressed it.

use serde_json::{Value, json};

/// `/{tenant}/v2.0/.well-known/openid-configuration`.
pub fn discovery_v2(base: &str, tenant_id: &str) -> Value {
    let tenant_url = format!("{base}/{tenant_id}");
    with_shared(json!({
        "token_endpoint": format!("{tenant_url}/oauth2/v2.0/token"),
        "jwks_uri": format!("{tenant_url}/discovery/v2.0/keys"),
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{tenant_url}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{tenant_url}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{tenant_url}/oauth2/v2.0/devicecode"),
        "end_session_endpoint": format!("{tenant_url}/oauth2/v2.0/logout"),
        "kerberos_endpoint": format!("{tenant_url}/kerberos"),
    }))
}

/// `/{tenant}/.well-known/openid-configuration`: the v1 endpoints, which older clients read.
pub fn discovery_v1(base: &str, tenant_id: &str) -> Value {
    let tenant_url = format!("{base}/{tenant_id}");
    with_shared(json!({
        "token_endpoint": format!("{tenant_url}/oauth2/token"),
        "jwks_uri": format!("{base}/common/discovery/keys"),
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": format!("https://sts.windows.net/{tenant_id}/"),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{tenant_url}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{tenant_url}/oauth2/devicecode"),
        "end_session_endpoint": format!("{tenant_url}/oauth2/logout"),
        "check_session_iframe": format!("{tenant_url}/oauth2/checksession"),
        "userinfo_endpoint": format!("{tenant_url}/openid/userinfo"),
        "kerberos_endpoint": format!("{tenant_url}/kerberos"),
    }))
}

/// The fields both versions carry alike, after the version's own.
fn with_shared(mut document: Value) -> Value {
    let shared = json!({
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "claims_supported": CLAIMS,
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    });
    if let (Some(document), Value::Object(shared)) = (document.as_object_mut(), shared) {
        document.extend(shared);
    }
    document
}

/// `/{tenant}/discovery/v2.0/keys` and its v1 siblings.
pub fn keys(jwk: Value) -> Value {
    json!({ "keys": [jwk] })
}

const CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "cloud_instance_name",
    "cloud_instance_host_name",
    "cloud_graph_host_name",
    "msgraph_host",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "acr",
    "nonce",
    "preferred_username",
    "name",
    "tid",
    "ver",
    "at_hash",
    "c_hash",
    "email",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_the_labs_own() {
        let document = discovery_v2("https://127.0.0.1:8443", "t1");
        assert_eq!(document["issuer"], "https://127.0.0.1:8443/t1/v2.0");
        assert_eq!(document["token_endpoint"], "https://127.0.0.1:8443/t1/oauth2/v2.0/token");
        assert_eq!(document["jwks_uri"], "https://127.0.0.1:8443/t1/discovery/v2.0/keys");
        let v1 = discovery_v1("https://127.0.0.1:8443", "t1");
        assert_eq!(v1["issuer"], "https://sts.windows.net/t1/");
    }
}
