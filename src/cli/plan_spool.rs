//! A plan of any number of tenants in bounded memory. Each tenant's plan is written to a temporary
//! file (one JSON document) as soon as it is made; memory keeps only its place in the file, the totals,
//! and the little a rollout decision needs. Views and saved plans are then written one tenant at a
//! time, read back in the plan's order (by name) with the rollout holds and approval requests they
//! need, so that memory grows with the concurrency of the run, not with its tenants.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

#[cfg(doc)]
use crate::engine::plan::Plan;
use crate::engine::plan::{ApprovalRequestNote, Summary, TenantPlan, TenantState};
use crate::engine::rollout::{RolloutReport, hold_tenant};
use crate::model::rollout::TenantRollout;
use crate::model::tenant::CredentialsRef;

/// Where a tenant's plan lies in the file.
struct Place {
    offset: u64,
    length: usize,
}

pub struct PlanSpool {
    file: File,
    end: u64,
    places: BTreeMap<String, Place>,
    summary: Summary,
    /// Whether every tenant so far could not be read or was not to be read.
    none_read: bool,
    /// Where the tenants stand in the rollouts of their profiles (only tenants in a rollout).
    standings: HashMap<String, (TenantState, Vec<TenantRollout>)>,
    /// Tenants the plan writes to, with their ids.
    writers: Vec<(String, String)>,
    /// Where the credentials of tenants that name their own come from (a saved plan is applied with
    /// them).
    credentials: HashMap<String, CredentialsRef>,
}

impl PlanSpool {
    pub fn new() -> io::Result<PlanSpool> {
        Ok(PlanSpool {
            file: tempfile::tempfile()?,
            end: 0,
            places: BTreeMap::new(),
            summary: Summary::default(),
            none_read: true,
            standings: HashMap::new(),
            writers: Vec::new(),
            credentials: HashMap::new(),
        })
    }

    /// Keeps a tenant's plan.
    pub fn push(&mut self, tenant: &TenantPlan) -> io::Result<()> {
        let bytes = serde_json::to_vec(tenant)?;
        self.file.write_all_at(&bytes, self.end)?;
        self.places.insert(tenant.name.clone(), Place { offset: self.end, length: bytes.len() });
        self.end += bytes.len() as u64;
        self.summary.count(tenant);
        self.none_read &= matches!(tenant.state, TenantState::Unknown | TenantState::Suspended);
        if !tenant.rollouts.is_empty() {
            self.standings.insert(tenant.name.clone(), (tenant.state, tenant.rollouts.clone()));
        }
        if tenant.writes().next().is_some() {
            self.writers.push((tenant.name.clone(), tenant.tenant_id.clone()));
        }
        if let Some(credentials) = &tenant.credentials {
            self.credentials.insert(tenant.name.clone(), credentials.clone());
        }
        Ok(())
    }

    /// Where the tenant stands in the rollout of `profile`, as its plan says.
    pub fn standing_in(&self, tenant: &str, profile: &str) -> Option<TenantRollout> {
        let (state, rollouts) = self.standings.get(tenant)?;
        match state {
            TenantState::Planned => rollouts.iter().find(|r| r.profile == profile).cloned(),
            TenantState::Failed | TenantState::Unknown | TenantState::Suspended => None,
        }
    }

