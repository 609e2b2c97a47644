//! The Microsoft Graph client: one code path for Microsoft Graph and for the lab. Per-tenant tokens,
//! paging, retries with backoff honouring `Retry-After`, a timeout on every request, and a per-tenant
//! request budget below Intune's limits.

mod access;
mod approval;
pub mod auth;
pub mod budget;
mod defender_rbac;
mod detections;
pub mod error;
mod http;
mod policies;
mod rbac;
pub mod reference;
mod security;
mod tenant_api;
pub mod token_hints;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use url::Url;

pub use access::granted_roles;
pub use auth::{Credential, Credentials};
pub use budget::RequestBudget;
pub use error::GraphError;

/// Where Graph and the identity platform are, and how patient to be with them.
#[derive(Clone, Debug)]
pub struct GraphConfig {
    /// Microsoft Graph, without version: `https://graph.microsoft.com`.
    pub graph_url: Url,
    /// The Microsoft identity platform: `https://login.microsoftonline.com`.
    pub login_url: Url,
    /// Timeout of each request.
    pub request_timeout: Duration,
    /// Retries of a failed request (throttling, 5xx, timeouts, resets) before giving up.
    pub max_retries: u32,
    /// First backoff delay; doubles per retry, with full jitter.
    pub backoff_base: Duration,
    /// Cap of a backoff delay and of an honoured `Retry-After`.
    pub backoff_max: Duration,
    /// Wait after a 429 that carries no `Retry-After` (doubles per retry).
    pub throttle_backoff: Duration,
    pub budget: RequestBudget,
    /// CA certificates (PEM) trusted besides the system's: a proxy that inspects TLS, or a lab served
    /// over HTTPS with a certificate of its own.
    pub extra_roots: Option<Vec<u8>>,
}

pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";

impl GraphConfig {
    /// Defaults for Microsoft's endpoints, with the given URLs.
    pub fn new(graph_url: &str, login_url: &str) -> Result<Self, GraphError> {
        let graph_url = parse_endpoint(graph_url, "Graph URL")?;
        let login_url = parse_endpoint(login_url, "login URL")?;
        Ok(GraphConfig {
            graph_url,
            login_url,
            request_timeout: Duration::from_secs(60),
            max_retries: 6,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            throttle_backoff: Duration::from_secs(10),
            budget: RequestBudget::default(),
            extra_roots: None,
        })
    }

    /// Also trusts the CA certificates of a PEM file; the error names the file.
    pub fn trusting(mut self, ca_file: Option<&std::path::Path>) -> Result<Self, GraphError> {
        if let Some(path) = ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| GraphError::Config(format!("cannot read the CA file {}: {e}", path.display())))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| GraphError::Config(format!("{}: not PEM certificates: {e}", path.display())))?;
            if certificates.is_empty() {
                return Err(GraphError::Config(format!("{}: no certificate in the file", path.display())));
            }
            self.extra_roots = Some(pem);
        }
        Ok(self)
    }
}

/// Parses an endpoint URL (https, or http on loopback).
pub fn parse_endpoint(text: &str, what: &str) -> Result<Url, GraphError> {
    crate::util::endpoint::parse_endpoint(text, what).map_err(GraphError::Config)
}

/// Counters of what the client did, for progress lines and benchmarks.
#[derive(Debug, Default)]
pub struct ClientStats {
    pub requests: AtomicU64,
    pub token_requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
}

/// A snapshot of [`ClientStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCounts {
    pub requests: u64,
    pub token_requests: u64,
    pub retries: u64,
    pub throttled: u64,
}

struct Inner {
    http: reqwest::Client,
    config: GraphConfig,
    /// Replaced while running by runtimes whose credentials change (the operator reads Secrets).
    credentials: RwLock<Credentials>,
    tokens: auth::TokenCache,
    budgets: budget::Budgets,
    stats: ClientStats,
}

/// A Graph client for any number of tenants. Cheap to clone.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

