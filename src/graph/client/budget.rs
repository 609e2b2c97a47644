//! The per-tenant request budget. Intune allows 100 writes and 1000 requests per 20 s per app per
//! tenant; the client paces itself below that instead of running into 429s.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Requests one app may send to one tenant per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestBudget {
    pub writes: u32,
    pub requests: u32,
    pub window: Duration,
}

impl Default for RequestBudget {
    /// 90 % of Intune's published per-app, per-tenant limits.
    fn default() -> Self {
        RequestBudget { writes: 90, requests: 900, window: Duration::from_secs(20) }
    }
}

#[derive(Default)]
struct Windows {
    writes: VecDeque<Instant>,
    all: VecDeque<Instant>,
}

/// Sliding windows per tenant.
pub(super) struct Budgets {
    budget: RequestBudget,
    tenants: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Windows>>>>,
}

impl Budgets {
    pub fn new(budget: RequestBudget) -> Self {
        Budgets { budget, tenants: Mutex::new(HashMap::new()) }
    }

    /// Waits until one more request (a write if `write`) fits the tenant's budget, and counts it.
    pub async fn acquire(&self, tenant_id: &str, write: bool) {
        let slot = {
            let mut tenants = self.tenants.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            tenants.entry(tenant_id.to_string()).or_default().clone()
        };
        // Holding the tenant's lock while waiting keeps its requests in order, first come first served.
        let mut guard = slot.lock().await;
        let windows = &mut *guard;
        loop {
            let now = Instant::now();
            let window = self.budget.window;
            for queue in [&mut windows.writes, &mut windows.all] {
                while queue.front().is_some_and(|t| now.duration_since(*t) >= window) {
                    queue.pop_front();
                }
            }
            let wait_all = wait_for(&windows.all, self.budget.requests, window, now);
            let wait_writes = if write { wait_for(&windows.writes, self.budget.writes, window, now) } else { None };
            match wait_all.max(wait_writes) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => {
                    windows.all.push_back(now);
                    if write {
                        windows.writes.push_back(now);
                    }
                    return;
                }
            }
        }
    }
}

/// How long until a queue holding `limit` entries has room, or `None` when it has room now.
fn wait_for(queue: &VecDeque<Instant>, limit: u32, window: Duration, now: Instant) -> Option<Duration> {
    if queue.len() < limit.max(1) as usize {
        return None;
    }
    queue.front().map(|oldest| (*oldest + window).saturating_duration_since(now) + Duration::from_millis(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn writes_beyond_the_budget_wait_for_the_window() {
        let budgets = Budgets::new(RequestBudget { writes: 2, requests: 100, window: Duration::from_secs(10) });
        let start = tokio::time::Instant::now();
        budgets.acquire("t", true).await;
        budgets.acquire("t", true).await;
        budgets.acquire("t", false).await;
        assert!(start.elapsed() < Duration::from_secs(1), "reads and the first writes pass at once");
        budgets.acquire("other", true).await;
        assert!(start.elapsed() < Duration::from_secs(1), "tenants have separate budgets");
        budgets.acquire("t", true).await;
        assert!(start.elapsed() >= Duration::from_secs(10), "the third write waits for the window");
    }
}
