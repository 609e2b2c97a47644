//! Mapping between the typed policy kinds and Settings Catalog payloads.
//!
//! Each typed kind lists its settings once, in a `visit` function that walks its fields with a
//! [`SettingVisitor`]. [`WireWriter`] turns the walk into Graph `settings`; [`WireReader`] fills the
//! fields back from Graph `settings` and reports every setting it could not place. Because both
//! directions come from the same listing, `typed → wire → typed` is the identity by construction, and
//! the tests check it for every setting.

pub mod antivirus;
pub mod asr;
pub mod firewall;
pub mod settings_catalog;
#[cfg(test)]
pub mod testing;

use std::borrow::Cow;
use std::fmt;

use crate::wire::{
    ChoiceValue, ConfigurationPolicy, GroupValue, InstanceTemplateReference, PolicyProperties, Setting,
    SettingInstance, SimpleValue, ValueTemplateReference,
};

/// One Settings Catalog setting as a typed field sees it.
#[derive(Clone, Debug)]
pub struct SettingDef {
    /// The YAML field that holds the setting (for messages).
    pub field: &'static str,
    /// `settingDefinitionId`.
    pub id: Cow<'static, str>,
    /// `settingInstanceTemplateId` for a top-level instance of a template-based policy. `None` where
    /// the id is not known from a real payload: Intune accepts instances without it.
    pub instance_template: Option<&'static str>,
    /// `settingValueTemplateId` of the value, where known.
    pub value_template: Option<&'static str>,
    /// Inclusive range of an integer setting.
    pub range: Option<(i64, i64)>,
}

impl SettingDef {
    pub const fn new(field: &'static str, id: &'static str) -> Self {
        SettingDef { field, id: Cow::Borrowed(id), instance_template: None, value_template: None, range: None }
    }

    pub const fn template(mut self, instance_template: &'static str) -> Self {
        self.instance_template = Some(instance_template);
        self
    }

    pub const fn value_template(mut self, value_template: &'static str) -> Self {
        self.value_template = Some(value_template);
        self
    }

    pub const fn range(mut self, min: i64, max: i64) -> Self {
        self.range = Some((min, max));
        self
    }
}

/// An enum whose variants are options of a choice setting. The option id Graph uses is
/// `<settingDefinitionId>_<suffix>`.
pub trait ChoiceOption: Copy + PartialEq + 'static {
    /// Every variant with its option-id suffix.
    const OPTIONS: &'static [(Self, &'static str)];

    fn suffix(self) -> &'static str {
        Self::OPTIONS.iter().find(|(option, _)| *option == self).map(|(_, suffix)| *suffix).unwrap_or_default()
    }

    fn from_suffix(suffix: &str) -> Option<Self> {
        Self::OPTIONS.iter().find(|(_, s)| s.eq_ignore_ascii_case(suffix)).map(|(option, _)| *option)
    }
}

/// Firewall settings use `_true` / `_false` option ids.
impl ChoiceOption for bool {
    const OPTIONS: &'static [(bool, &'static str)] = &[(true, "true"), (false, "false")];
}

/// Walks the settings of a typed kind.
pub trait SettingVisitor {
    /// A choice setting whose selected option may carry dependent child settings.
    fn choice_with_children<T: ChoiceOption>(
        &mut self,
        def: &SettingDef,
        value: &mut Option<T>,
        children: impl FnOnce(&mut Self),
    );

    fn choice<T: ChoiceOption>(&mut self, def: &SettingDef, value: &mut Option<T>) {
        self.choice_with_children(def, value, |_| {});
    }

    fn integer(&mut self, def: &SettingDef, value: &mut Option<i64>);

    fn string(&mut self, def: &SettingDef, value: &mut Option<String>);

    /// A collection of strings; empty means not configured.
    fn string_list(&mut self, def: &SettingDef, value: &mut Vec<String>);

