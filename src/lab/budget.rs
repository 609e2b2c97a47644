//! Intune's write budget: at most N writes per tenant and app within a sliding window. A write over
//! budget is refused (429) and not counted, and the refusal says when the oldest counted write leaves
//! the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use super::{RetryAfterMode, WriteBudget};

/// Sliding windows of recent writes, per (tenant, client id).
#[derive(Debug, Default)]
pub struct WriteBudgets {
    windows: Mutex<HashMap<(String, String), VecDeque<Instant>>>,
    /// 429s given per tenant, for [`RetryAfterMode::Alternate`].
    refusals: Mutex<HashMap<String, u64>>,
}

/// A refused write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    /// Whole seconds until a slot frees (at least 1), when the response is to say so.
    pub retry_after: Option<u64>,
}

impl WriteBudgets {
    /// Counts a write at `now`, or refuses it when the window is full.
    pub fn admit(
        &self,
        tenant: &str,
        app: &str,
        budget: WriteBudget,
        mode: RetryAfterMode,
        now: Instant,
    ) -> Result<(), Throttled> {
        let wait = {
            let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
            let window = windows.entry((tenant.to_string(), app.to_string())).or_default();
            admit_in_window(window, budget, now)
        };
        let Some(wait) = wait else { return Ok(()) };
        let says_when = self.count_refusal(tenant, mode);
        Err(Throttled { retry_after: says_when.then(|| whole_seconds_at_least_one(wait)) })
    }

    /// Counts a 429 given to a tenant (for the budget or an injected fault alike, as Graph's
    /// throttling does not say why) and tells whether it carries `Retry-After`.
    pub fn count_refusal(&self, tenant: &str, mode: RetryAfterMode) -> bool {
        let refusal = {
            let mut refusals = self.refusals.lock().unwrap_or_else(PoisonError::into_inner);
            let count = refusals.entry(tenant.to_string()).or_default();
            *count += 1;
            *count
        };
        match mode {
            RetryAfterMode::Always => true,
            RetryAfterMode::Never => false,
            RetryAfterMode::Alternate => refusal % 2 == 1,
        }
    }
}

/// Forgets writes that left the window, then counts one more when there is room. Returns how long
/// until a slot frees when there is none.
fn admit_in_window(window: &mut VecDeque<Instant>, budget: WriteBudget, now: Instant) -> Option<Duration> {
    while window.front().is_some_and(|&oldest| now.saturating_duration_since(oldest) >= budget.window) {
        window.pop_front();
    }
    if window.len() < budget.writes as usize {
        window.push_back(now);
        return None;
    }
    let oldest = window.front().copied().unwrap_or(now);
    Some((oldest + budget.window).saturating_duration_since(now))
}

fn whole_seconds_at_least_one(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: WriteBudget = WriteBudget { writes: 3, window: Duration::from_secs(20) };

    #[test]
    fn the_window_slides() {
        let start = Instant::now();
        let mut window = VecDeque::new();
        for offset in [0, 1, 2] {
            assert_eq!(admit_in_window(&mut window, BUDGET, start + Duration::from_secs(offset)), None);
        }
        let at_five = start + Duration::from_secs(5);
        assert_eq!(admit_in_window(&mut window, BUDGET, at_five), Some(Duration::from_secs(15)));
        assert_eq!(window.len(), 3, "refused writes are not counted");
        assert_eq!(admit_in_window(&mut window, BUDGET, start + Duration::from_secs(20)), None);
        assert_eq!(
            admit_in_window(&mut window, BUDGET, start + Duration::from_millis(20_500)),
            Some(Duration::from_millis(500))
        );
    }

    #[test]
    fn retry_after_is_whole_seconds_and_follows_the_mode() {
        assert_eq!(whole_seconds_at_least_one(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds_at_least_one(Duration::ZERO), 1);
        assert_eq!(whole_seconds_at_least_one(Duration::from_millis(14_001)), 15);

        let budgets = WriteBudgets::default();
        let now = Instant::now();
        let budget = WriteBudget { writes: 1, window: Duration::from_secs(10) };
        assert_eq!(budgets.admit("t", "app", budget, RetryAfterMode::Alternate, now), Ok(()));
        let refusals: Vec<Option<u64>> = (0..4)
            .map(|_| {
                budgets.admit("t", "app", budget, RetryAfterMode::Alternate, now).expect_err("throttled").retry_after
            })
            .collect();
        assert_eq!(refusals, [Some(10), None, Some(10), None]);
        assert_eq!(budgets.admit("t", "other-app", budget, RetryAfterMode::Never, now), Ok(()), "per app");
        assert_eq!(budgets.admit("u", "app", budget, RetryAfterMode::Never, now), Ok(()), "per tenant");
        let refused = budgets.admit("u", "app", budget, RetryAfterMode::Never, now);
        assert_eq!(refused, Err(Throttled { retry_after: None }));
    }
}
