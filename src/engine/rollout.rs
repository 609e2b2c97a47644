//! Rollouts: which wave of each profile may get a new revision in this run. Pure: the live state (the
//! plan, with the revision each tenant runs) and the health of the tenants that got the revision
//! decide; nothing is stored between runs. A run advances a rollout by at most one wave: the first
//! wave with a tenant behind is the only one written, and only when the waves before it have soaked
//! and are healthy.

use std::collections::BTreeMap;

use super::desired::DesiredState;
use super::plan::{Plan, TenantPlan, TenantRollout, TenantState};
use crate::model::notification::IncidentSeverity;
use crate::model::rollout::Rollout;
pub use crate::model::rollout::{RolloutReport, RolloutState, WaveReport};

/// What must be read of a tenant that got the revision before the next wave may: its incidents
/// since then, and the gate's hunting query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    pub tenant: String,
    /// When the tenant got the revision (its objects' latest modification time); none when Graph
    /// dates none of them.
    pub since: Option<jiff::Timestamp>,
    pub severities: Vec<IncidentSeverity>,
    pub hunting_query: Option<String>,
}

/// What was read of a tenant's health.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// Incidents of the gate's severities created since the tenant got the revision (`id: title`),
    /// or why they could not be read.
    pub incidents: Option<Result<Vec<String>, String>>,
    /// Rows the hunting query returned, or why it could not run.
    pub hunting_rows: Option<Result<u64, String>>,
}

/// A profile's rollout as staged from the plan, before health is read.
pub struct Staged {
    namespace: String,
    profile: String,
    rollout: std::sync::Arc<Rollout>,
    /// Tenants by wave, with where each stands (`None`: could not be read or planned).
    waves: Vec<Vec<(String, Option<TenantRollout>)>>,
    /// The first wave with a tenant behind.
    open: Option<usize>,
    /// The revisions the tenants get, the most common first.
    revisions: Vec<String>,
}

/// Stages every rollout of the plan's tenants. A tenant of a rollout that the plan did not read (it
/// was narrowed away, or could not be read) counts as unknown: a wave after it waits.
pub fn stage(desired: &DesiredState, plan: &Plan) -> Vec<Staged> {
    let planned: BTreeMap<&str, &TenantPlan> = plan.tenants.iter().map(|t| (t.name.as_str(), t)).collect();
    stage_by(desired, |tenant, profile| planned.get(tenant).and_then(|p| standing(p, profile)).cloned())
}

/// [`stage`] from where each tenant stands in a profile's rollout (`None`: could not be read or
/// planned, or not planned at all), for plans that are not held whole.
pub fn stage_by(desired: &DesiredState, standing_of: impl Fn(&str, &str) -> Option<TenantRollout>) -> Vec<Staged> {
    let namespaces = namespaces(desired);
    let mut staged = Vec::new();
    for ((namespace, profile), rollout) in &desired.rollouts {
        let mut waves: Vec<Vec<(String, Option<TenantRollout>)>> = vec![Vec::new(); rollout.rollout.waves.len()];
        for (tenant, &index) in &rollout.members {
            let in_namespace = namespaces.get(tenant.as_str()) == Some(&namespace.as_str());
            let standing = if in_namespace { standing_of(tenant, profile) } else { None };
            if let Some(wave) = waves.get_mut(index) {
                wave.push((tenant.clone(), standing));
            }
        }
        staged.push(Staged::new(namespace, profile, rollout.rollout.clone(), waves));
    }
    staged
}

/// The namespace of each tenant of the desired state, by name.
fn namespaces(desired: &DesiredState) -> BTreeMap<&str, &str> {
    desired.tenants.iter().map(|t| (t.name.as_str(), t.namespace.as_str())).collect()
}

/// Where a tenant's plan says it stands in a profile's rollout.
pub fn standing<'a>(plan: &'a TenantPlan, profile: &str) -> Option<&'a TenantRollout> {
    match plan.state {
        TenantState::Planned => plan.rollouts.iter().find(|r| r.profile == profile),
        // A tenant that could not be read or planned whole has not shown that it runs anything.
        TenantState::Failed | TenantState::Unknown | TenantState::Suspended => None,
    }
}

/// Whether a tenant runs the revision, or joins the profile now (and gets it at once).
fn is_current(standing: Option<&TenantRollout>) -> bool {
    standing.is_some_and(|s| s.pending == 0 || s.present == 0 && s.rolled_back_from.is_none())
}