    fn read(&self, place: &Place) -> io::Result<TenantPlan> {
        let mut bytes = vec![0; place.length];
        self.file.read_exact_at(&mut bytes, place.offset)?;
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// The plan once every tenant is in: the rollout decisions, the holds they put on tenants' changes,
/// and the approval requests of the tenants it writes to.
pub struct SpooledPlan {
    spool: PlanSpool,
    summary: Summary,
    rollouts: Vec<RolloutReport>,
    /// The namespace of each tenant a rollout may hold.
    held_in: HashMap<String, String>,
    approvals: HashMap<String, Vec<ApprovalRequestNote>>,
    /// A last change to every tenant's plan as it is read back (drift: every change reported, none
    /// written).
    adjust: Option<fn(&mut TenantPlan)>,
}

impl SpooledPlan {
    /// The plan without rollouts.
    pub fn new(spool: PlanSpool) -> SpooledPlan {
        let summary = spool.summary.clone();
        SpooledPlan {
            spool,
            summary,
            rollouts: Vec::new(),
            held_in: HashMap::new(),
            approvals: HashMap::new(),
            adjust: None,
        }
    }

    /// Changes every tenant's plan with `adjust` from now on, and counts again.
    pub fn adjust(&mut self, adjust: fn(&mut TenantPlan)) -> io::Result<()> {
        self.adjust = Some(adjust);
        let mut summary = Summary::default();
        self.each(|tenant| {
            summary.count(&tenant);
            Ok(())
        })?;
        self.summary = summary;
        Ok(())
    }

    /// Holds the changes the rollouts' decisions do not let through (`held_in`: the namespace of each
    /// tenant), and counts again.
    pub fn hold(&mut self, reports: Vec<RolloutReport>, held_in: HashMap<String, String>) -> io::Result<()> {
        self.rollouts = reports;
        self.held_in = held_in;
        let mut summary = Summary::default();
        let mut writers = Vec::new();
        self.each(|tenant| {
            summary.count(&tenant);
            if tenant.writes().next().is_some() {
                writers.push((tenant.name.clone(), tenant.tenant_id.clone()));
            }
            Ok(())
        })?;
        self.summary = summary;
        self.spool.writers = writers;
        Ok(())
    }

    /// Where the tenant stands in the rollout of `profile`, as its plan says.
    pub fn standing(&self, tenant: &str, profile: &str) -> Option<TenantRollout> {
        self.spool.standing_in(tenant, profile)
    }

    /// The tenants the plan writes to (name, id).
    pub fn writers(&self) -> &[(String, String)] {
        &self.spool.writers
    }

    /// The credentials reference a tenant's plan records, when it names one.
    pub fn credentials(&self, tenant: &str) -> Option<&CredentialsRef> {
        self.spool.credentials.get(tenant)
    }

    pub fn note_approvals(&mut self, approvals: HashMap<String, Vec<ApprovalRequestNote>>) {
        self.approvals = approvals;
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    pub fn rollouts(&self) -> &[RolloutReport] {
        &self.rollouts
    }

    /// Tenants were to be read and none could be: an error, not a partial result.
    pub fn nothing_read(&self) -> bool {
        self.summary.unknown_tenants > 0 && self.spool.none_read
    }

    /// Every tenant's plan in order, with its holds and approval requests.
    pub fn each(&self, mut visit: impl FnMut(TenantPlan) -> io::Result<()>) -> io::Result<()> {
        for (name, place) in &self.spool.places {
            visit(self.finished(name, place)?)?;
        }
        Ok(())
    }

    /// Every tenant's plan at once: for tests, on plans small enough to hold.
    #[cfg(test)]
    pub fn collect(&self) -> io::Result<Vec<TenantPlan>> {
        let mut tenants = Vec::new();
        self.each(|tenant| {
            tenants.push(tenant);
            Ok(())
        })?;
        Ok(tenants)
    }

    /// The tenants' names, in the plan's order.
    pub fn names(&self) -> Vec<String> {
        self.spool.places.keys().cloned().collect()
    }

    /// One tenant's plan, with its holds and approval requests.
    pub fn tenant(&self, name: &str) -> io::Result<TenantPlan> {
        let place = self.spool.places.get(name).ok_or_else(|| io::Error::other(format!("no plan for {name}")))?;
        self.finished(name, place)
    }

    fn finished(&self, name: &str, place: &Place) -> io::Result<TenantPlan> {
        let mut tenant = self.spool.read(place)?;
        if let Some(namespace) = self.held_in.get(name) {
            hold_tenant(&mut tenant, namespace, &self.rollouts);
        }
        if let Some(requests) = self.approvals.get(name) {
            tenant.approval_requests = requests.clone();
        }
        if let Some(adjust) = self.adjust {
            adjust(&mut tenant);
        }
        Ok(tenant)
    }

    /// A short name of the plan (see [`Plan::id`]), computed one tenant at a time.
    pub fn id(&self) -> io::Result<String> {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        context.update(b"[");
        let mut first = true;
        self.each(|tenant| {
            if !first {
                context.update(b",");
            }
            first = false;
            context.update(&serde_json::to_vec(&(tenant.name.as_str(), &tenant.changes[..]))?);
            Ok(())
        })?;
        context.update(b"]");
        Ok(context.finish().as_ref().iter().take(6).map(|b| format!("{b:02x}")).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::Plan;

    #[test]
    fn tenants_come_back_in_order_with_the_totals_of_the_whole() {
        let tenants = vec![
            TenantPlan::empty("c", "id-c", TenantState::Planned),
            TenantPlan::empty("a", "id-a", TenantState::Unknown),
            TenantPlan::empty("b", "id-b", TenantState::Suspended),
        ];
        let mut spool = PlanSpool::new().expect("spool");
        for tenant in &tenants {
            spool.push(tenant).expect("push");
        }
        let spooled = SpooledPlan::new(spool);
        let whole = Plan::new(tenants);
        assert_eq!(spooled.summary(), &whole.summary);
        assert_eq!(spooled.nothing_read(), whole.nothing_read());
        assert_eq!(spooled.collect().expect("read back"), whole.tenants);
        assert_eq!(spooled.id().expect("id"), whole.id());
    }
}
