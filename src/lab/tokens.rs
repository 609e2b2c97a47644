//! The Microsoft identity platform's client-credentials grant (`POST /{tenant}/oauth2/v2.0/token`):
//! the checks Entra makes, its error codes and error bodies, and the signed JWT access tokens it
//! issues, each bound to one tenant. Token texts are never logged.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;

use serde_json::json;

use super::ids::{derived_guid, random_guid, random_token};
use super::signing::SigningKey;
use super::store::Store;
use crate::model::is_guid;
use crate::wire::common::TokenErrorBody;

/// The only scope the lab grants: all of Graph's application permissions.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The application permissions an app holds when `lab.json` does not list its `roles`: every one
/// the lab's endpoints need.
pub const DEFAULT_ROLES: &[&str] = &[
    "DeviceManagementConfiguration.ReadWrite.All",
    "DeviceManagementRBAC.ReadWrite.All",
    "Group.Read.All",
    "SecurityIncident.ReadWrite.All",
    "DeviceManagementManagedDevices.Read.All",
    "IdentityRiskyUser.Read.All",
    "SecurityAlert.Read.All",
    "ThreatHunting.Read.All",
    "CustomDetection.ReadWrite.All",
    "RoleManagement.ReadWrite.Defender",
    "Organization.Read.All",
];
/// Graph's audience, as app-only Graph tokens carry it.
const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";

/// Who a token was issued to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub tenant: String,
    pub client_id: String,
    /// The application permissions the token carries.
    pub roles: Vec<String>,
}

/// Why a bearer token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenProblem {
    Unknown,
    Expired,
}

/// A successful client-credentials request: who, and how the client proved it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Authorized {
    pub tenant_id: String,
    pub client_id: String,
    /// `appidacr`: 1 for a secret, 2 for a certificate or a federated assertion.
    pub by_assertion: bool,
    pub roles: Vec<String>,
}

/// Issues and checks access tokens: JWTs in the shape of Graph's app-only tokens (version 1.0, issued
/// by `sts.windows.net`), signed with the lab's key. What is kept per token is bounded.
#[derive(Debug)]
pub struct TokenIssuer {
    key: SigningKey,
    /// The last token issued to each grant, with its expiry: handed out again while at least half its
    /// lifetime remains. An RSA signature per token request was a fifth of the lab's CPU when a plan
    /// of 1,000 tenants asked for 1,000 tokens, CPU that Entra spends elsewhere than on the machine
    /// running tenantctl. Bounded: emptied when full.
    issued: std::sync::Mutex<std::collections::HashMap<Authorized, (String, u64)>>,
    /// Tokens whose signature was checked, with their grant and expiry: a client sends the same
    /// token with each of its requests, and an RSA verification per request was a tenth of the
    /// lab's CPU under load. Bounded: emptied when full.
    verified: std::sync::Mutex<std::collections::HashMap<String, (Grant, u64)>>,
}

/// Verified tokens remembered at most.
const VERIFIED_TOKENS: usize = 16_384;
/// Issued tokens remembered at most.
const ISSUED_TOKENS: usize = 16_384;
/// Tokens of shorter lifetimes are always new: tests that shorten the lifetime watch clients renew.
const REUSED_LIFETIME_MIN: u64 = 60;

/// An access token and the seconds it has left (`expires_in`).
#[derive(Debug)]
pub struct Issued {
    pub token: String,
    pub expires_in: u64,
}

