//! What every reconcile shares: the Kubernetes and Graph clients, the caches of watched resources,
//! settings, metrics and the event recorder.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;
use kube::{Resource, ResourceExt};

use super::inputs::{InputCache, VersionPart};
use super::metrics::Metrics;
pub use super::names::namespace_of;
use super::watch::BrokenObjects;
use crate::engine::resolve::validate_and_resolve;
use crate::engine::resolve::{TenantDesired, resolve};
use crate::graph::client::GraphClient;
use crate::manifest::{Diagnostic, Manifest, ManifestSet};
use crate::model::notification::Trigger;
use crate::model::select::selector_matches;
use crate::model::{NotificationPolicy, Tenant};

/// Caches of every watched kind, filled by reflectors.
#[derive(Clone)]
pub struct Stores {
    pub tenants: Store<Tenant>,
    pub notifications: Store<NotificationPolicy>,
    /// Profiles, policies and roles: what Tenants are planned from.
    pub inputs: Vec<InputCache>,
    /// Objects of any watched kind that do not decode.
    pub broken: BrokenObjects,
}

/// Operator-wide settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Every tenant is read again this often to catch drift (tenants cannot be watched).
    pub sync_interval: Duration,
    /// Namespace the operator runs in: where its credentials Secret lives.
    pub operator_namespace: String,
    /// Secret (in the operator's namespace) with the credential of tenants that name none.
    pub credentials_secret: Option<String>,
}

pub struct Context {
    pub kube: kube::Client,
    pub graph: GraphClient,
    pub stores: Stores,
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    /// Per tenant id, what the installed credential was made from: a new source replaces it.
    pub credential_sources: Mutex<HashMap<String, String>>,
    /// Per namespace, the resolution and the version of the resources it was made from.
    pub resolutions: Mutex<HashMap<String, (u64, Arc<Resolved>)>>,
    /// Set once every cache holds its first complete list.
    pub synced: Arc<std::sync::atomic::AtomicBool>,
    /// Consecutive failed reconciles per Tenant (`namespace/name`), for backoff.
    pub failures: Mutex<HashMap<String, u32>>,
}

/// A namespace, validated and resolved.
pub struct Resolved {
    /// Desired state by Tenant name.
    pub tenants: HashMap<String, TenantDesired>,
    /// Errors found in the namespace's resources.
    pub errors: Vec<Diagnostic>,
    /// Profiles that disagree (a subset of `errors`).
    pub conflicts: Vec<Diagnostic>,
}

fn in_namespace<K: Resource<DynamicType = ()> + Clone>(store: &Store<K>, namespace: &str) -> Vec<K> {
    store.state().iter().filter(|o| namespace_of(o.as_ref()) == namespace).map(|o| o.as_ref().clone()).collect()
}

impl Context {
    /// Every tenantctl resource of a namespace, as the engine takes them.
    pub fn manifest_set(&self, namespace: &str) -> ManifestSet {
        let mut set = ManifestSet {
            tenants: in_namespace(&self.stores.tenants, namespace).into_iter().map(Manifest::new).collect(),
            ..ManifestSet::default()
        };
        for input in &self.stores.inputs {
            input.collect(namespace, &mut set);
        }
        // Caches hold objects in no particular order; resolution does not care, messages do.
        set.tenants.sort_by_key(|t| t.name());
        set.profiles.sort_by_key(|p| p.name());
        set.policies.sort_by_key(|p| p.object.reference());
        set.roles.sort_by_key(|r| r.name());
        set
    }

    /// The namespace validated and resolved. Done again only when a spec or labels changed there:
    /// the operator's own status writes do not count.
    pub fn resolved(&self, namespace: &str) -> Arc<Resolved> {
        let version = self.version_of(namespace);
        let cached = self.resolutions.lock().unwrap_or_else(PoisonError::into_inner).get(namespace).cloned();
        if let Some((_, resolved)) = cached.filter(|(cached, _)| *cached == version) {
            return resolved;
        }
        let set = self.manifest_set(namespace);
        let (resolution, diagnostics) = validate_and_resolve(&set);
        let mut errors: Vec<Diagnostic> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
        // What does not decode is unknown: it holds back what it might concern (a broken Tenant only
        // itself), never anything else.
        for (kind, name, why) in self.stores.broken.in_namespace(namespace) {
            errors.push(Diagnostic::error(format!("cannot be read: {why}")).resource(format!("{kind}/{name}")));
        }
        let conflicts = if errors.is_empty() { Vec::new() } else { resolve(&set).diagnostics };
        let resolved = Arc::new(Resolved {
            tenants: resolution.desired.tenants.into_iter().map(|t| (t.name.clone(), t)).collect(),
            errors,
            conflicts,
        });
        self.resolutions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(namespace.to_string(), (version, resolved.clone()));
        resolved
    }

    /// Digest of what resolution depends on in a namespace: every object's identity, generation and labels.
    fn version_of(&self, namespace: &str) -> u64 {
        let mut parts: Vec<VersionPart> = Vec::new();
        for object in self.stores.tenants.state() {
            if namespace_of(object.as_ref()) == namespace {
                let labels = format!("{:?}", object.meta().labels);
                parts.push((object.meta().uid.clone().unwrap_or_default(), object.meta().generation, labels));
            }
        }
        for input in &self.stores.inputs {
            input.version(namespace, &mut parts);
        }
        for (kind, name, why) in self.stores.broken.in_namespace(namespace) {
            parts.push((format!("{kind}/{name}"), None, why));
        }
        parts.sort();
        let mut hasher = DefaultHasher::new();
        parts.hash(&mut hasher);
        hasher.finish()
    }

    /// Other Tenants (in any namespace) that claim the same Microsoft tenant.
    pub fn same_tenant_id(&self, tenant: &Tenant) -> Vec<String> {
        let mut others: Vec<String> = self
            .stores
            .tenants
            .state()
            .iter()
            .filter(|t| t.uid() != tenant.uid() && t.meta().deletion_timestamp.is_none())
            .filter(|t| t.spec.tenant_id.eq_ignore_ascii_case(&tenant.spec.tenant_id))
            .map(|t| format!("{}/{}", namespace_of(t.as_ref()), t.name_any()))
            .collect();
        others.sort();
        others
    }

    pub fn caches_synced(&self) -> bool {
        self.synced.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a NotificationPolicy of the tenant's namespace wants to hear of its high-severity incidents.
    pub fn wants_incidents(&self, tenant: &Tenant) -> bool {
        let namespace = namespace_of(tenant);
        self.stores.notifications.state().iter().any(|policy| {
            namespace_of(policy.as_ref()) == namespace
                && policy.spec.triggers.contains(&Trigger::HighSeverityIncident)
                && policy.spec.tenant_selector.as_ref().is_none_or(|s| selector_matches(s, tenant.labels()))
        })
    }

    /// Counts a failure of `key` and returns how long to wait before the next attempt: 5 s doubling
    /// per consecutive failure, capped at the sync interval.
    pub fn backoff(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let count = failures.entry(key.to_string()).or_insert(0);
        *count = count.saturating_add(1);
        let delay = Duration::from_secs(5).saturating_mul(1u32 << (*count - 1).min(16));
        delay.min(self.settings.sync_interval)
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }
}
