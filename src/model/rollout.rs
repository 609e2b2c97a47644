//! A profile's `rollout`: what the profile delivers reaches its tenants in waves, each wave getting a
//! new revision only when the previous one has run it, healthy, for its soak time.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::notification::IncidentSeverity;
use super::profile::LabelSelector;
use super::select::selector_matches;

/// Ordered waves and the gates between them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rollout {
    /// The waves, in order. Tenants of the profile that no wave takes join the last one.
    #[schemars(length(min = 1, max = 20))]
    pub waves: Vec<Wave>,
    /// What must hold in every tenant of the waves that got a revision before the next wave gets it.
    #[serde(default)]
    pub gates: Gates,
    /// Operator: returns the profile's tenants (all, one wave, or named ones) to a previous revision,
    /// as the operator recorded it when it rolled it out. The CLI rolls back with `tenantctl rollback
    /// --from-git`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<Pin>,
}

/// A pin to a previous revision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pin {
    /// The profile's revision to return to, as `status.rollout.revision` showed it (the operator keeps
    /// each as a ControllerRevision named `<profile>-<revision>`).
    #[schemars(length(min = 1, max = 64))]
    pub revision: String,
    /// Only the tenants of this wave (by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<String>,
    /// Only these tenants (by `metadata.name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
}

/// One wave: the tenants it takes, and how long they run a new revision before the next wave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Wave {
    /// The wave's name, shown in plans and status.
    #[schemars(length(min = 1, max = 63))]
    pub name: String,
    /// Tenants (by `metadata.name`) in this wave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    /// Tenants whose labels match, among those earlier waves did not take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_selector: Option<LabelSelector>,
    /// A share of the profile's tenants, among those earlier waves did not take, chosen stably (by a
    /// hash of profile and tenant ID, so the same tenants every run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub percent: Option<u32>,
    /// How long the wave runs a new revision, healthy, before the next wave gets it: `30m`, `24h`,
    /// `2d`. Absent: the next wave follows on the next run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 32))]
    pub soak: Option<String>,
}

/// Health gates, checked in the tenants of every wave that got the revision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gates {
    /// An incident of these severities created in a tenant since it got the revision halts the
    /// rollout.
    #[serde(default = "high")]
    pub incident_severities: Vec<IncidentSeverity>,
    /// An advanced hunting query run in each of those tenants: any row halts the rollout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 10000))]
    pub hunting_query: Option<String>,
}

impl Default for Gates {
    fn default() -> Self {
        Gates { incident_severities: high(), hunting_query: None }
    }
}

fn high() -> Vec<IncidentSeverity> {
    vec![IncidentSeverity::High]
}

impl Wave {
    /// The soak time, or why it cannot be read.
    pub fn soak(&self) -> Result<Option<jiff::SignedDuration>, String> {
        let Some(text) = &self.soak else { return Ok(None) };
        let span: jiff::Span =
            text.parse().map_err(|_| format!("`{text}` is not a duration (write e.g. `30m`, `24h` or `2d`)"))?;
        let duration = span
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .map_err(|error| format!("`{text}`: {error}"))?;
        if duration.is_negative() {
            return Err(format!("`{text}` is negative"));
        }
        Ok(Some(duration))
    }
}

/// One tenant in one profile's rollout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantRollout {
    pub profile: String,
    /// The wave's name and 1-based position.
    pub wave: String,
    pub wave_number: usize,
    /// The profile's revision the tenant runs (one hash over its objects' revisions); none when an
    /// object's revision is unknown (written before revisions, or missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<String>,
    /// The profile's revision the manifests ask for.
    pub gets: String,
    /// When the tenant got the revision it gets, once it runs it: the latest modification time Graph
    /// gives its objects of the profile (policies and detection rules are dated, roles are not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// How many of the profile's objects the tenant has: none for a tenant joining the profile,
    /// which gets the current revision at once.
    pub present: usize,
    /// Changes to a new revision (creates, updates), which the rollout stages.
    pub pending: usize,
    /// Repairs of drift at the revision the tenant runs.
    pub drifted: usize,
    /// The object and revision a rollback moved the tenant off (`Kind/name rev`), when the manifests
    /// still ask for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_from: Option<String>,
    /// Why the tenant's changes wait; none when they are written (or there are none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
}

/// Where a profile's rollout stands after this run's decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutReport {
    pub namespace: String,
    pub profile: String,
    /// The profile's revision the manifests ask for, as most of its tenants get it.
    pub revision: String,
    pub state: RolloutState,
    /// The wave this run writes or waits on (1-based); the number of waves when complete.
    pub wave: usize,
    /// Why the rollout waits or halted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The tenant whose gate failed, or that a rollback holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// Every revision the profile's tenants get (more than one where overrides differ): a tenant
    /// whose revision is not among them waits for the rollout to be decided again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<String>,
    /// When the wave before the open one has soaked (RFC 3339), while the rollout waits for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soaks_until: Option<String>,
    pub waves: Vec<WaveReport>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RolloutState {
    /// Every tenant runs the revision.
    Complete,
    /// This run writes the wave.
    Advancing,
    /// The wave waits: a soak time, a tenant that could not be read, drift being repaired.
    Waiting,
    /// A health gate failed or a rollback holds tenants: no further wave gets the revision until the
    /// manifests change.
    Halted,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::Complete => "complete",
            RolloutState::Advancing => "advancing",
            RolloutState::Waiting => "waiting",
            RolloutState::Halted => "halted",
        }
    }
}

