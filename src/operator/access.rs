//! A Tenant's `AccessReady` condition: whether the app gets a token there (and why not, in words, with
//! the consent link), holds the permissions the tenant's manifests need, and whether the tenant has
//! the licences they rest on — what `tenantctl tenants check` says, checked at every sync (the token
//! says the permissions; licences are read again hourly).

use std::time::Duration;

use super::conditions::Verdict;
use crate::graph::readiness::Readiness;

pub const ACCESS_READY: &str = "AccessReady";

/// How long the licences read of a tenant are trusted.
pub const LICENCE_RECHECK: Duration = Duration::from_secs(3600);

/// The condition a readiness check comes to.
pub fn verdict(readiness: &Readiness) -> Verdict {
    if readiness.ready {
        let mut message = "the app holds the permissions the manifests need".to_string();
        match (&readiness.licences_unknown, &readiness.licences) {
            (Some(unknown), _) => message.push_str(&format!("; licences not checked: {unknown}")),
            (None, Some(held)) if !held.is_empty() => message.push_str(&format!("; licences: {}", held.join(", "))),
            _ => {}
        }
        return Verdict::new(ACCESS_READY, true, "Ready", message);
    }
    Verdict::new(ACCESS_READY, false, readiness.reason, readiness.problems().join("; "))
}

/// Credentials that cannot be used: no token can even be asked for.
pub fn credentials_unavailable(problem: &str) -> Verdict {
    Verdict::new(ACCESS_READY, false, "CredentialsUnavailable", problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_and_the_fix_are_in_the_condition() {
        let refused = Readiness {
            reason: "NotConsented",
            message: Some("token request failed — consent at https://login/t/adminconsent?client_id=a".into()),
            ..Readiness::default()
        };
        let condition = verdict(&refused);
        assert_eq!((condition.status, condition.reason), ("False", "NotConsented"));
        assert!(condition.message.contains("adminconsent?client_id=a"), "{}", condition.message);
        let ready =
            Readiness { ready: true, reason: "Ready", licences: Some(vec!["SPE_E5".into()]), ..Readiness::default() };
        assert_eq!(verdict(&ready).message, "the app holds the permissions the manifests need; licences: SPE_E5");
    }
}
