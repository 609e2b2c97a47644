//! Template references a live policy carries where the desired payload has none. Tenants hold
//! references the tables do not write (the Intune editor copies a parent's value template id onto
//! some children); they tie nothing to a setting's value, yet dropping them would make an update or an
//! adoption change more than it has to. So a write over a live policy keeps them.

use crate::wire::{
    ChoiceValue, GroupValue, InstanceTemplateReference, Setting, SettingInstance, SimpleValue,
    ValueTemplateReference as ValueRef,
};

/// Copies onto `desired` the instance and value template references `live` has for the same setting
/// (same definition id, same option, same position in a list) where `desired` has none. Answers
/// whether anything was copied.
pub fn keep_live_refs(desired: &mut [Setting], live: &[Setting]) -> bool {
    let live: Vec<&SettingInstance> = live.iter().map(|s| &s.setting_instance).collect();
    let mut copied = false;
    for setting in desired {
        copied |= instance(&mut setting.setting_instance, &live);
    }
    copied
}

fn instances(desired: &mut [SettingInstance], live: &[SettingInstance]) -> bool {
    let live: Vec<&SettingInstance> = live.iter().collect();
    desired.iter_mut().fold(false, |copied, d| instance(d, &live) | copied)
}

fn instance(desired: &mut SettingInstance, live: &[&SettingInstance]) -> bool {
    let Some(live) = live.iter().find(|l| l.definition_id().eq_ignore_ascii_case(desired.definition_id())) else {
        return false;
    };
    let mut copied = false;
    match (desired, *live) {
        (
            SettingInstance::Choice { setting_instance_template_reference: d_ref, choice_setting_value: d, .. },
            SettingInstance::Choice { setting_instance_template_reference: l_ref, choice_setting_value: l, .. },
        ) => {
            copied |= fill_instance(d_ref, l_ref);
            copied |= choice(d, l);
        }
        (
            SettingInstance::ChoiceCollection {
                setting_instance_template_reference: d_ref,
                choice_setting_collection_value: d,
                ..
            },
            SettingInstance::ChoiceCollection {
                setting_instance_template_reference: l_ref,
                choice_setting_collection_value: l,
                ..
            },
        ) => {
            copied |= fill_instance(d_ref, l_ref);
            for value in d.iter_mut() {
                if let Some(same) = l.iter().find(|l| l.value.eq_ignore_ascii_case(&value.value)) {
                    copied |= choice(value, same);
                }
            }
        }
        (
            SettingInstance::Simple { setting_instance_template_reference: d_ref, simple_setting_value: d, .. },
            SettingInstance::Simple { setting_instance_template_reference: l_ref, simple_setting_value: l, .. },
        ) => {
            copied |= fill_instance(d_ref, l_ref);
            copied |= simple(d, l);
        }
        (
            SettingInstance::SimpleCollection {
                setting_instance_template_reference: d_ref,
                simple_setting_collection_value: d,
                ..
            },
            SettingInstance::SimpleCollection {
                setting_instance_template_reference: l_ref,
                simple_setting_collection_value: l,
                ..
            },
        ) => {
            copied |= fill_instance(d_ref, l_ref);
            if d.len() == l.len() {
                copied |= d.iter_mut().zip(l).fold(false, |c, (d, l)| simple(d, l) | c);
            }
        }
        (
            SettingInstance::Group { setting_instance_template_reference: d_ref, group_setting_value: d, .. },
            SettingInstance::Group { setting_instance_template_reference: l_ref, group_setting_value: l, .. },
        ) => {
            copied |= fill_instance(d_ref, l_ref);
            copied |= group(d, l);
        }
        (
            SettingInstance::GroupCollection {
                setting_instance_template_reference: d_ref,
                group_setting_collection_value: d,
                ..
            },
            SettingInstance::GroupCollection {
                setting_instance_template_reference: l_ref,
                group_setting_collection_value: l,
                ..
            },
        ) => {
            copied |= fill_instance(d_ref, l_ref);
            // List items have no identity of their own in Graph: only a list of the same length is
            // matched, item by item.
            if d.len() == l.len() {
                copied |= d.iter_mut().zip(l).fold(false, |c, (d, l)| group(d, l) | c);
            }
        }
        _ => {}
    }
    copied
}

fn choice(desired: &mut ChoiceValue, live: &ChoiceValue) -> bool {
    if !desired.value.eq_ignore_ascii_case(&live.value) {
        return false;
    }
    fill_value(&mut desired.setting_value_template_reference, &live.setting_value_template_reference)
        | instances(&mut desired.children, &live.children)
}

fn group(desired: &mut GroupValue, live: &GroupValue) -> bool {
    fill_value(&mut desired.setting_value_template_reference, &live.setting_value_template_reference)
        | instances(&mut desired.children, &live.children)
}

fn simple(desired: &mut SimpleValue, live: &SimpleValue) -> bool {
    let live_ref = match live {
        SimpleValue::Integer { setting_value_template_reference, .. }
        | SimpleValue::String { setting_value_template_reference, .. }
        | SimpleValue::Secret { setting_value_template_reference, .. } => setting_value_template_reference,
    };
    match desired {
        SimpleValue::Integer { setting_value_template_reference, .. }
        | SimpleValue::String { setting_value_template_reference, .. }
        | SimpleValue::Secret { setting_value_template_reference, .. } => {
            fill_value(setting_value_template_reference, live_ref)
        }
    }
}

fn fill_instance(desired: &mut Option<InstanceTemplateReference>, live: &Option<InstanceTemplateReference>) -> bool {
    if desired.is_some() || live.is_none() {
        return false;
    }
    desired.clone_from(live);
    true
}

fn fill_value(desired: &mut Option<ValueRef>, live: &Option<ValueRef>) -> bool {
    if desired.is_some() || live.is_none() {
        return false;
    }
    desired.clone_from(live);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice_instance(id: &str, value: &str, children: Vec<SettingInstance>, value_ref: Option<&str>) -> Setting {
        let mut value = ChoiceValue::new(value.to_string(), children);
        value.setting_value_template_reference =
            value_ref.map(|id| ValueRef { setting_value_template_id: id.to_string(), use_template_default: None });
        Setting::new(SettingInstance::Choice {
            setting_definition_id: id.to_string(),
            setting_instance_template_reference: None,
            choice_setting_value: value,
        })
    }

    #[test]
    fn a_child_reference_the_tenant_holds_is_kept_and_nothing_else_is_added() {
        let child = |value_ref| choice_instance("parent_child", "parent_child_1", vec![], value_ref).setting_instance;
        let live = vec![choice_instance("parent", "parent_true", vec![child(Some("120c5dbe"))], Some("120c5dbe"))];
        let mut desired = vec![choice_instance("parent", "parent_true", vec![child(None)], Some("120c5dbe"))];
        assert!(keep_live_refs(&mut desired, &live));
        assert_eq!(desired, live);
        assert!(!keep_live_refs(&mut desired, &live), "a second pass copies nothing");
    }

    #[test]
    fn a_reference_of_another_option_is_not_copied() {
        let live = vec![choice_instance("setting", "setting_0", vec![], Some("aaaa"))];
        let mut desired = vec![choice_instance("setting", "setting_1", vec![], None)];
        assert!(!keep_live_refs(&mut desired, &live));
        let SettingInstance::Choice { choice_setting_value, .. } = &desired[0].setting_instance else { panic!() };
        assert_eq!(choice_setting_value.setting_value_template_reference, None);
    }
}
