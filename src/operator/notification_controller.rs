//! The NotificationPolicy controller: gathers the findings of the tenants a policy covers from their
//! statuses (drifted and failed policies, unreachable tenants, active high-severity incidents) and
//! delivers them when their set changed since each target was last told. What was told is kept in
//! the policy's status, so a restart or a new leader does not tell it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::runtime::controller::Action;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;
use kube::{Api, Resource, ResourceExt};

use super::conclude::READY;
use super::context::namespace_of;
use super::metrics::Metrics;
use super::tenant_controller::ReconcileError;
use super::writes::{Note, apply_status, publish};
use crate::model::notification::{NotificationPolicySpec, SecretValue, Trigger};
use crate::model::select::selector_matches;
use crate::model::status::{PolicySyncState, TenantStatus};
use crate::model::{NotificationPolicy, Tenant};
use crate::notify::findings::{Finding, Findings, from_case_tasks, from_exceptions, from_incidents, from_rollout};
use crate::notify::send::{notify, secret_from_env};
use crate::util::secret::Secret;

pub struct NotificationContext {
    pub kube: kube::Client,
    pub tenants: Store<Tenant>,
    pub cases: Store<crate::model::Case>,
    /// Profiles with their status: halted rollouts are told.
    pub profiles: Store<crate::model::DistributionProfile>,
    /// How often what no watch brings here (cases' tasks) is looked at again.
    pub recheck: Duration,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    /// New findings are held this long, and sent only if unchanged meanwhile: tenants reconcile one
    /// after another, and one notification for the whole move beats one per tenant.
    pub settle: Duration,
    /// Per policy, the findings waiting to settle and since when.
    pub pending: Mutex<HashMap<String, (String, Instant)>>,
    /// Whether this replica holds the leader lease: only the leader notifies.
    pub leading: Arc<std::sync::atomic::AtomicBool>,
}

/// What a tenant's status says somebody should know, exceptions judged at `now` with a warning
/// window of `warn_days`.
pub fn findings_of(
    tenant: &str,
    status: &TenantStatus,
    now: jiff::Timestamp,
    spec: &NotificationPolicySpec,
) -> Vec<Finding> {
    let mut findings = from_exceptions(tenant, &status.exceptions, now, spec.exception_warning_days);
    findings.extend(from_incidents(tenant, status.incidents.as_deref().unwrap_or_default(), &spec.incident_severities));
    for policy in &status.policies {
        let trigger = match policy.state {
            PolicySyncState::Drifted => Trigger::Drift,
            PolicySyncState::Failed => Trigger::FailedApply,
            _ => continue,
        };
        findings.push(Finding {
            trigger,
            tenant: tenant.to_string(),
            subject: policy.policy.to_string(),
            detail: policy.message.clone().unwrap_or_default(),
        });
    }
    if let Some(ready) = status.conditions.iter().find(|c| c.type_ == READY)
        && ready.status == "False"
        && ready.reason != "Suspended"
        && ready.reason != "SyncFailed"
    {
        // SyncFailed is already told policy by policy.
        findings.push(Finding {
            trigger: Trigger::FailedApply,
            tenant: tenant.to_string(),
            subject: ready.reason.clone(),
            detail: ready.message.clone(),
        });
    }
    for incident in status.incidents.iter().flatten().filter(|i| i.severity.eq_ignore_ascii_case("high")) {
        findings.push(Finding {
            trigger: Trigger::HighSeverityIncident,
            tenant: tenant.to_string(),
            subject: format!("incident {}", incident.id),
            detail: format!("{} ({})", incident.display_name, incident.status),
        });
    }
    findings
}

pub async fn reconcile(
    policy: Arc<NotificationPolicy>,
    ctx: Arc<NotificationContext>,
) -> Result<Action, ReconcileError> {
    if !ctx.leading.load(std::sync::atomic::Ordering::Relaxed) {
        // The leader notifies; this replica looks again in case it comes to lead.
        return Ok(Action::requeue(super::FOLLOWER_RECHECK));
    }
    let mut timer = ctx.metrics.timer("notification");
    let result = deliver(&policy, &ctx).await;
    timer.succeeded(result.is_ok());
    result
}

