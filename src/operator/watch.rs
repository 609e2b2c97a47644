//! Watches feeding the controllers: reflectors fill the caches, and only changes that matter trigger
//! a reconcile — a new generation, labels (they decide selection), finalizers or deletion — so that
//! the operator's own status writes do not loop back into Graph reads.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::{Stream, StreamExt};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;

/// The Api of a kind, in one namespace or all.
pub fn api<K>(client: &kube::Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    }
}

/// A cache of `K`, the stream of its significant changes (polling the stream fills the cache), and
/// a flag set once the cache holds the first complete list. (The flag, not `Store::wait_until_ready`:
/// that wakes a single waiter, and the controller already waits on it.)
pub fn significant_changes<K>(
    api: Api<K>,
) -> (Store<K>, impl Stream<Item = Result<K, watcher::Error>> + Send + 'static, Arc<AtomicBool>)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (store, writer) = reflector::store();
    let synced = Arc::new(AtomicBool::new(false));
    let listed = synced.clone();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff().filter_map(
        move |event| {
            let item = match event {
                Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) => {
                    let key = object.uid().unwrap_or_default();
                    let digest = digest(&object);
                    (seen.insert(key, digest) != Some(digest)).then_some(Ok(object))
                }
                Ok(watcher::Event::Delete(object)) => {
                    seen.remove(&object.uid().unwrap_or_default());
                    Some(Ok(object))
                }
                Ok(watcher::Event::InitDone) => {
                    listed.store(true, Ordering::Relaxed);
                    None
                }
                Ok(watcher::Event::Init) => None,
                Err(error) => Some(Err(error)),
            };
            std::future::ready(item)
        },
    );
    (store, stream, synced)
}

/// Every change of `K`, status included (the profile controller aggregates Tenant statuses).
pub fn every_change<K>(api: Api<K>) -> (Store<K>, impl Stream<Item = Result<K, watcher::Error>> + Send + 'static)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (store, writer) = reflector::store();
    let stream =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff().touched_objects();
    (store, stream)
}

fn digest<K: Resource>(object: &K) -> u64 {
    let mut hasher = DefaultHasher::new();
    object.meta().generation.hash(&mut hasher);
    object.labels().hash(&mut hasher);
    object.finalizers().hash(&mut hasher);
    object.meta().deletion_timestamp.is_some().hash(&mut hasher);
    hasher.finish()
}
