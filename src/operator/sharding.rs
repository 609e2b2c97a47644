//! Replicas share the tenants' shards through Leases. Each replica keeps a Lease of its own renewed (its
//! membership), so every replica knows how many are alive and what a fair share is. A replica takes
//! free shard Leases (released, or expired because their holder died) up to its share, renews the ones
//! it holds, and hands over (drained first) what exceeds its share when a replica joins. Shards stay
//! where they are otherwise: only the shards of a replica gone, or beyond a share, move. The Lease alone
//! decides who reconciles a tenant: two replicas never write side by side, whatever they believe.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::lease_lock::{LeaseLocks, LeaseView, replica_lease_name};
use super::metrics::Metrics;
use super::shards::{ShardState, ShardTable};

const SHARD_ROLE: &str = "shard";
const REPLICA_ROLE: &str = "replica";
/// A replica's own Lease is deleted by the others once it has been expired this many lease durations.
const FORGET_AFTER_DURATIONS: u32 = 10;

pub struct Coordinator {
    pub locks: LeaseLocks,
    pub group: String,
    pub table: Arc<ShardTable>,
    pub duration: Duration,
    /// Shards just taken: their tenants are reconciled at once.
    pub acquired: UnboundedSender<usize>,
    pub metrics: Arc<Metrics>,
    /// Set once the caches hold their first complete lists: until then a replica could not find the
    /// tenants of a shard it took, so it does not join.
    pub synced: Arc<AtomicBool>,
}

pub fn shard_lease_name(group: &str, shard: usize) -> String {
    format!("{group}-shard-{shard}")
}

/// Shards each replica may own: every shard finds an owner, none owns more than its share.
pub fn fair_share(shards: usize, members: usize) -> usize {
    shards.div_ceil(members.max(1))
}

/// The live holder of each shard Lease, by shard.
fn shard_holders(group: &str, leases: &[LeaseView], now: jiff::Timestamp) -> BTreeMap<usize, String> {
    let prefix = format!("{group}-shard-");
    leases
        .iter()
        .filter(|l| l.role.as_deref() == Some(SHARD_ROLE))
        .filter_map(|l| {
            let shard = l.name.strip_prefix(&prefix)?.parse().ok()?;
            Some((shard, l.live_holder(now)?.to_string()))
        })
        .collect()
}

impl Coordinator {
    fn tick(&self) -> Duration {
        (self.duration / 3).max(Duration::from_millis(500))
    }

