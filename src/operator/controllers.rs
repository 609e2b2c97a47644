//! Runs the Tenant, DistributionProfile, NotificationPolicy and Case controllers until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{ObjectRef, Store};

use super::case_controller;
use super::context::{Context, Settings, Stores, namespace_of};
use super::inputs::watch_inputs;
use super::metrics::Metrics;
use super::notification_controller::{self, NotificationContext};
use super::profile_controller::{self, ProfileContext};
use super::shards::ShardTable;
use super::tenant_controller;
use super::watch::{Watches, shared, significant, significant_changes};
use crate::graph::client::GraphClient;
use crate::model::{Case, DistributionProfile, NotificationPolicy, Tenant};

/// What the controllers need.
pub struct Wiring {
    pub kube: kube::Client,
    pub graph: GraphClient,
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
    pub recorder: kube::runtime::events::Recorder,
    /// Watch one namespace, or all.
    pub namespace: Option<String>,
    /// Tenants reconciled at once.
    pub concurrency: u16,
    /// How long new findings must stay unchanged before they are notified.
    pub notification_settle: std::time::Duration,
    /// Set once every cache is filled.
    pub ready: Arc<AtomicBool>,
    /// The kinds whose caches are not filled yet.
    pub pending: Arc<std::sync::Mutex<Vec<String>>>,
    /// How the watches are doing, and the objects they could not read.
    pub watches: Watches,
    /// The tenant shards this replica owns.
    pub shards: Arc<ShardTable>,
    /// Shards just taken: their tenants are reconciled at once.
    pub shards_acquired: tokio::sync::mpsc::UnboundedReceiver<usize>,
    /// Whether this replica holds the leader lease (profiles, notifications and cases).
    pub leading: Arc<AtomicBool>,
}

/// Every object of a namespace: a change there can concern any of them (a profile or policy change,
/// any Tenant; a Tenant's status, any profile).
fn refs_in<K: kube::Resource<DynamicType = ()> + Clone>(store: &Store<K>, namespace: &str) -> Vec<ObjectRef<K>> {
    store
        .state()
        .iter()
        .filter(|o| namespace_of(o.as_ref()) == namespace)
        .map(|o| ObjectRef::from_obj(o.as_ref()))
        .collect()
}

/// Every Tenant of a shard.
fn refs_in_shard(store: &Store<Tenant>, shards: &ShardTable, shard: usize) -> Vec<ObjectRef<Tenant>> {
    store
        .state()
        .iter()
        .filter(|t| shards.shard_of(&t.spec.tenant_id) == shard)
        .map(|t| ObjectRef::from_obj(t.as_ref()))
        .collect()
}

