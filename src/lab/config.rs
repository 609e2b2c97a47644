//! The knobs that can change while the lab runs (`GET`/`PUT /_lab/config`), so a test can turn faults
//! on for one step and off again.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::{FaultRates, LabOptions, RetryAfterMode, WriteBudget};

/// Current knobs; a request works with a snapshot taken when it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeConfig {
    pub latency: Duration,
    pub page_size: usize,
    pub max_top: usize,
    /// Items per page of a list with `$expand=settings`, which Graph pages far smaller than a plain list.
    pub expanded_page_size: Option<usize>,
    pub write_budget: Option<WriteBudget>,
    pub detection_create_budget: Option<WriteBudget>,
    pub retry_after: RetryAfterMode,
    pub faults: FaultRates,
    pub failing_tenants: Vec<String>,
    pub approval_tenants: Vec<String>,
    /// Per tenant id: application permissions left out of its tokens, and licences (SKU part numbers
    /// or service plan names) left out of its subscriptions, as if never granted or bought.
    pub withheld: BTreeMap<String, Vec<String>>,
    pub token_lifetime: Duration,
}

impl RuntimeConfig {
    pub fn from_options(options: &LabOptions) -> Result<RuntimeConfig, String> {
        let config = RuntimeConfig {
            latency: options.latency,
            page_size: options.page_size,
            max_top: options.max_top,
            expanded_page_size: options.expanded_page_size,
            write_budget: options.write_budget,
            detection_create_budget: options.detection_create_budget,
            retry_after: options.retry_after,
            faults: options.faults,
            failing_tenants: options.failing_tenants.clone(),
            approval_tenants: options.approval_tenants.clone(),
            withheld: options.withheld.clone(),
            token_lifetime: options.token_lifetime,
        };
        match config.problem() {
            Some(problem) => Err(problem),
            None => Ok(config),
        }
    }

    fn problem(&self) -> Option<String> {
        if self.page_size == 0 || self.max_top == 0 || self.expanded_page_size == Some(0) {
            return Some("page size must be at least 1".into());
        }
        if [self.write_budget, self.detection_create_budget].iter().flatten().any(|b| b.window.is_zero()) {
            return Some("the write budget window must be longer than 0".into());
        }
        if self.token_lifetime.is_zero() {
            return Some("the token lifetime must be longer than 0".into());
        }
        self.faults.problem()
    }

    pub fn is_failing(&self, tenant: &str) -> bool {
        self.failing_tenants.iter().any(|t| t.eq_ignore_ascii_case(tenant))
    }

    /// The permissions and licences withheld from a tenant.
    pub fn withheld_from(&self, tenant: &str) -> &[String] {
        self.withheld.iter().find(|(id, _)| id.eq_ignore_ascii_case(tenant)).map_or(&[], |(_, names)| names)
    }

    /// Whether Multi Admin Approval holds the tenant's configuration-policy writes.
    pub fn requires_approval(&self, tenant: &str) -> bool {
        self.approval_tenants.iter().any(|t| t.eq_ignore_ascii_case(tenant))
    }

    /// Applies the knobs an update names; the others keep their values. Nothing changes when the
    /// result would be unusable.
    pub fn apply(&mut self, update: ConfigUpdate) -> Result<(), String> {
        let mut next = self.clone();
        if let Some(ms) = update.latency_ms {
            next.latency = Duration::from_millis(ms);
        }
        if let Some(size) = update.page_size {
            next.page_size = size;
        }
        if let Some(top) = update.max_top {
            next.max_top = top;
        }
        if let Some(size) = update.expanded_page_size {
            next.expanded_page_size = size;
        }
        if let Some(budget) = update.write_budget {
            next.write_budget =
                budget.map(|b| WriteBudget { writes: b.writes, window: Duration::from_millis(b.window_ms) });
        }
        if let Some(budget) = update.detection_create_budget {
            next.detection_create_budget =
                budget.map(|b| WriteBudget { writes: b.writes, window: Duration::from_millis(b.window_ms) });
        }
        if let Some(mode) = update.retry_after {
            next.retry_after = mode;
        }
        if let Some(faults) = update.faults {
            next.faults = faults;
        }
        if let Some(tenants) = update.failing_tenants {
            next.failing_tenants = tenants;
        }
        if let Some(tenants) = update.approval_tenants {
            next.approval_tenants = tenants;
        }
        if let Some(withheld) = update.withheld {
            next.withheld = withheld;
        }
        if let Some(ms) = update.token_lifetime_ms {
            next.token_lifetime = Duration::from_millis(ms);
        }
        if let Some(problem) = next.problem() {
            return Err(problem);
        }
        *self = next;
        Ok(())
    }