    /// Runs until `stop` resolves, then hands every shard back.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        while !self.synced.load(Ordering::Relaxed) {
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
        let table = self.table.clone();
        // Deadlines are enforced on their own clock: a renewal stuck on a slow API server must not
        // let a shard outlive its lease here.
        let enforcer = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                for shard in table.expire_overdue(Instant::now()) {
                    tracing::warn!(shard, "shard lease not renewed in time: its reconciles stop");
                }
            }
        });
        // Rounds start at a steady pace, however long the last one took (each call is bounded by half
        // a round): a held Lease is renewed at least twice before its deadline.
        let mut rounds = tokio::time::interval(self.tick());
        rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = rounds.tick() => {}
            }
            self.round().await;
            self.metrics.set_shards_owned(self.table.owned());
        }
        enforcer.abort();
        self.hand_back_all().await;
    }

    async fn bounded<T>(&self, call: impl std::future::Future<Output = kube::Result<T>>) -> Option<T> {
        match tokio::time::timeout(self.tick() / 2, call).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                tracing::warn!(%error, "shard leases");
                None
            }
            Err(_) => {
                tracing::warn!("shard leases: the API server did not answer in time");
                None
            }
        }
    }

    async fn round(&self) {
        let me = self.locks.identity().to_string();
        let own_lease = replica_lease_name(&self.group, &me);
        let (_, leases) =
            tokio::join!(self.bounded(self.locks.hold(&own_lease, REPLICA_ROLE)), self.bounded(self.locks.list()));
        let count = self.table.count();
        let held: Vec<usize> = (0..count).filter(|&s| self.table.state(s) != ShardState::Unowned).collect();
        let Some(leases) = leases else {
            // Without a view of the others, keep what is held and take nothing new.
            self.hold_all(&held).await;
            return;
        };
        let now = jiff::Timestamp::now();
        let members = live_members(&leases, &me, now);
        self.forget_departed(&leases, now).await;
        let fair = fair_share(count, members.len());
        // More than a fair share (a replica joined): the highest shards go first, drained.
        let owned: Vec<usize> = (0..count).filter(|&s| self.table.state(s) == ShardState::Owned).collect();
        for &shard in owned.iter().rev().take(owned.len().saturating_sub(fair)) {
            tracing::info!(shard, members = members.len(), fair, "handing shard over");
            self.table.drain(shard);
        }
        // A drained shard is given back; the others held are renewed.
        let mut keep = Vec::new();
        for &shard in &held {
            if self.table.state(shard) == ShardState::Draining && self.table.try_finish_drain(shard) {
                self.bounded(self.locks.release(&shard_lease_name(&self.group, shard))).await;
                tracing::info!(shard, "handed shard over");
            } else {
                keep.push(shard);
            }
        }
        // Free shards up to the share, tried from a place of this replica's own so that replicas
        // starting together do not all contend for the same ones.
        let holders = shard_holders(&self.group, &leases, now);
        let start = crate::util::stable_hash(me.as_bytes()) as usize % count.max(1);
        let wanted = fair.saturating_sub(owned.len().min(fair));
        let free: Vec<usize> = (0..count)
            .map(|i| (start + i) % count)
            .filter(|&s| self.table.state(s) == ShardState::Unowned)
            .filter(|s| holders.get(s).is_none_or(|h| *h == me))
            .take(wanted)
            .collect();
        keep.extend(free);
        self.hold_all(&keep).await;
    }

    /// Takes or renews these shards' Leases, all at once: a slow API server must not make the last
    /// renewal of a round late.
    async fn hold_all(&self, shards: &[usize]) {
        let holds = shards.iter().map(|&shard| async move {
            (shard, self.bounded(self.locks.hold(&shard_lease_name(&self.group, shard), SHARD_ROLE)).await)
        });
        for (shard, held) in futures_util::future::join_all(holds).await {
            match (self.table.state(shard), held) {
                (ShardState::Unowned, Some(Some(until))) => {
                    self.table.own(shard, Some(until));
                    tracing::info!(shard, "took shard");
                    let _ = self.acquired.send(shard);
                }
                (_, Some(Some(until))) => self.table.extend(shard, until),
                (ShardState::Owned | ShardState::Draining, Some(None)) => {
                    tracing::warn!(shard, "shard lease taken by another replica");
                    self.table.lose(shard);
                }
                // Not taken, or not renewed this round (the deadline decides).
                _ => {}
            }
        }
    }

    /// Deletes the Leases of replicas gone long ago (pods have new names after every restart).
    async fn forget_departed(&self, leases: &[LeaseView], now: jiff::Timestamp) {
        let long_ago = jiff::SignedDuration::try_from(self.duration * FORGET_AFTER_DURATIONS).unwrap_or_default();
        for lease in leases.iter().filter(|l| l.role.as_deref() == Some(REPLICA_ROLE)) {
            if lease.expires.is_none_or(|expires| expires.checked_add(long_ago).is_ok_and(|at| at < now)) {
                self.bounded(self.locks.forget(&lease.name)).await;
            }
        }
    }

    /// On shutdown: drain and release every shard so that the others take them without waiting.
    async fn hand_back_all(&self) {
        for shard in 0..self.table.count() {
            self.table.drain(shard);
        }
        let deadline = Instant::now() + self.duration;
        for shard in 0..self.table.count() {
            while !self.table.try_finish_drain(shard) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            self.bounded(self.locks.release(&shard_lease_name(&self.group, shard))).await;
        }
        let own_lease = replica_lease_name(&self.group, self.locks.identity());
        self.bounded(self.locks.release(&own_lease)).await;
        self.metrics.set_shards_owned(0);
    }
}

/// The replicas whose own Lease is live, with this one, sorted.
fn live_members(leases: &[LeaseView], me: &str, now: jiff::Timestamp) -> Vec<String> {
    let mut members: BTreeSet<String> = leases
        .iter()
        .filter(|l| l.role.as_deref() == Some(REPLICA_ROLE))
        .filter_map(|l| l.live_holder(now).map(str::to_string))
        .collect();
    members.insert(me.to_string());
    members.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_every_shard() {
        assert_eq!(fair_share(12, 3), 4);
        assert_eq!(fair_share(12, 5), 3);
        assert_eq!(fair_share(12, 0), 12);
        for members in 1..20 {
            assert!(fair_share(12, members) * members >= 12);
        }
    }

    #[test]
    fn holders_are_read_from_live_shard_leases() {
        let now = jiff::Timestamp::from_second(1_000).expect("time");
        let lease = |name: &str, role: &str, expires: i64| LeaseView {
            name: name.to_string(),
            holder: Some("a".to_string()),
            role: Some(role.to_string()),
            expires: Some(jiff::Timestamp::from_second(expires).expect("time")),
        };
        let leases = [
            lease("g-shard-3", SHARD_ROLE, 1_010),
            lease("g-shard-4", SHARD_ROLE, 990),
            lease("g-replica-a", REPLICA_ROLE, 1_010),
        ];
        assert_eq!(shard_holders("g", &leases, now), BTreeMap::from([(3, "a".to_string())]));
    }

    #[test]
    fn expired_replicas_are_not_members() {
        let now = jiff::Timestamp::from_second(1_000).expect("time");
        let lease = |holder: &str, expires: i64| LeaseView {
            name: format!("g-replica-{holder}"),
            holder: Some(holder.to_string()),
            role: Some(REPLICA_ROLE.to_string()),
            expires: Some(jiff::Timestamp::from_second(expires).expect("time")),
        };
        let members = live_members(&[lease("b", 1_010), lease("c", 990)], "a", now);
        assert_eq!(members, vec!["a".to_string(), "b".to_string()]);
    }
}
