//! OAuth2 client credentials per tenant: client secret, certificate assertion, or workload identity
//! federation (a projected token file, no secret at all), with a per-tenant token cache.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use super::error::GraphError;
use crate::util::pem::pem_block;
use crate::util::secret::Secret;

/// The scope every token is requested for.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Renew a cached token this long before it expires, so no request carries an expiring token.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// How the app proves its identity to the token endpoint.
#[derive(Clone)]
pub enum Credential {
    ClientSecret {
        client_id: String,
        secret: Secret,
    },
    /// A signed JWT assertion (RS256) made with the app's certificate key.
    Certificate {
        client_id: String,
        key: Arc<RsaKeyPair>,
        thumbprint_sha256: String,
    },
    /// A token from an external identity provider (a projected Kubernetes service-account token),
    /// re-read on every token request because the kubelet rotates it.
    WorkloadIdentity {
        client_id: String,
        token_file: PathBuf,
    },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::ClientSecret { client_id, .. } => write!(f, "ClientSecret({client_id}, <redacted>)"),
            Credential::Certificate { client_id, thumbprint_sha256, .. } => {
                write!(f, "Certificate({client_id}, x5t#S256 {thumbprint_sha256})")
            }
            Credential::WorkloadIdentity { client_id, token_file } => {
                write!(f, "WorkloadIdentity({client_id}, {})", token_file.display())
            }
        }
    }
}

impl Credential {
    pub fn client_id(&self) -> &str {
        match self {
            Credential::ClientSecret { client_id, .. }
            | Credential::Certificate { client_id, .. }
            | Credential::WorkloadIdentity { client_id, .. } => client_id,
        }
    }

    /// A certificate credential from PEM text holding the private key (PKCS#8 `PRIVATE KEY` or PKCS#1
    /// `RSA PRIVATE KEY`) and the certificate, as in `AZURE_CLIENT_CERTIFICATE_PATH`.
    pub fn certificate_from_pem(client_id: &str, pem: &str) -> Result<Credential, GraphError> {
        let invalid = |what: &str| GraphError::Config(format!("certificate for client {client_id}: {what}"));
        let key = if let Some(der) = pem_block(pem, "PRIVATE KEY") {
            RsaKeyPair::from_pkcs8(&der).map_err(|_| invalid("the PKCS#8 private key is not an RSA key"))?
        } else if let Some(der) = pem_block(pem, "RSA PRIVATE KEY") {
            RsaKeyPair::from_der(&der).map_err(|_| invalid("the RSA private key does not parse"))?
        } else {
            return Err(invalid("no private key block found"));
        };
        let certificate = pem_block(pem, "CERTIFICATE").ok_or_else(|| invalid("no CERTIFICATE block found"))?;
        let thumbprint_sha256 = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, &certificate));
        Ok(Credential::Certificate { client_id: client_id.to_string(), key: Arc::new(key), thumbprint_sha256 })
    }

    /// The form fields of a token request (secrets included: only the token request sees them).
    pub(super) fn token_form(&self, token_url: &str) -> Result<Vec<(&'static str, String)>, GraphError> {
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", self.client_id().to_string()),
            ("scope", GRAPH_SCOPE.to_string()),
        ];
        match self {
            Credential::ClientSecret { secret, .. } => form.push(("client_secret", secret.expose().to_string())),
            Credential::Certificate { client_id, key, thumbprint_sha256 } => {
                form.push(("client_assertion_type", ASSERTION_TYPE.to_string()));
                form.push(("client_assertion", signed_assertion(client_id, key, thumbprint_sha256, token_url)?));
            }
            Credential::WorkloadIdentity { token_file, .. } => {
                let assertion = std::fs::read_to_string(token_file).map_err(|e| {
                    GraphError::Config(format!("cannot read federated token file {}: {e}", token_file.display()))
                })?;
                form.push(("client_assertion_type", ASSERTION_TYPE.to_string()));
                form.push(("client_assertion", assertion.trim().to_string()));
            }
        }
        Ok(form)
    }
}

#[cfg(test)]
impl Credential {
    /// The token request form, for tests of the other side of the token endpoint.
    pub fn token_form_for_tests(&self, token_url: &str) -> Result<Vec<(&'static str, String)>, GraphError> {
        self.token_form(token_url)
    }
}

fn signed_assertion(client_id: &str, key: &RsaKeyPair, thumbprint: &str, audience: &str) -> Result<String, GraphError> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let rng = SystemRandom::new();
    let mut jti = [0u8; 16];
    rng.fill(&mut jti).map_err(|_| GraphError::Config("no system randomness for the assertion id".into()))?;
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t#S256": thumbprint});
    let claims = serde_json::json!({
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    });
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &rng, signing_input.as_bytes(), &mut signature)
        .map_err(|_| GraphError::Config(format!("cannot sign the client assertion for {client_id}")))?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// Which credential each tenant uses: a default, and overrides per tenant id.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub default: Option<Credential>,
    pub per_tenant: HashMap<String, Credential>,
    /// Tenants whose own credential reference could not be used, with why: they get no token (and
    /// are reported unknown) rather than the default credential.
    pub unusable: HashMap<String, String>,
}

