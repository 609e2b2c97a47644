//! HTTPS for the lab: Microsoft's token libraries refuse plain http. The certificate is either given
//! (`--tls-cert`/`--tls-key`) or made once per state folder, signed by a CA of its own (`tls/ca.pem`,
//! the file a client trusts), and kept there so that clients keep trusting the lab across restarts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::LabError;
use super::files::write_atomically;

/// Folder of the generated certificate, below the state folder.
pub const TLS_DIR: &str = "tls";
/// The CA certificate clients trust.
pub const CA_FILE: &str = "ca.pem";
const CERT_FILE: &str = "server.pem";
const KEY_FILE: &str = "server-key.pem";

/// Names the generated certificate is valid for: loopback, and Microsoft's own hosts so that a client
/// whose resolver maps them to the lab connects without being changed.
const NAMES: &[&str] = &["localhost", "127.0.0.1", "::1", "graph.microsoft.com", "login.microsoftonline.com"];

/// Where the lab's certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsSource {
    /// Made once into `<state>/tls/` (and reused after).
    Generated,
    /// A PEM certificate chain and its PEM private key.
    Files { certificate: PathBuf, key: PathBuf },
}

/// The server configuration, and the CA file clients should trust when the lab made the certificate.
pub struct TlsSetup {
    pub config: Arc<ServerConfig>,
    pub ca_file: Option<PathBuf>,
}

pub fn setup(state_dir: &Path, source: &TlsSource) -> Result<TlsSetup, LabError> {
    let (certificate, key, ca_file) = match source {
        TlsSource::Files { certificate, key } => (certificate.clone(), key.clone(), None),
        TlsSource::Generated => {
            let dir = state_dir.join(TLS_DIR);
            let (certificate, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
            if !(certificate.is_file() && key.is_file()) {
                generate(&dir)?;
            }
            (certificate, key, Some(dir.join(CA_FILE)))
        }
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&certificate)
        .and_then(|certificates| certificates.collect::<Result<_, _>>())
        .map_err(|e| LabError::invalid(&certificate, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(LabError::invalid(&certificate, "no certificate in the file"));
    }
    let private_key = PrivateKeyDer::from_pem_file(&key)
        .map_err(|e| LabError::invalid(&key, format!("not a PEM private key: {e}")))?;
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, private_key))
        .map_err(|e| LabError::invalid(&certificate, format!("unusable certificate and key: {e}")))?;
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsSetup { config: Arc::new(config), ca_file })
}

/// A CA and a server certificate it signs, written to `dir`. The CA's key is not kept: nothing else
/// is ever signed with it.
fn generate(dir: &Path) -> Result<(), LabError> {
    let failed = |e: rcgen::Error| LabError::invalid(dir, format!("cannot make a certificate: {e}"));
    let ca_key = KeyPair::generate().map_err(failed)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    ca.distinguished_name.push(DnType::CommonName, "tenantctl lab CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca.not_before = date_time_ymd(2024, 1, 1);
    ca.not_after = date_time_ymd(2049, 12, 31);
    let ca_certificate = ca.self_signed(&ca_key).map_err(failed)?;
    let issuer = Issuer::new(ca, ca_key);

    let names: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
    let mut server = CertificateParams::new(names).map_err(failed)?;
    server.distinguished_name.push(DnType::CommonName, "tenantctl lab");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.not_before = date_time_ymd(2024, 1, 1);
    server.not_after = date_time_ymd(2049, 12, 31);
    let server_key = KeyPair::generate().map_err(failed)?;
    let server_certificate = server.signed_by(&server_key, &issuer).map_err(failed)?;

    std::fs::create_dir_all(dir).map_err(|e| LabError::io(dir, e))?;
    let chain = format!("{}{}", server_certificate.pem(), ca_certificate.pem());
    let key_file = dir.join(KEY_FILE);
    write_atomically(&key_file, server_key.serialize_pem().as_bytes())?;
    // The key is for the lab's process alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| LabError::io(&key_file, e))?;
    }
    write_atomically(&dir.join(CERT_FILE), chain.as_bytes())?;
    write_atomically(&dir.join(CA_FILE), ca_certificate.pem().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        setup(dir.path(), &TlsSource::Generated).expect("generated");
        let ca = std::fs::read_to_string(dir.path().join(TLS_DIR).join(CA_FILE)).expect("CA");
        assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
        setup(dir.path(), &TlsSource::Generated).expect("reused");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = std::fs::metadata(dir.path().join(TLS_DIR).join(KEY_FILE)).expect("key");
            assert_eq!(key.permissions().mode() & 0o777, 0o600, "the key is the lab's alone");
        }
        assert_eq!(std::fs::read_to_string(dir.path().join(TLS_DIR).join(CA_FILE)).expect("CA"), ca);
    }

    #[test]
    fn a_given_certificate_and_key_are_served() {
        let made = tempfile::tempdir().expect("tempdir");
        setup(made.path(), &TlsSource::Generated).expect("generated");
        let dir = made.path().join(TLS_DIR);
        let given = TlsSource::Files { certificate: dir.join(CERT_FILE), key: dir.join(KEY_FILE) };
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let setup = setup(elsewhere.path(), &given).expect("usable");
        assert_eq!(setup.ca_file, None, "the lab names no CA of its own");
        assert!(!elsewhere.path().join(TLS_DIR).exists(), "nothing is made");
    }

    #[test]
    fn given_files_that_are_not_pem_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let certificate = dir.path().join("cert.pem");
        std::fs::write(&certificate, "nope").expect("write");
        let source = TlsSource::Files { certificate: certificate.clone(), key: dir.path().join("key.pem") };
        let error = setup(dir.path(), &source).err().expect("refused").to_string();
        assert!(error.contains("cert.pem") && error.contains("no certificate"), "{error}");
    }
}