    pub fn view(&self) -> ConfigView {
        ConfigView {
            latency_ms: millis(self.latency),
            page_size: self.page_size,
            max_top: self.max_top,
            expanded_page_size: self.expanded_page_size,
            write_budget: self.write_budget.map(|b| BudgetJson { writes: b.writes, window_ms: millis(b.window) }),
            detection_create_budget: self
                .detection_create_budget
                .map(|b| BudgetJson { writes: b.writes, window_ms: millis(b.window) }),
            retry_after: self.retry_after,
            faults: self.faults,
            failing_tenants: self.failing_tenants.clone(),
            approval_tenants: self.approval_tenants.clone(),
            withheld: self.withheld.clone(),
            token_lifetime_ms: millis(self.token_lifetime),
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Body of `PUT /_lab/config`: any subset of the knobs. `faults` replaces all four rates (a rate left
/// out is 0); `writeBudget: null` removes the budget.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigUpdate {
    #[serde(default)]
    pub latency_ms: Option<u64>,
    #[serde(default)]
    pub page_size: Option<usize>,
    #[serde(default)]
    pub max_top: Option<usize>,
    /// `null` makes expanded lists page as plain ones.
    #[serde(default, deserialize_with = "present")]
    pub expanded_page_size: Option<Option<usize>>,
    #[serde(default, deserialize_with = "present")]
    pub write_budget: Option<Option<BudgetJson>>,
    /// `null` lets detection rules be created without limit.
    #[serde(default, deserialize_with = "present")]
    pub detection_create_budget: Option<Option<BudgetJson>>,
    #[serde(default)]
    pub retry_after: Option<RetryAfterMode>,
    #[serde(default)]
    pub faults: Option<FaultRates>,
    #[serde(default)]
    pub failing_tenants: Option<Vec<String>>,
    #[serde(default)]
    pub approval_tenants: Option<Vec<String>>,
    /// Replaces every tenant's withheld permissions and licences.
    #[serde(default)]
    pub withheld: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    pub token_lifetime_ms: Option<u64>,
}

/// Tells `"writeBudget": null` (remove the budget) from a missing `writeBudget` (keep it).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BudgetJson {
    pub writes: u32,
    pub window_ms: u64,
}

/// Body of `GET /_lab/config`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigView {
    latency_ms: u64,
    page_size: usize,
    max_top: usize,
    expanded_page_size: Option<usize>,
    write_budget: Option<BudgetJson>,
    detection_create_budget: Option<BudgetJson>,
    retry_after: RetryAfterMode,
    faults: FaultRates,
    failing_tenants: Vec<String>,
    approval_tenants: Vec<String>,
    withheld: BTreeMap<String, Vec<String>>,
    token_lifetime_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn update(value: serde_json::Value) -> ConfigUpdate {
        serde_json::from_value(value).expect("update")
    }

    #[test]
    fn updates_change_only_what_they_name() {
        let mut config = RuntimeConfig::from_options(&LabOptions::default()).expect("defaults are valid");
        config.apply(update(json!({"latencyMs": 5, "faults": {"serverError": 0.5}}))).expect("apply");
        assert_eq!(config.latency, Duration::from_millis(5));
        assert_eq!(config.faults.server_error, 0.5);
        assert_eq!(config.write_budget, Some(WriteBudget::INTUNE_PER_APP));
        config.apply(update(json!({"writeBudget": null, "retryAfter": "alternate"}))).expect("apply");
        assert_eq!((config.write_budget, config.retry_after), (None, RetryAfterMode::Alternate));
        config.apply(update(json!({"writeBudget": {"writes": 2, "windowMs": 1500}}))).expect("apply");
        config.apply(update(json!({"expandedPageSize": 2}))).expect("apply");
        assert_eq!(config.expanded_page_size, Some(2));
        assert_eq!(config.write_budget, Some(WriteBudget { writes: 2, window: Duration::from_millis(1500) }));
        let view = serde_json::to_value(config.view()).expect("view");
        assert_eq!(view["writeBudget"], json!({"writes": 2, "windowMs": 1500}));
        assert_eq!(
            view["faults"],
            json!({"serverError": 0.5, "connectionReset": 0.0, "lostResponse": 0.0, "throttle": 0.0})
        );
    }

    #[test]
    fn unusable_updates_change_nothing() {
        let mut config = RuntimeConfig::from_options(&LabOptions::default()).expect("defaults are valid");
        let before = config.clone();
        assert!(config.apply(update(json!({"latencyMs": 9, "faults": {"lostResponse": 1.5}}))).is_err());
        assert!(config.apply(update(json!({"pageSize": 0}))).is_err());
        assert!(config.apply(update(json!({"expandedPageSize": 0}))).is_err());
        assert!(config.apply(update(json!({"faults": {"throttle": -0.1}}))).is_err());
        assert_eq!(config, before);
        assert!(serde_json::from_value::<ConfigUpdate>(json!({"pageSzie": 3})).is_err(), "typos are errors");
        assert!(serde_json::from_value::<ConfigUpdate>(json!({"retryAfter": "sometimes"})).is_err());
    }
}
