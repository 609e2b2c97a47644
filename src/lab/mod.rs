//! The lab: a Microsoft-Graph-compatible emulator of the endpoints tenantctl uses, for any number of
//! simulated tenants, persisted as Graph's own JSON in a state directory.
//!
//! It issues per-tenant tokens at its own Microsoft identity platform token endpoint and serves
//! `deviceManagement/configurationPolicies`, groups, security incidents, advanced hunting and `$batch`
//! over real HTTP in Graph's wire format. Knobs for latency, paging, Intune's write budget and fault
//! injection (5xx, 429, dropped connections, responses lost after the write committed) let tests and
//! benchmarks prove that a client survives a bad day. The same client code path runs against the lab
//! and against Microsoft Graph.

mod absent;
mod approval;
mod assertion;
mod batch;
mod budget;
mod call;
mod catalog;
mod config;
mod context;
mod defaults;
mod defender_rbac;
mod detections;
mod dispatch;
mod error;
mod faults;
mod files;
mod hunting_tables;
mod ids;
mod incidents;
mod init;
mod kql;
mod licences;
mod odata;
mod openid;
mod origin;
mod paging;
mod permissions;
mod policies;
mod policy_document;
mod policy_settings;
mod rbac;
mod reply;
mod route;
mod seed;
mod server;
mod signing;
mod stats;
mod store;
mod templates;
mod tenant_api;
mod tls;
mod tokens;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::util::secret::Secret;

pub use error::LabError;
pub use init::{InitOptions, InitSummary, SHARD_LABEL, init};
pub use seed::{Seed, Seeded, is_unseeded, seed};
pub use server::LabServer;
pub use store::{DEFAULT_RESIDENT_TENANTS, LAB_FILE};
pub use tls::{CA_FILE, TLS_DIR, TlsSource};

/// Graph's observed default page size for `configurationPolicies`.
pub const DEFAULT_PAGE_SIZE: usize = 25;
/// The largest `$top` the lab honours (Intune's lists answer up to 1000 items a page when asked).
pub const DEFAULT_MAX_TOP: usize = 1000;
/// Policies per page of a list with `$expand=settings`: conservative, as reported of Intune (one or
/// two policies a page, whatever `$top` asks).
pub const DEFAULT_EXPANDED_PAGE_SIZE: usize = 2;
/// Lifetime of access tokens the Microsoft identity platform issues for client credentials.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);

/// How the lab behaves. Everything but `state_dir` and `seed` can also be changed while it runs,
/// through `PUT /_lab/config`.
#[derive(Clone, Debug)]
pub struct LabOptions {
    /// The state directory (`lab.json`, `tenants/<tenantId>/…`).
    pub state_dir: PathBuf,
    /// Added before handling every token and Graph request.
    pub latency: Duration,
    /// Items per page of every collection; also the largest `$top` honoured.
    pub page_size: usize,
    /// The largest `$top` honoured.
    pub max_top: usize,
    /// Items per page of a list read with `$expand=settings`; `None` pages it as any list.
    pub expanded_page_size: Option<usize>,
    /// Writes to `configurationPolicies` allowed per tenant and app in a sliding window; `None` is
    /// unlimited.
    pub write_budget: Option<WriteBudget>,
    /// Custom detection rules created per tenant and app in a sliding window; `None` is unlimited.
    pub detection_create_budget: Option<WriteBudget>,
    /// Whether 429 responses carry `Retry-After`.
    pub retry_after: RetryAfterMode,
    /// Probabilities of injected faults, per Graph request.
    pub faults: FaultRates,
    /// Tenant ids whose every Graph request answers 503, as an unreachable tenant would.
    pub failing_tenants: Vec<String>,
    /// Tenant ids whose configuration-policy writes Multi Admin Approval holds (app-only calls too).
    pub approval_tenants: Vec<String>,
    /// Per tenant id: application permissions left out of its tokens and licences (SKU part numbers or
    /// service plan names) left out of its subscriptions.
    pub withheld: std::collections::BTreeMap<String, Vec<String>>,
    /// Lifetime of issued access tokens.
    pub token_lifetime: Duration,
    /// Seed of the fault generator, so that a run can be reproduced.
    pub seed: u64,
    /// Serve HTTPS with this certificate; plain HTTP when `None`.
    pub tls: Option<TlsSource>,
    /// Tenants kept in memory at most; others are read from the state folder when used.
    pub resident_tenants: usize,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            state_dir: PathBuf::new(),
            latency: Duration::ZERO,
            page_size: DEFAULT_PAGE_SIZE,
            max_top: DEFAULT_MAX_TOP,
            expanded_page_size: Some(DEFAULT_EXPANDED_PAGE_SIZE),
            write_budget: Some(WriteBudget::INTUNE_PER_APP),
            detection_create_budget: Some(WriteBudget::DETECTION_CREATES_PER_APP),
            retry_after: RetryAfterMode::Always,
            faults: FaultRates::default(),
            failing_tenants: Vec::new(),
            approval_tenants: Vec::new(),
            withheld: Default::default(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            seed: 0,
            tls: None,
            resident_tenants: store::DEFAULT_RESIDENT_TENANTS,
        }
    }
}

