//! Connecting to Microsoft Graph — or to the embedded lab with `--lab` — with per-tenant credentials.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use crate::graph::client::{Credential, Credentials, DEFAULT_GRAPH_URL, DEFAULT_LOGIN_URL, GraphClient, GraphConfig};
use crate::graph::secret::Secret;
use crate::lab::{LabOptions, LabServer, default_addr, read_lab_credentials};
use crate::manifest::ManifestSet;
use crate::model::tenant::CredentialMethod;

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

/// Connects as the arguments say. `seed` is the lab folder to copy into an empty lab state.
pub async fn connect(args: &GraphArgs, set: &ManifestSet, seed: Option<&Path>) -> anyhow::Result<Connection> {
    if args.lab {
        return connect_lab(args, seed).await;
    }
    let config = GraphConfig::new(&args.graph_url, &args.login_url)?;
    let env = |name: &str| std::env::var(name).ok();
    let mut credentials = Credentials { default: Credentials::default_from_env(&env)?, ..Credentials::default() };
    for tenant in &set.tenants {
        let Some(reference) = &tenant.object.spec.credentials else { continue };
        let tenant_id = tenant.object.spec.tenant_id.clone();
        match tenant_credential(reference, &env) {
            Ok(credential) => {
                credentials.per_tenant.insert(tenant_id, credential);
            }
            Err(problem) => {
                credentials.unusable.insert(tenant_id, format!("Tenant {}: {problem}", tenant.name()));
            }
        }
    }
    Ok(Connection { client: GraphClient::new(config, credentials)?, lab: None })
}

/// The credential a Tenant's `spec.credentials` names, for the CLI (environment variables).
fn tenant_credential(
    reference: &crate::model::tenant::CredentialsRef,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credential, String> {
    let client_id =
        reference.client_id.clone().or_else(|| env("AZURE_CLIENT_ID")).ok_or("no clientId and no AZURE_CLIENT_ID")?;
    let variable = |default: &str| reference.env.clone().unwrap_or_else(|| default.to_string());
    match reference.method {
        CredentialMethod::ClientSecret => {
            let name = variable("AZURE_CLIENT_SECRET");
            let secret =
                env(&name).filter(|v| !v.is_empty()).ok_or(format!("environment variable {name} is not set"))?;
            Ok(Credential::ClientSecret { client_id, secret: Secret::new(secret) })
        }
        CredentialMethod::Certificate => {
            let name = variable("AZURE_CLIENT_CERTIFICATE_PATH");
            let path = env(&name).ok_or(format!("environment variable {name} is not set"))?;
            let pem = std::fs::read_to_string(&path).map_err(|e| format!("cannot read certificate {path}: {e}"))?;
            Credential::certificate_from_pem(&client_id, &pem).map_err(|e| e.to_string())
        }
        CredentialMethod::WorkloadIdentity => {
            let name = variable("AZURE_FEDERATED_TOKEN_FILE");
            let file = env(&name).ok_or(format!("environment variable {name} is not set"))?;
            Ok(Credential::WorkloadIdentity { client_id, token_file: PathBuf::from(file) })
        }
    }
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
