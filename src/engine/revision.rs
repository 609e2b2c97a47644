//! Revisions: a short content hash of what tenantctl writes for an object (its settings and
//! assignments, as the manifests say them), recorded in each tenant by the stamp before the ownership
//! marker. Equal content, equal revision, in every tenant and on every machine.

use std::sync::Arc;

use serde::Serialize;

use crate::model::ObjectRef;

/// Hex digits of a revision: 32 bits tell apart the revisions of one object a person will ever see.
const LENGTH: usize = 8;

/// The revision of an object's content.
pub fn revision_of(content: &impl Serialize) -> Arc<str> {
    let bytes = serde_json::to_vec(content).unwrap_or_default();
    Arc::from(short_hash(&bytes))
}

/// A profile's revision in one tenant: one hash over the revisions of the objects it delivers there,
/// so that tenants running the same objects at the same revisions show the same value.
pub fn combined<'a>(objects: impl IntoIterator<Item = (&'a ObjectRef, &'a str)>) -> String {
    let mut pairs: Vec<String> = objects.into_iter().map(|(object, revision)| format!("{object}={revision}")).collect();
    pairs.sort();
    short_hash(pairs.join("\n").as_bytes())
}

fn short_hash(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().take(LENGTH / 2).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn revisions_follow_content_and_profiles_follow_their_objects() {
        assert_eq!(revision_of(&("a", 1)), revision_of(&("a", 1)));
        assert_ne!(revision_of(&("a", 1)), revision_of(&("a", 2)));
        assert_eq!(revision_of(&"x").len(), LENGTH);
        let (a, b) = (ObjectRef::new(Kind::AntivirusPolicy, "a"), ObjectRef::new(Kind::FirewallPolicy, "b"));
        assert_eq!(combined([(&a, "01"), (&b, "02")]), combined([(&b, "02"), (&a, "01")]));
        assert_ne!(combined([(&a, "01"), (&b, "02")]), combined([(&a, "01"), (&b, "03")]));
    }
}