impl Staged {
    /// A rollout from where each of its tenants stands, by wave (`None`: could not be read or
    /// planned).
    pub fn new(
        namespace: &str,
        profile: &str,
        rollout: std::sync::Arc<Rollout>,
        waves: Vec<Vec<(String, Option<TenantRollout>)>>,
    ) -> Staged {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for standing in waves.iter().flatten().filter_map(|(_, s)| s.as_ref()) {
            *counts.entry(standing.gets.as_str()).or_default() += 1;
        }
        let mut revisions: Vec<(&str, usize)> = counts.into_iter().collect();
        revisions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let revisions = revisions.into_iter().map(|(r, _)| r.to_string()).collect();
        let open = waves.iter().position(|wave| wave.iter().any(|(_, standing)| !is_current(standing.as_ref())));
        Staged { namespace: namespace.to_string(), profile: profile.to_string(), rollout, waves, open, revisions }
    }

    /// The tenants whose health decides whether the open wave may start: those of every earlier wave.
    pub fn health_checks(&self) -> Vec<HealthCheck> {
        let Some(open) = self.open.filter(|&open| open > 0) else { return Vec::new() };
        if self.held().is_some() {
            return Vec::new();
        }
        self.waves[..open]
            .iter()
            .flatten()
            .filter_map(|(tenant, standing)| {
                let standing = standing.as_ref()?;
                Some(HealthCheck {
                    tenant: tenant.clone(),
                    since: standing.since.as_deref().and_then(|s| s.parse().ok()),
                    severities: self.rollout.gates.incident_severities.clone(),
                    hunting_query: self.rollout.gates.hunting_query.clone(),
                })
            })
            .collect()
    }

    /// A tenant of the open wave or an earlier one that a rollback holds off the revision.
    fn held(&self) -> Option<(&str, &str)> {
        let open = self.open?;
        self.waves[..=open].iter().flatten().find_map(|(tenant, standing)| {
            let standing = standing.as_ref()?;
            let from = standing.rolled_back_from.as_deref().filter(|_| standing.pending > 0)?;
            Some((tenant.as_str(), from))
        })
    }

    /// The decision, given the health read for [`Self::health_checks`].
    pub fn decide(&self, health: &BTreeMap<String, Health>, now: jiff::Timestamp) -> RolloutReport {
        let waves = self
            .waves
            .iter()
            .zip(&self.rollout.waves)
            .map(|(tenants, wave)| WaveReport {
                name: wave.name.clone(),
                tenants: tenants.len(),
                current: tenants.iter().filter(|(_, s)| s.as_ref().is_some_and(|s| s.pending == 0)).count(),
            })
            .collect();
        let report = |state, wave: usize, blocked: Option<(String, &str)>| RolloutReport {
            namespace: self.namespace.clone(),
            profile: self.profile.clone(),
            revision: self.revisions.first().cloned().unwrap_or_default(),
            revisions: self.revisions.clone(),
            soaks_until: None,
            state,
            wave: wave + 1,
            reason: blocked.as_ref().map(|(reason, _)| reason.clone()),
            blocked_by: blocked.map(|(_, tenant)| tenant.to_string()).filter(|t| !t.is_empty()),
            waves,
        };
        let Some(open) = self.open else {
            return report(RolloutState::Complete, self.rollout.waves.len().saturating_sub(1), None);
        };
        if let Some((tenant, from)) = self.held() {
            let reason = format!(
                "{tenant} was rolled back off this revision ({from}); no wave gets it until the manifests change"
            );
            return report(RolloutState::Halted, open, Some((reason, tenant)));
        }
        match self.gates(open, health, now) {
            Ok(()) => report(RolloutState::Advancing, open, None),
            Err((RolloutState::Waiting, reason, tenant)) => RolloutReport {
                soaks_until: self.soak_end(open).filter(|until| *until > now).map(|until| until.to_string()),
                ..report(RolloutState::Waiting, open, Some((reason, tenant)))
            },
            Err((state, reason, tenant)) => report(state, open, Some((reason, tenant))),
        }
    }

