//! Which shards this replica owns, and the guard every tenant reconcile runs under. A tenant belongs to
//! shard `stable_hash(tenant id) mod N`; a reconcile starts only while its shard is owned, and starts
//! no write once ownership is lost (the lease could not be renewed in time), so no tenant is ever
//! written by two replicas at once. A shard handed over on purpose drains first: new reconciles are
//! refused and the running ones finish before the lease is given back.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::{OwnedRwLockReadGuard, RwLock, watch};

use crate::graph::client::WriteFence;
use crate::util::stable_hash;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardState {
    Unowned,
    Owned,
    /// Being handed over: running reconciles finish, no new one starts.
    Draining,
}

struct Slot {
    state: watch::Sender<ShardState>,
    /// Every running reconcile of the shard holds it shared; a hand-over takes it exclusively.
    gate: Arc<RwLock<()>>,
    /// Until when ownership is certain; `None` while unowned, or owned without a deadline (the single
    /// shard of a leader, whose loss of leadership ends the process).
    certain_until: Mutex<Option<Instant>>,
}

pub struct ShardTable {
    slots: Vec<Slot>,
}

/// A running reconcile's claim on its shard.
pub struct Hold {
    _guard: OwnedRwLockReadGuard<()>,
    state: watch::Receiver<ShardState>,
}

impl Hold {
    /// Resolves when the shard is lost: the reconcile starts no further write from then on.
    pub async fn lost(&mut self) {
        let _ = self.state.wait_for(|s| *s == ShardState::Unowned).await;
    }

    /// Open while the shard is this replica's (draining included: a hand-over waits for running
    /// reconciles), closed from the moment it is lost.
    pub fn fence(&self) -> WriteFence {
        let state = self.state.clone();
        WriteFence::new(move || *state.borrow() != ShardState::Unowned)
    }
}

/// The shard of a tenant among `count` (tenant ids compared without regard to case, as Entra does).
pub fn shard_of(tenant_id: &str, count: usize) -> usize {
    let count = count.max(1) as u64;
    (stable_hash(tenant_id.to_ascii_lowercase().as_bytes()) % count) as usize
}

impl ShardTable {
    pub fn new(count: usize) -> ShardTable {
        let slots = (0..count.max(1))
            .map(|_| Slot {
                state: watch::channel(ShardState::Unowned).0,
                gate: Arc::new(RwLock::new(())),
                certain_until: Mutex::new(None),
            })
            .collect();
        ShardTable { slots }
    }

    pub fn count(&self) -> usize {
        self.slots.len()
    }

    pub fn shard_of(&self, tenant_id: &str) -> usize {
        shard_of(tenant_id, self.slots.len())
    }

    pub fn state(&self, shard: usize) -> ShardState {
        self.slots.get(shard).map_or(ShardState::Unowned, |slot| *slot.state.borrow())
    }

    pub fn owns(&self, tenant_id: &str) -> bool {
        self.state(self.shard_of(tenant_id)) == ShardState::Owned
    }

    pub fn owned(&self) -> usize {
        (0..self.slots.len()).filter(|&s| self.state(s) == ShardState::Owned).count()
    }

    /// A claim for reconciling the tenant, or `None` when its shard is not this replica's.
    pub async fn hold(&self, tenant_id: &str) -> Option<Hold> {
        let slot = self.slots.get(self.shard_of(tenant_id))?;
        if *slot.state.borrow() != ShardState::Owned {
            return None;
        }
        let guard = slot.gate.clone().read_owned().await;
        // Checked again under the gate: a hand-over may have begun while waiting for it.
        (*slot.state.borrow() == ShardState::Owned).then(|| Hold { _guard: guard, state: slot.state.subscribe() })
    }

    /// Owned (again), certain until `until` (`None`: no deadline).
    pub fn own(&self, shard: usize, until: Option<Instant>) {
        if let Some(slot) = self.slots.get(shard) {
            *slot.certain_until.lock().unwrap_or_else(PoisonError::into_inner) = until;
            slot.state.send_if_modified(|state| {
                let changed = *state == ShardState::Unowned;
                if changed {
                    *state = ShardState::Owned;
                }
                changed
            });
        }
    }

