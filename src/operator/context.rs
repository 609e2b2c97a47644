//! What every reconcile shares: the Kubernetes and Graph clients, the caches of watched resources,
//! settings, metrics and the event recorder.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;
use kube::{Resource, ResourceExt};

use super::inputs::InputCache;
use super::metrics::Metrics;
pub use super::names::namespace_of;
use super::watch::BrokenObjects;
use crate::engine::resolve::validate_and_resolve_at;
use crate::engine::resolve::{TenantDesired, resolve_at};
use crate::graph::client::GraphClient;
use crate::manifest::{Diagnostic, Manifest, ManifestSet};
use crate::model::notification::{IncidentSeverity, Trigger};
use crate::model::select::selector_matches;
use crate::model::{DistributionProfile, NotificationPolicy, Tenant};

/// Caches of every watched kind, filled by reflectors.
#[derive(Clone)]
pub struct Stores {
    pub tenants: Store<Tenant>,
    pub notifications: Store<NotificationPolicy>,
    /// Profiles, policies and roles: what Tenants are planned from.
    pub inputs: Vec<InputCache>,
    /// Profiles with their status: the rollout decisions Tenants write by.
    pub profiles: Store<DistributionProfile>,
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
    /// Tenants whose last observation is kept between syncs.
    pub cached_tenants: usize,
    /// This replica, as its Leases and the Tenants it reconciles name it.
    pub identity: String,
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
    /// When each Tenant (`namespace/name`) was last read successfully.
    pub last_good_reads: Mutex<HashMap<String, std::time::Instant>>,
    /// Secrets read, by namespace and name, with when.
    pub secrets: Mutex<HashMap<(String, String), (std::time::Instant, super::credentials::SecretRead)>>,
    /// What the last sync of each tenant read, for the next one.
    pub observations: super::observations::Observations,
    /// Each tenant's subscriptions, read at most hourly for its AccessReady condition.
    pub licences: crate::graph::readiness::LicenceMemory,
    /// The tenant shards this replica owns: only their tenants are reconciled here.
    pub shards: Arc<super::shards::ShardTable>,
    /// Tenant reconciles run at most this many at once, in the order they came due (the semaphore is
    /// fair): kube-runtime's own limit keeps what waits in a hash set and takes from it in hash order,
    /// so under a sustained backlog some tenants were never reconciled.
    pub reconcile_turns: tokio::sync::Semaphore,
    /// Whether this replica holds the leader lease (profiles, notifications and cases).
    pub leading: Arc<std::sync::atomic::AtomicBool>,
}

/// A namespace, validated and resolved.
pub struct Resolved {
    /// Desired state by Tenant name.
    pub tenants: HashMap<String, TenantDesired>,
    /// Errors found in the namespace's resources.
    pub errors: Vec<Diagnostic>,
    /// Profiles that disagree (a subset of `errors`).
    pub conflicts: Vec<Diagnostic>,
    /// Per Tenant name, the resources its desired state depends on (`Kind/name`): itself, the profiles
    /// that select it, and what they deliver. An error about one of these holds the tenant back.
    pub depends_on: HashMap<String, std::collections::BTreeSet<String>>,
    /// Objects of the namespace that could not be read (`Kind/name`).
    pub unreadable: std::collections::BTreeSet<String>,
}

/// What each Tenant's desired state depends on, read from the manifests even where they are invalid:
/// a profile selects a tenant by its spec alone.
fn dependencies(set: &ManifestSet) -> HashMap<String, std::collections::BTreeSet<String>> {
    set.tenants
        .iter()
        .map(|tenant| {
            let name = tenant.name();
            let mut deps = std::collections::BTreeSet::from([format!("Tenant/{name}")]);
            for profile in &set.profiles {
                let spec = &profile.object.spec;
                if profile.namespace() == tenant.namespace()
                    && crate::model::select::profile_selects(spec, &name, tenant.object.labels())
                {
                    deps.insert(format!("DistributionProfile/{}", profile.name()));
                    deps.extend(spec.policies.iter().map(ToString::to_string));
                    // A role name is an IntuneRole's or a DefenderRole's.
                    deps.extend(spec.roles.iter().map(|role| format!("IntuneRole/{role}")));
                    deps.extend(spec.roles.iter().map(|role| format!("DefenderRole/{role}")));
                    deps.extend(spec.detection_rules.iter().map(|rule| format!("DetectionRule/{rule}")));
                }
            }
            for exception in &set.exceptions {
                if exception.namespace() == tenant.namespace()
                    && exception.object.spec.covers(&name, tenant.object.labels())
                {
                    deps.insert(format!("PolicyException/{}", exception.name()));
                }
            }
            for o in &set.overrides {
                if o.namespace() == tenant.namespace() && o.object.spec.covers(&name, tenant.object.labels()) {
                    deps.insert(format!("PolicyOverride/{}", o.name()));
                }
            }
            (name, deps)
        })
        .collect()
}

