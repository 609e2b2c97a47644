//! `metadata` as users write it in files: only what a manifest author sets.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Object metadata accepted in manifest files.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestMetadata {
    /// Name, unique per kind and namespace (lowercase letters, digits, `-`, `.`).
    pub name: String,
    /// Namespace; `default` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels; DistributionProfiles select Tenants by them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Why `name` is not a valid Kubernetes object name (RFC 1123 subdomain), if it is not.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("must not be empty".into());
    }
    if name.len() > 253 {
        return Some("must be at most 253 characters".into());
    }
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if !name.split('.').all(valid_label) {
        return Some(format!(
            "`{name}` is not a valid name: use lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit"
        ));
    }
    None
}

/// Why a label key or value is invalid, if it is.
pub fn label_problem(key: &str, value: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let is_segment = |s: &str, max: usize| {
        !s.is_empty()
            && s.len() <= max
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
    };
    if prefix.is_some_and(|p| name_problem(p).is_some()) || !is_segment(name, 63) {
        return Some(format!("label key `{key}` is invalid"));
    }
    if !value.is_empty() && !is_segment(value, 63) {
        return Some(format!(
            "label value `{value}` is invalid: at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name_problem("emea-retail"), None);
        assert_eq!(name_problem("a.b-c"), None);
        assert!(name_problem("EMEA").is_some());
        assert!(name_problem("-a").is_some());
        assert!(name_problem("a_b").is_some());
        assert!(name_problem("").is_some());
    }

    #[test]
    fn labels() {
        assert_eq!(label_problem("region", "emea"), None);
        assert_eq!(label_problem("tenantctl.dev/business-group", "Retail_EU"), None);
        assert_eq!(label_problem("region", ""), None);
        assert!(label_problem("region", "emea west").is_some());
        assert!(label_problem("Bad Key", "x").is_some());
        assert!(label_problem("UPPER.dev/x", "x").is_some());
    }
}
