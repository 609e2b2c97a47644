//! `deviceManagement/configurationPolicyTemplates` (beta): the endpoint-security templates and their
//! setting templates (`$expand=settingDefinitions`), served from the reference tables in
//! `reference/templates/`. The same for every tenant, as Intune's catalog is.

mod definitions;
mod table;

use std::sync::LazyLock;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::call::Call;
use super::paging::page_at;
use super::reply::Reply;
use super::route::Route;
use definitions::{definition, instance_template};
use table::{Row, rows};

struct Template {
    base_id: &'static str,
    family: &'static str,
    display_name: &'static str,
    table: &'static str,
}

/// The family and display name of a catalog template, by its id without version.
pub fn template_identity(base_id: &str) -> Option<(&'static str, &'static str)> {
    TEMPLATES.iter().find(|t| t.base_id.eq_ignore_ascii_case(base_id)).map(|t| (t.family, t.display_name))
}

const TEMPLATES: &[Template] = &[
    Template {
        base_id: "804339ad-1553-4478-a742-138fb5807418",
        family: "endpointSecurityAntivirus",
        display_name: "Microsoft Defender Antivirus",
        table: include_str!("../../../reference/templates/antivirus-804339ad.tsv"),
    },
    Template {
        base_id: "e3f74c5a-a6de-411d-aef6-eb15628f3a0a",
        family: "endpointSecurityAntivirus",
        display_name: "Defender Update controls",
        table: include_str!("../../../reference/templates/update-controls-e3f74c5a.tsv"),
    },
    Template {
        base_id: "45fea5e9-280d-4da1-9792-fb5736da0ca9",
        family: "endpointSecurityAntivirus",
        display_name: "Microsoft Defender Antivirus exclusions",
        table: include_str!("../../../reference/templates/av-exclusions-45fea5e9.tsv"),
    },
    Template {
        base_id: "d948ff9b-99cb-4ee0-8012-1fbc09685377",
        family: "endpointSecurityAntivirus",
        display_name: "Windows Security Experience",
        table: include_str!("../../../reference/templates/security-experience-d948ff9b.tsv"),
    },
    Template {
        base_id: "e8c053d6-9f95-42b1-a7f1-ebfd71c67a4b",
        family: "endpointSecurityAttackSurfaceReduction",
        display_name: "Attack Surface Reduction Rules",
        table: include_str!("../../../reference/templates/asr-e8c053d6.tsv"),
    },
    Template {
        base_id: "6078910e-d808-4a9f-a51d-1b8a7bacb7c0",
        family: "endpointSecurityFirewall",
        display_name: "Windows Firewall",
        table: include_str!("../../../reference/templates/firewall-6078910e.tsv"),
    },
    Template {
        base_id: "19c8aa67-f286-4861-9aa0-f23541d31680",
        family: "endpointSecurityFirewall",
        display_name: "Windows Firewall Rules",
        table: include_str!("../../../reference/templates/firewall-rules-19c8aa67.tsv"),
    },
    Template {
        base_id: "0385b795-0f2f-44ac-8602-9f65bf6adede",
        family: "endpointSecurityEndpointDetectionAndResponse",
        display_name: "Endpoint detection and response",
        table: include_str!("../../../reference/templates/edr-0385b795.tsv"),
    },
];

/// Each template's rows, parsed once.
static ROWS: LazyLock<Vec<Vec<Row>>> = LazyLock::new(|| TEMPLATES.iter().map(|t| rows(t.table)).collect());

/// The templates as Graph lists them, in id order.
static LISTED: LazyLock<Vec<Map<String, Value>>> = LazyLock::new(|| {
    let mut listed: Vec<Map<String, Value>> = TEMPLATES.iter().zip(ROWS.iter()).map(|(t, r)| listed(t, r)).collect();
    listed.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    listed
});

