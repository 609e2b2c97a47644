//! Request counters (`GET`/`DELETE /_lab/stats`), so tests and benchmarks can see how many calls a
//! client made, to which routes, and how they ended.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// Status recorded for a request whose connection the lab dropped: no status reached the client.
pub const DROPPED: u16 = 0;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    route: String,
    method: String,
    tenant: Option<String>,
    status: u16,
}

#[derive(Debug, Default)]
pub struct Stats {
    counts: Mutex<BTreeMap<Key, u64>>,
}

/// Body of `GET /_lab/stats` (`tenants` is added from the store).
#[derive(Debug, Serialize)]
pub struct StatsView {
    pub requests: Vec<RouteCount>,
    pub totals: Totals,
}

#[derive(Debug, Serialize)]
pub struct RouteCount {
    pub route: String,
    pub method: String,
    pub tenant: Option<String>,
    pub status: u16,
    pub count: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub requests: u64,
    pub by_status: BTreeMap<String, u64>,
}

impl Stats {
    /// Counts one request: `route` is the route template (`GET /beta/…/{id}`), `status` the status sent,
    /// or [`DROPPED`].
    pub fn record(&self, route: &str, method: &str, tenant: Option<&str>, status: u16) {
        let key =
            Key { route: route.to_string(), method: method.to_string(), tenant: tenant.map(str::to_string), status };
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner).entry(key).or_default() += 1;
    }

    pub fn reset(&self) {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    pub fn view(&self) -> StatsView {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut totals = Totals { requests: 0, by_status: BTreeMap::new() };
        let requests = counts
            .iter()
            .map(|(key, &count)| {
                totals.requests += count;
                *totals.by_status.entry(key.status.to_string()).or_default() += count;
                RouteCount {
                    route: key.route.clone(),
                    method: key.method.clone(),
                    tenant: key.tenant.clone(),
                    status: key.status,
                    count,
                }
            })
            .collect();
        StatsView { requests, totals }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_route_tenant_and_status() {
        let stats = Stats::default();
        stats.record("GET /beta/groups", "GET", Some("t1"), 200);
        stats.record("GET /beta/groups", "GET", Some("t1"), 200);
        stats.record("GET /beta/groups", "GET", None, 401);
        stats.record("POST /beta/$batch", "POST", Some("t1"), DROPPED);
        let view = stats.view();
        assert_eq!(view.totals.requests, 4);
        assert_eq!(view.totals.by_status.get("200"), Some(&2));
        assert_eq!(view.totals.by_status.get("0"), Some(&1));
        assert_eq!(view.requests.iter().find(|r| r.status == 200).map(|r| r.count), Some(2));
        stats.reset();
        assert_eq!(stats.view().totals.requests, 0);
    }
}
