//! Policies in the form users write them, for plan diffs: a live Settings Catalog payload is read back
//! into its typed kind (the YAML a user would write), falling back to raw settings when it does not
//! fit the kind.

use serde_json::{Value, json};

use super::assignments::{GroupsByName, display as display_assignments};
use super::ownership::split_marker;
use crate::graph::mapping;
use crate::graph::wire::{AssignmentTarget, ConfigurationPolicy};
use crate::model::PolicyKind;

/// The display form of a policy of `kind` with its assignment targets.
pub fn display(
    kind: PolicyKind,
    policy: &ConfigurationPolicy,
    targets: &[AssignmentTarget],
    groups: &GroupsByName,
) -> Value {
    let (description, _) = split_marker(&policy.description);
    let mut value = mapping::typed_spec(kind, policy, &description)
        .or_else(|| mapping::typed_spec(PolicyKind::SettingsCatalogPolicy, policy, &description))
        .unwrap_or_else(|| json!({"displayName": policy.name}));
    if let Some(object) = value.as_object_mut() {
        object.insert("assignments".into(), display_assignments(targets, groups));
    }
    value
}