impl Resolved {
    /// The errors that hold `tenant` back: about what its desired state depends on, or about
    /// something whose reach is unknown (no resource named, a profile that could not be read).
    pub fn errors_for(&self, tenant: &str) -> Vec<&Diagnostic> {
        let depends = self.depends_on.get(tenant);
        self.errors
            .iter()
            .filter(|d| match d.resource.as_deref() {
                None => true,
                Some(resource) if depends.is_some_and(|deps| deps.contains(resource)) => true,
                // Whom a profile that could not be read selects is unknown.
                Some(resource) => resource.starts_with("DistributionProfile/") && self.unreadable.contains(resource),
            })
            .collect()
    }
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
        set.detection_rules.sort_by_key(|r| r.name());
        set.defender_roles.sort_by_key(|r| r.name());
        set.exceptions.sort_by_key(|e| e.name());
        set.overrides.sort_by_key(|o| o.name());
        set
    }

    /// The namespace validated and resolved. Done again only when a spec or labels changed there:
    /// the operator's own status writes do not count.
    pub fn resolved(&self, namespace: &str) -> Arc<Resolved> {
        // Exceptions begin and end on UTC day boundaries: a new day is a new resolution.
        let now = crate::util::clock::now().unwrap_or_else(|_| jiff::Timestamp::now());
        let version = self.version_of(namespace) ^ (crate::util::clock::day(now) as u64).rotate_left(17);
        let cached = self.resolutions.lock().unwrap_or_else(PoisonError::into_inner).get(namespace).cloned();
        if let Some((_, resolved)) = cached.filter(|(cached, _)| *cached == version) {
            return resolved;
        }
        let set = self.manifest_set(namespace);
        let (resolution, diagnostics) = validate_and_resolve_at(&set, now);
        let mut errors: Vec<Diagnostic> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
        // What does not decode is unknown: it holds back what it might concern (a broken Tenant only
        // itself), never anything else.
        for (kind, name, why) in self.stores.broken.in_namespace(namespace) {
            errors.push(Diagnostic::error(format!("cannot be read: {why}")).resource(format!("{kind}/{name}")));
        }
        let conflicts = if errors.is_empty() { Vec::new() } else { resolve_at(&set, now).diagnostics };
        let resolved = Arc::new(Resolved {
            tenants: resolution.desired.tenants.into_iter().map(|t| (t.name.clone(), t)).collect(),
            errors,
            conflicts,
            depends_on: dependencies(&set),
            unreadable: self
                .stores
                .broken
                .in_namespace(namespace)
                .into_iter()
                .map(|(kind, name, _)| format!("{kind}/{name}"))
                .collect(),
        });
        self.resolutions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(namespace.to_string(), (version, resolved.clone()));
        resolved
    }

    /// Digest of what resolution depends on in a namespace: every object's identity, generation and
    /// labels, and what could not be read.
    fn version_of(&self, namespace: &str) -> u64 {
        let mut version = super::inputs::version_of_objects(&self.stores.tenants, namespace);
        for (index, input) in self.stores.inputs.iter().enumerate() {
            version = version.wrapping_add(input.version(namespace).rotate_left(index as u32 + 1));
        }
        let mut broken = self.stores.broken.in_namespace(namespace);
        broken.sort();
        let mut hasher = DefaultHasher::new();
        broken.hash(&mut hasher);
        version ^ hasher.finish()
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

    /// Records a successful read of a Tenant's tenant.
    pub fn read_succeeded(&self, key: &str) {
        self.last_good_reads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_string(), std::time::Instant::now());
    }

    /// When each Tenant was last read successfully.
    pub fn last_reads(&self) -> HashMap<String, std::time::Instant> {
        self.last_good_reads.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn caches_synced(&self) -> bool {
        self.synced.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The severities of the tenant's incidents that a NotificationPolicy of its namespace wants to
    /// hear of (none: its incidents are not read).
    pub fn incident_severities(&self, tenant: &Tenant) -> Vec<IncidentSeverity> {
        let namespace = namespace_of(tenant);
        let mut severities: Vec<IncidentSeverity> = Vec::new();
        for policy in self.stores.notifications.state() {
            let spec = &policy.spec;
            if namespace_of(policy.as_ref()) != namespace
                || spec.tenant_selector.as_ref().is_some_and(|s| !selector_matches(s, tenant.labels()))
            {
                continue;
            }
            if spec.triggers.contains(&Trigger::HighSeverityIncident) {
                severities.push(IncidentSeverity::High);
            }
            if spec.triggers.contains(&Trigger::Incident) {
                severities.extend(spec.incident_severities.iter().copied());
            }
        }
        severities.sort();
        severities.dedup();
        severities
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
