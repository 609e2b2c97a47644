//! Settings Catalog shapes built from a reference row: the setting instance template a setting
//! template carries, and the setting definition `$expand=settingDefinitions` adds.

use serde_json::{Map, Value, json};

use super::table::{Row, integer_range};

const TYPE_PREFIX: &str = "#microsoft.graph.deviceManagementConfiguration";

/// The kind of setting a row is, in the names Graph's types use.
fn kind(row: &Row) -> &'static str {
    match row.value_type.as_str() {
        "choice" => "Choice",
        "choiceCollection" => "ChoiceSettingCollection",
        "groupCollection" => "GroupSettingCollection",
        "stringCollection" => "SimpleSettingCollection",
        _ => "SimpleSetting",
    }
}

/// `settingInstanceTemplate` of a top-level row.
pub fn instance_template(row: &Row) -> Value {
    let value_template = (!row.value_template_id.is_empty()).then(|| {
        json!({"settingValueTemplateId": row.value_template_id, "defaultValue": null,
               "recommendedValueDefinition": null, "requiredValueDefinition": null})
    });
    let mut template = Map::new();
    let kind = match kind(row) {
        "Choice" => "ChoiceSetting",
        other => other,
    };
    template.insert("@odata.type".into(), Value::String(format!("{TYPE_PREFIX}{kind}InstanceTemplate")));
    template.insert("settingInstanceTemplateId".into(), Value::String(row.instance_template_id.clone()));
    template.insert("settingDefinitionId".into(), Value::String(row.definition_id.clone()));
    template.insert("isRequired".into(), Value::Bool(false));
    let value_key = match kind {
        "ChoiceSetting" => "choiceSettingValueTemplate",
        "ChoiceSettingCollection" => "choiceSettingCollectionValueTemplate",
        "GroupSettingCollection" => "groupSettingCollectionValueTemplate",
        "SimpleSettingCollection" => "simpleSettingCollectionValueTemplate",
        _ => "simpleSettingValueTemplate",
    };
    template.insert(value_key.into(), value_template.unwrap_or(Value::Null));
    Value::Object(template)
}

/// The setting definition of a row, as `$expand=settingDefinitions` shows it.
pub fn definition(rows: &[Row], row: &Row) -> Value {
    let name = row.definition_id.rsplit('_').next().unwrap_or_default().to_string();
    let mut definition = Map::new();
    let type_name = match kind(row) {
        "SimpleSetting" | "SimpleSettingCollection" => format!("{}Definition", kind(row)),
        other => format!("{other}SettingDefinition"),
    };
    let type_name = type_name.replace("SettingCollectionSettingDefinition", "SettingCollectionDefinition");
    definition.insert("@odata.type".into(), Value::String(format!("{TYPE_PREFIX}{type_name}")));
    definition.insert("id".into(), Value::String(row.definition_id.clone()));
    definition.insert("name".into(), Value::String(name));
    definition.insert("displayName".into(), Value::String(row.display_name.clone()));
    definition.insert("description".into(), Value::String(row.display_name.clone()));
    definition.insert("offsetUri".into(), Value::String(row.csp_path.clone()));
    definition.insert("rootDefinitionId".into(), Value::String(root(rows, row).to_string()));
    definition.insert("visibility".into(), Value::String("settingsCatalog,template".into()));
    definition.insert("accessTypes".into(), Value::String("add,delete,get,replace".into()));
    definition.insert("settingUsage".into(), Value::String("configuration".into()));
    let dependent_on: Vec<Value> = (!row.parent_id.is_empty())
        .then(|| json!({"dependentOn": row.parent_id, "parentSettingId": row.parent_id}))
        .into_iter()
        .collect();
    definition.insert("dependentOn".into(), Value::Array(dependent_on));
    match row.value_type.as_str() {
        "choice" | "choiceCollection" => {
            let options: Vec<Value> = row
                .options
                .iter()
                .map(|choice| {
                    let value = choice.value.clone().unwrap_or_else(|| choice.suffix.clone());
                    let option_value = match value.parse::<i64>() {
                        Ok(number) => {
                            json!({"@odata.type": format!("{TYPE_PREFIX}IntegerSettingValue"), "value": number})
                        }
                        Err(_) => json!({"@odata.type": format!("{TYPE_PREFIX}StringSettingValue"), "value": value}),
                    };
                    json!({
                        "itemId": format!("{}_{}", row.definition_id, choice.suffix),
                        "name": choice.meaning,
                        "displayName": choice.meaning,
                        "description": choice.meaning,
                        "optionValue": option_value,
                        "dependentOn": [],
                        "dependedOnBy": [],
                    })
                })
                .collect();
            definition.insert("options".into(), Value::Array(options));
            let default = (!row.default.is_empty()).then(|| format!("{}_{}", row.definition_id, row.default));
            definition.insert("defaultOptionId".into(), default.map_or(Value::Null, Value::String));
        }
        "groupCollection" => {
            let children: Vec<Value> = rows
                .iter()
                .filter(|r| r.parent_id == row.definition_id)
                .map(|r| Value::String(r.definition_id.clone()))
                .collect();
            definition.insert("childIds".into(), Value::Array(children));
            let (min, max) = integer_range(&row.range).unwrap_or((0, 100));
            definition.insert("minimumCount".into(), min.into());
            definition.insert("maximumCount".into(), max.into());
        }
        "integer" => {
            let (min, max) = integer_range(&row.range).unwrap_or((i64::from(i32::MIN), i64::from(i32::MAX)));
            let value_definition = json!({
                "@odata.type": format!("{TYPE_PREFIX}IntegerSettingValueDefinition"),
                "minimumValue": min,
                "maximumValue": max,
            });
            definition.insert("valueDefinition".into(), value_definition);
            let default = row
                .default
                .parse::<i64>()
                .ok()
                .map(|value| json!({"@odata.type": format!("{TYPE_PREFIX}IntegerSettingValue"), "value": value}));
            definition.insert("defaultValue".into(), default.unwrap_or(Value::Null));
        }
        _ => {
            let value_definition = json!({
                "@odata.type": format!("{TYPE_PREFIX}StringSettingValueDefinition"),
                "isSecret": row.value_type == "string (secret)",
            });
            definition.insert("valueDefinition".into(), value_definition);
            definition.insert("defaultValue".into(), Value::Null);
        }
    }
    Value::Object(definition)
}

/// The top-level setting a row belongs to.
fn root<'a>(rows: &'a [Row], row: &'a Row) -> &'a str {
    let mut current = row;
    // Bounded: a table is a tree, but a malformed one must not loop.
    for _ in 0..rows.len() {
        match rows.iter().find(|r| r.definition_id == current.parent_id) {
            Some(parent) if !current.parent_id.is_empty() => current = parent,
            _ => break,
        }
    }
    &current.definition_id
}
