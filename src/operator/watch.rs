//! Watches feeding the controllers: reflectors fill the caches, and only changes that matter trigger
//! a reconcile — a new generation, labels (they decide selection), finalizers or deletion — so that
//! the operator's own status writes do not loop back into Graph reads.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;

/// Objects of the watched kinds that do not decode (a field kubectl admitted that this version does not
/// know, a hand-edited object…), by kind, namespace and name, with why. They are left out of the
/// caches, so that one of them never stops a watch, and reported: in the log, and as an error of their
/// namespace (which holds back the writes they might concern).
#[derive(Clone, Debug, Default)]
pub struct BrokenObjects(Arc<Mutex<BTreeMap<ObjectKey, String>>>);

/// Kind, namespace and name.
type ObjectKey = (String, String, String);

impl BrokenObjects {
    /// `(kind, name, why)` of the broken objects of a namespace.
    pub fn in_namespace(&self, namespace: &str) -> Vec<(String, String, String)> {
        let broken = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        broken
            .iter()
            .filter(|((_, ns, _), _)| ns == namespace)
            .map(|((kind, _, name), why)| (kind.clone(), name.clone(), why.clone()))
            .collect()
    }

    fn set(&self, key: ObjectKey, why: Option<String>) {
        let mut broken = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match why {
            Some(why) => {
                if broken.get(&key) != Some(&why) {
                    tracing::warn!(kind = %key.0, namespace = %key.1, name = %key.2, error = %why, "cannot read object; left out until fixed");
                }
                broken.insert(key, why);
            }
            None => {
                broken.remove(&key);
            }
        }
    }
}

/// The Api of a kind, read untyped: each object is decoded on its own.
fn dynamic_api<K>(client: &kube::Client, namespace: Option<&str>) -> Api<DynamicObject>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    let resource = ApiResource::erase::<K>(&());
    match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

/// Decodes the objects of a watch event one by one: an object that does not decode is left out (and
/// dropped from the cache if it was there), never failing the event.
/// For a typed policy kind, the first problem of its settings: a typed kind's settings are only checked
/// against its table, not by decoding, and an object whose settings are wrong is as unreadable as one
/// that does not decode.
fn typed_settings_problem<K: Resource<DynamicType = ()>>(value: &serde_json::Value) -> Result<(), String> {
    let kind = crate::model::Kind::parse(&K::kind(&()));
    let Some(table) = kind.and_then(crate::model::PolicyKind::from_kind).and_then(crate::model::template::table) else {
        return Ok(());
    };
    let spec: crate::model::TypedSpec = serde_json::from_value(value["spec"].clone()).map_err(|e| e.to_string())?;
    match crate::model::template::check::check(&table.nodes, &spec.settings, "spec", &[]).first() {
        Some(problem) => Err(format!("{}: {}", problem.path, problem.message)),
        None => Ok(()),
    }
}

fn decode_each<K>(
    event: watcher::Event<DynamicObject>,
    last_good: &mut HashMap<String, K>,
    broken: &BrokenObjects,
) -> Option<watcher::Event<K>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned,
{
    let key = |object: &DynamicObject| {
        let namespace = object.namespace().unwrap_or_else(|| crate::manifest::DEFAULT_NAMESPACE.to_string());
        (K::kind(&()).to_string(), namespace, object.name_any())
    };
    let decode = |object: DynamicObject| -> Result<K, String> {
        let value = serde_json::to_value(&object).map_err(|e| e.to_string())?;
        typed_settings_problem::<K>(&value)?;
        serde_path_to_error::deserialize(value).map_err(|e| e.to_string())
    };
    // An applied object that decodes replaces its last good version; one that does not is reported and
    // leaves the cache (`Delete` of its last good version, which a listing has not sent yet).
    let mut applied = |object: DynamicObject, listing: bool| -> Option<watcher::Event<K>> {
        let (uid, key) = (object.uid().unwrap_or_default(), key(&object));
        match decode(object) {
            Ok(typed) => {
                broken.set(key, None);
                last_good.insert(uid, typed.clone());
                Some(if listing { watcher::Event::InitApply(typed) } else { watcher::Event::Apply(typed) })
            }
            Err(why) => {
                broken.set(key, Some(why));
                let previous = last_good.remove(&uid);
                if listing { None } else { previous.map(watcher::Event::Delete) }
            }
        }
    };
    match event {
        watcher::Event::Apply(object) => applied(object, false),
        watcher::Event::InitApply(object) => applied(object, true),
        watcher::Event::Delete(object) => {
            let (uid, key) = (object.uid().unwrap_or_default(), key(&object));
            broken.set(key, None);
            let typed = last_good.remove(&uid);
            typed.or_else(|| decode(object).ok()).map(watcher::Event::Delete)
        }
        watcher::Event::Init => Some(watcher::Event::Init),
        watcher::Event::InitDone => Some(watcher::Event::InitDone),
    }
}