/// A number of writes allowed within a sliding window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteBudget {
    pub writes: u32,
    pub window: Duration,
}

impl WriteBudget {
    /// Intune's published limit for `configurationPolicies` writes: 100 per 20 s per app per tenant.
    pub const INTUNE_PER_APP: WriteBudget = WriteBudget { writes: 100, window: Duration::from_secs(20) };
    /// Defender's reported limit for creating custom detection rules: about 10 a minute per app.
    pub const DETECTION_CREATES_PER_APP: WriteBudget = WriteBudget { writes: 10, window: Duration::from_secs(60) };
}

/// Whether throttled responses say when to retry. Intune sometimes omits `Retry-After`, and clients
/// must cope with both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetryAfterMode {
    /// Every 429 carries `Retry-After`.
    #[default]
    Always,
    /// No 429 carries `Retry-After`.
    Never,
    /// Every other 429 of a tenant carries `Retry-After`, starting with the first.
    Alternate,
}

impl FromStr for RetryAfterMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "always" => Ok(RetryAfterMode::Always),
            "never" => Ok(RetryAfterMode::Never),
            "alternate" => Ok(RetryAfterMode::Alternate),
            other => Err(format!("`{other}` is not a Retry-After mode (always, never, alternate)")),
        }
    }
}

/// Probabilities (0 to 1) of faults injected into Graph requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRates {
    /// 503 ServiceUnavailable before anything is done.
    #[serde(default)]
    pub server_error: f64,
    /// The connection is dropped without a response before anything is done.
    #[serde(default)]
    pub connection_reset: f64,
    /// Writes only: the write commits, then the connection is dropped without a response.
    #[serde(default)]
    pub lost_response: f64,
    /// 429 TooManyRequests before anything is done, as Graph throttles a busy service whatever the
    /// write budget; `Retry-After` follows [`RetryAfterMode`].
    #[serde(default)]
    pub throttle: f64,
}

impl FaultRates {
    /// Why these rates are unusable, if they are.
    pub fn problem(&self) -> Option<String> {
        [
            ("serverError", self.server_error),
            ("connectionReset", self.connection_reset),
            ("lostResponse", self.lost_response),
            ("throttle", self.throttle),
        ]
        .into_iter()
        .find(|(_, rate)| !(0.0..=1.0).contains(rate))
        .map(|(name, rate)| format!("fault rate {name} = {rate} is not a probability between 0 and 1"))
    }
}

/// An app registration the lab knows (an entry of `lab.json`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabApp {
    pub client_id: String,
    pub client_secret: Secret,
    /// The exact assertion accepted for workload identity federation, when the app has one.
    #[serde(default)]
    pub federated_assertion: Option<Secret>,
    /// The app's certificate (PEM): certificate client assertions signed with its key are accepted.
    #[serde(default)]
    pub certificate: Option<String>,
    /// The application permissions consented to (the token's `roles`); all the lab serves when absent.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// The first app of `<state_dir>/lab.json`, so that a client can be pointed at the lab.
pub fn read_lab_credentials(state_dir: &Path) -> Result<LabApp, LabError> {
    let apps = store::read_apps(state_dir)?;
    apps.into_iter().next().ok_or_else(|| LabError::NoApps(state_dir.join(store::LAB_FILE)))
}

/// Address the lab listens on by default: loopback, any free port.
pub fn default_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
