//! Whether a tenant is ready for what tenantctl will do there: the app gets a token (and if not, why,
//! in words), holds the permissions the uses need, and the tenant holds the licences the features rest
//! on. One token request and, when the app may read them, two reads (`organization`, `subscribedSkus`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::token_hints::TokenRefusal;
use super::client::{GraphError, TenantClient};
use crate::engine::access::{LicensedFeature, Need, READ_ORGANIZATION};
use crate::wire::organization::SubscribedSku;

/// One tenant's readiness.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    pub ready: bool,
    /// `Ready`, or why not: `NotConsented`, `WrongSecret`, `ExpiredCertificate`, … (the token),
    /// `Unreachable`, `MissingPermission`, `MissingLicence`.
    pub reason: &'static str,
    /// What is wrong and what fixes it, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where an admin of the tenant consents to the app (shown when consent is what is missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_url: Option<String>,
    /// The tenant's own name (`organization`), when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The application permissions the app's token carries; none when no token was issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted_permissions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_permissions: Vec<MissingPermission>,
    /// SKU part numbers of the tenant's active subscriptions; none when they could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licences: Option<Vec<String>>,
    /// Why the licences are not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licences_unknown: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_licences: Vec<MissingLicence>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingPermission {
    pub permission: &'static str,
    pub purpose: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingLicence {
    pub licence: &'static str,
    /// The features that need it.
    pub features: Vec<String>,
}

impl Readiness {
    /// A tenant that issued no token.
    fn unreachable(error: &GraphError, consent_url: Option<String>) -> Readiness {
        let (reason, consent_url) = match error {
            GraphError::Auth { refusal: Some(refusal), .. } => {
                let consent = *refusal == TokenRefusal::NotConsented;
                (refusal.reason(), consent_url.filter(|_| consent))
            }
            GraphError::Auth { .. } => ("TokenRefused", None),
            GraphError::Config(_) => ("CredentialsUnavailable", None),
            _ => ("Unreachable", None),
        };
        Readiness { ready: false, reason, message: Some(error.to_string()), consent_url, ..Readiness::default() }
    }

    /// The problems, one line each, for people.
    pub fn problems(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.message.iter().cloned().collect();
        for missing in &self.missing_licences {
            lines.push(format!("no {} licence, needed by {}", missing.licence, missing.features.join(", ")));
        }
        if let Some(unknown) = &self.licences_unknown {
            lines.push(format!("licences not checked: {unknown}"));
        }
        lines
    }
}

/// What was last read of each tenant's organization and subscriptions, reused for a while: a
/// long-running caller (the operator) checks permissions every sync, which costs no request, but
/// licences, which cost two, only now and then.
#[derive(Debug)]
pub struct LicenceMemory {
    max_age: Duration,
    entries: Mutex<HashMap<String, Remembered>>,
}

/// What was read of a tenant, and when.
#[derive(Debug)]
struct Remembered {
    read_at: Instant,
    organization: Option<String>,
    skus: Vec<SubscribedSku>,
}

impl LicenceMemory {
    pub fn new(max_age: Duration) -> LicenceMemory {
        LicenceMemory { max_age, entries: Mutex::default() }
    }

    fn recall(&self, tenant_id: &str) -> Option<(Option<String>, Vec<SubscribedSku>)> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let remembered = entries.get(tenant_id)?;
        (remembered.read_at.elapsed() < self.max_age)
            .then(|| (remembered.organization.clone(), remembered.skus.clone()))
    }

    fn remember(&self, tenant_id: &str, organization: Option<String>, skus: Vec<SubscribedSku>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.insert(tenant_id.to_string(), Remembered { read_at: Instant::now(), organization, skus });
    }

    /// Forgets a tenant (its credentials changed, or it is gone).
    pub fn forget(&self, tenant_id: &str) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).remove(tenant_id);
    }
}

/// Checks one tenant for `needs` (permissions) and `features` (licences); the licences of `memory`
/// when it holds recent ones.
pub async fn check(
    client: &TenantClient,
    needs: &[Need],
    features: &[LicensedFeature],
    memory: Option<&LicenceMemory>,
) -> Readiness {
    let access = match client.access().await {
        Ok(access) => access,
        Err(error) => return Readiness::unreachable(&error, client.consent_url()),
    };
    let mut readiness = Readiness { ready: true, reason: "Ready", ..Readiness::default() };
    readiness.granted_permissions = access.granted.as_ref().map(|g| g.iter().cloned().collect());
    if let Some(refusal) = access.refusal(needs) {
        readiness.missing_permissions = refusal
            .missing
            .iter()
            .map(|need| MissingPermission { permission: need.permission(), purpose: need.purpose })
            .collect();
        readiness.message = Some(refusal.to_string());
        readiness.consent_url = refusal.consent_url.clone();
        readiness.ready = false;
        readiness.reason = "MissingPermission";
    }
    if access.refusal(&[READ_ORGANIZATION]).is_some() {
        readiness.licences_unknown =
            Some(format!("the app lacks {} (to {})", READ_ORGANIZATION.permission(), READ_ORGANIZATION.purpose));
        return readiness;
    }
    if let Some((organization, skus)) = memory.and_then(|m| m.recall(client.tenant_id())) {
        readiness.organization = organization;
        record_licences(&mut readiness, &skus, features);
        return readiness;
    }
    match client.organization().await {
        Ok(organization) => readiness.organization = organization.and_then(|o| o.display_name),
        Err(error) => readiness.licences_unknown = Some(error.to_string()),
    }
    match client.subscribed_skus().await {
        Ok(skus) => {
            record_licences(&mut readiness, &skus, features);
            if let Some(memory) = memory {
                memory.remember(client.tenant_id(), readiness.organization.clone(), skus);
            }
        }
        Err(error) => readiness.licences_unknown = Some(error.to_string()),
    }
    readiness
}

fn record_licences(readiness: &mut Readiness, skus: &[SubscribedSku], features: &[LicensedFeature]) {
    let active: Vec<&SubscribedSku> = skus.iter().filter(|s| s.is_active()).collect();
    readiness.licences = Some(active.iter().map(|s| s.sku_part_number.clone()).collect());
    let provides = |plan_ids: &[&str]| {
        active.iter().flat_map(|s| s.provisioned_plans()).any(|p| plan_ids.iter().any(|id| p.service_plan_id == *id))
    };
    let mut missing: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for feature in features.iter().filter(|f| !provides(f.licence.service_plans)) {
        missing.entry(feature.licence.name).or_default().push(feature.feature.clone());
    }
    readiness.missing_licences =
        missing.into_iter().map(|(licence, features)| MissingLicence { licence, features }).collect();
    if !readiness.missing_licences.is_empty() && readiness.ready {
        readiness.ready = false;
        readiness.reason = "MissingLicence";
    }
}
