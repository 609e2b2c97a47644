//! The Microsoft identity platform's client-credentials grant (`POST /{tenant}/oauth2/v2.0/token`):
//! the checks Entra makes, its error codes and error bodies, and the server-side record of issued
//! tokens, each bound to one tenant. Token texts are opaque and never logged.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;

use super::ids::{random_guid, random_token};
use super::store::Store;
use crate::model::is_guid;
use crate::wire::common::TokenErrorBody;

/// The only scope the lab grants: all of Graph's application permissions.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Who a token was issued to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub tenant: String,
    pub client_id: String,
    expires: Instant,
}

/// Why a bearer token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenProblem {
    Unknown,
    Expired,
}

/// Issued tokens. Tokens live in memory only: a restarted lab asks clients for new ones (401), as a
/// rotated signing key would.
#[derive(Debug, Default)]
pub struct TokenStore {
    grants: Mutex<HashMap<String, Grant>>,
}

impl TokenStore {
    pub fn issue(&self, tenant: &str, client_id: &str, lifetime: Duration) -> String {
        let token = random_token();
        let now = Instant::now();
        let grant = Grant { tenant: tenant.to_string(), client_id: client_id.to_string(), expires: now + lifetime };
        let mut grants = self.grants.lock().unwrap_or_else(PoisonError::into_inner);
        grants.retain(|_, g| g.expires > now);
        grants.insert(token.clone(), grant);
        token
    }

    pub fn check(&self, token: &str) -> Result<Grant, TokenProblem> {
        let grants = self.grants.lock().unwrap_or_else(PoisonError::into_inner);
        let grant = grants.get(token).ok_or(TokenProblem::Unknown)?;
        if grant.expires <= Instant::now() { Err(TokenProblem::Expired) } else { Ok(grant.clone()) }
    }
}

/// A refused token request: HTTP status, OAuth error, AADSTS code and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenFailure {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u64,
    pub message: String,
}

impl TokenFailure {
    fn bad_request(error: &'static str, code: u64, message: String) -> Self {
        TokenFailure { status: StatusCode::BAD_REQUEST, error, code, message }
    }

    fn invalid_client(code: u64, message: String) -> Self {
        TokenFailure { status: StatusCode::UNAUTHORIZED, error: "invalid_client", code, message }
    }

    /// Entra's error body; `correlation_id` is the client's `client-request-id` when it sent a GUID.
    pub fn body(&self, now: Timestamp, correlation_id: Option<&str>) -> TokenErrorBody {
        let timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ").to_string();
        let trace_id = random_guid();
        let correlation_id = correlation_id.filter(|c| is_guid(c)).map_or_else(random_guid, str::to_string);
        TokenErrorBody {
            error: self.error.to_string(),
            error_description: format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.code, self.message
            ),
            error_codes: vec![self.code],
            timestamp: Some(timestamp),
            trace_id: Some(trace_id),
            correlation_id: Some(correlation_id),
            error_uri: Some(format!("https://login.microsoftonline.com/error?code={}", self.code)),
        }
    }
}

