//! Findings and their de-duplication: a notification policy is told when the set of findings it
//! covers changes (new ones appear, or all are resolved), never again for the same set.

use jiff::Timestamp;
use ring::digest::{SHA256, digest};
use serde::Serialize;

use crate::engine::plan::{Plan, TenantPlan, TenantState};
use crate::engine::rollout::{RolloutReport, RolloutState};
use crate::model::case::CaseSpec;
use crate::model::exception::{Standing, standing};
use crate::model::notification::IncidentSeverity;
use crate::model::notification::Trigger;
use crate::model::status::{ExceptionStatus, IncidentSummary};
use crate::util::plural;

/// One thing somebody should know about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub trigger: Trigger,
    /// `metadata.name` of the Tenant.
    pub tenant: String,
    /// What it is about: `Kind/name` of a policy, an incident id.
    pub subject: String,
    /// For people.
    pub detail: String,
}

impl Finding {
    /// What identifies a finding across cycles: the detail may be reworded without a new notification.
    fn key(&self) -> String {
        format!("{:?}|{}|{}", self.trigger, self.tenant, self.subject)
    }
}

/// A set of findings, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    pub fn new(mut findings: Vec<Finding>) -> Findings {
        findings.sort();
        findings.dedup_by(|a, b| a.key() == b.key());
        Findings(findings)
    }

    /// Digest of the set (by key).
    pub fn digest(&self) -> String {
        let keys: Vec<String> = self.0.iter().map(Finding::key).collect();
        digest(&SHA256, keys.join("\n").as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Only the findings of these triggers and tenants.
    pub fn only(&self, triggers: &[Trigger], tenant: &dyn Fn(&str) -> bool) -> Findings {
        Findings(self.0.iter().filter(|f| triggers.contains(&f.trigger) && tenant(&f.tenant)).cloned().collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether to notify, given the digest last notified: when the set changed, except that an empty
    /// set is news only after a non-empty one (everything resolved).
    pub fn is_news(&self, last_notified: Option<&str>) -> bool {
        match last_notified {
            Some(last) => last != self.digest(),
            None => !self.is_empty(),
        }
    }

    /// One line for a subject or a log.
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return "all findings resolved".into();
        }
        let count = |trigger: Trigger| self.0.iter().filter(|f| f.trigger == trigger).count();
        // Findings about no one tenant (a case's tasks) count for none.
        let tenants: std::collections::BTreeSet<&str> =
            self.0.iter().map(|f| f.tenant.as_str()).filter(|t| !t.is_empty()).collect();
        let mut parts = Vec::new();
        for (trigger, what) in [
            (Trigger::Drift, "drifted"),
            (Trigger::FailedApply, "failed"),
            (Trigger::HighSeverityIncident, "high-severity incidents"),
        ] {
            let n = count(trigger);
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        let incidents = count(Trigger::Incident);
        if incidents > 0 {
            parts.push(plural::count(incidents, "incident"));
        }
        let tasks = count(Trigger::CaseTask);
        if tasks > 0 {
            parts.push(format!("{} assigned", plural::count(tasks, "case task")));
        }
        let halted = count(Trigger::RolloutHalted);
        if halted > 0 {
            parts.push(format!("{} halted", plural::count(halted, "rollout")));
        }
        let exceptions = count(Trigger::ExceptionExpiring);
        if exceptions > 0 {
            parts.push(format!("{} expiring or expired", plural::count(exceptions, "exception")));
        }
        format!("{} across {}", parts.join(", "), plural::count(tenants.len(), "tenant"))
    }
}

/// Drift in a plan: every change not carried out (all of them in a `drift` plan, audit-mode ones in
/// an apply), and tenants that could not be read or failed as failures.
pub fn from_plan(plan: &Plan, all_changes_are_drift: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for tenant in &plan.tenants {
        findings.extend(from_tenant(tenant, all_changes_are_drift));
    }
    findings.extend(plan.rollouts.iter().filter_map(from_rollout));
    findings
}

/// [`from_plan`] for one tenant.
pub fn from_tenant(tenant: &TenantPlan, all_changes_are_drift: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    // A change an exception holds back is accepted, and one waiting for its rollout wave is planned:
    // neither is drift.
    let drift = tenant.changes.iter().filter(|c| c.excepted.is_none() && c.waiting.is_none());
    for change in drift.filter(|c| all_changes_are_drift || !c.is_write()) {
        findings.push(Finding {
            trigger: Trigger::Drift,
            tenant: tenant.name.clone(),
            subject: change.object.to_string(),
            detail: format!(
                "{:?} needed{}",
                change.action(),
                if change.fields().is_empty() { String::new() } else { format!(" ({})", change.fields_text()) }
            ),
        });
    }
    if matches!(tenant.state, TenantState::Unknown | TenantState::Failed) {
        findings.push(Finding {
            trigger: Trigger::FailedApply,
            tenant: tenant.name.clone(),
            subject: format!("{:?}", tenant.state).to_lowercase(),
            detail: tenant.problems_text(),
        });
    }
    findings
}

/// The findings of rollouts that halted.
pub fn from_rollouts(rollouts: &[RolloutReport]) -> Vec<Finding> {
    rollouts.iter().filter_map(from_rollout).collect()
}

/// A rollout that halted, about the tenant whose gate failed: news once per profile and revision.
pub fn from_rollout(rollout: &RolloutReport) -> Option<Finding> {
    (rollout.state == RolloutState::Halted).then(|| Finding {
        trigger: Trigger::RolloutHalted,
        tenant: rollout.blocked_by.clone().unwrap_or_default(),
        subject: format!("rollout of DistributionProfile/{} to {}", rollout.profile, rollout.revision),
        detail: format!("halted at wave {}: {}", rollout.wave, rollout.reason.as_deref().unwrap_or_default()),
    })
}

/// A tenant's active incidents of the given severities: each is news once (its key is its id).
pub fn from_incidents(tenant: &str, incidents: &[IncidentSummary], severities: &[IncidentSeverity]) -> Vec<Finding> {
    incidents
        .iter()
        .filter(|i| severities.iter().any(|s| s.is(&i.severity)))
        .map(|i| Finding {
            trigger: Trigger::Incident,
            tenant: tenant.to_string(),
            subject: format!("incident {}", i.id),
            detail: format!("{} ({} severity, {})", i.display_name, i.severity, i.status),
        })
        .collect()
}

/// A case's open tasks that are assigned: each assignment is news once (its key names the task and
/// the assignee). About no one tenant.
pub fn from_case_tasks(name: &str, spec: &CaseSpec) -> Vec<Finding> {
    spec.tasks
        .iter()
        .filter(|t| !t.done)
        .filter_map(|task| {
            let assignee = task.assignee.as_ref()?;
            Some(Finding {
                trigger: Trigger::CaseTask,
                tenant: String::new(),
                subject: format!("Case/{name} task \"{}\" → {assignee}", task.title),
                detail: format!("{} (case owner {})", spec.title, spec.owner),
            })
        })
        .collect()
}

/// The exceptions covering a tenant that expire within `warn_days`, or have expired. The subject
/// says which: an exception is news once when it nears its end and once more when enforcement has
/// resumed, not at every run in between.
pub fn from_exceptions(tenant: &str, exceptions: &[ExceptionStatus], now: Timestamp, warn_days: u32) -> Vec<Finding> {
    exceptions
        .iter()
        .filter_map(|e| {
            let (days_left, standing) = standing(&e.expires, now, i64::from(warn_days))?;
            let (subject, detail) = match standing {
                Standing::Active => return None,
                Standing::Expiring => (
                    format!("PolicyException/{} expiring", e.name),
                    format!(
                        "{} is enforced again after {} ({}; owner {})",
                        e.target,
                        e.expires,
                        plural::count(usize::try_from(days_left).unwrap_or(0), "day") + " left",
                        e.owner
                    ),
                ),
                Standing::Expired => (
                    format!("PolicyException/{} expired", e.name),
                    format!("expired on {}: {} is enforced again (owner {})", e.expires, e.target, e.owner),
                ),
            };
            Some(Finding { trigger: Trigger::ExceptionExpiring, tenant: tenant.to_string(), subject, detail })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(tenant: &str, subject: &str, detail: &str) -> Finding {
        Finding { trigger: Trigger::Drift, tenant: tenant.into(), subject: subject.into(), detail: detail.into() }
    }

    #[test]
    fn news_only_when_the_set_changes() {
        let one = Findings::new(vec![finding("a", "FirewallPolicy/fw", "Update needed")]);
        assert!(one.is_news(None));
        assert!(!one.is_news(Some(&one.digest())), "the same set again is not news");
        let reworded = Findings::new(vec![finding("a", "FirewallPolicy/fw", "Update needed (settings)")]);
        assert!(!reworded.is_news(Some(&one.digest())), "details do not make news");
        let two = Findings::new(vec![finding("a", "FirewallPolicy/fw", ""), finding("b", "FirewallPolicy/fw", "")]);
        assert!(two.is_news(Some(&one.digest())));
        let none = Findings::default();
        assert!(!none.is_news(None), "nothing to say at first");
        assert!(none.is_news(Some(&one.digest())), "everything resolved is news");
        assert_eq!(two.summary(), "2 drifted across 2 tenants");
    }

    #[test]
    fn an_exception_is_news_when_it_nears_its_end_and_when_it_has_ended() {
        let exception = ExceptionStatus {
            name: "till".into(),
            target: "AttackSurfaceReductionPolicy/asr-block".into(),
            allow: "leaveAlone".into(),
            owner: "soc".into(),
            expires: "2027-06-30".into(),
            in_force: true,
        };
        let at = |text: &str| text.parse::<Timestamp>().expect("instant");
        let found =
            |now: &str| Findings::new(from_exceptions("fabrikam", std::slice::from_ref(&exception), at(now), 7));
        assert!(found("2027-06-20T00:00:00Z").is_empty(), "ten days ahead: nothing yet");
        assert!(found("2027-06-23T00:00:00Z").is_empty(), "eight days ahead: nothing yet");
        let near = found("2027-06-24T00:00:00Z");
        assert_eq!(
            near.0[0].detail,
            "AttackSurfaceReductionPolicy/asr-block is enforced again after 2027-06-30 (7 days left; owner soc)"
        );
        assert!(!found("2027-06-29T00:00:00Z").is_news(Some(&near.digest())), "told once while it nears");
        let ended = found("2027-07-01T00:00:00Z");
        assert!(ended.is_news(Some(&near.digest())), "told again when enforcement resumes");
        assert_eq!(ended.summary(), "1 exception expiring or expired across 1 tenant");
    }
}
