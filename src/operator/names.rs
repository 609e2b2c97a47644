//! How the operator names the objects it watches.

use kube::ResourceExt;

use crate::manifest::DEFAULT_NAMESPACE;

/// Namespace of a resource, `default` when it has none.
pub fn namespace_of(object: &impl ResourceExt) -> String {
    object.namespace().unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}
