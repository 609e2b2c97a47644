//! Validation of a typed policy against its table: unknown fields, options, ranges, lengths, list
//! sizes and settings that depend on another one, each reported at its manifest path.

use serde_json::{Map, Value};

use super::scope::{Field, Scope, value_at};
use super::{Node, Shape, TextRule};
use crate::util::suggest::did_you_mean;

/// One problem: the manifest path (`spec.domain.enabled`) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
    /// About the field's name (an unknown field), not its value.
    pub about_key: bool,
}

/// Field names a list item may hold besides its settings.
pub const ITEM_EXTRA_FIELDS: &[&str] = &["additionalSettings"];

/// Checks the settings of a spec (`settings`, every field but the common ones) against `nodes`.
/// `prefix` is the path of the object (`spec`).
pub fn check(nodes: &[Node], settings: &Map<String, Value>, prefix: &str, extra_fields: &[&str]) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_scope(nodes, settings, prefix, extra_fields, &mut problems);
    problems
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") }
}

fn check_scope(nodes: &[Node], object: &Map<String, Value>, prefix: &str, extra: &[&str], out: &mut Vec<Problem>) {
    let scope = Scope::of(nodes);
    check_object(&scope, object, prefix, extra, out);
    check_dependencies(nodes, object, prefix, out);
}

fn check_object(scope: &Scope<'_>, object: &Map<String, Value>, prefix: &str, extra: &[&str], out: &mut Vec<Problem>) {
    for (name, value) in object {
        let path = join(prefix, name);
        match scope.get(name) {
            None if extra.contains(&name.as_str()) => {}
            None => {
                let names: Vec<&str> = scope.names().chain(extra.iter().copied()).collect();
                let expected = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
                out.push(Problem {
                    path,
                    message: format!(
                        "unknown field `{name}`{}, expected one of {expected}",
                        did_you_mean(name, names.iter().copied())
                    ),
                    about_key: true,
                });
            }
            Some(_) if value.is_null() => {}
            Some(Field::Object(inner)) => match value.as_object() {
                Some(map) => check_object(inner, map, &path, &[], out),
                None => out.push(Problem {
                    about_key: false,
                    path,
                    message: format!("must be a mapping, found {}", type_name(value)),
                }),
            },
            Some(Field::Setting(node)) => check_value(node, value, &path, out),
        }
    }
}

/// What a value is, in manifest words ("a list", "a mapping").
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// `` `a`, `b` or `c` `` for the options of a node, in manifest words.
pub fn option_words(node: &Node) -> String {
    let words: Vec<String> = node
        .shape
        .options()
        .iter()
        .map(|o| match o.value {
            super::OptValue::Name(name) => format!("`{name}`"),
            super::OptValue::Flag(flag) => format!("`{flag}`"),
        })
        .collect();
    match words.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn check_value(node: &Node, value: &Value, path: &str, out: &mut Vec<Problem>) {
    let mut problem = |message: String| out.push(Problem { about_key: false, path: path.to_string(), message });
    match &node.shape {
        Shape::Choice(_) => {
            if node.option_for(value).is_none() {
                problem(format!("must be {}, found {}", option_words(node), shown(value)));
            }
        }
        Shape::ChoiceList(_) => {
            let Some(items) = value.as_array() else {
                return problem(format!("must be a list of {}, found {}", option_words(node), type_name(value)));
            };
            for (i, item) in items.iter().enumerate() {
                if node.option_for(item).is_none() {
                    out.push(Problem {
                        about_key: false,
                        path: format!("{path}[{i}]"),
                        message: format!("must be {}, found {}", option_words(node), shown(item)),
                    });
                } else if items[..i].contains(item) {
                    out.push(Problem {
                        about_key: false,
                        path: format!("{path}[{i}]"),
                        message: format!("{} is listed twice", shown(item)),
                    });
                }
            }
        }
        Shape::Integer { min, max } => match value.as_i64() {
            Some(number) if (*min..=*max).contains(&number) => {}
            _ => problem(format!("must be an integer from {min} to {max}, found {}", shown(value))),
        },
        Shape::Text(rule) => match value.as_str() {
            Some(text) => {
                if let Some(message) = text_problem(rule, text) {
                    problem(message);
                }
            }
            None => problem(format!("must be a string, found {}", type_name(value))),
        },
        Shape::TextList { rule, max_items } => {
            let Some(items) = value.as_array() else {
                return problem(format!("must be a list of strings, found {}", type_name(value)));
            };
            if items.len() > *max_items {
                problem(format!("has {} entries, at most {max_items} are allowed", items.len()));
            }
            for (i, item) in items.iter().enumerate() {
                let message = match item.as_str() {
                    Some(text) => text_problem(&TextRule { min_len: rule.min_len.max(1), ..*rule }, text),
                    None => Some(format!("must be a string, found {}", type_name(item))),
                };
                if let Some(message) = message {
                    out.push(Problem { about_key: false, path: format!("{path}[{i}]"), message });
                }
            }
        }
        Shape::GroupList { max_items, key } => {
            let Some(items) = value.as_array() else {
                return problem(format!("must be a list, found {}", type_name(value)));
            };
            if items.len() > *max_items {
                problem(format!("has {} entries, at most {max_items} are allowed", items.len()));
            }
            let mut keys: Vec<&str> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                let Some(map) = item.as_object() else {
                    out.push(Problem {
                        about_key: false,
                        path: item_path,
                        message: format!("must be a mapping, found {}", type_name(item)),
                    });
                    continue;
                };
                check_scope(&node.children, map, &item_path, ITEM_EXTRA_FIELDS, out);
                let Some(key) = key else { continue };
                match map.get(*key).and_then(Value::as_str) {
                    None => {
                        out.push(Problem { about_key: false, path: item_path, message: format!("needs a `{key}`") })
                    }
                    Some(name) if keys.contains(&name) => out.push(Problem {
                        about_key: false,
                        path: format!("{item_path}.{key}"),
                        message: format!("`{name}` is used by another item; each needs its own `{key}`"),
                    }),
                    Some(name) => keys.push(name),
                }
            }
        }
        Shape::Group => {}
    }
}

