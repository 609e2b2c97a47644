//! Unified fleet views: every tenant's managed devices or risky users in one list with a tenant
//! column, filtered, sorted, and capped per tenant and in total with what the caps cut said.

use serde::Serialize;

use super::TenantAnswer;
use super::hunting::{RowLimits, TenantRows};
use super::incidents::UnknownTenant;
use crate::wire::fleet::{ManagedDevice, RiskyUser};

/// One object with the tenant it came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row<T> {
    pub tenant: String,
    #[serde(flatten)]
    pub item: T,
}

/// The merged view.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Merged<T> {
    pub rows: Vec<Row<T>>,
    /// Per tenant read: how many objects matched, and how many were kept.
    pub tenants: Vec<TenantRows>,
    pub unknown_tenants: Vec<UnknownTenant>,
}

impl<T> Merged<T> {
    pub fn truncated(&self) -> bool {
        self.tenants.iter().any(|t| t.kept < t.returned)
    }

    pub fn matched(&self) -> usize {
        self.tenants.iter().map(|t| t.returned).sum()
    }
}

/// Merges the answers (tenants in the order given), keeping what `keeps` accepts, each tenant's
/// objects ordered by `order` before the caps cut them.
pub fn merge<T>(
    answers: Vec<TenantAnswer<Vec<T>>>,
    keeps: impl Fn(&T) -> bool,
    order: impl Fn(&T, &T) -> std::cmp::Ordering,
    limits: RowLimits,
) -> Merged<T> {
    let mut merged = Merged { rows: Vec::new(), tenants: Vec::new(), unknown_tenants: Vec::new() };
    for answer in answers {
        let mut items = match answer.answer {
            Ok(items) => items,
            Err(reason) => {
                let unknown = UnknownTenant { tenant: answer.tenant, tenant_id: answer.tenant_id, reason };
                merged.unknown_tenants.push(unknown);
                continue;
            }
        };
        items.retain(|item| keeps(item));
        items.sort_by(&order);
        let returned = items.len();
        let room = limits.total.saturating_sub(merged.rows.len());
        let kept = returned.min(limits.per_tenant).min(room);
        merged.rows.extend(items.into_iter().take(kept).map(|item| Row { tenant: answer.tenant.clone(), item }));
        merged.tenants.push(TenantRows { tenant: answer.tenant, returned, kept });
    }
    merged
}

/// Which devices a view keeps.
#[derive(Clone, Debug, Default)]
pub struct DeviceFilter {
    /// Only devices that are not compliant (any state but `compliant`).
    pub non_compliant: bool,
    /// Only devices that last synced before this instant.
    pub synced_before: Option<jiff::Timestamp>,
    /// Only devices whose operating system starts with this (case-insensitive).
    pub os: Option<String>,
}

impl DeviceFilter {
    pub fn keeps(&self, device: &ManagedDevice) -> bool {
        let stale = self.synced_before.is_none_or(|before| {
            // A device that never synced, or whose time cannot be read, is stale.
            device.last_sync_date_time.parse::<jiff::Timestamp>().map_or(true, |synced| synced < before)
        });
        let os = self
            .os
            .as_ref()
            .is_none_or(|os| device.operating_system.to_ascii_lowercase().starts_with(&os.to_ascii_lowercase()));
        (!self.non_compliant || !device.compliance_state.eq_ignore_ascii_case("compliant")) && stale && os
    }
}

/// Devices by name.
pub fn device_order(a: &ManagedDevice, b: &ManagedDevice) -> std::cmp::Ordering {
    a.device_name.to_ascii_lowercase().cmp(&b.device_name.to_ascii_lowercase())
}

/// Risk levels from the most to the least severe.
const RISK_LEVELS: &[&str] = &["high", "medium", "low", "hidden", "none"];

/// Riskiest first, then most recently updated.
pub fn risk_order(a: &RiskyUser, b: &RiskyUser) -> std::cmp::Ordering {
    let rank = |u: &RiskyUser| {
        RISK_LEVELS.iter().position(|l| l.eq_ignore_ascii_case(&u.risk_level)).unwrap_or(RISK_LEVELS.len())
    };
    rank(a).cmp(&rank(b)).then_with(|| b.risk_last_updated_date_time.cmp(&a.risk_last_updated_date_time))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str, compliance: &str, synced: &str) -> ManagedDevice {
        ManagedDevice {
            id: name.into(),
            device_name: name.into(),
            operating_system: "Windows".into(),
            compliance_state: compliance.into(),
            last_sync_date_time: synced.into(),
            ..ManagedDevice::default()
        }
    }

    #[test]
    fn devices_are_filtered_sorted_and_capped_per_tenant_and_in_total() {
        let answers = vec![
            TenantAnswer {
                tenant: "a".into(),
                tenant_id: "a-id".into(),
                answer: Ok(vec![
                    device("WS-2", "noncompliant", "2026-11-30T00:00:00Z"),
                    device("WS-1", "compliant", "2026-09-01T00:00:00Z"),
                    device("WS-3", "inGracePeriod", ""),
                ]),
            },
            TenantAnswer { tenant: "b".into(), tenant_id: "b-id".into(), answer: Err("token refused".into()) },
            TenantAnswer {
                tenant: "c".into(),
                tenant_id: "c-id".into(),
                answer: Ok(vec![device("X-1", "noncompliant", "2026-11-30T00:00:00Z")]),
            },
        ];
        let filter = DeviceFilter { non_compliant: true, ..DeviceFilter::default() };
        let merged = merge(answers.clone(), |d| filter.keeps(d), device_order, RowLimits { per_tenant: 1, total: 10 });
        let rows: Vec<(&str, &str)> =
            merged.rows.iter().map(|r| (r.tenant.as_str(), r.item.device_name.as_str())).collect();
        assert_eq!(rows, [("a", "WS-2"), ("c", "X-1")]);
        assert_eq!((merged.matched(), merged.truncated(), merged.unknown_tenants.len()), (3, true, 1));

        let stale = DeviceFilter { synced_before: "2026-11-01T00:00:00Z".parse().ok(), ..DeviceFilter::default() };
        let merged = merge(answers, |d| stale.keeps(d), device_order, RowLimits { per_tenant: 10, total: 10 });
        let names: Vec<&str> = merged.rows.iter().map(|r| r.item.device_name.as_str()).collect();
        assert_eq!(names, ["WS-1", "WS-3"], "old or never synced");
    }
}
