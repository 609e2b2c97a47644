//! What a refused token request means for the person who must fix it: the identity platform's AADSTS
//! codes (Microsoft Entra's error code reference) in words, with the remedy. Decided on the codes,
//! never on the wording, which Microsoft changes.

use crate::wire::common::TokenErrorBody;

/// Why a token was refused, and what fixes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    /// No service principal of the app in the tenant: no admin has consented to it there.
    NotConsented,
    WrongSecret,
    ExpiredSecret,
    /// The certificate assertion is not signed by a certificate the app registration holds.
    CertificateRejected,
    ExpiredCertificate,
    /// The assertion's times are out of range: the clock of this machine, most often.
    AssertionTime,
    /// Workload identity federation: no federated credential matches the presented token.
    FederationMismatch {
        part: Option<&'static str>,
    },
    NoFederatedCredential,
    NoCredentialSent,
    UnknownTenant,
    AppDisabled,
    TenantBlocked,
    ConditionalAccess,
}

impl TokenRefusal {
    /// The refusal a token error body names, from its AADSTS codes.
    pub fn of(body: &TokenErrorBody) -> Option<TokenRefusal> {
        body.error_codes.iter().find_map(|code| Self::of_code(*code, &body.error_description))
    }

    fn of_code(code: u64, description: &str) -> Option<TokenRefusal> {
        Some(match code {
            700016 | 7000229 | 65001 | 650056 | 500011 => TokenRefusal::NotConsented,
            7000215 => TokenRefusal::WrongSecret,
            7000222 => TokenRefusal::ExpiredSecret,
            700027 if description.to_ascii_lowercase().contains("expired") => TokenRefusal::ExpiredCertificate,
            700027 => TokenRefusal::CertificateRejected,
            700024 => TokenRefusal::AssertionTime,
            70021 => TokenRefusal::FederationMismatch { part: None },
            700211 => TokenRefusal::FederationMismatch { part: Some("issuer") },
            700213 => TokenRefusal::FederationMismatch { part: Some("subject") },
            70025 => TokenRefusal::NoFederatedCredential,
            7000218 => TokenRefusal::NoCredentialSent,
            90002 => TokenRefusal::UnknownTenant,
            7000112 | 70001 => TokenRefusal::AppDisabled,
            5000225 => TokenRefusal::TenantBlocked,
            53003 => TokenRefusal::ConditionalAccess,
            _ => return None,
        })
    }

    /// A stable name, for reasons and JSON.
    pub fn reason(self) -> &'static str {
        match self {
            TokenRefusal::NotConsented => "NotConsented",
            TokenRefusal::WrongSecret => "WrongSecret",
            TokenRefusal::ExpiredSecret => "ExpiredSecret",
            TokenRefusal::CertificateRejected => "CertificateRejected",
            TokenRefusal::ExpiredCertificate => "ExpiredCertificate",
            TokenRefusal::AssertionTime => "AssertionTimeInvalid",
            TokenRefusal::FederationMismatch { .. } => "FederationMismatch",
            TokenRefusal::NoFederatedCredential => "NoFederatedCredential",
            TokenRefusal::NoCredentialSent => "NoCredential",
            TokenRefusal::UnknownTenant => "UnknownTenant",
            TokenRefusal::AppDisabled => "AppDisabled",
            TokenRefusal::TenantBlocked => "TenantBlocked",
            TokenRefusal::ConditionalAccess => "ConditionalAccess",
        }
    }

    /// What it means and what to do, in words; `consent_url` is where an admin of the tenant consents.
    pub fn explain(self, consent_url: Option<&str>) -> String {
        match self {
            TokenRefusal::NotConsented => match consent_url {
                Some(url) => {
                    format!("the app is not consented in this tenant: an admin of the tenant consents at {url}")
                }
                None => "the app is not consented in this tenant: an admin of the tenant must consent to it".into(),
            },
            TokenRefusal::WrongSecret => {
                "wrong client secret: use the secret's value (not its id) of a secret of this app".into()
            }
            TokenRefusal::ExpiredSecret => {
                "the client secret has expired: create a new one in the app registration and update the credential"
                    .into()
            }
            TokenRefusal::CertificateRejected => {
                "the certificate is not one of the app registration's: upload its public part to the app".into()
            }
            TokenRefusal::ExpiredCertificate => {
                "the certificate has expired: upload a new one to the app registration and update the credential".into()
            }
            TokenRefusal::AssertionTime => {
                "the client assertion is outside its valid time range: check this machine's clock".into()
            }
            TokenRefusal::FederationMismatch { part } => format!(
                "no federated credential of the app matches the presented token{}: check the app's federated \
                 identity credentials against the token's issuer and subject",
                part.map(|p| format!(" (its {p} differs)")).unwrap_or_default()
            ),
            TokenRefusal::NoFederatedCredential => {
                "the app has no federated identity credential: add one for this workload's issuer and subject".into()
            }
            TokenRefusal::NoCredentialSent => "no client secret or assertion was sent: configure the credential".into(),
            TokenRefusal::UnknownTenant => "no such tenant: check the Tenant's tenantId".into(),
            TokenRefusal::AppDisabled => "the app is disabled in this tenant: an admin must enable it".into(),
            TokenRefusal::TenantBlocked => "the tenant is blocked (inactive): it must be reactivated first".into(),
            TokenRefusal::ConditionalAccess => {
                "a Conditional Access policy of the tenant blocks the app: exclude it or allow its location".into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: u64, description: &str) -> TokenErrorBody {
        TokenErrorBody {
            error: "invalid_client".into(),
            error_description: format!("AADSTS{code}: {description}"),
            error_codes: vec![code],
            timestamp: None,
            trace_id: None,
            correlation_id: None,
            error_uri: None,
        }
    }

    #[test]
    fn codes_are_read_not_wording() {
        let refusal = TokenRefusal::of(&body(700016, "Application with identifier 'x' was not found")).expect("known");
        assert_eq!(refusal, TokenRefusal::NotConsented);
        assert_eq!(
            refusal.explain(Some("https://login.microsoftonline.com/t/adminconsent?client_id=a")),
            "the app is not consented in this tenant: an admin of the tenant consents at \
             https://login.microsoftonline.com/t/adminconsent?client_id=a"
        );
        assert_eq!(TokenRefusal::of(&body(7000229, "missing service principal")), Some(TokenRefusal::NotConsented));
        assert_eq!(TokenRefusal::of(&body(7000222, "keys are expired")), Some(TokenRefusal::ExpiredSecret));
        let expired =
            body(700027, "Client assertion contains an invalid signature. [Reason - The key used is expired.]");
        assert_eq!(TokenRefusal::of(&expired), Some(TokenRefusal::ExpiredCertificate));
        assert_eq!(TokenRefusal::of(&body(700027, "invalid signature")), Some(TokenRefusal::CertificateRejected));
        let subject = TokenRefusal::of(&body(700213, "No matching federated identity record")).expect("known");
        assert!(subject.explain(None).contains("(its subject differs)"));
        assert_eq!(TokenRefusal::of(&body(12345, "something new")), None);
    }
}