impl Credentials {
    pub fn with_default(credential: Credential) -> Self {
        Credentials { default: Some(credential), ..Credentials::default() }
    }

    pub fn for_tenant(&self, tenant_id: &str) -> Result<&Credential, GraphError> {
        if let Some(problem) = self.unusable.get(tenant_id) {
            return Err(GraphError::Config(problem.clone()));
        }
        self.per_tenant.get(tenant_id).or(self.default.as_ref()).ok_or_else(|| {
            GraphError::Config(format!(
                "no credentials for tenant {tenant_id}: set AZURE_CLIENT_ID with AZURE_CLIENT_SECRET, \
                 AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE"
            ))
        })
    }

    /// The default credential from the Azure SDK's environment variables, if they name one:
    /// `AZURE_CLIENT_ID` with `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_CERTIFICATE_PATH` or
    /// `AZURE_CLIENT_SECRET` (in that order of preference: no secret beats a secret).
    pub fn default_from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Credential>, GraphError> {
        let Some(client_id) = env("AZURE_CLIENT_ID").filter(|v| !v.is_empty()) else { return Ok(None) };
        if let Some(file) = env("AZURE_FEDERATED_TOKEN_FILE").filter(|v| !v.is_empty()) {
            return Ok(Some(Credential::WorkloadIdentity { client_id, token_file: PathBuf::from(file) }));
        }
        if let Some(path) = env("AZURE_CLIENT_CERTIFICATE_PATH").filter(|v| !v.is_empty()) {
            let pem = std::fs::read_to_string(&path)
                .map_err(|e| GraphError::Config(format!("cannot read AZURE_CLIENT_CERTIFICATE_PATH {path}: {e}")))?;
            return Credential::certificate_from_pem(&client_id, &pem).map(Some);
        }
        Ok(env("AZURE_CLIENT_SECRET")
            .filter(|v| !v.is_empty())
            .map(|secret| Credential::ClientSecret { client_id, secret: Secret::new(secret) }))
    }
}

#[derive(Clone)]
pub(super) struct CachedToken {
    pub token: Secret,
    pub expires_at: Instant,
}

/// Tokens per tenant. Each tenant has its own async lock so that concurrent requests for one tenant
/// wait for a single token request instead of each making one.
#[derive(Default)]
pub(super) struct TokenCache {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<CachedToken>>>>>,
}

impl TokenCache {
    pub fn slot(&self, tenant_id: &str) -> Arc<tokio::sync::Mutex<Option<CachedToken>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.entry(tenant_id.to_string()).or_default().clone()
    }
}

impl CachedToken {
    pub fn is_fresh(&self) -> bool {
        Instant::now() + EXPIRY_MARGIN < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_prefers_federation_then_certificate_then_secret() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let none = Credentials::default_from_env(&env(&[("AZURE_CLIENT_SECRET", "s")])).expect("ok");
        assert!(none.is_none(), "no client id, no credential");
        let secret =
            Credentials::default_from_env(&env(&[("AZURE_CLIENT_ID", "a"), ("AZURE_CLIENT_SECRET", "canary")]))
                .expect("ok")
                .expect("credential");
        assert!(matches!(secret, Credential::ClientSecret { .. }));
        assert!(!format!("{secret:?}").contains("canary"));
        let federated = Credentials::default_from_env(&env(&[
            ("AZURE_CLIENT_ID", "a"),
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]))
        .expect("ok")
        .expect("credential");
        assert!(matches!(federated, Credential::WorkloadIdentity { .. }));
    }

    #[test]
    fn certificate_assertion_is_a_signed_rs256_jwt() {
        let pem = std::fs::read_to_string(format!("{}/tests/fixtures/auth/client.pem", env!("CARGO_MANIFEST_DIR")))
            .expect("fixture");
        let credential = Credential::certificate_from_pem("client-1", &pem).expect("credential");
        let form = credential.token_form("https://login.example/t/oauth2/v2.0/token").expect("form");
        let assertion = &form.iter().find(|(k, _)| *k == "client_assertion").expect("assertion").1;
        let parts: Vec<&str> = assertion.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
        assert_eq!(header["alg"], "RS256");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims["aud"], "https://login.example/t/oauth2/v2.0/token");
        assert_eq!(claims["iss"], "client-1");
        // The signature verifies with the key's public half.
        let Credential::Certificate { key, .. } = &credential else { panic!("certificate") };
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            key.public().as_ref(),
        );
        let signed = format!("{}.{}", parts[0], parts[1]);
        public.verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(parts[2]).expect("b64")).expect("valid signature");
    }
}