    /// A group collection with one group of child settings.
    fn group(&mut self, def: &SettingDef, present: &mut bool, children: impl FnOnce(&mut Self));
}

/// Identity of a Settings Catalog template and the policy properties that go with it.
#[derive(Clone, Copy, Debug)]
pub struct Template {
    pub id: &'static str,
    pub platforms: &'static str,
    pub technologies: &'static str,
}

/// The spec of `kind` (as JSON, in the form users write) that a Graph policy reads back as, when it
/// fits the kind. Any policy fits `SettingsCatalogPolicy`.
pub fn typed_spec(
    kind: crate::model::PolicyKind,
    policy: &ConfigurationPolicy,
    description: &str,
) -> Option<serde_json::Value> {
    use crate::model::PolicyKind;
    let value = match kind {
        PolicyKind::AntivirusPolicy => antivirus::from_wire(policy, description).ok().map(serde_json::to_value),
        PolicyKind::FirewallPolicy => firewall::from_wire(policy, description).ok().map(serde_json::to_value),
        PolicyKind::AttackSurfaceReductionPolicy => asr::from_wire(policy, description).ok().map(serde_json::to_value),
        PolicyKind::SettingsCatalogPolicy => {
            settings_catalog::from_wire(policy, description).ok().map(serde_json::to_value)
        }
    };
    value.and_then(Result::ok)
}

/// The typed kind whose template a policy was made from, if tenantctl has a typed kind for it.
pub fn kind_of_template(policy: &ConfigurationPolicy) -> Option<crate::model::PolicyKind> {
    use crate::model::PolicyKind;
    let template = policy.template_reference.as_ref()?.template_id.to_ascii_lowercase();
    [
        (antivirus::TEMPLATE.id, PolicyKind::AntivirusPolicy),
        (firewall::TEMPLATE.id, PolicyKind::FirewallPolicy),
        (asr::TEMPLATE.id, PolicyKind::AttackSurfaceReductionPolicy),
    ]
    .into_iter()
    .find(|(id, _)| *id == template)
    .map(|(_, kind)| kind)
}

/// Builds a policy payload from a template and its settings (no server-owned fields).
pub fn policy_payload(
    template: &Template,
    name: &str,
    description: &str,
    settings: Vec<Setting>,
) -> ConfigurationPolicy {
    let properties = PolicyProperties { platforms: template.platforms, technologies: template.technologies };
    ConfigurationPolicy::desired(name, description, properties, Some(template.id), settings)
}

/// Turns a walk over typed fields into Graph setting instances.
#[derive(Default)]
pub struct WireWriter {
    frames: Vec<Vec<SettingInstance>>,
}

impl WireWriter {
    pub fn write(visit: impl FnOnce(&mut WireWriter)) -> Vec<Setting> {
        let mut writer = WireWriter { frames: vec![Vec::new()] };
        visit(&mut writer);
        writer.frames.pop().unwrap_or_default().into_iter().map(Setting::new).collect()
    }

    fn push(&mut self, instance: SettingInstance) {
        if let Some(frame) = self.frames.last_mut() {
            frame.push(instance);
        }
    }

    fn nested(&mut self, children: impl FnOnce(&mut Self)) -> Vec<SettingInstance> {
        self.frames.push(Vec::new());
        children(self);
        self.frames.pop().unwrap_or_default()
    }
}

fn instance_template(def: &SettingDef) -> Option<InstanceTemplateReference> {
    def.instance_template.map(|id| InstanceTemplateReference { setting_instance_template_id: id.to_string() })
}

fn value_template(def: &SettingDef) -> Option<ValueTemplateReference> {
    def.value_template
        .map(|id| ValueTemplateReference { setting_value_template_id: id.to_string(), use_template_default: None })
}

