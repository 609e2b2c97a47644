//! Connecting to Microsoft Graph — or to the embedded lab with `--lab` — with per-tenant credentials.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use crate::graph::client::{
    Credential, Credentials, DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, GraphClient, GraphConfig, reference,
};
use crate::lab::{LabOptions, LabServer, default_addr, read_lab_credentials};
use crate::manifest::ManifestSet;
use crate::model::tenant::CredentialsRef;

#[derive(Clone, Debug, Args)]
pub struct GraphArgs {
    /// Use the embedded lab (a Microsoft Graph emulator on loopback) instead of Microsoft Graph: no cloud
    /// account needed.
    #[arg(long)]
    pub lab: bool,
    /// State folder of the lab; on first use it is seeded from the `lab/` folder next to the manifests.
    #[arg(long, env = "TENANTCTL_LAB_STATE", default_value = ".tenantctl/lab", value_name = "DIR")]
    pub lab_state: PathBuf,
    /// Microsoft Graph endpoint (https unless loopback).
    #[arg(long, env = "TENANTCTL_GRAPH_URL", default_value = DEFAULT_GRAPH_URL, value_name = "URL")]
    pub graph_url: String,
    /// Microsoft identity platform endpoint (https unless loopback).
    #[arg(long, env = "TENANTCTL_LOGIN_URL", default_value = DEFAULT_LOGIN_URL, value_name = "URL")]
    pub login_url: String,
    /// Tenants worked on at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
    /// Also trust the CA certificates of this PEM file: a proxy that inspects TLS, or a lab served with
    /// `lab serve --tls` (its STATE/tls/ca.pem).
    #[arg(long, env = "TENANTCTL_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Keep what was read of each tenant's policies in DIR, and re-read only the policies whose
    /// version (lastModifiedDateTime) moved; settings are only reused for the version the tenant
    /// reports now.
    #[arg(long, env = "TENANTCTL_CACHE", value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

/// A client, and the lab it talks to when `--lab` started one (kept alive as long as the client).
pub struct Connection {
    pub client: GraphClient,
    pub lab: Option<LabServer>,
}

impl Connection {
    pub async fn close(self) {
        if let Some(lab) = self.lab {
            lab.shutdown().await;
        }
    }
}

/// Where one tenant's credentials come from: the Tenant manifest's reference, or the one a saved plan
/// recorded from it.
pub struct TenantCredentials<'a> {
    /// `metadata.name` of the Tenant, for messages.
    pub name: &'a str,
    pub tenant_id: &'a str,
    pub credentials: Option<&'a CredentialsRef>,
}

/// The credential references of every Tenant of a manifest set.
pub fn tenant_credentials(set: &ManifestSet) -> Vec<TenantCredentials<'_>> {
    set.tenants
        .iter()
        .map(|tenant| TenantCredentials {
            name: tenant.object.metadata.name.as_deref().unwrap_or_default(),
            tenant_id: &tenant.object.spec.tenant_id,
            credentials: tenant.object.spec.credentials.as_ref(),
        })
        .collect()
}

/// Connects as the arguments say: each tenant with its own credentials where its reference names
/// them, the default credentials otherwise. `seed` is the lab folder to copy into an empty lab state.
pub async fn connect(
    args: &GraphArgs,
    tenants: &[TenantCredentials<'_>],
    seed: Option<&Path>,
) -> anyhow::Result<Connection> {
    if args.lab {
        return connect_lab(args, seed).await;
    }
    let config = GraphConfig::new(&args.graph_url, &args.login_url)?.trusting(args.ca_file.as_deref())?;
    let env = |name: &str| std::env::var(name).ok();
    let mut credentials = Credentials { default: Credentials::default_from_env(&env)?, ..Credentials::default() };
    for tenant in tenants {
        let Some(reference) = tenant.credentials else { continue };
        let tenant_id = tenant.tenant_id.to_string();
        match reference::from_environment(reference, &env) {
            Ok(credential) => {
                credentials.per_tenant.insert(tenant_id, credential);
            }
            Err(problem) => {
                credentials.unusable.insert(tenant_id, format!("Tenant {}: {problem}", tenant.name));
            }
        }
    }
    if credentials.default.is_none() {
        let mut lacking: Vec<&str> = tenants.iter().filter(|t| t.credentials.is_none()).map(|t| t.name).collect();
        lacking.sort();
        if !lacking.is_empty() {
            const SHOWN: usize = 3;
            let more = lacking.len().saturating_sub(SHOWN);
            let names = lacking[..lacking.len().min(SHOWN)].join(", ");
            let names = if more > 0 { format!("{names} and {more} more") } else { names };
            bail!(
                "no credentials for {} ({names}): set AZURE_CLIENT_ID with AZURE_CLIENT_SECRET, \
                 AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE, give the Tenant spec.credentials, \
                 or try the embedded lab with --lab",
                crate::util::plural::count(lacking.len(), "tenant")
            );
        }
    }
    Ok(Connection { client: GraphClient::new(config, credentials)?, lab: None })
}

async fn connect_lab(args: &GraphArgs, seed: Option<&Path>) -> anyhow::Result<Connection> {
    let state = &args.lab_state;
    if !state.join("lab.json").exists() {
        let Some(seed) = seed.filter(|s| s.join("lab.json").exists()) else {
            bail!(
                "the lab state {} is empty: put a lab/ folder next to the manifests, or create one with \
                 `tenantctl lab init {} --tenants N`",
                state.display(),
                state.display()
            );
        };
        copy_dir(seed, state)
            .with_context(|| format!("cannot seed the lab state {} from {}", state.display(), seed.display()))?;
    }
    let app = read_lab_credentials(state)?;
    let lab =
        LabServer::start(LabOptions { state_dir: state.clone(), ..LabOptions::default() }, default_addr()).await?;
    let config = GraphConfig::new(&lab.url(), &lab.url())?;
    let credential = Credential::ClientSecret { client_id: app.client_id, secret: app.client_secret };
    let client = GraphClient::new(config, Credentials::with_default(credential))?;
    Ok(Connection { client, lab: Some(lab) })
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