/// Backoff of one watch after an error: 250 ms doubling up to 5 s, back to 250 ms as soon as an event
/// arrives — so that a watch is back within seconds of the API server, not after a long shared backoff
/// (kube-runtime's default backs off up to 30 s and resets only after 120 s without an error).
#[derive(Clone, Debug)]
pub struct WatchBackoff {
    next: Duration,
}

const WATCH_BACKOFF_FIRST: Duration = Duration::from_millis(250);
const WATCH_BACKOFF_MAX: Duration = Duration::from_secs(5);

impl Default for WatchBackoff {
    fn default() -> Self {
        WatchBackoff { next: WATCH_BACKOFF_FIRST }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let now = self.next;
        self.next = (self.next * 2).min(WATCH_BACKOFF_MAX);
        Some(now)
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = WATCH_BACKOFF_FIRST;
    }
}

/// How each watch is doing, by kind: failing since when, last event when, restarts. `/readyz` turns
/// unready while a watch fails for longer than a bound; `/metrics` shows restarts and the age of the
/// last event.
#[derive(Clone, Debug, Default)]
pub struct WatchHealth(Arc<Mutex<BTreeMap<String, WatchState>>>);

#[derive(Clone, Debug, Default)]
pub struct WatchState {
    pub failing_since: Option<Instant>,
    pub last_event: Option<Instant>,
    pub restarts: u64,
}

impl WatchHealth {
    fn failed(&self, kind: &str, error: &watcher::Error) {
        let mut watches = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let state = watches.entry(kind.to_string()).or_default();
        state.restarts += 1;
        let since = *state.failing_since.get_or_insert_with(Instant::now);
        tracing::warn!(kind, %error, failing_for_s = since.elapsed().as_secs(), "watch failed; it is restarted");
    }

    fn received(&self, kind: &str) {
        let mut watches = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let state = watches.entry(kind.to_string()).or_default();
        if let Some(since) = state.failing_since.take() {
            tracing::info!(kind, failed_for_s = since.elapsed().as_secs(), "watch back");
        }
        state.last_event = Some(Instant::now());
    }

    /// The watches that have been failing for longer than `bound`, with for how long.
    pub fn failing_longer_than(&self, bound: Duration) -> Vec<(String, Duration)> {
        let watches = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        watches
            .iter()
            .filter_map(|(kind, state)| Some((kind.clone(), state.failing_since?.elapsed())))
            .filter(|(_, failing)| *failing > bound)
            .collect()
    }

