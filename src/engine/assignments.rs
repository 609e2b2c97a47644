//! Assignment intents (all devices, all users, groups by display name) ↔ Graph assignment targets.
//! Groups are resolved per tenant: the same profile works across tenants whose group ids differ.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::model::profile::Assignments;
use crate::wire::common::Group;
use crate::wire::{AssignmentTarget, PolicyAssignment};

/// Groups of one tenant by display name, as observed.
pub type GroupsByName = BTreeMap<String, Vec<Group>>;

/// The Graph targets for an intent, or why they cannot be built in this tenant: a group that does
/// not exist, or a name several groups share. Never a silent skip.
pub fn resolve_targets(intent: &Assignments, groups: &GroupsByName) -> Result<Vec<AssignmentTarget>, Vec<String>> {
    let mut targets = Vec::new();
    let mut problems = Vec::new();
    if intent.all_devices {
        targets.push(AssignmentTarget::AllDevices {
            device_and_app_management_assignment_filter_id: None,
            device_and_app_management_assignment_filter_type: None,
        });
    }
    if intent.all_users {
        targets.push(AssignmentTarget::AllLicensedUsers {
            device_and_app_management_assignment_filter_id: None,
            device_and_app_management_assignment_filter_type: None,
        });
    }
    let mut group_id = |name: &String| match group_id(name, groups) {
        Ok(id) => Some(id),
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    for name in &intent.groups {
        if let Some(group_id) = group_id(name) {
            targets.push(AssignmentTarget::Group {
                group_id,
                device_and_app_management_assignment_filter_id: None,
                device_and_app_management_assignment_filter_type: None,
            });
        }
    }
    for name in &intent.exclude_groups {
        if let Some(group_id) = group_id(name) {
            targets.push(AssignmentTarget::ExclusionGroup {
                group_id,
                device_and_app_management_assignment_filter_id: None,
                device_and_app_management_assignment_filter_type: None,
            });
        }
    }
    if problems.is_empty() { Ok(targets) } else { Err(problems) }
}

/// The id of the one group with this display name, or why there is none.
pub fn group_id(name: &str, groups: &GroupsByName) -> Result<String, String> {
    match groups.get(name).map(Vec::as_slice) {
        Some([group]) => Ok(group.id.clone()),
        Some([]) | None => Err(format!("group `{name}` does not exist in the tenant")),
        Some(several) => Err(format!("{} groups are named `{name}`; assignments need a unique name", several.len())),
    }
}

/// A target reduced to what matters: its kind, its group, and a real filter if any.
fn key(target: &AssignmentTarget) -> (u8, String, Option<String>) {
    let filter = |id: &Option<String>, kind: &Option<String>| match (id, kind.as_deref()) {
        (_, None | Some("none")) => None,
        (Some(id), Some(kind)) if !id.trim_matches(['0', '-']).is_empty() => {
            Some(format!("{kind}:{}", id.to_ascii_lowercase()))
        }
        _ => None,
    };
    match target {
        AssignmentTarget::AllDevices {
            device_and_app_management_assignment_filter_id: id,
            device_and_app_management_assignment_filter_type: kind,
        } => (0, String::new(), filter(id, kind)),
        AssignmentTarget::AllLicensedUsers {
            device_and_app_management_assignment_filter_id: id,
            device_and_app_management_assignment_filter_type: kind,
        } => (1, String::new(), filter(id, kind)),
        AssignmentTarget::Group {
            group_id,
            device_and_app_management_assignment_filter_id: id,
            device_and_app_management_assignment_filter_type: kind,
        } => (2, group_id.to_ascii_lowercase(), filter(id, kind)),
        AssignmentTarget::ExclusionGroup { group_id, .. } => (3, group_id.to_ascii_lowercase(), None),
    }
}

/// Whether live assignments are exactly the desired targets (as a set).
pub fn same_targets(desired: &[AssignmentTarget], live: &[PolicyAssignment]) -> bool {
    let desired: BTreeSet<_> = desired.iter().map(key).collect();
    let live: BTreeSet<_> = live.iter().map(|a| key(&a.target)).collect();
    desired == live
}

/// Assignments as a person reads them, with group ids shown by name where the tenant's groups are
/// known.
pub fn display(targets: &[AssignmentTarget], groups: &GroupsByName) -> Value {
    let names: BTreeMap<String, &str> =
        groups.values().flatten().map(|g| (g.id.to_ascii_lowercase(), g.display_name.as_str())).collect();
    let name = |id: &String| names.get(&id.to_ascii_lowercase()).map_or_else(|| id.clone(), |n| n.to_string());
    let mut all_devices = false;
    let mut all_users = false;
    let mut included = Vec::new();
    let mut excluded = Vec::new();
    for target in targets {
        match target {
            AssignmentTarget::AllDevices { .. } => all_devices = true,
            AssignmentTarget::AllLicensedUsers { .. } => all_users = true,
            AssignmentTarget::Group { group_id, .. } => included.push(name(group_id)),
            AssignmentTarget::ExclusionGroup { group_id, .. } => excluded.push(name(group_id)),
        }
    }
    included.sort();
    excluded.sort();
    let mut value = serde_json::Map::new();
    if all_devices {
        value.insert("allDevices".into(), json!(true));
    }
    if all_users {
        value.insert("allUsers".into(), json!(true));
    }
    if !included.is_empty() {
        value.insert("groups".into(), json!(included));
    }
    if !excluded.is_empty() {
        value.insert("excludeGroups".into(), json!(excluded));
    }
    Value::Object(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(pairs: &[(&str, &str)]) -> GroupsByName {
        let mut map = GroupsByName::new();
        for (name, id) in pairs {
            map.entry(name.to_string()).or_default().push(Group { id: id.to_string(), display_name: name.to_string() });
        }
        map
    }

    fn intent(all_devices: bool, groups: &[&str], exclude: &[&str]) -> Assignments {
        Assignments {
            all_devices,
            all_users: false,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            exclude_groups: exclude.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn groups_resolve_by_name_and_missing_or_ambiguous_names_are_errors() {
        let known = groups(&[("Pilot", "G1"), ("Break Glass", "G2"), ("Twice", "G3"), ("Twice", "G4")]);
        let targets = resolve_targets(&intent(true, &["Pilot"], &["Break Glass"]), &known).expect("resolved");
        assert_eq!(targets.len(), 3);
        let problems = resolve_targets(&intent(false, &["Nope", "Twice"], &[]), &known).expect_err("problems");
        assert_eq!(
            problems,
            vec![
                "group `Nope` does not exist in the tenant",
                "2 groups are named `Twice`; assignments need a unique name"
            ]
        );
    }

    #[test]
    fn comparison_is_a_set_comparison_that_sees_filters() {
        let known = groups(&[("Pilot", "g1")]);
        let desired = resolve_targets(&intent(true, &["Pilot"], &[]), &known).expect("resolved");
        let live = |targets: Vec<AssignmentTarget>| -> Vec<PolicyAssignment> {
            targets.into_iter().map(|target| PolicyAssignment { id: Some("x".into()), target }).collect()
        };
        let mut reversed = desired.clone();
        reversed.reverse();
        if let AssignmentTarget::Group { group_id, device_and_app_management_assignment_filter_type, .. } =
            &mut reversed[0]
        {
            *group_id = "G1".into();
            *device_and_app_management_assignment_filter_type = Some("none".into());
        }
        assert!(same_targets(&desired, &live(reversed.clone())));
        assert!(!same_targets(&desired, &live(reversed[..1].to_vec())));
        if let AssignmentTarget::AllDevices {
            device_and_app_management_assignment_filter_id,
            device_and_app_management_assignment_filter_type,
        } = &mut reversed[1]
        {
            *device_and_app_management_assignment_filter_id = Some("f7b2c4d1-0000-0000-0000-000000000001".into());
            *device_and_app_management_assignment_filter_type = Some("include".into());
        }
        assert!(!same_targets(&desired, &live(reversed)), "a live filter is a difference");
        assert_eq!(display(&desired, &known), json!({"allDevices": true, "groups": ["Pilot"]}));
    }
}