impl TokenIssuer {
    pub fn new(key: SigningKey) -> Self {
        TokenIssuer { key, issued: Default::default(), verified: Default::default() }
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// An access token for this grant: the one issued last while at least half its lifetime remains
    /// (and it does not outlive what `lifetime` allows now), else a newly signed one. Lifetimes below a
    /// second last one second: `exp` counts whole seconds.
    pub fn issue(&self, who: &Authorized, lifetime: Duration, now: SystemTime) -> Result<Issued, String> {
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let seconds = lifetime.as_secs_f64().ceil().max(1.0) as u64;
        let lock = || self.issued.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seconds >= REUSED_LIFETIME_MIN
            && let Some((token, expires)) = lock().get(who)
            && *expires <= now + seconds
            && expires.saturating_sub(now) >= seconds / 2
        {
            return Ok(Issued { token: token.clone(), expires_in: expires - now });
        }
        // Signed without the lock held: signatures for different grants proceed in parallel.
        let token = self.sign(who, now, now + seconds)?;
        let mut issued = lock();
        if issued.len() >= ISSUED_TOKENS {
            issued.clear();
        }
        issued.insert(who.clone(), (token.clone(), now + seconds));
        Ok(Issued { token, expires_in: lifetime.as_secs() })
    }

    fn sign(&self, who: &Authorized, now: u64, expires: u64) -> Result<String, String> {
        let issuer = format!("https://sts.windows.net/{}/", who.tenant_id);
        let principal = derived_guid(&format!("service-principal/{}/{}", who.tenant_id, who.client_id));
        let claims = json!({
            "aud": GRAPH_AUDIENCE,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": expires,
            "aio": random_token(),
            "appid": who.client_id,
            "appidacr": if who.by_assertion { "2" } else { "1" },
            "idp": issuer,
            "idtyp": "app",
            "oid": principal,
            "rh": format!("0.{}.", random_token()),
            "roles": who.roles,
            "sub": principal,
            "tid": who.tenant_id,
            "uti": random_token(),
            "ver": "1.0",
        });
        self.key.sign(&claims)
    }

    /// The grant behind a token this lab issued and that is still valid at `now`.
    pub fn check(&self, token: &str, now: SystemTime) -> Result<Grant, TokenProblem> {
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let remembered = self.verified.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(token).cloned();
        let (grant, expires) = match remembered {
            Some(verified) => verified,
            None => {
                let verified = self.verify(token)?;
                let mut remembered = self.verified.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if remembered.len() >= VERIFIED_TOKENS {
                    remembered.clear();
                }
                remembered.insert(token.to_string(), verified.clone());
                verified
            }
        };
        if expires <= now {
            return Err(TokenProblem::Expired);
        }
        Ok(grant)
    }

    /// The grant of a token this lab signed for Graph, and when it expires.
    fn verify(&self, token: &str) -> Result<(Grant, u64), TokenProblem> {
        let claims = self.key.verify(token).map_err(|_| TokenProblem::Unknown)?;
        let (Some(tenant), Some(client_id), Some(expires)) =
            (claims["tid"].as_str(), claims["appid"].as_str(), claims["exp"].as_u64())
        else {
            return Err(TokenProblem::Unknown);
        };
        if claims["aud"] != GRAPH_AUDIENCE {
            return Err(TokenProblem::Unknown);
        }
        let roles = claims["roles"].as_array().map(Vec::as_slice).unwrap_or_default();
        let roles = roles.iter().filter_map(|r| r.as_str()).map(str::to_string).collect();
        Ok((Grant { tenant: tenant.to_string(), client_id: client_id.to_string(), roles }, expires))
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

    /// Entra's answer for a tenant it does not know (token requests and discovery alike).
    pub fn unknown_tenant(tenant: &str) -> Self {
        TokenFailure::bad_request(
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        )
    }

    /// Entra's answer for an app that has no service principal in the tenant (never consented there).
    pub fn unknown_application(client_id: &str, directory: &str) -> Self {
        TokenFailure::bad_request(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{directory}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    }

    /// The lab could not sign a token.
    pub fn server_error(problem: String) -> Self {
        TokenFailure { status: StatusCode::INTERNAL_SERVER_ERROR, error: "server_error", code: 50000, message: problem }
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
/// client, scope, consent, credential. The token carries the permissions the tenant granted the app
/// (all it asks for, unless `tenant.json` lists fewer), less the `withheld` ones.
pub fn authorize(
    store: &Store,
    tenant: &str,
    form: &[(String, String)],
    basic_auth: Option<&str>,
    withheld: &[String],
) -> Result<Authorized, TokenFailure> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let basic = basic_auth.and_then(decode_basic);
    let Some(tenant_id) = store.tenant_id(tenant) else {
        return Err(TokenFailure::unknown_tenant(tenant));
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
    let directory = store.directory(tenant_id);
    let consented =
        directory.as_ref().is_some_and(|t| t.consented_apps.iter().any(|a| a.eq_ignore_ascii_case(client_id)));
    let display_name = directory.as_ref().map(|t| t.display_name.clone()).unwrap_or_default();
    let app = store
        .app(client_id)
        .filter(|_| consented)
        .ok_or_else(|| TokenFailure::unknown_application(client_id, &display_name))?;
    let secret = field("client_secret").or(basic.as_ref().map(|(_, secret)| secret.as_str()));
    let by_assertion = field("client_assertion_type").is_some();
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
    let asked: Vec<String> = match &app.roles {
        Some(roles) => roles.clone(),
        None => DEFAULT_ROLES.iter().map(|r| r.to_string()).collect(),
    };
    let granted = directory.and_then(|t| t.granted_permissions).unwrap_or(asked);
    let roles = granted.into_iter().filter(|r| !withheld.iter().any(|w| w.eq_ignore_ascii_case(r))).collect();
    Ok(Authorized { tenant_id: tenant_id.to_string(), client_id: app.client_id.clone(), by_assertion, roles })
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

    fn who() -> Authorized {
        Authorized { tenant_id: "t1".into(), client_id: "app".into(), by_assertion: false, roles: vec!["R".into()] }
    }

    #[test]
    fn tokens_are_bound_and_expire() {
        let issuer = TokenIssuer::new(SigningKey::new().expect("key"));
        let now = SystemTime::now();
        let token = issuer.issue(&who(), Duration::from_secs(60), now).expect("token").token;
        let grant = issuer.check(&token, now).expect("valid");
        assert_eq!((grant.tenant.as_str(), grant.client_id.as_str()), ("t1", "app"));
        assert_eq!(grant.roles, ["R"]);
        assert_eq!(issuer.check("forged", now), Err(TokenProblem::Unknown));
        assert_eq!(issuer.check(&token, now + Duration::from_secs(61)), Err(TokenProblem::Expired));
        let short = issuer.issue(&who(), Duration::from_millis(1), now).expect("token").token;
        assert_eq!(issuer.check(&short, now).map(|g| g.tenant), Ok("t1".into()), "at least a second");
        assert_eq!(issuer.check(&short, now + Duration::from_secs(1)), Err(TokenProblem::Expired));
    }

    #[test]
    fn a_grant_gets_its_token_again_while_half_its_lifetime_remains() {
        let issuer = TokenIssuer::new(SigningKey::new().expect("key"));
        let now = SystemTime::now();
        let hour = Duration::from_secs(3600);
        let first = issuer.issue(&who(), hour, now).expect("token");
        assert_eq!(first.expires_in, 3600);
        let again = issuer.issue(&who(), hour, now + Duration::from_secs(1000)).expect("token");
        assert_eq!((again.token.as_str(), again.expires_in), (first.token.as_str(), 2600));
        let renewed = issuer.issue(&who(), hour, now + Duration::from_secs(1801)).expect("token");
        assert_ne!(renewed.token, first.token, "less than half its lifetime left");
        let fewer_roles = Authorized { roles: vec![], ..who() };
        assert_ne!(issuer.issue(&fewer_roles, hour, now).expect("token").token, renewed.token, "another grant");
        let shorter = issuer.issue(&who(), Duration::from_secs(600), now + Duration::from_secs(1802)).expect("token");
        assert_ne!(shorter.token, renewed.token, "it would outlive the lifetime now configured");
        let brief = issuer.issue(&who(), Duration::from_secs(2), now).expect("token");
        assert_ne!(issuer.issue(&who(), Duration::from_secs(2), now).expect("token").token, brief.token);
    }

    #[test]
    fn tokens_carry_graphs_app_only_claims() {
        let key = SigningKey::new().expect("key");
        let issuer = TokenIssuer::new(SigningKey::new().expect("key"));
        let token = issuer.issue(&who(), Duration::from_secs(60), SystemTime::now()).expect("token").token;
        assert!(key.verify(&token).is_err(), "another lab instance refuses it");
        let claims = issuer.key().verify(&token).expect("claims");
        assert_eq!(claims["aud"], "https://graph.microsoft.com");
        assert_eq!(claims["iss"], "https://sts.windows.net/t1/");
        assert_eq!((claims["appid"].as_str(), claims["idtyp"].as_str()), (Some("app"), Some("app")));
        assert_eq!(claims["roles"], json!(["R"]));
        assert_eq!(claims["exp"].as_u64(), claims["iat"].as_u64().map(|t| t + 60));
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