    /// Whether the waves before `open` let it start.
    fn gates<'a>(
        &'a self,
        open: usize,
        health: &BTreeMap<String, Health>,
        now: jiff::Timestamp,
    ) -> Result<(), (RolloutState, String, &'a str)> {
        if open == 0 {
            return Ok(());
        }
        let earlier = self.waves[..open].iter().flatten();
        for (tenant, standing) in earlier.clone() {
            let Some(standing) = standing else {
                let reason = format!(
                    "{tenant} was not read in this run, or could not be planned: whether it runs the revision is unknown"
                );
                return Err((RolloutState::Waiting, reason, tenant));
            };
            if standing.drifted > 0 {
                let reason = format!("{tenant} drifted from the revision it runs; waiting for the repair");
                return Err((RolloutState::Waiting, reason, tenant));
            }
        }
        for (tenant, _) in earlier {
            let Some(health) = health.get(tenant) else { continue };
            match &health.incidents {
                Some(Ok(incidents)) if !incidents.is_empty() => {
                    let reason = format!("incident in {tenant} since it got the revision: {}", incidents.join("; "));
                    return Err((RolloutState::Halted, reason, tenant));
                }
                Some(Err(why)) => {
                    let reason = format!("incidents of {tenant} could not be read: {why}");
                    return Err((RolloutState::Waiting, reason, tenant));
                }
                _ => {}
            }
            match &health.hunting_rows {
                Some(Ok(rows)) if *rows > 0 => {
                    let reason = format!("the gate's hunting query returned {rows} rows in {tenant}");
                    return Err((RolloutState::Halted, reason, tenant));
                }
                Some(Err(why)) => {
                    let reason = format!("the gate's hunting query failed in {tenant}: {why}");
                    return Err((RolloutState::Waiting, reason, tenant));
                }
                _ => {}
            }
        }
        if let Some(until) = self.soak_end(open).filter(|until| *until > now) {
            let reason = format!("wave {} ({}) soaks until {until}", open, self.rollout.waves[open - 1].name);
            return Err((RolloutState::Waiting, reason, ""));
        }
        Ok(())
    }

    /// When the wave before `open` has run the revision for its soak time: its soak after the last
    /// of its tenants got the revision (none when the wave has no soak or no tenant says when).
    fn soak_end(&self, open: usize) -> Option<jiff::Timestamp> {
        let previous = open.checked_sub(1)?;
        let soak = self.rollout.waves.get(previous)?.soak().ok().flatten()?;
        let got = self.waves[previous]
            .iter()
            .filter_map(|(_, s)| s.as_ref()?.since.as_deref()?.parse::<jiff::Timestamp>().ok())
            .max()?;
        let until = got.checked_add(soak).unwrap_or(got);
        // Whole seconds, rounded up: what people read, and never earlier than the soak.
        let ceiling = until.as_second() + i64::from(until.subsec_nanosecond() > 0);
        Some(jiff::Timestamp::from_second(ceiling).unwrap_or(until))
    }
}

/// Carries the decisions into the plan: the changes to a new revision of tenants whose wave is not
/// written this run wait, with why; the tenant's rollout says so too.
pub fn hold(plan: &mut Plan, reports: &[RolloutReport], desired: &DesiredState) {
    let namespaces = namespaces(desired);
    for tenant in &mut plan.tenants {
        let Some(namespace) = namespaces.get(tenant.name.as_str()) else { continue };
        hold_tenant(tenant, namespace, reports);
    }
    *plan = Plan::new(std::mem::take(&mut plan.tenants));
    plan.rollouts = reports.to_vec();
}

/// [`hold`] for one tenant of a namespace.
pub fn hold_tenant(tenant: &mut TenantPlan, namespace: &str, reports: &[RolloutReport]) {
    for standing in &mut tenant.rollouts {
        let Some(report) = reports.iter().find(|r| r.profile == standing.profile && r.namespace == namespace) else {
            continue;
        };
        let waiting = waiting(standing, report);
        if let Some(waiting) = &waiting {
            for change in &mut tenant.changes {
                let staged = change.revision.is_some() && change.excepted.is_none() && change.waiting.is_none();
                if staged && change.profile() == Some(standing.profile.as_str()) {
                    change.waiting = Some(waiting.clone());
                }
            }
        }
        standing.waiting = waiting;
    }
}

/// Why a tenant's changes to a new revision wait, given the rollout's decision.
fn waiting(standing: &TenantRollout, report: &RolloutReport) -> Option<String> {
    let joining = standing.present == 0 && standing.rolled_back_from.is_none();
    if standing.pending == 0 || joining {
        return None;
    }
    if !report.revisions.contains(&standing.gets) {
        return Some(format!("the rollout of {} to {} is not decided yet", report.profile, standing.gets));
    }
    match report.state {
        RolloutState::Advancing | RolloutState::Complete if standing.wave_number <= report.wave => None,
        RolloutState::Advancing | RolloutState::Complete => {
            let open = report.waves.get(report.wave - 1).map_or("", |w| w.name.as_str());
            Some(format!("wave {} ({}) waits for wave {} ({open})", standing.wave_number, standing.wave, report.wave))
        }
        RolloutState::Waiting | RolloutState::Halted => Some(format!(
            "rollout of {} {} at wave {}: {}",
            report.profile,
            report.state.as_str(),
            report.wave,
            report.reason.as_deref().unwrap_or("")
        )),
    }
}

/// The decision of a profile whose rollout has not been decided yet: a tenant with a new revision
/// waits for it, one new to the profile does not.
pub fn undecided(namespace: &str, profile: &str) -> RolloutReport {
    RolloutReport {
        namespace: namespace.to_string(),
        profile: profile.to_string(),
        revision: String::new(),
        state: RolloutState::Waiting,
        wave: 1,
        reason: Some("not decided yet".into()),
        blocked_by: None,
        revisions: Vec::new(),
        soaks_until: None,
        waves: Vec::new(),
    }
}
