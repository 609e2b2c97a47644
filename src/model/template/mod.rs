//! The endpoint-security templates as data. Each typed policy kind is one [`TemplateTable`]: the
//! Settings Catalog template it is made from and a tree of [`Node`]s, one per setting definition, each
//! saying where the setting lives in the manifest (a path of words), what it accepts (options named in
//! words, Microsoft's ranges) and the template references Intune expects for it.
//!
//! Everything else is derived from the tables: the JSON Schemas and CRDs ([`schema`]), validation with
//! the field at fault ([`check`]), and the Graph payload in both directions (`mapping::template`).
//! A new typed kind is a new table.

pub mod antivirus;
pub mod antivirus_exclusions;
pub mod asr;
pub mod check;
pub mod edr;
pub mod firewall;
pub mod firewall_rules;
pub mod schema;
pub mod scope;
pub mod security_experience;
pub mod update_controls;

use std::sync::LazyLock;

use serde_json::Value;

/// Identity of a Settings Catalog template and the policy properties that go with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Template {
    pub id: &'static str,
    pub platforms: &'static str,
    pub technologies: &'static str,
}

impl Template {
    /// A Windows endpoint-security template (every template tenantctl types is one).
    pub const fn windows(id: &'static str) -> Template {
        Template { id, platforms: "windows10", technologies: "mdm,microsoftSense" }
    }
}

/// A typed kind: its template and its settings.
#[derive(Clone, Debug)]
pub struct TemplateTable {
    pub template: Template,
    /// Top-level settings, in the order they are written to Graph.
    pub nodes: Vec<Node>,
}

impl TemplateTable {
    /// Every node of the table, depth first.
    pub fn all_nodes(&self) -> Vec<&Node> {
        fn walk<'a>(nodes: &'a [Node], out: &mut Vec<&'a Node>) {
            for node in nodes {
                out.push(node);
                walk(&node.children, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.nodes, &mut out);
        out
    }
}

/// One setting definition.
#[derive(Clone, Debug)]
pub struct Node {
    /// `settingDefinitionId`.
    pub id: String,
    /// Where the value lives in the manifest, relative to the spec (or to the list item of an
    /// enclosing [`Shape::GroupList`]). Group nodes have the path of the object their children fill.
    pub path: Vec<String>,
    /// What the setting does, in a sentence (the schema's description).
    pub doc: String,
    pub shape: Shape,
    /// `settingInstanceTemplateId` where Microsoft's payloads carry one.
    pub instance_template: Option<&'static str>,
    /// `settingValueTemplateId` where Microsoft's payloads carry one.
    pub value_template: Option<&'static str>,
    /// For a child of a choice: the option suffixes it may appear under (empty: any option).
    pub under: &'static [&'static str],
    /// Children: settings of a group, or settings that depend on a choice.
    pub children: Vec<Node>,
}

/// What a setting holds.
#[derive(Clone, Debug)]
pub enum Shape {
    /// One option of a list (`choiceSettingValue`).
    Choice(Vec<Opt>),
    /// Several options (`choiceSettingCollectionValue`).
    ChoiceList(Vec<Opt>),
    /// An integer within a range.
    Integer { min: i64, max: i64 },
    /// A string.
    Text(TextRule),
    /// A list of strings (`simpleSettingCollectionValue`).
    TextList { rule: TextRule, max_items: usize },
    /// A group collection holding exactly one group; its children fill the manifest, it has no value
    /// of its own and is written when any child is set.
    Group,
    /// A group collection of any number of groups: a list in the manifest, one item per group.
    /// `key` names the item field that must be present and unique, if any.
    GroupList { max_items: usize, key: Option<&'static str> },
}

/// Limits of a string.
#[derive(Clone, Copy, Debug)]
pub struct TextRule {
    pub min_len: usize,
    pub max_len: usize,
    /// Characters the setting refuses.
    pub forbidden: &'static str,
    /// A secret (`secretSettingValue`): written as plain text, read back from Graph only as a token.
    pub secret: bool,
}

impl TextRule {
    pub const ANY: TextRule = TextRule { min_len: 0, max_len: 87516, forbidden: "", secret: false };
}

/// One option of a choice.
#[derive(Clone, Debug)]
pub struct Opt {
    /// How the manifest writes the option.
    pub value: OptValue,
    /// The option id is `<settingDefinitionId>_<suffix>`.
    pub suffix: String,
}

/// How the manifest writes an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptValue {
    /// A word: `block`, `enabled`.
    Name(&'static str),
    /// `true` or `false`.
    Flag(bool),
}

impl OptValue {
    pub fn to_json(self) -> Value {
        match self {
            OptValue::Name(name) => Value::from(name),
            OptValue::Flag(flag) => Value::from(flag),
        }
    }

