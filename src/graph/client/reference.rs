//! The credential a Tenant's `spec.credentials` names: read from environment variables (the CLI, and
//! the operator's own environment) or from a Kubernetes Secret's data (the operator).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::auth::Credential;
use crate::model::tenant::{CredentialMethod, CredentialsRef};
use crate::util::secret::Secret;

/// Key of the client ID in a credentials Secret, when the Tenant does not name one.
pub const CLIENT_ID_KEY: &str = "clientId";
/// Default key of a client secret.
pub const CLIENT_SECRET_KEY: &str = "clientSecret";
/// Default key of a certificate's private key (the key of a `kubernetes.io/tls` Secret).
pub const PRIVATE_KEY_KEY: &str = "tls.key";

/// The credential `reference` names, from environment variables (`env` looks one up).
pub fn from_environment(
    reference: &CredentialsRef,
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
        CredentialMethod::WorkloadIdentity => workload_identity(client_id, reference, env),
    }
}

/// The credential `reference` names, from the data of the Secret `secret_name` it points to. The
/// client ID comes from the reference, else the Secret's `clientId`, else `default_client_id`.
pub fn from_secret(
    reference: &CredentialsRef,
    secret_name: &str,
    data: &BTreeMap<String, Vec<u8>>,
    default_client_id: Option<&str>,
) -> Result<Credential, String> {
    let text = |key: &str| -> Result<Option<String>, String> {
        data.get(key)
            .map(|bytes| {
                String::from_utf8(bytes.clone()).map_err(|_| format!("key {key} of Secret {secret_name} is not UTF-8"))
            })
            .transpose()
    };
    let client_id = match (&reference.client_id, text(CLIENT_ID_KEY)?, default_client_id) {
        (Some(id), _, _) => id.clone(),
        (None, Some(id), _) => id.trim().to_string(),
        (None, None, Some(id)) => id.to_string(),
        (None, None, None) => {
            return Err(format!("no clientId in the Tenant, nor key {CLIENT_ID_KEY} in Secret {secret_name}"));
        }
    };
    let key_or = |default: &str| reference.secret_ref.as_ref().and_then(|r| r.key.clone()).unwrap_or(default.into());
    let required =
        |key: String| text(&key)?.filter(|v| !v.is_empty()).ok_or(format!("Secret {secret_name} has no key {key}"));
    match reference.method {
        CredentialMethod::ClientSecret => {
            let secret = required(key_or(CLIENT_SECRET_KEY))?;
            Ok(Credential::ClientSecret { client_id, secret: Secret::new(secret.trim().to_string()) })
        }
        CredentialMethod::Certificate => {
            let pem = required(key_or(PRIVATE_KEY_KEY))?;
            Credential::certificate_from_pem(&client_id, &pem).map_err(|e| format!("Secret {secret_name}: {e}"))
        }
        CredentialMethod::WorkloadIdentity => {
            Err("workloadIdentity uses a projected token file, not a Secret: remove secretRef".to_string())
        }
    }
}

/// Workload identity: the token file named by the reference's variable, else AZURE_FEDERATED_TOKEN_FILE.
fn workload_identity(
    client_id: String,
    reference: &CredentialsRef,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credential, String> {
    let name = reference.env.clone().unwrap_or_else(|| "AZURE_FEDERATED_TOKEN_FILE".to_string());
    let file = env(&name).ok_or(format!("environment variable {name} is not set"))?;
    Ok(Credential::WorkloadIdentity { client_id, token_file: PathBuf::from(file) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tenant::SecretKeyRef;

    fn reference(method: CredentialMethod, key: Option<&str>) -> CredentialsRef {
        CredentialsRef {
            client_id: None,
            method,
            secret_ref: Some(SecretKeyRef { name: "graph".into(), key: key.map(str::to_string) }),
            env: None,
        }
    }

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect()
    }

    #[test]
    fn a_secret_gives_the_client_id_and_secret_under_their_keys() {
        let secret = data(&[("clientId", "app\n"), ("clientSecret", "canary-secret\n")]);
        let credential =
            from_secret(&reference(CredentialMethod::ClientSecret, None), "ns/graph", &secret, None).expect("usable");
        assert_eq!(credential.client_id(), "app");
        assert!(!format!("{credential:?}").contains("canary-secret"), "secrets are redacted");

        let custom = data(&[("password", "s")]);
        let credential = from_secret(
            &reference(CredentialMethod::ClientSecret, Some("password")),
            "ns/graph",
            &custom,
            Some("fallback"),
        )
        .expect("usable");
        assert_eq!(credential.client_id(), "fallback");
    }

    #[test]
    fn missing_keys_and_misplaced_methods_say_what_is_wrong() {
        let error = from_secret(&reference(CredentialMethod::ClientSecret, None), "ns/graph", &data(&[]), Some("a"))
            .expect_err("no secret");
        assert_eq!(error, "Secret ns/graph has no key clientSecret");
        let error = from_secret(
            &reference(CredentialMethod::ClientSecret, None),
            "ns/graph",
            &data(&[("clientSecret", "s")]),
            None,
        )
        .expect_err("no client id");
        assert_eq!(error, "no clientId in the Tenant, nor key clientId in Secret ns/graph");
        let error = from_secret(
            &reference(CredentialMethod::Certificate, None),
            "ns/graph",
            &data(&[("tls.key", "junk")]),
            Some("a"),
        )
        .expect_err("not a key");
        assert!(error.starts_with("Secret ns/graph: "), "{error}");
        let error =
            from_secret(&reference(CredentialMethod::WorkloadIdentity, None), "ns/graph", &data(&[]), Some("a"))
                .expect_err("no secret for workload identity");
        assert!(error.contains("remove secretRef"), "{error}");
    }
}