pub fn error_policy(policy: Arc<NotificationPolicy>, error: &ReconcileError, ctx: Arc<NotificationContext>) -> Action {
    ctx.metrics.error(error.category());
    tracing::warn!(notification_policy = %policy.name_any(), %error, "notification not delivered");
    Action::requeue(Duration::from_secs(30))
}

async fn deliver(policy: &NotificationPolicy, ctx: &NotificationContext) -> Result<Action, ReconcileError> {
    let namespace = namespace_of(policy);
    let spec = &policy.spec;
    let now = crate::util::clock::now().unwrap_or_else(|_| jiff::Timestamp::now());
    let mut findings = Vec::new();
    // An exception entering its warning window changes no status: the policy looks again then.
    let mut window_opens: Option<Duration> = None;
    for tenant in ctx.tenants.state() {
        if namespace_of(tenant.as_ref()) != namespace
            || tenant.meta().deletion_timestamp.is_some()
            || spec.tenant_selector.as_ref().is_some_and(|s| !selector_matches(s, tenant.labels()))
        {
            continue;
        }
        // Until every covered tenant has been reconciled once, the findings are still arriving:
        // telling now would mean telling again a moment later.
        let Some(status) = tenant.status.as_ref().filter(|s| !s.conditions.is_empty()) else {
            return Ok(Action::await_change());
        };
        let reachable = status.conditions.iter().any(|c| c.type_ == READY && c.status == "True");
        let incidents = spec.triggers.iter().any(|t| matches!(t, Trigger::HighSeverityIncident | Trigger::Incident));
        if incidents && reachable && status.incidents.is_none() {
            return Ok(Action::await_change());
        }
        findings.extend(findings_of(&tenant.name_any(), status, now, spec));
        for exception in status.exceptions.iter().filter(|e| e.in_force) {
            if let Some(opens) = until_window_opens(&exception.expires, now, spec.exception_warning_days) {
                window_opens = Some(window_opens.map_or(opens, |earlier| earlier.min(opens)));
            }
        }
    }
    let halted = ctx.profiles.state().into_iter().filter(|p| namespace_of(p.as_ref()) == namespace).filter_map(|p| {
        let finding = p.status.as_ref().and_then(|s| s.rollout.as_ref()).and_then(from_rollout)?;
        let tenant = ctx
            .tenants
            .state()
            .into_iter()
            .find(|t| t.name_any() == finding.tenant && namespace_of(t.as_ref()) == namespace);
        // Told where the policy covers the tenant whose gate failed.
        let covered =
            tenant.is_some_and(|t| spec.tenant_selector.as_ref().is_none_or(|s| selector_matches(s, t.labels())));
        covered.then_some(finding)
    });
    findings.extend(halted);
    if spec.triggers.contains(&Trigger::CaseTask) {
        for case in ctx.cases.state().iter().filter(|c| namespace_of(c.as_ref()) == namespace) {
            findings.extend(from_case_tasks(&case.name_any(), &case.spec));
        }
        // Cases are not watched here: their tasks are looked at again each sync interval.
        window_opens = Some(window_opens.map_or(ctx.recheck, |w| w.min(ctx.recheck)));
    }
    let idle = || window_opens.map_or_else(Action::await_change, Action::requeue);
    let findings = Findings::new(findings).only(&spec.triggers, &|_| true);
    let previous = policy.status.clone().unwrap_or_default();
    let news = |last: &Option<crate::model::notification::DeliveryStatus>| {
        findings.is_news(last.as_ref().and_then(|l| l.findings_digest.as_deref()))
    };
    if !(spec.email.is_some() && news(&previous.email) || spec.webhook.is_some() && news(&previous.webhook)) {
        return Ok(idle());
    }
    let key = format!("{namespace}/{}", policy.name_any());
    let digest = findings.digest();
    let waited = {
        let mut pending = ctx.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let since = match pending.get(&key) {
            Some((pending_digest, since)) if *pending_digest == digest => *since,
            _ => {
                pending.insert(key.clone(), (digest.clone(), Instant::now()));
                Instant::now()
            }
        };
        since.elapsed()
    };
    if waited < ctx.settle {
        return Ok(Action::requeue(ctx.settle - waited));
    }
    ctx.pending.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
    let secrets = read_secrets(ctx, &namespace, policy).await;
    let lookup = |value: &SecretValue| {
        secrets.get(&secret_key(value)).cloned().unwrap_or_else(|| Err("secret not resolved".to_string()))
    };
    let name = format!("{namespace}/{}", policy.name_any());
    let status = notify(&name, spec, &findings, &previous, &lookup).await;
    apply_status(&ctx.kube, policy, &status).await?;
    let mut failed = false;
    let mut notes = Vec::new();
    for (target, after) in [("email", &status.email), ("webhook", &status.webhook)] {
        let Some(after) = after else { continue };
        let note = match &after.last_error {
            Some(error) => {
                failed = true;
                Note::warning("NotificationFailed", format!("{target}: {error}"))
            }
            None if Some(after) != previous_of(&previous, target) => {
                Note::normal("Notified", format!("{target}: {}", findings.summary()))
            }
            None => continue,
        };
        tracing::info!(notification_policy = %name, target, reason = note.reason, "notification");
        notes.push(note);
    }
    publish(&ctx.recorder, policy, "Notify", &notes).await;
    // A failed delivery is tried again soon; a delivered one waits for the findings to move.
    Ok(if failed { Action::requeue(Duration::from_secs(30)) } else { idle() })
}

