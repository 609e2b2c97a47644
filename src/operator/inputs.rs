//! The kinds whose changes re-plan the Tenants of their namespace — profiles, every policy kind, Intune
//! roles, Defender roles, detection rules — as one table: each row a cache filled by its watch, how its objects join a namespace's
//! manifest set, and a stream of the namespaces its changes concern. A new kind is one [`InputKind`]
//! impl and one row in [`watch_inputs`].

use std::fmt::Debug;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use futures_util::{Stream, StreamExt};
use kube::Resource;
use kube::runtime::reflector::Store;
use serde::de::DeserializeOwned;

use super::names::namespace_of;
use super::watch::{Watches, significant_changes};
use crate::manifest::{Manifest, ManifestSet, PolicyResource};
use crate::model::{
    AntivirusExclusionsPolicy, AntivirusPolicy, AttackSurfaceReductionPolicy, DefenderRole,
    DefenderUpdateControlsPolicy, DetectionRule, DistributionProfile, EndpointDetectionPolicy, FirewallPolicy,
    FirewallRulesPolicy, IntuneRole, PolicyException, PolicyOverride, SecurityExperiencePolicy, SettingsCatalogPolicy,
};

/// A kind the Tenant controller reads.
pub trait InputKind:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Debug
    + Send
    + Sync
    + 'static
{
    /// Adds the object to a manifest set.
    fn add_to(self, set: &mut ManifestSet);
}

impl InputKind for DistributionProfile {
    fn add_to(self, set: &mut ManifestSet) {
        set.profiles.push(Manifest::new(self));
    }
}

impl InputKind for IntuneRole {
    fn add_to(self, set: &mut ManifestSet) {
        set.roles.push(Manifest::new(self));
    }
}

impl InputKind for DefenderRole {
    fn add_to(self, set: &mut ManifestSet) {
        set.defender_roles.push(Manifest::new(self));
    }
}

impl InputKind for PolicyException {
    fn add_to(self, set: &mut ManifestSet) {
        set.exceptions.push(Manifest::new(self));
    }
}

impl InputKind for PolicyOverride {
    fn add_to(self, set: &mut ManifestSet) {
        set.overrides.push(Manifest::new(self));
    }
}

impl InputKind for DetectionRule {
    fn add_to(self, set: &mut ManifestSet) {
        set.detection_rules.push(Manifest::new(self));
    }
}

macro_rules! typed_inputs {
    ($($kind:ty),*) => {$(
        impl InputKind for $kind {
            fn add_to(self, set: &mut ManifestSet) {
                set.policies.push(Manifest::new(PolicyResource::Typed(self.into())));
            }
        }
    )*};
}

typed_inputs!(
    AntivirusPolicy,
    FirewallPolicy,
    AttackSurfaceReductionPolicy,
    FirewallRulesPolicy,
    SecurityExperiencePolicy,
    DefenderUpdateControlsPolicy,
    AntivirusExclusionsPolicy,
    EndpointDetectionPolicy
);

impl InputKind for SettingsCatalogPolicy {
    fn add_to(self, set: &mut ManifestSet) {
        set.policies.push(Manifest::new(PolicyResource::SettingsCatalog(self)));
    }
}

/// What resolution depends on in one object: identity, generation, labels.
/// Adds the cached objects of a namespace to a manifest set.
type Collect = Arc<dyn Fn(&str, &mut ManifestSet) + Send + Sync>;
/// Adds what resolution depends on in a namespace.
type Version = Arc<dyn Fn(&str) -> u64 + Send + Sync>;

/// One input kind's cache, behind the kind.
#[derive(Clone)]
pub struct InputCache {
    /// The kind, for messages.
    pub kind: String,
    collect: Collect,
    version: Version,
    /// Set once the cache holds its first complete list.
    pub listed: Arc<AtomicBool>,
}

impl InputCache {
    /// Adds the cached objects of `namespace` to a manifest set.
    pub fn collect(&self, namespace: &str, set: &mut ManifestSet) {
        (self.collect)(namespace, set);
    }