impl SettingVisitor for WireWriter {
    fn choice_with_children<T: ChoiceOption>(
        &mut self,
        def: &SettingDef,
        value: &mut Option<T>,
        children: impl FnOnce(&mut Self),
    ) {
        let Some(option) = *value else { return };
        let children = self.nested(children);
        let mut choice = ChoiceValue::new(format!("{}_{}", def.id, option.suffix()), children);
        choice.setting_value_template_reference = value_template(def);
        self.push(SettingInstance::Choice {
            setting_definition_id: def.id.to_string(),
            setting_instance_template_reference: instance_template(def),
            choice_setting_value: choice,
        });
    }

    fn integer(&mut self, def: &SettingDef, value: &mut Option<i64>) {
        let Some(number) = *value else { return };
        self.push(SettingInstance::Simple {
            setting_definition_id: def.id.to_string(),
            setting_instance_template_reference: instance_template(def),
            simple_setting_value: SimpleValue::Integer {
                value: number,
                setting_value_template_reference: value_template(def),
            },
        });
    }

    fn string(&mut self, def: &SettingDef, value: &mut Option<String>) {
        let Some(text) = value else { return };
        self.push(SettingInstance::Simple {
            setting_definition_id: def.id.to_string(),
            setting_instance_template_reference: instance_template(def),
            simple_setting_value: SimpleValue::String {
                value: text.clone(),
                setting_value_template_reference: value_template(def),
            },
        });
    }

    fn string_list(&mut self, def: &SettingDef, value: &mut Vec<String>) {
        if value.is_empty() {
            return;
        }
        self.push(SettingInstance::SimpleCollection {
            setting_definition_id: def.id.to_string(),
            setting_instance_template_reference: instance_template(def),
            simple_setting_collection_value: value.iter().map(|s| SimpleValue::string(s)).collect(),
        });
    }

    fn group(&mut self, def: &SettingDef, present: &mut bool, children: impl FnOnce(&mut Self)) {
        if !*present {
            return;
        }
        let children = self.nested(children);
        let mut group = GroupValue::new(children);
        group.setting_value_template_reference = value_template(def);
        self.push(SettingInstance::GroupCollection {
            setting_definition_id: def.id.to_string(),
            setting_instance_template_reference: instance_template(def),
            group_setting_collection_value: vec![group],
        });
    }
}

/// Why a Graph payload could not be read as a typed kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingError {
    /// `settingDefinitionId` concerned.
    pub setting: String,
    pub message: String,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

struct ReaderFrame<'a> {
    instances: Vec<&'a SettingInstance>,
    used: Vec<bool>,
}

/// Fills typed fields from Graph setting instances. Every instance must be claimed by a field;
/// anything left over, or any option the kind does not know, is an error: a typed kind never drops a
/// setting silently.
pub struct WireReader<'a> {
    frames: Vec<ReaderFrame<'a>>,
    errors: Vec<MappingError>,
}

impl<'a> WireReader<'a> {
    pub fn read(settings: &'a [Setting], visit: impl FnOnce(&mut WireReader<'a>)) -> Result<(), Vec<MappingError>> {
        let mut reader = WireReader { frames: Vec::new(), errors: Vec::new() };
        reader.frames.push(ReaderFrame::new(settings.iter().map(|s| &s.setting_instance).collect()));
        visit(&mut reader);
        reader.close_frame();
        if reader.errors.is_empty() { Ok(()) } else { Err(reader.errors) }
    }

    fn take(&mut self, def: &SettingDef) -> Option<&'a SettingInstance> {
        let frame = self.frames.last_mut()?;
        let index = frame
            .instances
            .iter()
            .enumerate()
            .position(|(i, instance)| !frame.used[i] && instance.definition_id().eq_ignore_ascii_case(&def.id))?;
        frame.used[index] = true;
        Some(frame.instances[index])
    }

    fn close_frame(&mut self) {
        if let Some(frame) = self.frames.pop() {
            for (instance, used) in frame.instances.iter().zip(frame.used) {
                if !used {
                    self.errors.push(MappingError {
                        setting: instance.definition_id().to_string(),
                        message: "setting is not part of this kind (use a SettingsCatalogPolicy for it)".into(),
                    });
                }
            }
        }
    }

    fn with_children(&mut self, children: &'a [SettingInstance], visit: impl FnOnce(&mut Self)) {
        self.frames.push(ReaderFrame::new(children.iter().collect()));
        visit(self);
        self.close_frame();
    }

    fn wrong_type(&mut self, def: &SettingDef, found: &SettingInstance, expected: &str) {
        self.errors.push(MappingError {
            setting: def.id.to_string(),
            message: format!("expected a {expected}, found a {}", found.type_name()),
        });
    }
}

