//! Which detection rules a preview runs in a tenant: the rules the manifests deliver there that are
//! new to it or whose query differs from the one it runs (every delivered rule with `all`), each with
//! the query that counts what it would have matched. Pure; the command runs the queries.

use serde::Serialize;

use super::managed::{DetectionRules, Managed};
use super::resolve::TenantDesired;
use crate::mapping::detection_rule::comparable;
use crate::model::ObjectRef;
use crate::wire::detection::DetectionRule;

/// How a previewed rule stands in the tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleChange {
    /// The tenant has no such rule yet.
    New,
    /// The tenant runs another query under this rule.
    QueryChanged,
    /// The tenant runs this query already (previewed only when every rule is asked for).
    Unchanged,
}

/// One rule to preview in one tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewTarget {
    pub object: ObjectRef,
    pub display_name: String,
    pub change: RuleChange,
    /// The rule's query with `| count` appended: one row, whatever it matches.
    pub count_query: String,
}

/// The rules to preview in `tenant`, given the rules it has.
pub fn preview_targets(tenant: &TenantDesired, live: &[DetectionRule], all: bool) -> Vec<PreviewTarget> {
    tenant
        .detection_rules
        .iter()
        .filter_map(|desired| {
            let current = live.iter().find(|rule| DetectionRules::owner(rule).as_ref() == Some(&desired.object));
            let change = match current {
                None => RuleChange::New,
                Some(rule) => {
                    let Ok(payload) = DetectionRules::payload(desired, &Default::default()) else { return None };
                    if comparable(rule).get("query") == comparable(&payload).get("query") {
                        RuleChange::Unchanged
                    } else {
                        RuleChange::QueryChanged
                    }
                }
            };
            (all || change != RuleChange::Unchanged).then(|| PreviewTarget {
                object: desired.object.clone(),
                display_name: desired.spec.display_name.clone(),
                change,
                count_query: format!("{}\n| count", desired.spec.query.trim_end()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::memory::first_tenant_desired;

    const MANIFESTS: &str = r#"
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: t1}
spec: {tenantId: 00000000-0000-0000-0000-000000000001, displayName: T1}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DetectionRule
metadata: {name: r}
spec:
  displayName: R
  frequency: PT1H
  query: "DeviceEvents | project Timestamp, ReportId, DeviceId // mine\n"
  alert:
    title: R
    description: R.
    severity: low
    tactic: Discovery
    entities: {hosts: [{deviceIdColumn: DeviceId}]}
---
apiVersion: tenantctl.dev/v1alpha1
kind: DistributionProfile
metadata: {name: p}
spec: {tenants: [t1], detectionRules: [r]}
"#;

    #[test]
    fn new_and_changed_queries_are_previewed_and_unchanged_ones_only_when_asked() {
        let tenant = first_tenant_desired(MANIFESTS);
        let targets = preview_targets(&tenant, &[], false);
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].change, RuleChange::New);
        assert_eq!(targets[0].count_query, "DeviceEvents | project Timestamp, ReportId, DeviceId // mine\n| count");

        let live = DetectionRules::payload(&tenant.detection_rules[0], &Default::default()).expect("payload");
        assert!(preview_targets(&tenant, std::slice::from_ref(&live), false).is_empty());
        assert_eq!(preview_targets(&tenant, std::slice::from_ref(&live), true)[0].change, RuleChange::Unchanged);

        let mut changed = tenant.clone();
        Arc::make_mut(&mut changed.detection_rules[0].spec).query = "DeviceEvents | take 1".into();
        assert_eq!(preview_targets(&changed, &[live], false)[0].change, RuleChange::QueryChanged);
    }
}