pub async fn run(wiring: Wiring, shutdown: impl Future<Output = ()> + Send + Sync + 'static) {
    let client = &wiring.kube;
    let namespace = wiring.namespace.as_deref();
    let watches = wiring.watches.clone();
    // One Tenant watch for the three controllers.
    let tenant_watch = shared::<Tenant>(client, namespace, &watches, 3);
    let tenants = tenant_watch.store.clone();
    let tenants_listed = tenant_watch.listed.clone();
    let mut subscribers = tenant_watch.subscribers.into_iter();
    let (Some(for_tenants), Some(for_profiles), Some(for_notifications)) =
        (subscribers.next(), subscribers.next(), subscribers.next())
    else {
        tracing::error!("the shared Tenant watch has no subscribers; not starting");
        return;
    };
    tokio::spawn(tenant_watch.driver.for_each(|()| std::future::ready(())));
    let (notifications, notification_changes, notifications_listed) =
        significant_changes::<NotificationPolicy>(client, namespace, &watches);
    let (cases, case_changes, cases_listed) = significant_changes::<Case>(client, namespace, &watches);
    let (inputs, input_changes) = watch_inputs(client, namespace, &watches);
    let (profiles_for_status, profile_status_changes, _) =
        significant_changes::<DistributionProfile>(client, namespace, &watches);
    // A rollout decision that moves re-plans the Tenants of its namespace at once.
    let (rollout_moved, rollout_moves) = tokio::sync::mpsc::unbounded_channel::<String>();
    let rollout_moves =
        futures_util::stream::unfold(rollout_moves, |mut moves| async move { moves.recv().await.map(|n| (n, moves)) });
    let input_changes = futures_util::stream::select(input_changes, rollout_moves);
    let mut listed = vec![
        ("Tenant".to_string(), tenants_listed),
        ("NotificationPolicy".to_string(), notifications_listed),
        ("Case".to_string(), cases_listed),
    ];
    listed.extend(inputs.iter().map(|input| (input.kind.clone(), input.listed.clone())));
    let stores = Stores {
        tenants: tenants.clone(),
        notifications: notifications.clone(),
        inputs,
        profiles: profiles_for_status.clone(),
        broken: watches.broken.clone(),
    };
    let context = Arc::new(Context {
        kube: wiring.kube.clone(),
        graph: wiring.graph.clone(),
        stores: stores.clone(),
        settings: wiring.settings.clone(),
        metrics: wiring.metrics.clone(),
        recorder: wiring.recorder.clone(),
        credential_sources: Default::default(),
        resolutions: Default::default(),
        failures: Default::default(),
        secrets: Default::default(),
        last_good_reads: Default::default(),
        synced: wiring.ready.clone(),
        observations: super::observations::Observations::new(wiring.settings.cached_tenants),
        licences: crate::graph::readiness::LicenceMemory::new(super::access::LICENCE_RECHECK),
        shards: wiring.shards.clone(),
        reconcile_turns: tokio::sync::Semaphore::new(usize::from(wiring.concurrency).max(1)),
        leading: wiring.leading.clone(),
    });

    // Every second: is Graph refusing connections? Every interval: which tenants are stale?
    let sweeping = context.clone();
    tokio::spawn(async move {
        let mut last_stale_check = std::time::Instant::now();
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            if !sweeping.caches_synced() {
                continue;
            }
            let refused = super::staleness::graph_refuses(&sweeping).await;
            if refused || last_stale_check.elapsed() >= sweeping.settings.sync_interval {
                last_stale_check = std::time::Instant::now();
                super::staleness::sweep(&sweeping, refused).await;
            }
        }
    });

    let (ready, pending) = (wiring.ready.clone(), wiring.pending.clone());
    tokio::spawn(async move {
        loop {
            let waiting: Vec<String> =
                listed.iter().filter(|(_, flag)| !flag.load(Ordering::Relaxed)).map(|(kind, _)| kind.clone()).collect();
            let done = waiting.is_empty();
            *pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = waiting;
            if done {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        tracing::info!("caches synced");
        ready.store(true, Ordering::Relaxed);
    });

    let (shutdown_tenants, shutdown_profiles, shutdown_notifications, shutdown_cases) = {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = sender.send(true);
        });
        let stop = |mut receiver: tokio::sync::watch::Receiver<bool>| async move {
            let _ = receiver.wait_for(|stop| *stop).await;
        };
        (stop(receiver.clone()), stop(receiver.clone()), stop(receiver.clone()), stop(receiver))
    };

    // A change to a profile, policy or role re-plans every Tenant of its namespace — once the caches
    // are filled: before, the first listing is no change, and every Tenant is reconciled anyway.
    let tenant_store = tenants.clone();
    let synced = wiring.ready.clone();
    let input_triggers = input_changes
        .filter(move |_| std::future::ready(synced.load(Ordering::Relaxed)))
        .flat_map(move |namespace| futures_util::stream::iter(refs_in(&tenant_store, &namespace)));
    // A shard just taken (from a replica gone or handing over): its tenants are reconciled now, not
    // at their next resync.
    let (tenant_store, shards) = (tenants.clone(), wiring.shards.clone());
    let shard_triggers = futures_util::stream::unfold(wiring.shards_acquired, |mut acquired| async move {
        acquired.recv().await.map(|shard| (shard, acquired))
    })
    .flat_map(move |shard| futures_util::stream::iter(refs_in_shard(&tenant_store, &shards, shard)));
    let input_triggers = futures_util::stream::select(input_triggers, shard_triggers);
    // Unbounded here: the reconciles themselves take turns in arrival order (`Context::reconcile_turns`).
    let config = controller::Config::default().concurrency(0);
    let tenant_controller = Controller::for_shared_stream(significant(for_tenants), tenants.clone())
        .with_config(config)
        .reconcile_on(input_triggers)
        .graceful_shutdown_on(shutdown_tenants)
        .run(tenant_controller::reconcile, tenant_controller::error_policy, context.clone())
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "tenant controller");
            }
        });

    let profile_context = Arc::new(ProfileContext {
        kube: wiring.kube.clone(),
        tenants: tenants.clone(),
        metrics: wiring.metrics.clone(),
        resolver: context.clone(),
        rollout_moved,
        health: Default::default(),
        followed: Default::default(),
        aggregated: Default::default(),
    });
    let profile_store = profiles_for_status.clone();
    let profile_controller = Controller::for_stream(profile_status_changes, profiles_for_status.clone())
        .watches_shared_stream(for_profiles, move |t: Arc<Tenant>| refs_in(&profile_store, &namespace_of(t.as_ref())))
        .graceful_shutdown_on(shutdown_profiles)
        .run(profile_controller::reconcile, profile_controller::error_policy, profile_context)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "profile controller");
            }
        });
    let notification_context = Arc::new(NotificationContext {
        kube: wiring.kube.clone(),
        tenants: tenants.clone(),
        cases: cases.clone(),
        profiles: profiles_for_status.clone(),
        recheck: wiring.settings.sync_interval,
        metrics: wiring.metrics.clone(),
        recorder: wiring.recorder.clone(),
        settle: wiring.notification_settle,
        pending: Default::default(),
        leading: wiring.leading.clone(),
    });
    let notification_store = notifications.clone();
    let notification_controller = Controller::for_stream(notification_changes, notifications)
        .watches_shared_stream(for_notifications, move |t: Arc<Tenant>| {
            refs_in(&notification_store, &namespace_of(t.as_ref()))
        })
        .graceful_shutdown_on(shutdown_notifications)
        .run(notification_controller::reconcile, notification_controller::error_policy, notification_context)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "notification controller");
            }
        });
    let case_controller = Controller::for_stream(case_changes, cases)
        .graceful_shutdown_on(shutdown_cases)
        .run(case_controller::reconcile, case_controller::error_policy, context.clone())
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "case controller");
            }
        });
    tokio::join!(tenant_controller, profile_controller, notification_controller, case_controller);
}
