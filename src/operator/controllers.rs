//! Runs the Tenant and DistributionProfile controllers until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{ObjectRef, Store};

use super::context::{Context, Settings, Stores, namespace_of};
use super::metrics::Metrics;
use super::notification_controller::{self, NotificationContext};
use super::profile_controller::{self, ProfileContext};
use super::tenant_controller;
use super::watch::{api, every_change, significant_changes};
use crate::graph::client::GraphClient;
use crate::model::{
    AntivirusPolicy, AttackSurfaceReductionPolicy, DistributionProfile, FirewallPolicy, IntuneRole, NotificationPolicy,
    SettingsCatalogPolicy, Tenant,
};

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

pub async fn run(wiring: Wiring, shutdown: impl Future<Output = ()> + Send + Sync + 'static) {
    let client = &wiring.kube;
    let namespace = wiring.namespace.as_deref();
    let (tenants, tenant_changes, tenants_listed) = significant_changes::<Tenant>(api(client, namespace));
    let (profiles, profile_changes, profiles_listed) =
        significant_changes::<DistributionProfile>(api(client, namespace));
    let (antivirus, antivirus_changes, antivirus_listed) =
        significant_changes::<AntivirusPolicy>(api(client, namespace));
    let (firewall, firewall_changes, firewall_listed) = significant_changes::<FirewallPolicy>(api(client, namespace));
    let (asr, asr_changes, asr_listed) = significant_changes::<AttackSurfaceReductionPolicy>(api(client, namespace));
    let (settings_catalog, catalog_changes, catalog_listed) =
        significant_changes::<SettingsCatalogPolicy>(api(client, namespace));
    let (notifications, notification_changes, notifications_listed) =
        significant_changes::<NotificationPolicy>(api(client, namespace));
    let (roles, role_changes, roles_listed) = significant_changes::<IntuneRole>(api(client, namespace));
    let stores = Stores {
        tenants: tenants.clone(),
        profiles: profiles.clone(),
        antivirus: antivirus.clone(),
        firewall: firewall.clone(),
        asr: asr.clone(),
        settings_catalog: settings_catalog.clone(),
        notifications: notifications.clone(),
        roles: roles.clone(),
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
        synced: wiring.ready.clone(),
    });

    let ready = wiring.ready.clone();
    let listed = [
        tenants_listed,
        profiles_listed,
        antivirus_listed,
        firewall_listed,
        asr_listed,
        catalog_listed,
        notifications_listed,
        roles_listed,
    ];
    tokio::spawn(async move {
        while !listed.iter().all(|flag| flag.load(Ordering::Relaxed)) {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        tracing::info!("caches synced");
        ready.store(true, Ordering::Relaxed);
    });

    let (shutdown_tenants, shutdown_profiles, shutdown_notifications) = {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = sender.send(true);
        });
        let stop = |mut receiver: tokio::sync::watch::Receiver<bool>| async move {
            let _ = receiver.wait_for(|stop| *stop).await;
        };
        (stop(receiver.clone()), stop(receiver.clone()), stop(receiver))
    };

    let mapper = |store: &Store<Tenant>| {
        let store = store.clone();
        move |namespace: String| refs_in(&store, &namespace)
    };
    let (m1, m2, m3, m4, m5) =
        (mapper(&tenants), mapper(&tenants), mapper(&tenants), mapper(&tenants), mapper(&tenants));
    let m6 = mapper(&tenants);
    let config = controller::Config::default().concurrency(wiring.concurrency);
    let tenant_controller = Controller::for_stream(tenant_changes, tenants)
        .with_config(config)
        .watches_stream(profile_changes, move |p: DistributionProfile| m1(namespace_of(&p)))
        .watches_stream(antivirus_changes, move |p: AntivirusPolicy| m2(namespace_of(&p)))
        .watches_stream(firewall_changes, move |p: FirewallPolicy| m3(namespace_of(&p)))
        .watches_stream(asr_changes, move |p: AttackSurfaceReductionPolicy| m4(namespace_of(&p)))
        .watches_stream(catalog_changes, move |p: SettingsCatalogPolicy| m5(namespace_of(&p)))
        .watches_stream(role_changes, move |r: IntuneRole| m6(namespace_of(&r)))
        .graceful_shutdown_on(shutdown_tenants)
        .run(tenant_controller::reconcile, tenant_controller::error_policy, context)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "tenant controller");
            }
        });

    let (profiles_for_status, profile_status_changes, _) =
        significant_changes::<DistributionProfile>(api(client, namespace));
    let (tenant_statuses, tenant_status_changes) = every_change::<Tenant>(api(client, namespace));
    let profile_context = Arc::new(ProfileContext {
        kube: wiring.kube.clone(),
        tenants: tenant_statuses,
        metrics: wiring.metrics.clone(),
    });
    let profile_store = profiles_for_status.clone();
    let profile_controller = Controller::for_stream(profile_status_changes, profiles_for_status)
        .watches_stream(tenant_status_changes, move |t: Tenant| refs_in(&profile_store, &namespace_of(&t)))
        .graceful_shutdown_on(shutdown_profiles)
        .run(profile_controller::reconcile, profile_controller::error_policy, profile_context)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "profile controller");
            }
        });
    let (tenants_for_notifications, tenant_notification_changes) = every_change::<Tenant>(api(client, namespace));
    let notification_context = Arc::new(NotificationContext {
        kube: wiring.kube.clone(),
        tenants: tenants_for_notifications,
        metrics: wiring.metrics.clone(),
        recorder: wiring.recorder.clone(),
        settle: wiring.notification_settle,
        pending: Default::default(),
    });
    let notification_store = notifications.clone();
    let notification_controller = Controller::for_stream(notification_changes, notifications)
        .watches_stream(tenant_notification_changes, move |t: Tenant| refs_in(&notification_store, &namespace_of(&t)))
        .graceful_shutdown_on(shutdown_notifications)
        .run(notification_controller::reconcile, notification_controller::error_policy, notification_context)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "notification controller");
            }
        });
    tokio::join!(tenant_controller, profile_controller, notification_controller);
}