/// The time until an exception enters a warning window of `warn_days` (a moment past it), when that
/// is still ahead.
fn until_window_opens(expires: &str, now: jiff::Timestamp, warn_days: u32) -> Option<Duration> {
    let end = crate::model::exception::ends_at(expires)?;
    let opens = end.as_second() - (i64::from(warn_days) + 1) * 86_400;
    let left = opens.checked_sub(now.as_second()).filter(|s| *s >= 0)?;
    Some(Duration::from_secs(u64::try_from(left).ok()? + 1))
}

fn previous_of<'a>(
    previous: &'a crate::model::notification::NotificationPolicyStatus,
    target: &str,
) -> Option<&'a crate::model::notification::DeliveryStatus> {
    if target == "email" { previous.email.as_ref() } else { previous.webhook.as_ref() }
}

fn secret_key(value: &SecretValue) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Every secret value the policy names: from the operator's environment or a Secret of its namespace.
async fn read_secrets(
    ctx: &NotificationContext,
    namespace: &str,
    policy: &NotificationPolicy,
) -> HashMap<String, Result<Secret, String>> {
    let spec = &policy.spec;
    let values: Vec<&SecretValue> = spec
        .email
        .as_ref()
        .and_then(|e| e.smtp.password.as_ref())
        .into_iter()
        .chain(spec.webhook.as_ref().and_then(|w| w.authorization.as_ref()))
        .collect();
    let api: Api<KubeSecret> = Api::namespaced(ctx.kube.clone(), namespace);
    let mut secrets = HashMap::new();
    for value in values {
        let resolved = match (&value.env, &value.secret_ref) {
            (Some(name), _) => secret_from_env(name),
            (None, Some(reference)) => {
                let key = reference.key.clone().unwrap_or_else(|| "value".to_string());
                match api.get_opt(&reference.name).await {
                    Ok(Some(secret)) => secret
                        .data
                        .and_then(|data| data.get(&key).cloned())
                        .and_then(|bytes| String::from_utf8(bytes.0).ok())
                        .map(|text| Secret::new(text.trim().to_string()))
                        .ok_or(format!("Secret {namespace}/{} has no key {key}", reference.name)),
                    Ok(None) => Err(format!("Secret {namespace}/{} not found", reference.name)),
                    Err(error) => Err(format!("cannot read Secret {namespace}/{}: {error}", reference.name)),
                }
            }
            (None, None) => Err("no secret source".to_string()),
        };
        secrets.insert(secret_key(value), resolved);
    }
    secrets
}
