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
    let typed = match kind {
        PolicyKind::AntivirusPolicy => {
            mapping::antivirus::from_wire(policy, &description).ok().map(serde_json::to_value)
        }
        PolicyKind::FirewallPolicy => mapping::firewall::from_wire(policy, &description).ok().map(serde_json::to_value),
        PolicyKind::AttackSurfaceReductionPolicy => {
            mapping::asr::from_wire(policy, &description).ok().map(serde_json::to_value)
        }
        PolicyKind::SettingsCatalogPolicy => None,
    };
    let mut value = match typed {
        Some(Ok(value)) => value,
        _ => raw(policy, &description),
    };
    if let Some(object) = value.as_object_mut() {
        object.insert("assignments".into(), display_assignments(targets, groups));
    }
    value
}

fn raw(policy: &ConfigurationPolicy, description: &str) -> Value {
    match mapping::settings_catalog::from_wire(policy, description) {
        Ok(spec) => serde_json::to_value(spec).unwrap_or_else(|_| json!({"displayName": policy.name})),
        Err(_) => json!({"displayName": policy.name}),
    }
}
