//! The ownership marker: tenantctl owns a policy when its description ends with
//! `[managed-by tenantctl: Kind/name]`. The marker, not the display name, is the policy's identity.

use crate::model::{PolicyKind, PolicyRef};

const MARKER_OPEN: &str = "[managed-by tenantctl: ";

/// The marker for a policy.
pub fn marker(reference: &PolicyRef) -> String {
    format!("{MARKER_OPEN}{reference}]")
}

/// The description tenantctl writes: the user's description followed by the marker.
pub fn description_with_marker(description: &str, reference: &PolicyRef) -> String {
    let description = description.trim_end();
    if description.is_empty() { marker(reference) } else { format!("{description}\n\n{}", marker(reference)) }
}

/// Splits a live description into the user's part and the owner named by a trailing marker.
/// A marker naming an unknown kind or an empty name is no marker.
pub fn split_marker(description: &str) -> (String, Option<PolicyRef>) {
    let trimmed = description.trim_end();
    let owner = trimmed.strip_suffix(']').and_then(|body| {
        let start = body.rfind(MARKER_OPEN)?;
        let (kind, name) = body[start + MARKER_OPEN.len()..].split_once('/')?;
        let kind = PolicyKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
        let valid_name = !name.is_empty() && !name.contains(['[', ']', '/', ' ']);
        valid_name.then(|| (start, PolicyRef { kind, name: name.to_string() }))
    });
    match owner {
        Some((start, reference)) => (trimmed[..start].trim_end().to_string(), Some(reference)),
        None => (description.to_string(), None),
    }
}

/// The description tenantctl writes on an Intune role it owns.
pub fn role_description(description: &str, name: &str) -> String {
    let marker = format!("{MARKER_OPEN}IntuneRole/{name}]");
    let description = description.trim_end();
    if description.is_empty() { marker } else { format!("{description}\n\n{marker}") }
}

/// The user's part of a live role description, and the name of the IntuneRole that owns it.
pub fn split_role_marker(description: &str) -> (String, Option<String>) {
    let trimmed = description.trim_end();
    let owner = trimmed.strip_suffix(']').and_then(|body| {
        let start = body.rfind(MARKER_OPEN)?;
        let name = body[start + MARKER_OPEN.len()..].strip_prefix("IntuneRole/")?;
        let valid_name = !name.is_empty() && !name.contains(['[', ']', '/', ' ']);
        valid_name.then(|| (start, name.to_string()))
    });
    match owner {
        Some((start, name)) => (trimmed[..start].trim_end().to_string(), Some(name)),
        None => (description.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn av(name: &str) -> PolicyRef {
        PolicyRef { kind: PolicyKind::AntivirusPolicy, name: name.into() }
    }

    #[test]
    fn role_markers_round_trip_and_are_not_policy_markers() {
        let description = role_description("SOC readers", "soc-readers");
        assert_eq!(split_role_marker(&description), ("SOC readers".to_string(), Some("soc-readers".to_string())));
        assert_eq!(split_marker(&description).1, None);
        assert_eq!(split_role_marker(&description_with_marker("x", &av("a"))).1, None);
    }

    #[test]
    fn marker_round_trips_with_and_without_a_description() {
        for description in ["", "Standard AV for retail", "multi\nline"] {
            let written = description_with_marker(description, &av("av-standard"));
            assert_eq!(split_marker(&written), (description.to_string(), Some(av("av-standard"))));
        }
        assert_eq!(description_with_marker("x", &av("a")), "x\n\n[managed-by tenantctl: AntivirusPolicy/a]");
    }

    #[test]
    fn text_that_only_looks_like_a_marker_is_not_one() {
        for description in [
            "Hand-made policy",
            "[managed-by tenantctl: AntivirusPolicy/a] then more text",
            "[managed-by tenantctl: UnknownPolicy/a]",
            "[managed-by tenantctl: AntivirusPolicy/]",
            "[managed-by somebody: AntivirusPolicy/a]",
        ] {
            assert_eq!(split_marker(description).1, None, "{description}");
        }
    }
}