impl<'a> ReaderFrame<'a> {
    fn new(instances: Vec<&'a SettingInstance>) -> Self {
        let used = vec![false; instances.len()];
        ReaderFrame { instances, used }
    }
}

impl<'a> SettingVisitor for WireReader<'a> {
    fn choice_with_children<T: ChoiceOption>(
        &mut self,
        def: &SettingDef,
        value: &mut Option<T>,
        children: impl FnOnce(&mut Self),
    ) {
        *value = None;
        let Some(instance) = self.take(def) else { return };
        let SettingInstance::Choice { choice_setting_value, .. } = instance else {
            return self.wrong_type(def, instance, "ChoiceSettingInstance");
        };
        let option = choice_setting_value.value.as_str();
        let prefix = format!("{}_", def.id);
        let parsed = option
            .get(..prefix.len())
            .filter(|p| p.eq_ignore_ascii_case(&prefix))
            .and_then(|_| T::from_suffix(&option[prefix.len()..]));
        match parsed {
            Some(parsed) => {
                *value = Some(parsed);
                self.with_children(&choice_setting_value.children, children);
            }
            None => self
                .errors
                .push(MappingError { setting: def.id.to_string(), message: format!("unknown option `{option}`") }),
        }
    }

    fn integer(&mut self, def: &SettingDef, value: &mut Option<i64>) {
        *value = None;
        let Some(instance) = self.take(def) else { return };
        match instance {
            SettingInstance::Simple { simple_setting_value: SimpleValue::Integer { value: number, .. }, .. } => {
                *value = Some(*number);
            }
            other => self.wrong_type(def, other, "SimpleSettingInstance with an IntegerSettingValue"),
        }
    }

    fn string(&mut self, def: &SettingDef, value: &mut Option<String>) {
        *value = None;
        let Some(instance) = self.take(def) else { return };
        match instance {
            SettingInstance::Simple { simple_setting_value: SimpleValue::String { value: text, .. }, .. } => {
                *value = Some(text.clone());
            }
            other => self.wrong_type(def, other, "SimpleSettingInstance with a StringSettingValue"),
        }
    }

    fn string_list(&mut self, def: &SettingDef, value: &mut Vec<String>) {
        value.clear();
        let Some(instance) = self.take(def) else { return };
        let SettingInstance::SimpleCollection { simple_setting_collection_value, .. } = instance else {
            return self.wrong_type(def, instance, "SimpleSettingCollectionInstance");
        };
        for item in simple_setting_collection_value {
            match item {
                SimpleValue::String { value: text, .. } => value.push(text.clone()),
                _ => self
                    .errors
                    .push(MappingError { setting: def.id.to_string(), message: "expected string values".into() }),
            }
        }
    }

    fn group(&mut self, def: &SettingDef, present: &mut bool, children: impl FnOnce(&mut Self)) {
        *present = false;
        let Some(instance) = self.take(def) else { return };
        let SettingInstance::GroupCollection { group_setting_collection_value, .. } = instance else {
            return self.wrong_type(def, instance, "GroupSettingCollectionInstance");
        };
        match group_setting_collection_value.as_slice() {
            [group] => {
                *present = true;
                self.with_children(&group.children, children);
            }
            groups => self.errors.push(MappingError {
                setting: def.id.to_string(),
                message: format!("expected exactly one group, found {}", groups.len()),
            }),
        }
    }
}
