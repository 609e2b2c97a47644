//! Which tenants a DistributionProfile selects.

use std::collections::BTreeMap;

use crate::model::profile::{DistributionProfileSpec, LabelSelector, SelectorOperator};

/// Whether a label selector matches a label set (Kubernetes semantics: every requirement holds).
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_match = selector.match_labels.iter().all(|(key, value)| labels.get(key) == Some(value));
    let expressions_match = selector.match_expressions.iter().all(|requirement| {
        let value = labels.get(&requirement.key);
        match requirement.operator {
            SelectorOperator::In => value.is_some_and(|v| requirement.values.contains(v)),
            SelectorOperator::NotIn => value.is_none_or(|v| !requirement.values.contains(v)),
            SelectorOperator::Exists => value.is_some(),
            SelectorOperator::DoesNotExist => value.is_none(),
        }
    });
    labels_match && expressions_match
}

/// Whether a profile selects a tenant: the selector or the explicit list includes it, and the
/// exclusion list does not.
pub fn profile_selects(
    profile: &DistributionProfileSpec,
    tenant_name: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    if profile.exclude_tenants.iter().any(|t| t == tenant_name) {
        return false;
    }
    profile.tenants.iter().any(|t| t == tenant_name)
        || profile.tenant_selector.as_ref().is_some_and(|s| selector_matches(s, labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expression(key: &str, operator: SelectorOperator, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement { key: key.into(), operator, values: values.iter().map(|v| v.to_string()).collect() }
    }

    #[test]
    fn match_labels_and_every_operator() {
        let emea_retail = labels(&[("region", "emea"), ("group", "retail")]);
        let us = labels(&[("region", "us")]);
        let selector = |exprs: Vec<LabelSelectorRequirement>| LabelSelector {
            match_labels: Default::default(),
            match_expressions: exprs,
        };

        assert!(selector_matches(&LabelSelector::default(), &us), "an empty selector matches everything");
        let by_label = LabelSelector { match_labels: labels(&[("region", "emea")]), match_expressions: vec![] };
        assert!(selector_matches(&by_label, &emea_retail));
        assert!(!selector_matches(&by_label, &us));

        let in_ = selector(vec![expression("region", SelectorOperator::In, &["emea", "apac"])]);
        assert!(selector_matches(&in_, &emea_retail) && !selector_matches(&in_, &us));
        let not_in = selector(vec![expression("region", SelectorOperator::NotIn, &["emea"])]);
        assert!(!selector_matches(&not_in, &emea_retail) && selector_matches(&not_in, &us));
        assert!(selector_matches(&not_in, &labels(&[])), "NotIn matches an absent label");
        let exists = selector(vec![expression("group", SelectorOperator::Exists, &[])]);
        assert!(selector_matches(&exists, &emea_retail) && !selector_matches(&exists, &us));
        let absent = selector(vec![expression("group", SelectorOperator::DoesNotExist, &[])]);
        assert!(!selector_matches(&absent, &emea_retail) && selector_matches(&absent, &us));
    }

    #[test]
    fn explicit_lists_and_exclusions() {
        let mut profile: DistributionProfileSpec =
            serde_json::from_value(serde_json::json!({"policies": [], "tenants": ["a"], "excludeTenants": ["b"]}))
                .expect("profile");
        assert!(profile_selects(&profile, "a", &labels(&[])));
        assert!(!profile_selects(&profile, "c", &labels(&[])), "no selector selects nothing by label");
        profile.tenant_selector = Some(LabelSelector::default());
        assert!(profile_selects(&profile, "c", &labels(&[])));
        assert!(!profile_selects(&profile, "b", &labels(&[])), "exclusion wins over the selector");
    }
}
