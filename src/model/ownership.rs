//! The ownership marker: tenantctl owns a tenant object when its description ends with
//! `[managed-by tenantctl: Kind/name]`. The marker, not the display name, is the object's identity.
//!
//! Before the marker, tenantctl writes a revision stamp: `[tenantctl revision 3f2a9c1d]` — which
//! revision of the object the tenant runs; for a profile that rolls out in waves, the profile's
//! revision it was written with (`, profile 7b1e0c44`); after a rollback, `, rolled back from REV`. The
//! live state itself says what each tenant runs, with no other store. The stamp holds no time, so that
//! the same write is the same body on every run (a write held for approval is carried out as it was
//! approved); when a revision was written is the object's own modification time. The stamp is never
//! compared as content: a description that differs only by its stamp is in sync.

use super::ObjectRef;

const MARKER_OPEN: &str = "[managed-by tenantctl: ";
const STAMP_OPEN: &str = "[tenantctl revision ";

/// Which revision of an object a tenant runs, since when, and what a rollback moved it away from.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stamp {
    pub revision: String,
    /// The revision of the profile (rolling out in waves) the object was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The revision a rollback replaced: the tenant is held off it until the manifests change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_from: Option<String>,
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{STAMP_OPEN}{}", self.revision)?;
        if let Some(profile) = &self.profile {
            write!(f, ", profile {profile}")?;
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
        let mut parts = body.split(", ");
        let revision = parts.next()?;
        let mut stamp = Stamp { revision: revision.to_string(), ..Stamp::default() };
        for part in parts {
            if let Some(profile) = part.strip_prefix("profile ") {
                stamp.profile = Some(profile.to_string());
            } else if let Some(from) = part.strip_prefix("rolled back from ") {
                stamp.rolled_back_from = Some(from.to_string());
            } else {
                return None;
            }
        }
        let hex = |s: &str| !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_hexdigit());
        let revisions = [Some(&stamp.revision), stamp.profile.as_ref(), stamp.rolled_back_from.as_ref()];
        let valid = revisions.into_iter().flatten().all(|r| hex(r));
        valid.then_some(stamp)
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
            profile: Some("0c1d2e3f".into()),
            rolled_back_from: Some("7b1e0c44".into()),
        };
        for description in ["", "Standard AV"] {
            let plain = description_with_marker(description, &av("a"));
            let stamped = with_stamp(&plain, &stamp);
            assert!(stamped.ends_with("[managed-by tenantctl: AntivirusPolicy/a]"), "{stamped}");
            assert!(stamped.contains("[tenantctl revision 3f2a9c1d, profile 0c1d2e3f, rolled back from 7b1e0c44] "));
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