impl GraphClient {
    pub fn new(config: GraphConfig, credentials: Credentials) -> Result<Self, GraphError> {
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = &config.extra_roots {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| GraphError::Config(format!("the trusted CA certificates do not parse: {e}")))?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(10).min(config.request_timeout))
            .user_agent(concat!("tenantctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphError::Config(format!("cannot build the HTTP client: {e}")))?;
        let budgets = budget::Budgets::new(config.budget);
        let credentials = RwLock::new(credentials);
        let inner = Inner { http, config, credentials, tokens: Default::default(), budgets, stats: Default::default() };
        Ok(GraphClient { inner: Arc::new(inner) })
    }

    /// A handle for one tenant (by tenant id).
    pub fn tenant(&self, tenant_id: &str) -> TenantClient {
        TenantClient { client: self.clone(), tenant_id: tenant_id.to_string(), justification: None, fence: None }
    }

    pub fn config(&self) -> &GraphConfig {
        &self.inner.config
    }

    /// Sets the credential of one tenant, or why it has none usable (the tenant then gets no token and
    /// is reported unknown), and forgets the tenant's cached token.
    pub async fn set_tenant_credential(&self, tenant_id: &str, credential: Result<Credential, String>) {
        {
            let mut credentials = self.inner.credentials.write().unwrap_or_else(PoisonError::into_inner);
            credentials.unusable.remove(tenant_id);
            credentials.per_tenant.remove(tenant_id);
            match credential {
                Ok(credential) => credentials.per_tenant.insert(tenant_id.to_string(), credential).map(|_| ()),
                Err(problem) => credentials.unusable.insert(tenant_id.to_string(), problem).map(|_| ()),
            };
        }
        *self.inner.tokens.slot(tenant_id).lock().await = None;
    }

    /// Forgets a tenant's cached token, so that the next request gets one with the permissions the
    /// tenant grants now (a token carries those of when it was issued).
    pub async fn forget_token(&self, tenant_id: &str) {
        *self.inner.tokens.slot(tenant_id).lock().await = None;
    }

    pub fn counts(&self) -> ClientCounts {
        let stats = &self.inner.stats;
        ClientCounts {
            requests: stats.requests.load(Ordering::Relaxed),
            token_requests: stats.token_requests.load(Ordering::Relaxed),
            retries: stats.retries.load(Ordering::Relaxed),
            throttled: stats.throttled.load(Ordering::Relaxed),
        }
    }
}

/// The client bound to one tenant.
#[derive(Clone)]
pub struct TenantClient {
    client: GraphClient,
    tenant_id: String,
    /// Why this client writes (the plan, the sync), for the approval requests of writes the tenant's
    /// Multi Admin Approval holds; without it such writes are reported refused.
    justification: Option<Arc<str>>,
    /// Whether writes may still start (see [`WriteFence`]); without one they always may.
    fence: Option<WriteFence>,
}

/// Whether a client may still start writes. An operator replica that loses a tenant's shard must
/// start no further write there (another replica owns the tenant from then on), while a write already
/// sent is let finish: dropping it would not unsend it, only hide whether it landed.
#[derive(Clone)]
pub struct WriteFence(Arc<dyn Fn() -> bool + Send + Sync>);

impl WriteFence {
    /// A fence that stays open while `open` says so.
    pub fn new(open: impl Fn() -> bool + Send + Sync + 'static) -> WriteFence {
        WriteFence(Arc::new(open))
    }

    pub fn is_open(&self) -> bool {
        (self.0)()
    }
}

impl TenantClient {
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The client, asking approval (with this reason) for the writes Multi Admin Approval holds.
    pub fn requesting_approval(mut self, reason: impl Into<Arc<str>>) -> TenantClient {
        self.justification = Some(reason.into());
        self
    }

    /// The client, starting writes only while `fence` is open.
    pub fn fenced(mut self, fence: WriteFence) -> TenantClient {
        self.fence = Some(fence);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_unless_loopback() {
        assert!(parse_endpoint("https://graph.microsoft.com/", "Graph URL").is_ok());
        assert!(parse_endpoint("http://127.0.0.1:8080", "Graph URL").is_ok());
        assert!(parse_endpoint("http://localhost:8080", "Graph URL").is_ok());
        assert!(parse_endpoint("http://[::1]:8080", "Graph URL").is_ok());
        let error = parse_endpoint("http://graph.example.com", "Graph URL").expect_err("plain http");
        assert_eq!(
            error.to_string(),
            "Graph URL `http://graph.example.com` must use https (plain http is accepted on loopback only)"
        );
        assert!(parse_endpoint("http://10.0.0.1", "login URL").is_err());
        assert!(parse_endpoint("not a url", "Graph URL").is_err());
    }
}
