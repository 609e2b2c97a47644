//! One `coordination.k8s.io` Lease held as a lock with a deadline: taken when free or expired, renewed
//! by its holder, given back on release. Every write is a replace at the resourceVersion just read, so
//! two replicas racing for one Lease cannot both win. The holder knows until when its hold is certain
//! (the start of its last successful write plus the duration, less a margin), which is what lets shard
//! owners stop before anyone else may start.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, DeleteParams, ListParams, PostParams};

/// Label naming the operator (its leader Lease name) a sharding Lease belongs to.
pub const GROUP_LABEL: &str = "tenantctl.dev/lease-group";
/// Label saying what a sharding Lease stands for: `shard` or `replica`.
pub const ROLE_LABEL: &str = "tenantctl.dev/lease-role";

/// A lease as read: who holds it and until when (by the holder's clock, as Kubernetes leases are).
#[derive(Clone, Debug)]
pub struct LeaseView {
    pub name: String,
    pub holder: Option<String>,
    pub role: Option<String>,
    pub expires: Option<jiff::Timestamp>,
}

impl LeaseView {
    fn of(lease: &Lease) -> LeaseView {
        let spec = lease.spec.clone().unwrap_or_default();
        let expires = match (spec.renew_time.as_ref(), spec.lease_duration_seconds) {
            (Some(MicroTime(renewed)), Some(seconds)) => {
                renewed.checked_add(jiff::SignedDuration::from_secs(i64::from(seconds))).ok()
            }
            _ => None,
        };
        LeaseView {
            name: lease.metadata.name.clone().unwrap_or_default(),
            holder: spec.holder_identity.filter(|h| !h.is_empty()),
            role: lease.metadata.labels.as_ref().and_then(|l| l.get(ROLE_LABEL).cloned()),
            expires,
        }
    }

    /// Held by someone whose hold has not run out.
    pub fn live_holder(&self, now: jiff::Timestamp) -> Option<&str> {
        match (&self.holder, self.expires) {
            (Some(holder), Some(expires)) if expires > now => Some(holder),
            _ => None,
        }
    }
}

/// Leases of one group in one namespace, written as one identity.
#[derive(Clone)]
pub struct LeaseLocks {
    api: Api<Lease>,
    group: String,
    identity: String,
    duration: Duration,
}

/// How long before the deadline others see a hold is counted as ended here: time for a request in flight
/// to land, and for clocks a little apart.
fn safety_margin(duration: Duration) -> Duration {
    (duration / 5).max(Duration::from_millis(500))
}

impl LeaseLocks {
    pub fn new(client: kube::Client, namespace: &str, group: &str, identity: &str, duration: Duration) -> LeaseLocks {
        LeaseLocks {
            api: Api::namespaced(client, namespace),
            group: group.to_string(),
            identity: identity.to_string(),
            duration,
        }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Every lease of the group.
    pub async fn list(&self) -> kube::Result<Vec<LeaseView>> {
        let params = ListParams::default().labels(&format!("{GROUP_LABEL}={}", self.group));
        Ok(self.api.list(&params).await?.items.iter().map(LeaseView::of).collect())
    }

    /// Takes the lease if it is free, expired or already ours, and renews it. Returns the instant until
    /// which the hold is certain, or `None` when someone else holds it (or won the race for it).
    pub async fn hold(&self, name: &str, role: &str) -> kube::Result<Option<Instant>> {
        let started = Instant::now();
        let now = jiff::Timestamp::now();
        let seconds = i32::try_from(self.duration.as_secs().max(1)).unwrap_or(i32::MAX);
        let existing = match self.api.get_opt(name).await? {
            Some(lease) => lease,
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(name.to_string()),
                        labels: Some(BTreeMap::from([
                            (GROUP_LABEL.to_string(), self.group.clone()),
                            (ROLE_LABEL.to_string(), role.to_string()),
                        ])),
                        ..ObjectMeta::default()
                    },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(self.identity.clone()),
                        acquire_time: Some(MicroTime(now)),
                        renew_time: Some(MicroTime(now)),
                        lease_duration_seconds: Some(seconds),
                        lease_transitions: Some(0),
                        ..LeaseSpec::default()
                    }),
                };
                return match self.api.create(&PostParams::default(), &lease).await {
                    Ok(_) => Ok(Some(self.certain_until(started))),
                    Err(kube::Error::Api(e)) if e.code == 409 => Ok(None),
                    Err(error) => Err(error),
                };
            }
        };
        let view = LeaseView::of(&existing);
        let ours = view.holder.as_deref() == Some(self.identity.as_str());
        if !ours && view.live_holder(now).is_some() {
            return Ok(None);
        }
        let mut lease = existing;
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if !ours {
            spec.holder_identity = Some(self.identity.clone());
            spec.acquire_time = Some(MicroTime(now));
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.renew_time = Some(MicroTime(now));
        spec.lease_duration_seconds = Some(seconds);
        match self.api.replace(name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(Some(self.certain_until(started))),
            // Someone wrote it since it was read: they won this round.
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Gives the lease back if this identity holds it, so that another takes it without waiting.
    pub async fn release(&self, name: &str) -> kube::Result<()> {
        let Some(mut lease) = self.api.get_opt(name).await? else { return Ok(()) };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        match self.api.replace(name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Deletes a lease nobody has held for a long while (a replica gone for good).
    pub async fn forget(&self, name: &str) -> kube::Result<()> {
        match self.api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn certain_until(&self, started: Instant) -> Instant {
        started + self.duration.saturating_sub(safety_margin(self.duration))
    }
}

/// A Lease name for a replica identity: lower-case letters, digits and dashes, and a digest of the
/// identity so that two identities that read alike stay apart.
pub fn replica_lease_name(group: &str, identity: &str) -> String {
    let readable: String = identity
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .take(40)
        .collect();
    let digest = crate::util::stable_hash(identity.as_bytes());
    format!("{group}-replica-{}-{:08x}", readable.trim_matches('-'), digest as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_names_are_valid_and_distinct() {
        let a = replica_lease_name("tenantctl-operator", "Pod_A.1");
        let b = replica_lease_name("tenantctl-operator", "pod-a-1");
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{a}");
        assert!(a.len() <= 253);
    }

    #[test]
    fn an_expired_hold_has_no_live_holder() {
        let now = jiff::Timestamp::from_second(1_000).expect("time");
        let view = |expires: i64| LeaseView {
            name: "l".into(),
            holder: Some("a".into()),
            role: None,
            expires: Some(jiff::Timestamp::from_second(expires).expect("time")),
        };
        assert_eq!(view(1_001).live_holder(now), Some("a"));
        assert_eq!(view(999).live_holder(now), None);
    }
}
