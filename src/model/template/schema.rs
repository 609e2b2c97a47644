//! JSON Schema of a typed kind's spec, from its table: what editors complete and what the API server
//! checks before tenantctl ever sees an object.

use serde_json::{Map, Value, json};

use super::scope::{Field, Scope};
use super::{Node, OptValue, Shape, TemplateTable};

/// The schema of a spec: `displayName`, `description`, `additionalSettings` and the table's fields.
pub fn spec_schema(table: &TemplateTable, doc: &str) -> Value {
    let scope = Scope::of(&table.nodes);
    let mut properties = Map::new();
    properties.insert(
        "displayName".into(),
        json!({"type": "string", "minLength": 1, "description": "Name of the policy in each tenant (Intune shows it)."}),
    );
    properties.insert(
        "description".into(),
        json!({"type": "string", "description": "Description shown in Intune. tenantctl appends its ownership marker."}),
    );
    properties.extend(scope_properties(&scope));
    properties.insert("additionalSettings".into(), additional_settings_schema());
    json!({
        "type": "object",
        "description": doc,
        "required": ["displayName"],
        "properties": properties,
        "additionalProperties": false,
    })
}

/// Settings tenantctl does not type, kept as Graph JSON so a policy always reads and writes whole.
pub fn additional_settings_schema() -> Value {
    json!({
        "type": "array",
        "description": "Settings of the template that this kind does not type (newer ones Microsoft adds), in Graph's own JSON; written back unchanged.",
        "items": {
            "type": "object",
            "required": ["settingInstance"],
            "properties": {
                "parent": {
                    "type": "string",
                    "description": "settingDefinitionId of the setting this one is a child of; absent for a top-level setting.",
                },
                "settingInstance": {
                    "type": "object",
                    "description": "The deviceManagementConfigurationSettingInstance, as Graph reads and writes it.",
                    "x-kubernetes-preserve-unknown-fields": true,
                },
            },
            "additionalProperties": false,
        },
    })
}

fn scope_properties(scope: &Scope<'_>) -> Map<String, Value> {
    scope
        .fields
        .iter()
        .map(|(name, field)| {
            let schema = match field {
                Field::Setting(node) => setting_schema(node),
                Field::Object(inner) => {
                    let mut object = json!({
                        "type": "object",
                        "properties": scope_properties(inner),
                        "additionalProperties": false,
                    });
                    if let Some(doc) = inner.doc {
                        object["description"] = doc.into();
                    }
                    object
                }
            };
            (name.clone(), schema)
        })
        .collect()
}

fn option_schema(node: &Node) -> Value {
    let values: Vec<Value> = node.shape.options().iter().map(|o| o.value.to_json()).collect();
    match node.shape.options().first().map(|o| o.value) {
        Some(OptValue::Flag(_)) => json!({"type": "boolean"}),
        _ => json!({"type": "string", "enum": values}),
    }
}

fn setting_schema(node: &Node) -> Value {
    let mut schema = match &node.shape {
        Shape::Choice(_) => option_schema(node),
        Shape::ChoiceList(_) => json!({"type": "array", "items": option_schema(node)}),
        Shape::Integer { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Shape::Text(rule) => json!({"type": "string", "minLength": rule.min_len, "maxLength": rule.max_len}),
        Shape::TextList { rule, max_items } => json!({
            "type": "array",
            "maxItems": max_items,
            "items": {"type": "string", "minLength": rule.min_len.max(1), "maxLength": rule.max_len},
        }),
        Shape::GroupList { max_items, key } => {
            let scope = Scope::of(&node.children);
            let mut properties = scope_properties(&scope);
            properties.insert("additionalSettings".into(), additional_settings_schema());
            let mut item = json!({"type": "object", "properties": properties, "additionalProperties": false});
            if let Some(key) = key {
                item["required"] = json!([key]);
            }
            json!({"type": "array", "maxItems": max_items, "items": item})
        }
        Shape::Group => json!({"type": "object"}),
    };
    schema["description"] = node.doc.clone().into();
    schema
}
