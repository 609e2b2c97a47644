//! Per-tenant credentials for the operator: a Secret the Tenant references, environment variables
//! the Tenant names, or the operator-wide credential (a Secret in the operator's namespace, or the
//! Azure SDK environment — workload identity's projected token file included). Credentials are never
//! logged: only where they come from is.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use super::context::{Context, namespace_of};
use crate::graph::client::reference::{self, CLIENT_SECRET_KEY, PRIVATE_KEY_KEY};
use crate::graph::client::{Credential, Credentials};
use crate::model::Tenant;
use crate::model::tenant::{CredentialMethod, CredentialsRef};

/// Why a tenant has no usable credential.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The configuration is wrong (a missing Secret or key): waits for a change.
    #[error("{0}")]
    Unusable(String),
    /// The Kubernetes API could not be read: retried with backoff.
    #[error("cannot read Secret {name}: {source}")]
    Kubernetes {
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// Installs the tenant's current credential in the Graph client when its source changed.
pub async fn refresh(ctx: &Context, tenant: &Tenant) -> Result<(), CredentialError> {
    let (source, credential) = current(ctx, tenant).await?;
    let tenant_id = tenant.spec.tenant_id.to_ascii_lowercase();
    let changed = {
        let mut sources = ctx.credential_sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sources.insert(tenant_id.clone(), source.clone()).as_ref() != Some(&source)
    };
    let problem = credential.as_ref().err().cloned();
    if changed {
        ctx.graph.set_tenant_credential(&tenant.spec.tenant_id, credential).await;
        // Another app may see other licences' worth of the tenant: read them again.
        ctx.licences.forget(&tenant.spec.tenant_id);
    }
    match problem {
        Some(problem) => Err(CredentialError::Unusable(problem)),
        None => Ok(()),
    }
}

/// The credential, and a description of its source that changes whenever the credential may have.
async fn current(ctx: &Context, tenant: &Tenant) -> Result<(String, Result<Credential, String>), CredentialError> {
    let env = |name: &str| std::env::var(name).ok();
    match &tenant.spec.credentials {
        Some(reference) => {
            let described = serde_json::to_string(reference).unwrap_or_default();
            match &reference.secret_ref {
                Some(secret_ref) => {
                    let namespace = namespace_of(tenant);
                    let (version, data) = read_secret(ctx, &namespace, &secret_ref.name).await?;
                    let name = format!("{namespace}/{}", secret_ref.name);
                    let default_client_id = env("AZURE_CLIENT_ID");
                    let credential = match data {
                        Some(data) => reference::from_secret(reference, &name, &data, default_client_id.as_deref()),
                        None => Err(format!("Secret {name} not found")),
                    };
                    Ok((format!("secret {name}@{version} {described}"), credential))
                }
                None => Ok((format!("environment {described}"), reference::from_environment(reference, &env))),
            }
        }
        None => operator_default(ctx).await,
    }
}

async fn operator_default(ctx: &Context) -> Result<(String, Result<Credential, String>), CredentialError> {
    let env = |name: &str| std::env::var(name).ok();
    if let Some(secret) = &ctx.settings.credentials_secret {
        let namespace = &ctx.settings.operator_namespace;
        let (version, data) = read_secret(ctx, namespace, secret).await?;
        let name = format!("{namespace}/{secret}");
        let credential = match data {
            Some(data) => {
                // The operator-wide Secret holds either a client secret or a certificate key.
                let method = if data.contains_key(CLIENT_SECRET_KEY) || !data.contains_key(PRIVATE_KEY_KEY) {
                    CredentialMethod::ClientSecret
                } else {
                    CredentialMethod::Certificate
                };
                let reference = CredentialsRef { client_id: None, method, secret_ref: None, env: None };
                reference::from_secret(&reference, &name, &data, env("AZURE_CLIENT_ID").as_deref())
            }
            None => Err(format!("the operator's credentials Secret {name} was not found")),
        };
        return Ok((format!("secret {name}@{version}"), credential));
    }
    let credential = match Credentials::default_from_env(&env) {
        Ok(Some(credential)) => Ok(credential),
        Ok(None) => Err("no credentials: the Tenant names none, and the operator has no --credentials-secret \
                         nor AZURE_CLIENT_ID with AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_CERTIFICATE_PATH or \
                         AZURE_CLIENT_SECRET"
            .to_string()),
        Err(error) => Err(error.to_string()),
    };
    Ok(("operator environment".to_string(), credential))
}

/// A Secret's resource version and data, `None` when it does not exist.
/// A Secret as read: its resource version and data (`None` when absent).
pub type SecretRead = (String, Option<BTreeMap<String, Vec<u8>>>);

/// Reads a Secret, at most once per sync interval: the operator-wide Secret serves every tenant, and
/// thousands of reconciles must not mean thousands of reads of it. A rotation is seen within an
/// interval.
async fn read_secret(ctx: &Context, namespace: &str, name: &str) -> Result<SecretRead, CredentialError> {
    let key = (namespace.to_string(), name.to_string());
    let now = std::time::Instant::now();
    {
        let cache = ctx.secrets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((read_at, read)) = cache.get(&key)
            && now.duration_since(*read_at) < ctx.settings.sync_interval
        {
            return Ok(read.clone());
        }
    }
    let read = read_secret_now(ctx, namespace, name).await?;
    ctx.secrets.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, (now, read.clone()));
    Ok(read)
}

async fn read_secret_now(ctx: &Context, namespace: &str, name: &str) -> Result<SecretRead, CredentialError> {
    let api: Api<Secret> = Api::namespaced(ctx.kube.clone(), namespace);
    let secret = api
        .get_opt(name)
        .await
        .map_err(|source| CredentialError::Kubernetes { name: format!("{namespace}/{name}"), source })?;
    Ok(match secret {
        Some(secret) => {
            let version = secret.metadata.resource_version.clone().unwrap_or_default();
            let mut data: BTreeMap<String, Vec<u8>> =
                secret.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect();
            for (key, value) in secret.string_data.unwrap_or_default() {
                data.insert(key, value.into_bytes());
            }
            (version, Some(data))
        }
        None => ("absent".to_string(), None),
    })
}
