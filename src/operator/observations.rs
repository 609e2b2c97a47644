//! What the operator keeps of each tenant between syncs (the settings of the policies it compares,
//! the groups it looked up), so that a sync of a tenant in sync costs one list. Bounded: beyond
//! `capacity` tenants, the one used longest ago is forgotten (and read in full at its next sync).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::engine::policy_cache::{CacheStore, PolicyCache};

/// Default number of tenants whose observations are kept.
pub const DEFAULT_CACHED_TENANTS: usize = 5_000;

pub struct Observations {
    capacity: usize,
    clock: AtomicU64,
    /// By tenant id: the cache and when it was last saved.
    tenants: Mutex<HashMap<String, (u64, PolicyCache)>>,
}

impl Observations {
    pub fn new(capacity: usize) -> Observations {
        Observations { capacity, clock: AtomicU64::new(0), tenants: Mutex::new(HashMap::new()) }
    }

    /// Forgets a tenant (deleted, or its credentials changed).
    pub fn forget(&self, tenant_id: &str) {
        self.tenants.lock().unwrap_or_else(PoisonError::into_inner).remove(tenant_id);
    }
}

impl CacheStore for Observations {
    /// Takes the tenant's cache out: a tenant is synced by one reconcile at a time, which saves it back.
    fn load(&self, tenant_id: &str) -> PolicyCache {
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        tenants.remove(tenant_id).map(|(_, cache)| cache).unwrap_or_default()
    }

    fn save(&self, tenant_id: &str, cache: PolicyCache) {
        if self.capacity == 0 {
            return;
        }
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        tenants.insert(tenant_id.to_string(), (now, cache));
        while tenants.len() > self.capacity {
            let Some(oldest) = tenants.iter().min_by_key(|(_, (used, _))| *used).map(|(id, _)| id.clone()) else {
                break;
            };
            tenants.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_used_longest_ago_is_forgotten_beyond_capacity() {
        let observations = Observations::new(2);
        for tenant in ["a", "b", "c"] {
            observations.save(tenant, PolicyCache::default());
        }
        let tenants = observations.tenants.lock().expect("lock");
        assert_eq!(tenants.len(), 2);
        assert!(!tenants.contains_key("a") && tenants.contains_key("c"));
    }
}
