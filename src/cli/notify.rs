//! `--notify` for the CLI: each NotificationPolicy of the manifests is told about the findings it
//! covers when they changed since it was last told, remembered in a state folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kube::ResourceExt;

use super::connect::GraphArgs;
use super::fleet::{ask_each, selected};
use super::pipeline::runtime;
use super::plan::Selection;
use crate::manifest::ManifestSet;
use crate::model::exception::ends_at;
use crate::model::notification::Trigger;
use crate::model::notification::{NotificationPolicyStatus, SecretValue};
use crate::model::select::selector_matches;
use crate::model::status::{ExceptionStatus, IncidentSummary};
use crate::notify::findings::{Finding, Findings, from_case_tasks, from_exceptions, from_incidents};
use crate::notify::send::{notify, secret_from_env};
use crate::security::incidents::active_summaries;
use crate::util::secret::Secret;

/// The CLI reads secrets from environment variables only.
fn from_environment(value: &SecretValue) -> Result<Secret, String> {
    match (&value.env, &value.secret_ref) {
        (Some(name), _) => secret_from_env(name),
        (None, _) => Err("`secretRef` is read by the operator; the CLI takes `env`".to_string()),
    }
}

fn state_file(dir: &Path, namespace: &str, name: &str) -> PathBuf {
    dir.join(namespace).join(format!("{name}.json"))
}

/// Every tenant's exceptions that near their end or have ended.
fn exception_findings(set: &ManifestSet, now: jiff::Timestamp, warn_days: u32) -> Vec<Finding> {
    let mut findings = Vec::new();
    for tenant in &set.tenants {
        let (namespace, name) = (tenant.namespace(), tenant.name());
        let statuses: Vec<ExceptionStatus> = set
            .exceptions
            .iter()
            .filter(|e| e.namespace() == namespace && e.object.spec.covers(&name, tenant.object.labels()))
            .map(|e| {
                let spec = &e.object.spec;
                ExceptionStatus {
                    name: e.name(),
                    target: format!("{}/{}", spec.target.kind, spec.target.name),
                    allow: spec.allow.as_str().to_string(),
                    owner: spec.owner.clone(),
                    expires: spec.expires.clone(),
                    in_force: ends_at(&spec.expires).is_some_and(|end| now < end),
                }
            })
            .collect();
        findings.extend(from_exceptions(&name, &statuses, now, warn_days));
    }
    findings
}

/// Each tenant's active incidents, by tenant name.
pub type TenantIncidents = Vec<(String, Vec<IncidentSummary>)>;

/// Whether a policy of the manifests asks to hear of incidents.
pub fn wants_incidents(set: &ManifestSet) -> bool {
    set.notifications
        .iter()
        .any(|n| n.object.spec.triggers.iter().any(|t| matches!(t, Trigger::HighSeverityIncident | Trigger::Incident)))
}

/// The selected tenants' active incidents (a tenant that cannot be read has none to tell).
pub fn read_incidents(
    selection: &Selection,
    graph: &GraphArgs,
    err: &mut dyn Write,
) -> anyhow::Result<TenantIncidents> {
    let Some(prepared) = selected(selection, err)? else { return Ok(Vec::new()) };
    let answers =
        ask_each(&prepared, graph, "Reading incidents", |graph| async move { graph.list_incidents(None).await })?;
    Ok(answers
        .into_iter()
        .filter_map(|answer| {
            let active = active_summaries(answer.answer.ok()?, |_| true);
            Some((answer.tenant, active))
        })
        .collect())
}

/// Notifies every policy; returns false when a delivery failed (it is retried at the next run).
pub fn notify_policies(
    set: &ManifestSet,
    findings: Vec<Finding>,
    incidents: &TenantIncidents,
    state_dir: &Path,
    err: &mut dyn Write,
) -> anyhow::Result<bool> {
    if set.notifications.is_empty() {
        writeln!(err, "--notify: the manifests hold no NotificationPolicy; nobody was notified.")?;
        return Ok(true);
    }
    let now = crate::util::clock::now().map_err(anyhow::Error::msg)?;
    let mut delivered = true;
    let runtime = runtime()?;
    for policy in &set.notifications {
        let (namespace, name) = (policy.namespace(), policy.name());
        let spec = &policy.object.spec;
        let selected = |tenant: &str| {
            set.tenant(&namespace, tenant).is_some_and(|t| {
                spec.tenant_selector.as_ref().is_none_or(|selector| selector_matches(selector, t.object.labels()))
            })
        };
        let mut covered = findings.clone();
        covered.extend(exception_findings(set, now, spec.exception_warning_days));
        for (tenant, active) in incidents {
            covered.extend(from_incidents(tenant, active, &spec.incident_severities));
            let high = active.iter().filter(|i| i.severity.eq_ignore_ascii_case("high"));
            covered.extend(high.map(|i| Finding {
                trigger: Trigger::HighSeverityIncident,
                tenant: tenant.clone(),
                subject: format!("incident {}", i.id),
                detail: format!("{} ({})", i.display_name, i.status),
            }));
        }
        for case in set.cases.iter().filter(|c| c.namespace() == namespace) {
            covered.extend(from_case_tasks(&case.name(), &case.object.spec));
        }
        // A case's task is about no one tenant: it is told to every policy of the namespace.
        let scoped = Findings::new(covered).only(&spec.triggers, &|tenant: &str| tenant.is_empty() || selected(tenant));
        let path = state_file(state_dir, &namespace, &name);
        let previous: NotificationPolicyStatus = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))?,
            Err(_) => NotificationPolicyStatus::default(),
        };
        let status = runtime.block_on(notify(&name, spec, &scoped, &previous, &from_environment));
        for (target, before, after) in
            [("email", &previous.email, &status.email), ("webhook", &previous.webhook, &status.webhook)]
        {
            match after {
                Some(after) if after.last_error.is_some() => {
                    delivered = false;
                    writeln!(
                        err,
                        "NotificationPolicy/{name}: {target} not delivered: {}",
                        after.last_error.clone().unwrap_or_default()
                    )?;
                }
                Some(after) if Some(after) != before.as_ref() => {
                    writeln!(err, "NotificationPolicy/{name}: {target} sent ({}).", scoped.summary())?;
                }
                Some(_) => {
                    writeln!(err, "NotificationPolicy/{name}: {target} not sent: nothing changed since the last one.")?
                }
                None => {}
            }
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, serde_json::to_string_pretty(&status)? + "\n")
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        std::fs::rename(&temporary, &path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(delivered)
}
