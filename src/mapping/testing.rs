//! Test support for the mappings: fill every field of a typed kind through its own listing.

use super::{ChoiceOption, SettingDef, SettingVisitor};
use crate::wire::{Setting, SettingInstance};

/// Sets every setting a kind lists: choices to option `round % options`, integers within their
/// range, strings and lists to values derived from `round`. Counts what it set.
pub struct Populate {
    pub round: usize,
    pub set: usize,
}

impl Populate {
    pub fn new(round: usize) -> Self {
        Populate { round, set: 0 }
    }
}

/// How many rounds make every option of every choice appear at least once.
pub const ROUNDS: usize = 9;

impl SettingVisitor for Populate {
    fn choice_with_children<T: ChoiceOption>(
        &mut self,
        _: &SettingDef,
        value: &mut Option<T>,
        children: impl FnOnce(&mut Self),
    ) {
        let options = T::OPTIONS;
        *value = Some(options[self.round % options.len()].0);
        self.set += 1;
        children(self);
    }

    fn integer(&mut self, def: &SettingDef, value: &mut Option<i64>) {
        let (min, max) = def.range.unwrap_or((0, 1000));
        *value = Some(min + (self.round as i64 * 7) % (max - min + 1));
        self.set += 1;
    }

    fn string(&mut self, def: &SettingDef, value: &mut Option<String>) {
        *value = Some(format!("{}-{}", def.field, self.round));
        self.set += 1;
    }

    fn string_list(&mut self, def: &SettingDef, value: &mut Vec<String>) {
        *value = (0..=self.round % 3).map(|i| format!("C:\\{}\\{i}", def.field)).collect();
        self.set += 1;
    }

    fn group(&mut self, _: &SettingDef, present: &mut bool, children: impl FnOnce(&mut Self)) {
        *present = true;
        self.set += 1;
        children(self);
    }
}

/// Number of setting instances in a payload, children included.
pub fn count_instances(settings: &[Setting]) -> usize {
    fn count(instance: &SettingInstance) -> usize {
        1 + match instance {
            SettingInstance::Choice { choice_setting_value, .. } => {
                choice_setting_value.children.iter().map(count).sum()
            }
            SettingInstance::Group { group_setting_value, .. } => group_setting_value.children.iter().map(count).sum(),
            SettingInstance::GroupCollection { group_setting_collection_value, .. } => {
                group_setting_collection_value.iter().flat_map(|g| &g.children).map(count).sum()
            }
            _ => 0,
        }
    }
    settings.iter().map(|s| count(&s.setting_instance)).sum()
}

/// A settings array as JSON with every `children` list sorted by definition id, for comparing payloads
/// whose order of children differs.
pub fn normalized(settings: &serde_json::Value) -> serde_json::Value {
    let mut value = settings.clone();
    sort_children(&mut value);
    value
}

fn sort_children(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                sort_children(child);
                if key == "children"
                    && let serde_json::Value::Array(items) = child
                {
                    items.sort_by_key(|i| i["settingDefinitionId"].as_str().unwrap_or_default().to_string());
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(sort_children),
        _ => {}
    }
}
