//! The ownership marker: tenantctl owns a tenant object when its description ends with
//! `[managed-by tenantctl: Kind/name]`. The marker, not the display name, is the object's identity.
//!
//! Before the marker, tenantctl writes a revision stamp:
//! `[tenantctl revision 3f2a9c1d since 2026-12-01T10:00:00Z]` — which revision of the object the tenant
//! runs and since when (and, after a rollback, `rolled back from REV`). The live state itself says what
//! each tenant runs, with no other store. The stamp is never compared as content: a description that
//! differs only by its stamp is in sync.

use super::ObjectRef;

const MARKER_OPEN: &str = "[managed-by tenantctl: ";
const STAMP_OPEN: &str = "[tenantctl revision ";

/// Which revision of an object a tenant runs, since when, and what a rollback moved it away from.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stamp {
    pub revision: String,
    /// When the revision was written (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The revision a rollback replaced: the tenant is held off it until the manifests change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_from: Option<String>,
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{STAMP_OPEN}{}", self.revision)?;
        if let Some(since) = &self.since {
            write!(f, " since {since}")?;
        }
        if let Some(from) = &self.rolled_back_from {
            write!(f, ", rolled back from {from}")?;
        }
        write!(f, "]")
    }
}

impl Stamp {
    fn parse(text: &str) -> Option<Stamp> {
        let body = text.strip_prefix(STAMP_OPEN)?.strip_suffix(']')?;
        let (head, rolled_back_from) = match body.split_once(", rolled back from ") {
            Some((head, from)) => (head, Some(from.to_string())),
            None => (body, None),
        };
        let (revision, since) = match head.split_once(" since ") {
            Some((revision, since)) => (revision, Some(since.to_string())),
            None => (head, None),
        };
        let hex = |s: &str| !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_hexdigit());
        if !hex(revision) || rolled_back_from.as_deref().is_some_and(|r| !hex(r)) {
            return None;
        }
        Some(Stamp { revision: revision.to_string(), since, rolled_back_from })
    }
}

/// The marker for an object.
pub fn marker(reference: &ObjectRef) -> String {
    format!("{MARKER_OPEN}{reference}]")
}

/// The description tenantctl writes: the user's description followed by the marker.
pub fn description_with_marker(description: &str, reference: &ObjectRef) -> String {
    let description = description.trim_end();
    if description.is_empty() { marker(reference) } else { format!("{description}\n\n{}", marker(reference)) }
}

/// A description with its stamp set (or replaced), the user's part and the marker kept. A description
/// without a marker is returned as it is: only owned objects carry stamps.
pub fn with_stamp(description: &str, stamp: &Stamp) -> String {
    let parts = parse(description);
    let Some(owner) = parts.owner else { return description.to_string() };
    let mark = format!("{stamp} {}", marker(&owner));
    if parts.user.is_empty() { mark } else { format!("{}\n\n{mark}", parts.user) }
}

/// Splits a live description into the user's part and the owner named by a trailing marker.
/// A marker naming an unknown kind or an empty name is no marker.
pub fn split_marker(description: &str) -> (String, Option<ObjectRef>) {
    let parts = parse(description);
    match parts.owner {
        Some(owner) => (parts.user, Some(owner)),
        None => (description.to_string(), None),
    }
}

/// The stamp of an owned object's description, when it has one.
pub fn stamp_of(description: &str) -> Option<Stamp> {
    let parts = parse(description);
    parts.owner.and(parts.stamp)
}

/// The description as compared: without its stamp, which is bookkeeping, not content.
pub fn without_stamp(description: &str) -> String {
    let parts = parse(description);
    match (parts.owner, parts.stamp) {
        (Some(owner), Some(_)) => description_with_marker(&parts.user, &owner),
        _ => description.trim_end().to_string(),
    }
}

struct Parts {
    user: String,
    owner: Option<ObjectRef>,
    stamp: Option<Stamp>,
}

fn parse(description: &str) -> Parts {
    let trimmed = description.trim_end();
    let owner = trimmed.strip_suffix(']').and_then(|body| {
        let start = body.rfind(MARKER_OPEN)?;
        ObjectRef::parse(&body[start + MARKER_OPEN.len()..]).map(|reference| (start, reference))
    });
    let Some((start, owner)) = owner else {
        return Parts { user: description.to_string(), owner: None, stamp: None };
    };
    let before = trimmed[..start].trim_end();
    let stamp = before
        .strip_suffix(']')
        .and_then(|body| body.rfind(STAMP_OPEN))
        .and_then(|at| Stamp::parse(&before[at..]).map(|stamp| (at, stamp)));
    match stamp {
        Some((at, stamp)) => {
            Parts { user: before[..at].trim_end().to_string(), owner: Some(owner), stamp: Some(stamp) }
        }
        None => Parts { user: before.to_string(), owner: Some(owner), stamp: None },
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

    #[test]
    fn stamps_sit_before_the_marker_and_are_not_content() {
        let stamp = Stamp {
            revision: "3f2a9c1d".into(),
            since: Some("2026-12-01T10:00:00Z".into()),
            rolled_back_from: Some("7b1e0c44".into()),
        };
        for description in ["", "Standard AV"] {
            let plain = description_with_marker(description, &av("a"));
            let stamped = with_stamp(&plain, &stamp);
            assert!(stamped.ends_with("[managed-by tenantctl: AntivirusPolicy/a]"), "{stamped}");
            assert!(
                stamped
                    .contains("[tenantctl revision 3f2a9c1d since 2026-12-01T10:00:00Z, rolled back from 7b1e0c44] ")
            );
            assert_eq!(split_marker(&stamped), (description.to_string(), Some(av("a"))));
            assert_eq!(stamp_of(&stamped), Some(stamp.clone()));
            assert_eq!(without_stamp(&stamped), plain);
            let restamped = with_stamp(&stamped, &Stamp { revision: "0a".into(), ..Stamp::default() });
            assert_eq!(stamp_of(&restamped).map(|s| s.revision), Some("0a".into()));
            assert_eq!(split_marker(&restamped).0, description);
        }
        assert_eq!(stamp_of("[tenantctl revision 3f2a9c1d] hand-made"), None);
        assert_eq!(stamp_of("[tenantctl revision not-hex] [managed-by tenantctl: AntivirusPolicy/a]"), None);
        assert_eq!(with_stamp("hand-made", &stamp), "hand-made");
    }
}