    /// A renewal while draining moves the deadline without ending the drain.
    pub fn extend(&self, shard: usize, until: Instant) {
        if let Some(slot) = self.slots.get(shard) {
            *slot.certain_until.lock().unwrap_or_else(PoisonError::into_inner) = Some(until);
        }
    }

    /// Starts a hand-over: no new reconcile of the shard from now on.
    pub fn drain(&self, shard: usize) {
        if let Some(slot) = self.slots.get(shard) {
            slot.state.send_if_modified(|state| {
                let changed = *state == ShardState::Owned;
                if changed {
                    *state = ShardState::Draining;
                }
                changed
            });
        }
    }

    /// Whether the shard has drained (no reconcile runs); it is then unowned, ready to be released.
    pub fn try_finish_drain(&self, shard: usize) -> bool {
        let Some(slot) = self.slots.get(shard) else { return true };
        let Ok(_exclusive) = slot.gate.try_write() else { return false };
        self.lose(shard);
        true
    }

    /// Ownership ends now; running reconciles of the shard are dropped.
    pub fn lose(&self, shard: usize) {
        if let Some(slot) = self.slots.get(shard) {
            *slot.certain_until.lock().unwrap_or_else(PoisonError::into_inner) = None;
            slot.state.send_if_modified(|state| {
                let changed = *state != ShardState::Unowned;
                *state = ShardState::Unowned;
                changed
            });
        }
    }

    /// Loses every shard whose deadline has passed; returns them.
    pub fn expire_overdue(&self, now: Instant) -> Vec<usize> {
        let overdue: Vec<usize> = (0..self.slots.len())
            .filter(|&shard| {
                let slot = &self.slots[shard];
                *slot.state.borrow() != ShardState::Unowned
                    && slot
                        .certain_until
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .is_some_and(|until| until <= now)
            })
            .collect();
        for &shard in &overdue {
            self.lose(shard);
        }
        overdue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn tenants_spread_over_shards_and_stay_put() {
        let ids: Vec<String> = (0..3000).map(|i| format!("00000000-0000-0000-0000-{i:012}")).collect();
        let mut counts = [0usize; 3];
        for id in &ids {
            counts[shard_of(id, 3)] += 1;
            assert_eq!(shard_of(id, 3), shard_of(&id.to_uppercase(), 3));
        }
        assert!(counts.iter().all(|&c| (800..1200).contains(&c)), "{counts:?}");
    }

    #[tokio::test]
    async fn only_an_owned_shard_gives_holds_and_losing_it_stops_them() {
        let table = ShardTable::new(1);
        assert!(table.hold("t").await.is_none());
        table.own(0, Some(Instant::now() + Duration::from_secs(60)));
        let mut hold = table.hold("t").await.expect("owned");
        assert!(table.expire_overdue(Instant::now()).is_empty());
        assert_eq!(table.expire_overdue(Instant::now() + Duration::from_secs(61)), vec![0]);
        tokio::time::timeout(Duration::from_secs(1), hold.lost()).await.expect("lost resolves");
        assert!(table.hold("t").await.is_none());
    }

    #[tokio::test]
    async fn the_write_fence_stays_open_through_a_drain_and_closes_when_the_shard_is_lost() {
        let table = ShardTable::new(1);
        table.own(0, Some(Instant::now() + Duration::from_secs(60)));
        let hold = table.hold("t").await.expect("owned");
        let fence = hold.fence();
        assert!(fence.is_open());
        table.drain(0);
        assert!(fence.is_open(), "a running reconcile finishes its writes during a hand-over");
        table.lose(0);
        assert!(!fence.is_open(), "no write starts once the shard is lost");
    }

    #[tokio::test]
    async fn a_drain_waits_for_running_reconciles() {
        let table = ShardTable::new(1);
        table.own(0, None);
        let hold = table.hold("t").await.expect("owned");
        table.drain(0);
        assert!(table.hold("t").await.is_none(), "no new reconcile while draining");
        assert!(!table.try_finish_drain(0), "one still runs");
        drop(hold);
        assert!(table.try_finish_drain(0));
        assert_eq!(table.state(0), ShardState::Unowned);
    }
}