    /// Every watch's state, by kind.
    pub fn states(&self) -> BTreeMap<String, WatchState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// What the watches share: objects that do not decode, and how each watch is doing.
#[derive(Clone, Debug, Default)]
pub struct Watches {
    pub broken: BrokenObjects,
    pub health: WatchHealth,
}

/// The watch events of `K`, each object decoded on its own. A watch error never leaves here: it is
/// logged and counted, and the watch restarts after its own backoff — an error reaching a
/// controller's trigger stream would pause every trigger of that controller.
fn typed_events<K>(
    client: &kube::Client,
    namespace: Option<&str>,
    watches: &Watches,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
{
    let mut last_good: HashMap<String, K> = HashMap::new();
    let (broken, health) = (watches.broken.clone(), watches.health.clone());
    let kind = K::kind(&()).to_string();
    watcher(dynamic_api::<K>(client, namespace), watcher::Config::default())
        .backoff(WatchBackoff::default())
        .filter_map(move |event| {
            std::future::ready(match event {
                Ok(event) => {
                    health.received(&kind);
                    decode_each(event, &mut last_good, &broken).map(Ok)
                }
                Err(error) => {
                    health.failed(&kind, &error);
                    None
                }
            })
        })
}

/// A cache of `K`, the stream of its significant changes (polling the stream fills the cache), and
/// a flag set once the cache holds the first complete list. (The flag, not `Store::wait_until_ready`:
/// that wakes a single waiter, and the controller already waits on it.) Objects are decoded one by
/// one: one that does not decode goes to `broken` and stops nothing.
pub fn significant_changes<K>(
    client: &kube::Client,
    namespace: Option<&str>,
    watches: &Watches,
) -> (Store<K>, impl Stream<Item = Result<K, watcher::Error>> + Send + 'static, Arc<AtomicBool>)
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
{
    let (store, writer) = reflector::store();
    let synced = Arc::new(AtomicBool::new(false));
    let listed = synced.clone();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let stream = reflector::reflector(writer, typed_events::<K>(client, namespace, watches)).filter_map(move |event| {
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
    });
    (store, stream, synced)
}

/// One watch of `K` shared by several consumers: one cache, and for each consumer a stream of every
/// changed object (statuses included) — one list and one watch on the API server instead of one per
/// controller. `driver` must be polled for anything to move; it also sets `listed`.
pub struct Shared<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    pub store: Store<K>,
    pub subscribers: Vec<reflector::ReflectHandle<K>>,
    pub listed: Arc<AtomicBool>,
    pub driver: std::pin::Pin<Box<dyn Stream<Item = ()> + Send>>,
}

/// A shared watch of `K` with `consumers` subscribers.
pub fn shared<K>(client: &kube::Client, namespace: Option<&str>, watches: &Watches, consumers: usize) -> Shared<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
{
    // Large enough that a consumer busy with a reconcile wave does not hold the others back.
    let (store, writer) = reflector::store_shared(4096);
    let subscribers = (0..consumers).filter_map(|_| writer.subscribe()).collect();
    let listed = Arc::new(AtomicBool::new(false));
    let flag = listed.clone();
    let driver = typed_events::<K>(client, namespace, watches).reflect_shared(writer).filter_map(move |event| {
        if let Ok(watcher::Event::InitDone) = event {
            flag.store(true, Ordering::Relaxed);
        }
        std::future::ready(Some(()))
    });
    Shared { store, subscribers, listed, driver: Box::pin(driver) }
}

/// The changes of a shared watch that matter to a reconcile (see [`significant_changes`]).
pub fn significant<K>(
    objects: impl Stream<Item = Arc<K>> + Send + 'static,
) -> impl Stream<Item = Arc<K>> + Send + 'static
where
    K: Resource<DynamicType = ()> + Send + Sync + 'static,
{
    let mut seen: HashMap<String, u64> = HashMap::new();
    objects.filter_map(move |object| {
        let key = object.uid().unwrap_or_default();
        let digest = digest(object.as_ref());
        std::future::ready((seen.insert(key, digest) != Some(digest)).then_some(object))
    })
}

fn digest<K: Resource>(object: &K) -> u64 {
    let mut hasher = DefaultHasher::new();
    object.meta().generation.hash(&mut hasher);
    object.labels().hash(&mut hasher);
    object.meta().deletion_timestamp.is_some().hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AntivirusPolicy;

    fn object(name: &str, uid: &str, spec: serde_json::Value) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "tenantctl.dev/v1alpha1",
            "kind": "AntivirusPolicy",
            "metadata": {"name": name, "namespace": "ns", "uid": uid},
            "spec": spec,
        }))
        .expect("object")
    }

    fn good(name: &str, uid: &str) -> DynamicObject {
        object(name, uid, serde_json::json!({"displayName": "AV", "settings": {"realTimeMonitoring": "enabled"}}))
    }

    fn bad(name: &str, uid: &str) -> DynamicObject {
        object(name, uid, serde_json::json!({"displayName": "AV", "settings": {"realTimeMonitoring": true}}))
    }

    fn name_of(event: Option<watcher::Event<AntivirusPolicy>>) -> Option<(&'static str, String)> {
        match event? {
            watcher::Event::Apply(o) => Some(("apply", o.name_any())),
            watcher::Event::InitApply(o) => Some(("init-apply", o.name_any())),
            watcher::Event::Delete(o) => Some(("delete", o.name_any())),
            watcher::Event::Init => Some(("init", String::new())),
            watcher::Event::InitDone => Some(("init-done", String::new())),
        }
    }

    #[test]
    fn an_object_that_does_not_decode_is_left_out_and_reported_never_failing_the_watch() {
        let broken = BrokenObjects::default();
        let mut last_good = HashMap::new();
        let mut decode = |event| name_of(decode_each::<AntivirusPolicy>(event, &mut last_good, &broken));
        assert_eq!(decode(watcher::Event::Init), Some(("init", String::new())));
        assert_eq!(decode(watcher::Event::InitApply(good("a", "1"))), Some(("init-apply", "a".into())));
        assert_eq!(decode(watcher::Event::InitApply(bad("b", "2"))), None, "left out of the list");
        assert_eq!(decode(watcher::Event::InitDone), Some(("init-done", String::new())));
        let reported = broken.in_namespace("ns");
        assert_eq!(reported.len(), 1);
        assert_eq!((reported[0].0.as_str(), reported[0].1.as_str()), ("AntivirusPolicy", "b"));
        assert!(reported[0].2.contains("spec.settings.realTimeMonitoring"), "{}", reported[0].2);

        // A good object that turns bad leaves the cache; fixed, it comes back and is no longer reported.
        assert_eq!(decode(watcher::Event::Apply(bad("a", "1"))), Some(("delete", "a".into())));
        assert_eq!(broken.in_namespace("ns").len(), 2);
        assert_eq!(decode(watcher::Event::Apply(good("a", "1"))), Some(("apply", "a".into())));
        assert_eq!(decode(watcher::Event::Delete(bad("b", "2"))), None, "never cached: nothing to drop");
        assert!(broken.in_namespace("ns").is_empty());
        assert!(broken.in_namespace("other").is_empty());
    }
}
