//! Checks of a typed policy: its settings against the kind's table, its additional settings against
//! Graph's shape and the table, and the warnings particular to attack surface reduction rules.

use serde_json::Value;

use crate::model::asr::AsrRule;
use crate::model::template::check::check;
use crate::model::template::{Shape, TemplateTable};
use crate::model::{AdditionalSetting, PolicyKind, TypedPolicy};

/// A finding at a manifest path.
pub struct Problem {
    pub path: String,
    pub message: String,
    pub warning: bool,
    /// About the field's name (an unknown field), not its value.
    pub about_key: bool,
}

fn error(path: String, message: String) -> Problem {
    Problem { path, message, warning: false, about_key: false }
}

/// Everything wrong with a typed policy.
pub fn problems(policy: &TypedPolicy) -> Vec<Problem> {
    let table = policy.table();
    let mut out: Vec<Problem> = check(&table.nodes, &policy.spec.settings, "spec", &[])
        .into_iter()
        .map(|p| Problem { about_key: p.about_key, ..error(p.path, p.message) })
        .collect();
    check_additional(table, &policy.spec.additional_settings, "spec.additionalSettings", &mut out);
    for (index, item) in list_items(table, &policy.spec.settings) {
        if let Some(additional) = item.get("additionalSettings") {
            let path = format!("spec.{}[{index}].additionalSettings", item_list_path(table));
            match serde_json::from_value::<Vec<AdditionalSetting>>(additional.clone()) {
                Ok(additional) => check_additional(table, &additional, &path, &mut out),
                Err(e) => out.push(error(path, format!("must be a list of {{parent, settingInstance}}: {e}"))),
            }
        }
    }
    if policy.kind == PolicyKind::AttackSurfaceReductionPolicy {
        asr_warnings(policy, &mut out);
    }
    out
}

/// The manifest path of the table's list of groups (firewall rules), if it has one.
fn item_list_path(table: &TemplateTable) -> String {
    table.nodes.iter().find(|n| matches!(n.shape, Shape::GroupList { .. })).map(|n| n.dotted_path()).unwrap_or_default()
}

fn list_items<'a>(
    table: &TemplateTable,
    settings: &'a serde_json::Map<String, Value>,
) -> Vec<(usize, &'a serde_json::Map<String, Value>)> {
    let Some(list) = table.nodes.iter().find(|n| matches!(n.shape, Shape::GroupList { .. })) else { return Vec::new() };
    crate::model::template::scope::value_at(settings, &list.path)
        .and_then(Value::as_array)
        .map(|items| items.iter().enumerate().filter_map(|(i, item)| Some((i, item.as_object()?))).collect())
        .unwrap_or_default()
}

/// Each additional setting must be a Graph setting instance, under a parent the table writes, and
/// not a setting the kind types (that belongs in its typed field, where it is checked).
fn check_additional(table: &TemplateTable, additional: &[AdditionalSetting], path: &str, out: &mut Vec<Problem>) {
    let nodes = table.all_nodes();
    for (index, item) in additional.iter().enumerate() {
        let here = format!("{path}[{index}]");
        let instance = match serde_json::from_value::<crate::wire::SettingInstance>(item.setting_instance.clone()) {
            Ok(instance) => instance,
            Err(e) => {
                out.push(error(format!("{here}.settingInstance"), format!("is not a Graph setting instance: {e}")));
                continue;
            }
        };
        if let Some(parent) = &item.parent {
            let container = nodes
                .iter()
                .any(|n| n.id.eq_ignore_ascii_case(parent) && (matches!(n.shape, Shape::Choice(_) | Shape::Group)));
            if !container {
                out.push(error(
                    format!("{here}.parent"),
                    format!("`{parent}` is not a group or choice setting of this kind"),
                ));
            }
        }
        let typed = nodes.iter().find(|n| n.id.eq_ignore_ascii_case(instance.definition_id()));
        if let Some(node) = typed
            && item.parent.is_none()
            && table.nodes.iter().any(|top| top.id == node.id)
        {
            out.push(Problem {
                path: format!("{here}.settingInstance"),
                message: format!(
                    "`{}` is a typed setting of this kind; set `{}` instead unless Graph holds an option tenantctl does not know",
                    node.id,
                    node.dotted_path()
                ),
                warning: true,
                about_key: false,
            });
        }
    }
}

fn asr_warnings(policy: &TypedPolicy, out: &mut Vec<Problem>) {
    let rules = policy.spec.settings.get("rules").and_then(Value::as_object);
    let configures_anything = rules.is_some_and(|r| !r.is_empty())
        || policy.spec.settings.keys().any(|k| k != "rules" && k != "ruleExclusions")
        || !policy.spec.additional_settings.is_empty();
    if !configures_anything {
        out.push(Problem {
            path: "spec.rules".into(),
            message: "configures no rule".into(),
            warning: true,
            about_key: false,
        });
    }
    for rule in AsrRule::ALL {
        let info = rule.info();
        if !info.supports_warn && rules.and_then(|r| r.get(info.key)).and_then(Value::as_str) == Some("warn") {
            out.push(Problem {
                path: format!("spec.rules.{}", info.key),
                message: format!(
                    "Microsoft documents no `warn` mode for \"{}\"; devices may treat it as block",
                    info.title
                ),
                warning: true,
                about_key: false,
            });
        }
    }
}
