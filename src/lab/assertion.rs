//! Certificate client assertions: a JWT signed with the app's certificate key (RS256 naming the
//! certificate by `x5t`, or PS256 by `x5t#S256`), issued by and about the app, for this tenant's
//! token endpoint.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::Value;

use crate::util::pem::pem_block;

/// Tolerated clock skew, in seconds.
const SKEW: u64 = 300;

/// Checks `assertion` against the app's certificate (PEM). The error says what did not match.
pub fn verify(assertion: &str, certificate_pem: &str, client_id: &str, tenant: &str, now: u64) -> Result<(), String> {
    let certificate = pem_block(certificate_pem, "CERTIFICATE").ok_or("the app's certificate does not parse")?;
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else { return Err("the assertion is not a JWT".into()) };
    let decode = |part: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| "the assertion is not base64url")?;
        serde_json::from_slice(&bytes).map_err(|_| "the assertion is not JSON".to_string())
    };
    let (header, claims) = (decode(header)?, decode(claims)?);
    // MSAL signs with RS256 naming the certificate by its SHA-1 thumbprint (`x5t`), or with PS256 by
    // its SHA-256 one (`x5t#S256`); Entra accepts both, padded or not.
    let algorithm: &dyn ring::signature::VerificationAlgorithm = match header["alg"].as_str() {
        Some("RS256") => &RSA_PKCS1_2048_8192_SHA256,
        Some("PS256") => &RSA_PSS_2048_8192_SHA256,
        _ => return Err(format!("unsupported signing algorithm {}", header["alg"])),
    };
    let thumbprint = |algorithm| URL_SAFE_NO_PAD.encode(ring::digest::digest(algorithm, &certificate));
    let names = |key: &str, expected: String| header[key].as_str().is_some_and(|t| t.trim_end_matches('=') == expected);
    if !names("x5t#S256", thumbprint(&ring::digest::SHA256))
        && !names("x5t", thumbprint(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY))
    {
        return Err("the assertion names another certificate (x5t, x5t#S256)".into());
    }
    let public_key = rsa_public_key(&certificate).ok_or("the certificate holds no RSA public key")?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| "the signature is not base64url")?;
    let signed = &assertion[..assertion.rfind('.').unwrap_or(0)];
    UnparsedPublicKey::new(algorithm, public_key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "the signature does not verify with the certificate")?;
    if claims["iss"] != client_id || claims["sub"] != client_id {
        return Err("iss and sub must be the client id".into());
    }
    let audience = claims["aud"].as_str().unwrap_or_default();
    if !audience.ends_with(&format!("/{tenant}/oauth2/v2.0/token")) {
        return Err(format!("the audience {audience} is not this tenant's token endpoint"));
    }
    // Seconds may be written with a fraction (MSAL does); a missing `nbf` sets no lower bound.
    let seconds = |claim: &str| claims[claim].as_f64().map(|s| s.max(0.0) as u64);
    let (exp, nbf) = (seconds("exp").unwrap_or(0), seconds("nbf").unwrap_or(0));
    if exp + SKEW < now || nbf > now + SKEW {
        return Err("the assertion is outside its validity period".into());
    }
    Ok(())
}

/// One DER element: `(tag, contents, rest)`.
fn element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let count = (first & 0x7f) as usize;
        if count > 4 || rest.len() < count {
            return None;
        }
        (rest[..count].iter().fold(0usize, |n, b| (n << 8) | *b as usize), &rest[count..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

/// The PKCS#1 RSA public key inside an X.509 certificate's subjectPublicKeyInfo.
fn rsa_public_key(certificate: &[u8]) -> Option<&[u8]> {
    let (_, certificate, _) = element(certificate)?;
    let (_, tbs, _) = element(certificate)?;
    let mut fields = tbs;
    // [0] version (optional), serial, signature, issuer, validity, subject, then subjectPublicKeyInfo.
    let (tag, _, rest) = element(fields)?;
    fields = if tag == 0xa0 { rest } else { fields };
    for _ in 0..5 {
        fields = element(fields)?.2;
    }
    let (_, spki, _) = element(fields)?;
    let (_, bits) = {
        let (_, _, rest) = element(spki)?;
        let (tag, bits, _) = element(rest)?;
        (tag, bits)
    };
    bits.split_first().filter(|(unused, _)| **unused == 0).map(|(_, key)| key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::client::Credential;

    fn fixture() -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/auth/client.pem", env!("CARGO_MANIFEST_DIR"))).expect("pem")
    }

    fn assertion(tenant: &str) -> String {
        let credential = Credential::certificate_from_pem("app-1", &fixture()).expect("credential");
        let url = format!("http://127.0.0.1:1/{tenant}/oauth2/v2.0/token");
        let form = credential.token_form_for_tests(&url).expect("form");
        form.into_iter().find(|(k, _)| *k == "client_assertion").expect("assertion").1
    }

    #[test]
    fn a_signed_assertion_verifies_and_a_tampered_one_does_not() {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
        let good = assertion("t1");
        assert_eq!(verify(&good, &fixture(), "app-1", "t1", now), Ok(()));
        assert!(verify(&good, &fixture(), "app-2", "t1", now).is_err(), "another app");
        assert!(verify(&good, &fixture(), "app-1", "t2", now).is_err(), "another tenant");
        assert!(verify(&good, &fixture(), "app-1", "t1", now + 3600).is_err(), "expired");
        let mut tampered = good.clone();
        tampered.insert(good.len() - 3, 'A');
        assert!(verify(&tampered, &fixture(), "app-1", "t1", now).is_err(), "signature");
    }
}
