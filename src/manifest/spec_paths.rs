//! Whether a dotted path (`exclusions.paths`, `rules.blockOfficeMacros`) names a field of a kind's
//! spec, judged by the kind's own JSON Schema: overrides and exceptions name settings this way, and
//! a typo must be an error at the manifest, not a patch that silently adds nothing.

use serde_json::Value;

use super::generate::document_schema;
use crate::model::Kind;
use crate::util::suggest::did_you_mean;

/// `Ok` when the path names a field of the spec of `kind` (or lies inside a field that takes any
/// keys), else why not.
pub fn check_spec_path(kind: Kind, path: &str) -> Result<(), String> {
    let schema = document_schema(kind);
    let definitions = schema.get("definitions");
    let mut node = &schema["properties"]["spec"];
    let mut walked: Vec<&str> = Vec::new();
    for key in path.split('.') {
        node = dereference(node, definitions);
        if node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
            return Ok(());
        }
        let properties = node.get("properties").and_then(Value::as_object);
        if let Some(child) = properties.and_then(|p| p.get(key)) {
            walked.push(key);
            node = child;
            continue;
        }
        if node.get("additionalProperties").is_some_and(|extra| extra != &Value::Bool(false)) {
            return Ok(());
        }
        let within = if walked.is_empty() { "the spec".to_string() } else { format!("`{}`", walked.join(".")) };
        let Some(properties) = properties else {
            return Err(format!("`{path}`: {within} of {kind} has no fields"));
        };
        let hint = did_you_mean(key, properties.keys().map(String::as_str));
        return Err(format!("`{path}`: {within} of {kind} has no field `{key}`{hint}"));
    }
    Ok(())
}

/// The schema a `$ref` (or a lone `allOf`/`anyOf` wrapper) points to.
fn dereference<'a>(mut node: &'a Value, definitions: Option<&'a Value>) -> &'a Value {
    for _ in 0..8 {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or_default();
            match definitions.and_then(|d| d.get(name)) {
                Some(target) => node = target,
                None => return node,
            }
        } else if let Some([only]) = node.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            node = only;
        } else if let Some(branch) = node
            .get("anyOf")
            .and_then(Value::as_array)
            .and_then(|branches| branches.iter().find(|b| b.get("type") != Some(&Value::String("null".into()))))
        {
            node = branch;
        } else {
            return node;
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_typed_and_struct_kinds_are_judged_by_their_schemas() {
        assert!(check_spec_path(Kind::AntivirusExclusionsPolicy, "exclusions.paths").is_ok());
        assert!(check_spec_path(Kind::AttackSurfaceReductionPolicy, "rules.blockCredentialStealingFromLsass").is_ok());
        assert!(check_spec_path(Kind::DetectionRule, "alert.severity").is_ok());
        assert!(check_spec_path(Kind::IntuneRole, "allowedResourceActions").is_ok());
        assert!(check_spec_path(Kind::SettingsCatalogPolicy, "settings").is_ok());
        assert_eq!(
            check_spec_path(Kind::AntivirusExclusionsPolicy, "exclusions.pahts"),
            Err("`exclusions.pahts`: `exclusions` of AntivirusExclusionsPolicy has no field `pahts` (did you mean `paths`?)"
                .to_string())
        );
        assert!(check_spec_path(Kind::DetectionRule, "alert.severty").is_err());
        assert!(check_spec_path(Kind::AntivirusExclusionsPolicy, "displayName.x").is_err());
    }
}
