//! The read-only `templateReference` details the lab fills in for the endpoint-security templates of
//! its catalog, as Intune does (graph-facts §2, and the real exports in `tests/corpus/`).

use serde_json::{Map, Value};

/// The `templateReference` Intune returns for a written one: `templateId` as written, the read-only
/// family, display name and version derived from it. A policy without a template gets family `none`.
pub fn server_template_reference(written: Option<&Value>) -> Value {
    let template_id = written.and_then(|t| t.get("templateId")).and_then(Value::as_str).unwrap_or_default();
    let (base, version) = template_id.rsplit_once('_').unwrap_or((template_id, ""));
    let known = super::catalog::template_identity(base);
    let mut reference = Map::new();
    reference.insert("templateId".into(), Value::String(template_id.to_string()));
    let (family, display_name, display_version) = match known {
        Some((family, display_name)) => (
            family,
            Value::String(display_name.into()),
            Value::String(format!("Version {}", if version.is_empty() { "1" } else { version })),
        ),
        None if template_id.is_empty() => ("none", Value::Null, Value::Null),
        // An unknown template keeps what the client said about it, so nothing is made up.
        None => {
            let field = |name: &str| written.and_then(|t| t.get(name)).cloned().unwrap_or(Value::Null);
            let family = written.and_then(|t| t.get("templateFamily")).and_then(Value::as_str).unwrap_or("none");
            reference.insert("templateFamily".into(), Value::String(family.to_string()));
            reference.insert("templateDisplayName".into(), field("templateDisplayName"));
            reference.insert("templateDisplayVersion".into(), field("templateDisplayVersion"));
            return Value::Object(reference);
        }
    };
    reference.insert("templateFamily".into(), Value::String(family.into()));
    reference.insert("templateDisplayName".into(), display_name);
    reference.insert("templateDisplayVersion".into(), display_version);
    Value::Object(reference)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_templates_get_their_details() {
        let reference =
            server_template_reference(Some(&json!({"templateId": "6078910e-d808-4a9f-a51d-1b8a7bacb7c0_1"})));
        assert_eq!(
            reference,
            json!({
                "templateId": "6078910e-d808-4a9f-a51d-1b8a7bacb7c0_1",
                "templateFamily": "endpointSecurityFirewall",
                "templateDisplayName": "Windows Firewall",
                "templateDisplayVersion": "Version 1"
            })
        );
        assert_eq!(server_template_reference(None)["templateFamily"], "none");
        let unknown = server_template_reference(Some(&json!({"templateId": "x_2", "templateFamily": "baseline"})));
        assert_eq!(
            (unknown["templateFamily"].as_str(), unknown["templateDisplayName"].is_null()),
            (Some("baseline"), true)
        );
    }
}
