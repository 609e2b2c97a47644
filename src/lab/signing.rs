//! The key the lab signs access tokens with, and its public forms: the JWKS entry a client or API
//! would validate tokens against, with the self-signed certificate Entra also publishes (`x5c`).
//!
//! RS256, as Entra signs. An RSA key takes a few hundred milliseconds to generate, so one key is made
//! per process; each lab instance names it with a key id of its own, and only accepts tokens carrying
//! that key id, so a restarted lab refuses the tokens of the previous one as a rotated key would.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey};
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

use super::ids::random_token;

const KEY_BITS: usize = 2048;

/// The process's RSA key in the forms signing and publishing need.
struct ProcessKey {
    pair: RsaKeyPair,
    /// Base64url modulus and exponent, for the JWKS.
    modulus: String,
    exponent: String,
    /// DER of a self-signed certificate for the key (`x5c`).
    certificate: Vec<u8>,
}

static PROCESS_KEY: OnceLock<Result<ProcessKey, String>> = OnceLock::new();

fn process_key() -> Result<&'static ProcessKey, String> {
    PROCESS_KEY.get_or_init(generate).as_ref().map_err(Clone::clone)
}

fn generate() -> Result<ProcessKey, String> {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)
        .map_err(|e| format!("cannot generate the token signing key: {e}"))?;
    let pkcs8 = key.to_pkcs8_der().map_err(|e| format!("cannot encode the token signing key: {e}"))?;
    let pair =
        RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).map_err(|e| format!("cannot load the token signing key: {e}"))?;
    let certificate = self_signed(pkcs8.as_bytes())?;
    Ok(ProcessKey {
        pair,
        modulus: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        exponent: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        certificate,
    })
}

/// A certificate for the signing key, as Entra publishes one with each of its keys.
fn self_signed(pkcs8: &[u8]) -> Result<Vec<u8>, String> {
    let failed = |e: rcgen::Error| format!("cannot make the signing key's certificate: {e}");
    let der = rustls::pki_types::PrivatePkcs8KeyDer::from(pkcs8.to_vec());
    let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256).map_err(failed)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "accounts.lab.tenantctl");
    Ok(params.self_signed(&key).map_err(failed)?.der().to_vec())
}

/// The key as one lab instance uses it.
pub struct SigningKey {
    key: &'static ProcessKey,
    /// This instance's key id (also `x5t`).
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The process's key under a new key id. Blocks for the key's generation the first time.
    pub fn new() -> Result<SigningKey, String> {
        let key = process_key()?;
        Ok(SigningKey { key, kid: random_token()[..27].to_string() })
    }

    #[cfg(test)]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact JWS of `claims`, with Entra's header fields.
    pub fn sign(&self, claims: &Value) -> Result<String, String> {
        let header = json!({"typ": "JWT", "alg": "RS256", "x5t": self.kid, "kid": self.kid});
        let signed =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.key.pair.public().modulus_len()];
        self.key
            .pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signed.as_bytes(), &mut signature)
            .map_err(|_| "signing failed".to_string())?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// The claims of a token this instance signed, or why it is not one.
    pub fn verify(&self, token: &str) -> Result<Value, &'static str> {
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a JWT");
        };
        let header: Value = decode_part(header)?;
        if header["alg"] != "RS256" || header["kid"].as_str() != Some(self.kid.as_str()) {
            return Err("signed with another key");
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| "not a JWT")?;
        let signed = &token[..token.rfind('.').unwrap_or(0)];
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, self.key.pair.public().as_ref())
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| "the signature does not verify")?;
        decode_part(claims)
    }

    /// This instance's entry of a JWKS document (`/discovery/v2.0/keys`), in Entra's shape.
    pub fn jwk(&self, issuer: &str) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": self.key.modulus,
            "e": self.key.exponent,
            "x5c": [STANDARD.encode(&self.key.certificate)],
            "issuer": issuer,
        })
    }
}

fn decode_part(part: &str) -> Result<Value, &'static str> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| "not a JWT")?;
    serde_json::from_slice(&bytes).map_err(|_| "not a JWT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_with_their_own_key_id_only() {
        let key = SigningKey::new().expect("key");
        let token = key.sign(&json!({"tid": "t1", "roles": ["A"]})).expect("sign");
        assert_eq!(key.verify(&token).expect("valid")["tid"], "t1");
        let other = SigningKey::new().expect("key");
        assert_eq!(other.verify(&token), Err("signed with another key"), "a restarted lab refuses old tokens");
        let (head, _) = token.rsplit_once('.').expect("three parts");
        let forged = format!("{}.{}", head.replace('.', ".x"), "c2ln");
        assert!(key.verify(&forged).is_err());
        let tampered_claims = URL_SAFE_NO_PAD.encode(json!({"tid": "t2", "roles": ["A"]}).to_string());
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{tampered_claims}.{}", parts[0], parts[2]);
        assert_eq!(key.verify(&tampered), Err("the signature does not verify"));
        assert_eq!(key.verify("abc"), Err("not a JWT"));
        let jwk = key.jwk("https://lab/t1/v2.0");
        assert_eq!((jwk["kty"].as_str(), jwk["kid"].as_str()), (Some("RSA"), Some(key.kid())));
        assert_eq!(jwk["e"], "AQAB");
    }
}