    pub fn matches(self, value: &Value) -> bool {
        match self {
            OptValue::Name(name) => value.as_str() == Some(name),
            OptValue::Flag(flag) => value.as_bool() == Some(flag),
        }
    }
}

impl Shape {
    pub fn options(&self) -> &[Opt] {
        match self {
            Shape::Choice(options) | Shape::ChoiceList(options) => options,
            _ => &[],
        }
    }
}

impl Node {
    fn new(id: impl Into<String>, path: impl AsRef<str>, doc: impl Into<String>, shape: Shape) -> Node {
        let path = path.as_ref();
        Node {
            id: id.into(),
            path: if path.is_empty() { Vec::new() } else { path.split('.').map(str::to_string).collect() },
            doc: doc.into(),
            shape,
            instance_template: None,
            value_template: None,
            under: &[],
            children: Vec::new(),
        }
    }

    /// The instance and value template ids Intune expects for this setting in this template.
    pub fn refs(mut self, instance: &'static str, value: &'static str) -> Node {
        self.instance_template = Some(instance);
        self.value_template = (!value.is_empty()).then_some(value);
        self
    }

    /// Only the instance template id (collections and groups have no value template).
    pub fn instance(mut self, instance: &'static str) -> Node {
        self.instance_template = Some(instance);
        self
    }

    /// Settings that depend on this choice, or belong to this group.
    pub fn with(mut self, children: Vec<Node>) -> Node {
        self.children = children;
        self
    }

    /// This child setting is only valid under the given options of its parent choice.
    pub fn under(mut self, options: &'static [&'static str]) -> Node {
        self.under = options;
        self
    }

    /// Items of this list must each have a distinct `field`.
    pub fn keyed_by(mut self, field: &'static str) -> Node {
        if let Shape::GroupList { key, .. } = &mut self.shape {
            *key = Some(field);
        }
        self
    }

    /// The manifest path as written in messages (`domain.enabled`).
    pub fn dotted_path(&self) -> String {
        self.path.join(".")
    }

    /// The option a manifest value stands for.
    pub fn option_for(&self, value: &Value) -> Option<&Opt> {
        self.shape.options().iter().find(|o| o.value.matches(value))
    }

    /// The option whose id is `option_id`, when it is one of this setting's (case-insensitive).
    pub fn option_by_id(&self, option_id: &str) -> Option<&Opt> {
        let prefix_len = self.id.len() + 1;
        let prefix_ok = option_id.len() > prefix_len
            && option_id[..self.id.len()].eq_ignore_ascii_case(&self.id)
            && option_id.as_bytes()[self.id.len()] == b'_';
        if !prefix_ok {
            return None;
        }
        let suffix = &option_id[prefix_len..];
        self.shape.options().iter().find(|o| o.suffix.eq_ignore_ascii_case(suffix))
    }
}

/// A choice setting.
pub fn choice(id: impl Into<String>, path: impl AsRef<str>, doc: impl Into<String>, options: Vec<Opt>) -> Node {
    Node::new(id, path, doc, Shape::Choice(options))
}

/// A setting holding several options.
pub fn choice_list(id: impl Into<String>, path: impl AsRef<str>, doc: impl Into<String>, options: Vec<Opt>) -> Node {
    Node::new(id, path, doc, Shape::ChoiceList(options))
}

/// An integer setting.
pub fn integer(id: impl Into<String>, path: impl AsRef<str>, doc: impl Into<String>, min: i64, max: i64) -> Node {
    Node::new(id, path, doc, Shape::Integer { min, max })
}

