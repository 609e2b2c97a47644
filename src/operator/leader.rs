//! Leader election with a `coordination.k8s.io` Lease: only the holder reconciles, so several replicas
//! never write to a tenant at once. A replica that loses the lease stops (and is restarted by its
//! Deployment) rather than risk writing beside the new leader.

use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The Lease and who competes for it.
#[derive(Clone, Debug)]
pub struct LeaseSettings {
    pub name: String,
    pub namespace: String,
    /// Unique per replica (the pod name in a cluster).
    pub identity: String,
    /// How long a lease is valid without renewal.
    pub duration_seconds: u64,
    /// Renewal happens this long before expiry.
    pub grace_seconds: u64,
}

impl LeaseSettings {
    pub fn check(&self) -> anyhow::Result<()> {
        if self.grace_seconds == 0 || self.grace_seconds >= self.duration_seconds {
            anyhow::bail!(
                "--lease-duration ({} s) must be longer than the renewal margin ({} s), which must be at least 1 s",
                self.duration_seconds,
                self.grace_seconds
            );
        }
        Ok(())
    }
}

/// The held lease. Dropping it without [`Leadership::release`] lets it expire.
pub struct Leadership {
    state: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<kube_lease_manager::LeaseManager>>,
}

/// Waits until this replica holds the lease.
pub async fn acquire(client: kube::Client, settings: &LeaseSettings) -> anyhow::Result<Leadership> {
    settings.check()?;
    let manager = LeaseManagerBuilder::new(client, &settings.name)
        .with_namespace(&settings.namespace)
        .with_identity(&settings.identity)
        .with_duration(settings.duration_seconds)
        .with_grace(settings.grace_seconds)
        .build()
        .await
        .map_err(|e| anyhow::anyhow!("lease {}/{}: {e}", settings.namespace, settings.name))?;
    let (mut state, task) = manager.watch().await;
    while !*state.borrow_and_update() {
        if state.changed().await.is_err() {
            let reason = match task.await {
                Ok(Err(error)) => error.to_string(),
                _ => "the lease manager stopped".to_string(),
            };
            anyhow::bail!("lease {}/{}: {reason}", settings.namespace, settings.name);
        }
    }
    Ok(Leadership { state, task })
}

impl Leadership {
    /// Resolves when the lease is lost (taken over, or not renewed in time).
    pub async fn lost(&mut self) {
        loop {
            if self.state.changed().await.is_err() || !*self.state.borrow_and_update() {
                return;
            }
        }
    }

    /// Holds the lease until `stopped` (then gives it up), or fails when it is lost.
    pub async fn lead_until(mut self, stopped: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        tokio::select! {
            () = self.lost() => anyhow::bail!("lost the leader lease"),
            () = stopped => {
                self.release().await;
                Ok(())
            }
        }
    }

    /// Gives the lease up so that another replica takes over without waiting for expiry.
    pub async fn release(self) {
        drop(self.state);
        match self.task.await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "could not release the leader lease"),
            Err(error) => tracing::warn!(%error, "could not release the leader lease"),
        }
    }
}