/// Checks a client-credentials request the way Entra does, in its order: tenant, grant type,
/// client, scope, consent, credential. Returns the tenant (as stored) and the client id.
pub fn authorize(
    store: &Store,
    tenant: &str,
    form: &[(String, String)],
    basic_auth: Option<&str>,
) -> Result<(String, String), TokenFailure> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let basic = basic_auth.and_then(decode_basic);
    let Some(tenant_id) = store.tenant_id(tenant) else {
        return Err(TokenFailure::bad_request(
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        ));
    };
    if field("grant_type") != Some("client_credentials") {
        let message =
            format!("The app requested an unsupported grant type '{}'.", field("grant_type").unwrap_or_default());
        return Err(TokenFailure::bad_request("unsupported_grant_type", 70003, message));
    }
    let Some(client_id) = field("client_id").or(basic.as_ref().map(|(id, _)| id.as_str())) else {
        return Err(missing_parameter("client_id"));
    };
    match field("scope") {
        Some(GRAPH_DEFAULT_SCOPE) => {}
        None => {
            let message = "The provided request must include a 'scope' input parameter.".to_string();
            return Err(TokenFailure::bad_request("invalid_scope", 70011, message));
        }
        Some(scope) => {
            let message = format!(
                "The provided value for the input parameter 'scope' isn't valid. The scope {scope} isn't valid."
            );
            return Err(TokenFailure::bad_request("invalid_scope", 70011, message));
        }
    }
    let tenant_data = store.tenant(tenant_id);
    let consented =
        tenant_data.as_ref().is_some_and(|t| t.consented_apps.iter().any(|a| a.eq_ignore_ascii_case(client_id)));
    let display_name = tenant_data.as_ref().map(|t| t.display_name.clone()).unwrap_or_default();
    drop(tenant_data);
    let app = store.app(client_id).filter(|_| consented).ok_or_else(|| {
        TokenFailure::bad_request(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{display_name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    })?;
    let secret = field("client_secret").or(basic.as_ref().map(|(_, secret)| secret.as_str()));
    match (field("client_assertion_type"), field("client_assertion"), secret) {
        (Some(JWT_BEARER), Some(assertion), _) => {
            let federated = app.federated_assertion.as_ref().is_some_and(|expected| expected.expose() == assertion);
            if !federated && let Some(certificate) = &app.certificate {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs());
                if let Err(problem) =
                    super::assertion::verify(assertion, certificate, &app.client_id, tenant_id, now.unwrap_or(0))
                {
                    let message = format!("Client assertion failed signature validation: {problem}.");
                    return Err(TokenFailure::invalid_client(700027, message));
                }
            } else if !federated {
                let message = "No matching federated identity record found for presented assertion.".to_string();
                return Err(TokenFailure::invalid_client(70021, message));
            }
        }
        (Some(JWT_BEARER), None, _) => return Err(missing_parameter("client_assertion")),
        (Some(other), _, _) => {
            let message = format!("The client assertion type '{other}' is not supported.");
            return Err(TokenFailure::bad_request("invalid_request", 50027, message));
        }
        (None, _, Some(secret)) => {
            if app.client_secret.expose() != secret {
                let message = format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                );
                return Err(TokenFailure::invalid_client(7000215, message));
            }
        }
        (None, _, None) => {
            let message =
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.";
            return Err(TokenFailure::invalid_client(7000218, message.to_string()));
        }
    }
    Ok((tenant_id.to_string(), app.client_id.clone()))
}

fn missing_parameter(name: &str) -> TokenFailure {
    let message = format!("The request body must contain the following parameter: '{name}'.");
    TokenFailure::bad_request("invalid_request", 900144, message)
}

/// `Authorization: Basic base64(client_id:client_secret)`, which Entra accepts instead of form fields.
fn decode_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape =
        |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unescape(id)?, unescape(secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_and_expire() {
        let store = TokenStore::default();
        let token = store.issue("t1", "app", Duration::from_secs(60));
        let grant = store.check(&token).expect("valid");
        assert_eq!((grant.tenant.as_str(), grant.client_id.as_str()), ("t1", "app"));
        assert_eq!(store.check("forged"), Err(TokenProblem::Unknown));
        let short = store.issue("t1", "app", Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(store.check(&short), Err(TokenProblem::Expired));
    }

    #[test]
    fn error_bodies_have_entras_shape() {
        let failure = TokenFailure::bad_request("invalid_scope", 70011, "bad scope".into());
        let body = failure.body(Timestamp::UNIX_EPOCH, Some("aaaa0000-bb11-2222-33cc-444444dddddd"));
        assert!(body.error_description.starts_with("AADSTS70011: bad scope\r\nTrace ID: "));
        assert!(
            body.error_description.ends_with(
                "\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 1970-01-01 00:00:00Z"
            )
        );
        assert_eq!(body.error_codes, [70011]);
        assert_eq!(body.timestamp.as_deref(), Some("1970-01-01 00:00:00Z"));
        assert_eq!(body.error_uri.as_deref(), Some("https://login.microsoftonline.com/error?code=70011"));
    }

    #[test]
    fn basic_authentication_carries_the_client_credentials() {
        let header = format!("Basic {}", STANDARD.encode("client:s%2Bcret"));
        assert_eq!(decode_basic(&header), Some(("client".into(), "s+cret".into())));
        assert_eq!(decode_basic("Bearer abc"), None);
    }
}