/// A string setting.
pub fn text(id: impl Into<String>, path: impl AsRef<str>, doc: impl Into<String>, rule: TextRule) -> Node {
    Node::new(id, path, doc, Shape::Text(rule))
}

/// A list of strings.
pub fn text_list(
    id: impl Into<String>,
    path: impl AsRef<str>,
    doc: impl Into<String>,
    rule: TextRule,
    max_items: usize,
) -> Node {
    Node::new(id, path, doc, Shape::TextList { rule, max_items })
}

/// A group holding one group of child settings.
pub fn group(id: impl Into<String>, path: impl AsRef<str>, doc: impl Into<String>, children: Vec<Node>) -> Node {
    Node::new(id, path, doc, Shape::Group).with(children)
}

/// A list of groups of child settings.
pub fn group_list(
    id: impl Into<String>,
    path: impl AsRef<str>,
    doc: impl Into<String>,
    max_items: usize,
    children: Vec<Node>,
) -> Node {
    Node::new(id, path, doc, Shape::GroupList { max_items, key: None }).with(children)
}

/// An option written as a word.
pub fn opt(name: &'static str, suffix: impl Into<String>) -> Opt {
    Opt { value: OptValue::Name(name), suffix: suffix.into() }
}

/// Options written as words: `(word, suffix)`.
pub fn options(pairs: &[(&'static str, &str)]) -> Vec<Opt> {
    pairs.iter().map(|(name, suffix)| opt(name, *suffix)).collect()
}

/// `enabled` (`_1`) / `disabled` (`_0`).
pub fn toggle() -> Vec<Opt> {
    options(&[("enabled", "1"), ("disabled", "0")])
}

/// `enabled` / `disabled` for a setting phrased "disable …": `_1` turns the feature off.
pub fn inverted_toggle() -> Vec<Opt> {
    options(&[("enabled", "0"), ("disabled", "1")])
}

/// `true` (`_true`) / `false` (`_false`).
pub fn boolean() -> Vec<Opt> {
    vec![
        Opt { value: OptValue::Flag(true), suffix: "true".into() },
        Opt { value: OptValue::Flag(false), suffix: "false".into() },
    ]
}

/// `true` (`_1`) / `false` (`_0`).
pub fn flag() -> Vec<Opt> {
    vec![
        Opt { value: OptValue::Flag(true), suffix: "1".into() },
        Opt { value: OptValue::Flag(false), suffix: "0".into() },
    ]
}

/// Every typed template, by the kind that uses it.
pub fn tables() -> [(crate::model::PolicyKind, &'static TemplateTable); 8] {
    use crate::model::PolicyKind as K;
    [
        (K::AntivirusPolicy, LazyLock::force(&antivirus::TABLE)),
        (K::FirewallPolicy, LazyLock::force(&firewall::TABLE)),
        (K::AttackSurfaceReductionPolicy, LazyLock::force(&asr::TABLE)),
        (K::FirewallRulesPolicy, LazyLock::force(&firewall_rules::TABLE)),
        (K::SecurityExperiencePolicy, LazyLock::force(&security_experience::TABLE)),
        (K::DefenderUpdateControlsPolicy, LazyLock::force(&update_controls::TABLE)),
        (K::AntivirusExclusionsPolicy, LazyLock::force(&antivirus_exclusions::TABLE)),
        (K::EndpointDetectionPolicy, LazyLock::force(&edr::TABLE)),
    ]
}

/// The table of a typed kind (`None` for `SettingsCatalogPolicy`).
pub fn table(kind: crate::model::PolicyKind) -> Option<&'static TemplateTable> {
    tables().into_iter().find(|(k, _)| *k == kind).map(|(_, table)| table)
}

/// The typed kind made from a template, if tenantctl has one.
pub fn kind_of_template(template_id: &str) -> Option<crate::model::PolicyKind> {
    tables().into_iter().find(|(_, table)| table.template.id.eq_ignore_ascii_case(template_id)).map(|(kind, _)| kind)
}

#[cfg(test)]
mod tests;