    /// What resolution depends on in `namespace`.
    /// Digest of the cache's objects in a namespace (see [`version_of_objects`]).
    pub fn version(&self, namespace: &str) -> u64 {
        (self.version)(namespace)
    }
}

/// The namespaces whose Tenants a change concerns.
pub type NamespaceChanges = Pin<Box<dyn Stream<Item = String> + Send>>;

/// Caches every input kind and merges their significant changes into one stream of namespaces.
pub fn watch_inputs(
    client: &kube::Client,
    namespace: Option<&str>,
    watches: &Watches,
) -> (Vec<InputCache>, NamespaceChanges) {
    let mut caches = Vec::new();
    let mut changes = Vec::new();
    row::<DistributionProfile>(client, namespace, watches, &mut caches, &mut changes);
    row::<AntivirusPolicy>(client, namespace, watches, &mut caches, &mut changes);
    row::<FirewallPolicy>(client, namespace, watches, &mut caches, &mut changes);
    row::<AttackSurfaceReductionPolicy>(client, namespace, watches, &mut caches, &mut changes);
    row::<FirewallRulesPolicy>(client, namespace, watches, &mut caches, &mut changes);
    row::<SecurityExperiencePolicy>(client, namespace, watches, &mut caches, &mut changes);
    row::<DefenderUpdateControlsPolicy>(client, namespace, watches, &mut caches, &mut changes);
    row::<AntivirusExclusionsPolicy>(client, namespace, watches, &mut caches, &mut changes);
    row::<EndpointDetectionPolicy>(client, namespace, watches, &mut caches, &mut changes);
    row::<SettingsCatalogPolicy>(client, namespace, watches, &mut caches, &mut changes);
    row::<IntuneRole>(client, namespace, watches, &mut caches, &mut changes);
    row::<DetectionRule>(client, namespace, watches, &mut caches, &mut changes);
    row::<DefenderRole>(client, namespace, watches, &mut caches, &mut changes);
    row::<PolicyException>(client, namespace, watches, &mut caches, &mut changes);
    row::<PolicyOverride>(client, namespace, watches, &mut caches, &mut changes);
    (caches, Box::pin(futures_util::stream::select_all(changes)))
}

fn row<K: InputKind>(
    client: &kube::Client,
    namespace: Option<&str>,
    watches: &Watches,
    caches: &mut Vec<InputCache>,
    changes: &mut Vec<NamespaceChanges>,
) {
    let (store, stream, listed) = significant_changes::<K>(client, namespace, watches);
    let kind = K::kind(&()).to_string();
    let watched = kind.clone();
    changes.push(Box::pin(stream.filter_map(move |change| {
        let namespace = match change {
            Ok(object) => Some(namespace_of(&object)),
            Err(error) => {
                tracing::warn!(kind = %watched, %error, "watch failed; it is retried");
                None
            }
        };
        std::future::ready(namespace)
    })));
    caches.push(InputCache { kind, collect: collector(store.clone()), version: versioner(store), listed });
}

fn collector<K: InputKind>(store: Store<K>) -> Collect {
    Arc::new(move |namespace, set| {
        for object in store.state() {
            if namespace_of(object.as_ref()) == namespace {
                K::clone(&object).add_to(set);
            }
        }
    })
}

fn versioner<K: InputKind>(store: Store<K>) -> Version {
    Arc::new(move |namespace| version_of_objects(&store, namespace))
}

/// Digest of the identity, generation and labels of a cache's objects in a namespace: a sum of one
/// hash per object, so that the order of the cache does not matter and nothing is sorted or copied
/// (it is computed at every reconcile, over every Tenant of the namespace).
pub fn version_of_objects<K>(store: &Store<K>, namespace: &str) -> u64
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    let mut version = 0u64;
    for object in store.state() {
        let meta = object.meta();
        if meta.namespace.as_deref().unwrap_or(crate::manifest::DEFAULT_NAMESPACE) != namespace {
            continue;
        }
        let mut hasher = DefaultHasher::new();
        meta.uid.hash(&mut hasher);
        meta.generation.hash(&mut hasher);
        meta.labels.hash(&mut hasher);
        version = version.wrapping_add(hasher.finish());
    }
    version
}