fn listed(template: &Template, rows: &[Row]) -> Map<String, Value> {
    let count = setting_rows(rows).count();
    let value = json!({
        "@odata.type": "#microsoft.graph.deviceManagementConfigurationPolicyTemplate",
        "id": format!("{}_1", template.base_id),
        "baseId": template.base_id,
        "version": 1,
        "displayName": template.display_name,
        "description": template.display_name,
        "displayVersion": "Version 1",
        "lifecycleState": "active",
        "platforms": "windows10",
        "technologies": "mdm,microsoftSense",
        "templateFamily": template.family,
        "allowUnmanagedSettings": false,
        "settingTemplateCount": count,
        "disableEntraGroupPolicyAssignment": false,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The top-level settings a template has a setting template for.
fn setting_rows(rows: &[Row]) -> impl Iterator<Item = &Row> {
    rows.iter().filter(|r| r.parent_id.is_empty() && !r.instance_template_id.is_empty())
}

const CONTEXT: &str = "deviceManagement/configurationPolicyTemplates";

pub fn handle(route: &Route, call: &Call) -> Reply {
    match route {
        Route::Templates => {
            if let Some(relation) = call.query.expand.first() {
                return call.expand_refused(relation);
            }
            call.list_page(CONTEXT, LISTED.clone())
        }
        Route::Template(id) => match find(id) {
            Some(index) => call.entity(CONTEXT, Value::Object(LISTED[index].clone())),
            None => not_found(call, id),
        },
        Route::TemplateSettings(id) => match find(id) {
            Some(index) => setting_templates(call, index, id),
            None => not_found(call, id),
        },
        _ => call.bad_request("Unsupported request."),
    }
}

/// `/$count` of the templates.
pub fn count(call: &Call) -> Reply {
    let filter = call.query.filter.as_ref();
    Reply::plain(LISTED.iter().filter(|t| filter.is_none_or(|f| f.matches(t))).count().to_string())
}

/// The definitions the reference tables hold for these setting ids (ids they do not hold are left out).
pub fn definitions_for(ids: &[String]) -> Vec<Value> {
    ids.iter()
        .filter_map(|id| {
            ROWS.iter().find_map(|rows| {
                rows.iter().find(|r| r.definition_id.eq_ignore_ascii_case(id)).map(|row| definition(rows, row))
            })
        })
        .collect()
}

/// The index in [`LISTED`] of a template id (`{baseId}_{version}`).
fn find(id: &str) -> Option<usize> {
    LISTED.iter().position(|t| t["id"].as_str().is_some_and(|listed| listed.eq_ignore_ascii_case(id)))
}

fn setting_templates(call: &Call, listed_index: usize, id: &str) -> Reply {
    let mut expand_definitions = false;
    for relation in &call.query.expand {
        if relation.eq_ignore_ascii_case("settingDefinitions") {
            expand_definitions = true;
        } else {
            return call.expand_refused(relation);
        }
    }
    let base = LISTED[listed_index]["baseId"].as_str().unwrap_or_default();
    let Some(rows) = TEMPLATES.iter().position(|t| t.base_id == base).map(|i| &ROWS[i]) else {
        return not_found(call, id);
    };
    let all: Vec<Value> = setting_rows(rows)
        .map(|row| {
            let mut item = Map::new();
            item.insert("id".into(), Value::String(row.instance_template_id.clone()));
            item.insert("settingInstanceTemplate".into(), instance_template(row));
            if expand_definitions {
                let definitions = tree(rows, row).into_iter().map(|r| definition(rows, r)).collect();
                item.insert("settingDefinitions".into(), Value::Array(definitions));
            }
            Value::Object(item)
        })
        .collect();
    let offset = match call.offset(0) {
        Ok(offset) => offset,
        Err(reply) => return reply,
    };
    let (range, next) = page_at(all.len(), offset, call.page_size());
    let context = format!("{CONTEXT}('{id}')/settingTemplates");
    let total = all.len();
    Reply::json(StatusCode::OK, call.page(&context, all[range].to_vec(), next, Some(total)))
}

/// A setting and every setting below it (group children, choice children), depth first.
fn tree<'a>(rows: &'a [Row], root: &'a Row) -> Vec<&'a Row> {
    let mut found = vec![root];
    let mut at = 0;
    while at < found.len() {
        let parent = &found[at].definition_id;
        found.extend(rows.iter().filter(|r| &r.parent_id == parent));
        at += 1;
    }
    found
}

fn not_found(call: &Call, id: &str) -> Reply {
    let path = format!("/DeviceConfigV2/DCV2GraphService/deviceManagement/configurationPolicyTemplates('{id}')");
    Reply::intune_error(call.context, StatusCode::NOT_FOUND, "ResourceNotFound", "An error has occurred", &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_table_gives_a_template_with_setting_templates() {
        assert_eq!(LISTED.len(), TEMPLATES.len());
        for (template, rows) in TEMPLATES.iter().zip(ROWS.iter()) {
            assert!(setting_rows(rows).count() > 0, "{}", template.display_name);
            for row in setting_rows(rows) {
                for member in tree(rows, row) {
                    let shown = definition(rows, member);
                    assert!(shown["@odata.type"].as_str().is_some_and(|t| t.ends_with("Definition")), "{shown}");
                }
            }
        }
        let asr = find("e8c053d6-9f95-42b1-a7f1-ebfd71c67a4b_1").expect("ASR");
        assert_eq!(LISTED[asr]["templateFamily"], "endpointSecurityAttackSurfaceReduction");
        assert_eq!(find("nope"), None);
    }
}