fn text_problem(rule: &TextRule, text: &str) -> Option<String> {
    let length = text.chars().count();
    if length < rule.min_len {
        return Some(if rule.min_len == 1 {
            "must not be empty".into()
        } else {
            format!("must have at least {} characters", rule.min_len)
        });
    }
    if length > rule.max_len {
        return Some(format!("has {length} characters, at most {} are allowed", rule.max_len));
    }
    let forbidden: Vec<char> = rule.forbidden.chars().filter(|c| text.contains(*c)).collect();
    if !forbidden.is_empty() {
        let listed: Vec<String> = rule.forbidden.chars().map(|c| format!("`{c}`")).collect();
        return Some(format!("must not contain {}", listed.join(", ")));
    }
    None
}

/// A manifest value in a message: strings quoted, everything else as YAML would show it.
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => format!("`{text}`"),
        Value::Array(_) | Value::Object(_) => type_name(value).to_string(),
        other => format!("`{other}`"),
    }
}

/// A child of a choice may only be given with its parent, under the options it depends on.
fn check_dependencies(nodes: &[Node], object: &Map<String, Value>, prefix: &str, out: &mut Vec<Problem>) {
    for node in nodes {
        if matches!(node.shape, Shape::GroupList { .. }) {
            continue;
        }
        if matches!(node.shape, Shape::Choice(_)) {
            let selected = value_at(object, &node.path).and_then(|v| node.option_for(v));
            for child in &node.children {
                if value_at(object, &child.path).is_none() {
                    continue;
                }
                let allowed = match selected {
                    None => false,
                    Some(option) => {
                        child.under.is_empty() || child.under.iter().any(|u| u.eq_ignore_ascii_case(&option.suffix))
                    }
                };
                if !allowed {
                    out.push(Problem {
                        about_key: false,
                        path: join(prefix, &child.dotted_path()),
                        message: dependency_message(node, child, selected.is_some()),
                    });
                }
            }
        }
        check_dependencies(&node.children, object, prefix, out);
    }
}

fn dependency_message(parent: &Node, child: &Node, parent_set: bool) -> String {
    let words: Vec<String> = parent
        .shape
        .options()
        .iter()
        .filter(|o| child.under.is_empty() || child.under.iter().any(|u| u.eq_ignore_ascii_case(&o.suffix)))
        .map(|o| format!("`{}`", o.value.to_json().to_string().trim_matches('"')))
        .collect();
    let state = if parent_set { "" } else { " (it is not set)" };
    let words = match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.join(""),
    };
    format!("applies only when `{}` is {words}{state}", parent.dotted_path())
}
