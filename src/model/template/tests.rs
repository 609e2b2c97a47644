//! The tables against Microsoft's published definitions (`reference/templates/`): every setting of
//! confidence `confirmed-microsoft-repo` or `real-export` is typed, with the template ids Microsoft
//! uses; and the tables are well formed.

use std::collections::HashSet;

use super::scope::{Field, Scope};
use super::*;

const REFERENCE: [(&str, &str); 8] = [
    ("804339ad-1553-4478-a742-138fb5807418_1", include_str!("../../../reference/templates/antivirus-804339ad.tsv")),
    ("e8c053d6-9f95-42b1-a7f1-ebfd71c67a4b_1", include_str!("../../../reference/templates/asr-e8c053d6.tsv")),
    ("45fea5e9-280d-4da1-9792-fb5736da0ca9_1", include_str!("../../../reference/templates/av-exclusions-45fea5e9.tsv")),
    ("0385b795-0f2f-44ac-8602-9f65bf6adede_1", include_str!("../../../reference/templates/edr-0385b795.tsv")),
    ("6078910e-d808-4a9f-a51d-1b8a7bacb7c0_1", include_str!("../../../reference/templates/firewall-6078910e.tsv")),
    (
        "19c8aa67-f286-4861-9aa0-f23541d31680_1",
        include_str!("../../../reference/templates/firewall-rules-19c8aa67.tsv"),
    ),
    (
        "d948ff9b-99cb-4ee0-8012-1fbc09685377_1",
        include_str!("../../../reference/templates/security-experience-d948ff9b.tsv"),
    ),
    (
        "e3f74c5a-a6de-411d-aef6-eb15628f3a0a_1",
        include_str!("../../../reference/templates/update-controls-e3f74c5a.tsv"),
    ),
];

struct Row<'a> {
    id: &'a str,
    parent: &'a str,
    instance: &'a str,
    value: &'a str,
    options: &'a str,
    confidence: &'a str,
}

fn rows(tsv: &str) -> Vec<Row<'_>> {
    tsv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let cell = |i: usize| cells.get(i).copied().unwrap_or_default().trim();
            Row {
                id: cell(1),
                parent: cell(2),
                options: cell(4),
                instance: cell(7),
                value: cell(8),
                confidence: cell(11),
            }
        })
        .collect()
}

fn table_for(template: &str) -> &'static TemplateTable {
    tables().into_iter().map(|(_, t)| t).find(|t| t.template.id == template).expect("a table for every template")
}

#[test]
fn every_confirmed_setting_is_typed_with_microsofts_template_ids() {
    for (template, tsv) in REFERENCE {
        let table = table_for(template);
        let nodes = table.all_nodes();
        for row in rows(tsv) {
            if !matches!(row.confidence, "confirmed-microsoft-repo" | "real-export") {
                continue;
            }
            let node = nodes.iter().find(|n| n.id.eq_ignore_ascii_case(row.id));
            let node = node.unwrap_or_else(|| panic!("{template}: `{}` is not typed", row.id));
            if row.parent.is_empty() {
                let top = table.nodes.iter().any(|n| n.id == node.id);
                assert!(top, "{template}: `{}` is a top-level setting", row.id);
                if !row.instance.is_empty() {
                    assert_eq!(node.instance_template, Some(row.instance), "{template}: instance id of `{}`", row.id);
                }
                if !row.value.is_empty() {
                    assert_eq!(node.value_template, Some(row.value), "{template}: value id of `{}`", row.id);
                }
            }
            for suffix in row.options.split("; ").filter_map(|o| o.split_once('=')).map(|(suffix, _)| suffix) {
                if matches!(node.shape, Shape::Choice(_) | Shape::ChoiceList(_)) && !suffix.starts_with('-') {
                    let known = node.shape.options().iter().any(|o| o.suffix.eq_ignore_ascii_case(suffix));
                    assert!(known, "{template}: option `{suffix}` of `{}`", row.id);
                }
            }
        }
    }
}

fn count_settings(scope: &Scope<'_>) -> usize {
    scope
        .fields
        .iter()
        .map(|(_, field)| match field {
            Field::Setting(_) => 1,
            Field::Object(inner) => count_settings(inner),
        })
        .sum()
}

fn check_scope_is_well_formed(kind: &str, nodes: &[Node]) {
    let scope = Scope::of(nodes);
    let mut valued = 0;
    let mut stack: Vec<&Node> = nodes.iter().collect();
    while let Some(node) = stack.pop() {
        match node.shape {
            Shape::Group => stack.extend(&node.children),
            Shape::GroupList { .. } => {
                valued += 1;
                check_scope_is_well_formed(kind, &node.children);
            }
            _ => {
                valued += 1;
                stack.extend(&node.children);
            }
        }
    }
    assert_eq!(count_settings(&scope), valued, "{kind}: two settings share a manifest path");
}

#[test]
fn tables_are_well_formed() {
    for (kind, table) in tables() {
        let mut ids = HashSet::new();
        for node in table.all_nodes() {
            assert!(ids.insert(node.id.to_ascii_lowercase()), "{kind}: `{}` listed twice", node.id);
            let mut suffixes = HashSet::new();
            let mut values = HashSet::new();
            for option in node.shape.options() {
                assert!(
                    suffixes.insert(option.suffix.to_ascii_lowercase()),
                    "{kind}: {} option {}",
                    node.id,
                    option.suffix
                );
                assert!(
                    values.insert(option.value.to_json().to_string()),
                    "{kind}: {} value {:?}",
                    node.id,
                    option.value
                );
            }
            for reference in [node.instance_template, node.value_template].into_iter().flatten() {
                assert!(crate::model::is_guid(reference), "{kind}: {} reference {reference}", node.id);
            }
            assert!(!node.doc.is_empty() && !node.path.is_empty(), "{kind}: {} has a path and a description", node.id);
        }
        check_scope_is_well_formed(kind.as_str(), &table.nodes);
        assert_eq!(kind_of_template(table.template.id), Some(kind));
    }
}

#[test]
fn problems_name_the_field_and_what_is_allowed() {
    let table = &*firewall::TABLE;
    let settings = serde_json::json!({
        "domain": {"enabled": false, "defaultInboundAction": "block"},
        "public": {"enabld": true},
        "global": {"saIdleTimeSeconds": 10, "crlCheck": "maybe"},
    });
    let problems = check::check(&table.nodes, settings.as_object().expect("object"), "spec", &[]);
    let text: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
    assert!(
        text.contains(&"spec.domain.defaultInboundAction: applies only when `domain.enabled` is `true`".to_string()),
        "{text:?}"
    );
    assert!(
        text.iter().any(|t| t.starts_with("spec.public.enabld: unknown field `enabld` (did you mean `enabled`?)")),
        "{text:?}"
    );
    assert!(
        text.contains(&"spec.global.saIdleTimeSeconds: must be an integer from 300 to 3600, found `10`".to_string()),
        "{text:?}"
    );
    assert!(
        text.contains(&"spec.global.crlCheck: must be `none`, `attempt` or `require`, found `maybe`".to_string()),
        "{text:?}"
    );

    let rules = &*firewall_rules::TABLE;
    let settings = serde_json::json!({"rules": [{"name": "A"}, {"name": "A"}, {"direction": "in"}]});
    let problems = check::check(&rules.nodes, settings.as_object().expect("object"), "spec", &[]);
    let text: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
    assert!(
        text.contains(&"spec.rules[1].name: `A` is used by another item; each needs its own `name`".to_string()),
        "{text:?}"
    );
    assert!(text.contains(&"spec.rules[2]: needs a `name`".to_string()), "{text:?}");
}
