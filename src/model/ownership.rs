//! The ownership marker: tenantctl owns a tenant object when its description ends with
//! `[managed-by tenantctl: Kind/name]`. The marker, not the display name, is the object's identity.

use super::ObjectRef;

const MARKER_OPEN: &str = "[managed-by tenantctl: ";

/// The marker for an object.
pub fn marker(reference: &ObjectRef) -> String {
    format!("{MARKER_OPEN}{reference}]")
}

/// The description tenantctl writes: the user's description followed by the marker.
pub fn description_with_marker(description: &str, reference: &ObjectRef) -> String {
    let description = description.trim_end();
    if description.is_empty() { marker(reference) } else { format!("{description}\n\n{}", marker(reference)) }
}

/// Splits a live description into the user's part and the owner named by a trailing marker.
/// A marker naming an unknown kind or an empty name is no marker.
pub fn split_marker(description: &str) -> (String, Option<ObjectRef>) {
    let trimmed = description.trim_end();
    let owner = trimmed.strip_suffix(']').and_then(|body| {
        let start = body.rfind(MARKER_OPEN)?;
        ObjectRef::parse(&body[start + MARKER_OPEN.len()..]).map(|reference| (start, reference))
    });
    match owner {
        Some((start, reference)) => (trimmed[..start].trim_end().to_string(), Some(reference)),
        None => (description.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn av(name: &str) -> ObjectRef {
        ObjectRef::new(Kind::AntivirusPolicy, name)
    }

    #[test]
    fn markers_round_trip_with_and_without_a_description() {
        for description in ["", "Standard AV for retail", "multi\nline"] {
            for reference in [av("av-standard"), ObjectRef::new(Kind::IntuneRole, "soc-readers")] {
                let written = description_with_marker(description, &reference);
                assert_eq!(split_marker(&written), (description.to_string(), Some(reference)));
            }
        }
        assert_eq!(description_with_marker("x", &av("a")), "x\n\n[managed-by tenantctl: AntivirusPolicy/a]");
    }

    #[test]
    fn text_that_only_looks_like_a_marker_is_not_one() {
        for description in [
            "Hand-made policy",
            "[managed-by tenantctl: AntivirusPolicy/a] then more text",
            "[managed-by tenantctl: UnknownPolicy/a]",
            "[managed-by tenantctl: Tenant/a]",
            "[managed-by tenantctl: AntivirusPolicy/]",
            "[managed-by somebody: AntivirusPolicy/a]",
        ] {
            assert_eq!(split_marker(description).1, None, "{description}");
        }
    }
}
