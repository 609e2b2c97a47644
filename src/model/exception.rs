//! `PolicyException`: a temporary, accountable difference from the manifests — in these tenants, this
//! object is left alone (or kept when pruning would delete it) until a date, with an owner and a
//! reason. From the day after it expires, the object is enforced again with no human action.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::profile::LabelSelector;

/// An exception to what the profiles deliver, for some tenants, until it expires.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "PolicyException",
    doc = "A temporary exception to what the profiles deliver: an owner, a reason and an expiry.",
    namespaced,
    shortname = "pex",
    category = "tenantctl",
    printcolumn = r#"{"name":"Target","type":"string","jsonPath":".spec.target.name"}"#,
    printcolumn = r#"{"name":"Owner","type":"string","jsonPath":".spec.owner"}"#,
    printcolumn = r#"{"name":"Expires","type":"string","jsonPath":".spec.expires"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyExceptionSpec {
    /// Tenants (by `metadata.name`) the exception covers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    /// Tenants the exception covers, by their labels (in addition to `tenants`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_selector: Option<LabelSelector>,
    /// The object excepted: the kind and `metadata.name` of a policy, role or detection rule.
    pub target: TargetRef,
    /// What is allowed until the exception expires.
    pub allow: Allowance,
    /// With `allow: settingsDiffer`, the settings that may differ: dotted paths in the target's spec
    /// (`rules.blockCredentialStealingFromLsass`, `exclusions.paths`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<String>,
    /// Who answers for the exception (a person or a team, an email address).
    #[schemars(length(min = 1))]
    pub owner: String,
    /// Why the difference is accepted.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// A ticket or change reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The last day the exception holds (`YYYY-MM-DD`, UTC); enforcement resumes the day after.
    pub expires: String,
}

/// The object an exception or an override is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetRef {
    /// Its kind (`AttackSurfaceReductionPolicy`, `IntuneRole`, `DetectionRule`…).
    pub kind: String,
    /// Its `metadata.name`.
    pub name: String,
}

// What an exception allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Allowance {
    /// The object is neither created, changed nor deleted in the tenant: its difference is reported
    /// as excepted, not as drift.
    LeaveAlone,
    /// The settings named in `settings` may differ: the tenant keeps its values for them, and the
    /// object's other settings are enforced.
    SettingsDiffer,
    /// The object is not deleted when no profile delivers it any more.
    KeepOnPrune,
}

impl Allowance {
    /// The name manifests use.
    pub fn as_str(self) -> &'static str {
        match self {
            Allowance::LeaveAlone => "leaveAlone",
            Allowance::SettingsDiffer => "settingsDiffer",
            Allowance::KeepOnPrune => "keepOnPrune",
        }
    }
}

impl PolicyExceptionSpec {
    /// Whether the exception covers the tenant of this name and labels.
    pub fn covers(&self, tenant: &str, labels: &std::collections::BTreeMap<String, String>) -> bool {
        self.tenants.iter().any(|t| t == tenant)
            || self.tenant_selector.as_ref().is_some_and(|s| super::select::selector_matches(s, labels))
    }

    /// The excepted object, when its kind is one tenantctl manages.
    pub fn object(&self) -> Option<super::ObjectRef> {
        super::ObjectRef::parse(&format!("{}/{}", self.target.kind, self.target.name))
    }
}

/// The instant an exception stops holding: the start of the day after `expires`, UTC.
pub fn ends_at(expires: &str) -> Option<jiff::Timestamp> {
    let date: jiff::civil::Date = expires.trim().parse().ok()?;
    let next = date.tomorrow().ok()?;
    next.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|zoned| zoned.timestamp())
}

/// Where an exception stands at an instant: `Expiring` when at most the warning window's days remain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Standing {
    /// It holds, and ends later than the warning window.
    Active,
    /// It holds, and ends within the warning window.
    Expiring,
    /// It no longer holds: the object is enforced again.
    Expired,
}

/// Whole days until an exception stops holding (negative once it has), and where it stands, with
/// `warn_days` as the warning window. `None` when `expires` is not a date.
pub fn standing(expires: &str, now: jiff::Timestamp, warn_days: i64) -> Option<(i64, Standing)> {
    let end = ends_at(expires)?;
    let days_left = (end.as_second() - now.as_second()).div_euclid(86_400);
    let standing = match days_left {
        _ if end <= now => Standing::Expired,
        d if d <= warn_days => Standing::Expiring,
        _ => Standing::Active,
    };
    Some((days_left, standing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exception_holds_through_its_last_day() {
        let end = ends_at("2027-01-15").expect("a date");
        assert_eq!(end.to_string(), "2027-01-16T00:00:00Z");
        assert!(ends_at("15/01/2027").is_none());
        assert!(ends_at("2027-02-30").is_none());
    }

    #[test]
    fn standing_counts_whole_days_to_the_end() {
        let at = |text: &str| text.parse::<jiff::Timestamp>().expect("instant");
        assert_eq!(standing("2027-01-15", at("2027-01-01T12:00:00Z"), 7), Some((14, Standing::Active)));
        assert_eq!(standing("2027-01-15", at("2027-01-08T00:00:00Z"), 7), Some((8, Standing::Active)));
        assert_eq!(standing("2027-01-15", at("2027-01-08T00:00:01Z"), 7), Some((7, Standing::Expiring)));
        assert_eq!(standing("2027-01-15", at("2027-01-09T00:00:00Z"), 7), Some((7, Standing::Expiring)));
        assert_eq!(standing("2027-01-15", at("2027-01-15T23:59:59Z"), 7), Some((0, Standing::Expiring)));
        assert_eq!(standing("2027-01-15", at("2027-01-16T00:00:00Z"), 7), Some((0, Standing::Expired)));
        assert_eq!(standing("2027-01-15", at("2027-01-17T00:00:00Z"), 7), Some((-1, Standing::Expired)));
    }
}
