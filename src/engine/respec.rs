//! Specs with a patch applied: a `PolicyOverride`'s edits, or the values a tenant has for the settings
//! an exception lets differ. The patched spec goes through the same deserialization and checks as a
//! manifest, so a patch cannot make an object a manifest could not be.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::manifest::PolicyResource;
use crate::manifest::typed_checks::problems;
use crate::model::patch::{Edit, apply};

/// Edits, each at its dotted path in the spec.
pub type Edits = [(String, Edit)];

/// `spec` with `edits` applied, read back into its type.
pub fn patch_spec<T: Serialize + DeserializeOwned>(spec: &T, edits: &Edits) -> Result<T, Vec<String>> {
    let mut value = serde_json::to_value(spec).map_err(|e| vec![e.to_string()])?;
    patch_value(&mut value, edits)?;
    serde_json::from_value(value).map_err(|e| vec![format!("the patched spec does not load: {e}")])
}

/// A policy with its spec patched and checked as a manifest's would be.
pub fn patch_policy(resource: &PolicyResource, edits: &Edits) -> Result<PolicyResource, Vec<String>> {
    match resource {
        PolicyResource::Typed(policy) => {
            let mut patched = policy.clone();
            patched.spec = patch_spec(&policy.spec, edits)?;
            let errors: Vec<String> = problems(&patched)
                .into_iter()
                .filter(|p| !p.warning)
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect();
            if errors.is_empty() { Ok(PolicyResource::Typed(patched)) } else { Err(errors) }
        }
        PolicyResource::SettingsCatalog(policy) => {
            let mut patched = policy.clone();
            patched.spec = patch_spec(&policy.spec, edits)?;
            Ok(PolicyResource::SettingsCatalog(patched))
        }
    }
}

fn patch_value(value: &mut Value, edits: &Edits) -> Result<(), Vec<String>> {
    let errors: Vec<String> = edits.iter().filter_map(|(path, edit)| apply(value, path, edit).err()).collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::manifest::load::{Loaded, load_text};

    fn policy(text: &str) -> PolicyResource {
        let mut loaded = Loaded::default();
        load_text(&mut loaded, Arc::from("t.yaml"), text);
        loaded.set.policies.remove(0).object
    }

    #[test]
    fn a_typed_policy_is_patched_and_checked_against_its_table() {
        let exclusions = policy(
            "apiVersion: tenantctl.dev/v1alpha1\nkind: AntivirusExclusionsPolicy\nmetadata: {name: x}\nspec: {displayName: X, exclusions: {paths: ['C:\\a']}}\n",
        );
        let append = vec![("exclusions.paths".to_string(), Edit::Append(vec![json!("C:\\b")]))];
        let PolicyResource::Typed(patched) = patch_policy(&exclusions, &append).expect("patched") else {
            panic!("typed")
        };
        assert_eq!(patched.spec.settings["exclusions"]["paths"], json!(["C:\\a", "C:\\b"]));
        let typo = vec![("exclusions.pathz".to_string(), Edit::Set(json!(["C:\\b"])))];
        let errors = patch_policy(&exclusions, &typo).expect_err("unknown setting");
        assert!(errors[0].contains("pathz"), "{errors:?}");
    }
}