/// One wave in a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaveReport {
    pub name: String,
    pub tenants: usize,
    /// Tenants that run the revision.
    pub current: usize,
}

/// A tenant as waves choose it.
pub struct Candidate<'a> {
    pub name: &'a str,
    pub tenant_id: &'a str,
    pub labels: &'a BTreeMap<String, String>,
}

/// The wave (0-based) of each of a profile's tenants, by name. Each wave takes, from the tenants no
/// earlier wave took, those it names, those its selector matches and its share; what is left joins
/// the last wave.
pub fn assign_waves(rollout: &Rollout, profile: &str, tenants: &[Candidate<'_>]) -> BTreeMap<String, usize> {
    let mut remaining: Vec<&Candidate<'_>> = tenants.iter().collect();
    remaining.sort_by_key(|t| t.name);
    let total = remaining.len();
    let mut seats = BTreeMap::new();
    for (index, wave) in rollout.waves.iter().enumerate() {
        let (mut taken, rest): (Vec<&Candidate<'_>>, Vec<&Candidate<'_>>) = remaining.into_iter().partition(|t| {
            wave.tenants.iter().any(|n| n == t.name)
                || wave.tenant_selector.as_ref().is_some_and(|s| selector_matches(s, t.labels))
        });
        remaining = rest;
        if let Some(percent) = wave.percent {
            let share = (total * percent as usize).div_ceil(100);
            remaining.sort_by_cached_key(|t| stable_rank(profile, t.tenant_id));
            let count = share.min(remaining.len());
            taken.extend(remaining.drain(..count));
            remaining.sort_by_key(|t| t.name);
        }
        let takes_all = wave.tenants.is_empty() && wave.tenant_selector.is_none() && wave.percent.is_none();
        if takes_all || index + 1 == rollout.waves.len() {
            taken.append(&mut remaining);
        }
        for tenant in taken {
            seats.insert(tenant.name.to_string(), index);
        }
    }
    seats
}

fn stable_rank(profile: &str, tenant_id: &str) -> Vec<u8> {
    let text = format!("{profile}/{}", tenant_id.to_ascii_lowercase());
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(name: &str) -> Wave {
        Wave { name: name.into(), tenants: Vec::new(), tenant_selector: None, percent: None, soak: None }
    }

    #[test]
    fn waves_take_named_then_shares_and_the_last_takes_the_rest() {
        let labels: Vec<BTreeMap<String, String>> = (0..10)
            .map(|i| BTreeMap::from([("ring".to_string(), if i < 2 { "early" } else { "late" }.to_string())]))
            .collect();
        let names: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        let ids: Vec<String> = (0..10).map(|i| format!("id-{i}")).collect();
        let tenants: Vec<Candidate<'_>> =
            (0..10).map(|i| Candidate { name: &names[i], tenant_id: &ids[i], labels: &labels[i] }).collect();
        let rollout = Rollout {
            waves: vec![
                Wave { tenants: vec!["t9".into()], ..wave("pilot") },
                Wave {
                    tenant_selector: Some(LabelSelector {
                        match_labels: BTreeMap::from([("ring".into(), "early".into())]),
                        ..LabelSelector::default()
                    }),
                    percent: Some(30),
                    ..wave("early")
                },
                Wave { tenants: vec!["t0".into()], ..wave("broad") },
            ],
            gates: Gates::default(),
            pin: None,
        };
        let seats = assign_waves(&rollout, "p", &tenants);
        assert_eq!(seats.len(), 10);
        assert_eq!(seats["t9"], 0);
        assert_eq!((seats["t0"], seats["t1"]), (1, 1), "the selector takes t0 before the last wave names it");
        assert_eq!(seats.values().filter(|w| **w == 1).count(), 2 + 3, "two by label and 30% of ten");
        assert_eq!(seats, assign_waves(&rollout, "p", &tenants), "stable");
    }

    #[test]
    fn soak_times_read_as_people_write_them() {
        let soak = |text: &str| Wave { soak: Some(text.into()), ..wave("w") }.soak();
        assert_eq!(soak("30m"), Ok(Some(jiff::SignedDuration::from_mins(30))));
        assert_eq!(soak("2d"), Ok(Some(jiff::SignedDuration::from_hours(48))));
        assert_eq!(soak("1h 30m"), Ok(Some(jiff::SignedDuration::from_mins(90))));
        assert!(soak("soon").is_err());
        assert_eq!(wave("w").soak(), Ok(None));
    }
}
