//! The cross-tenant incident queue: every tenant's incidents with a tenant column, filtered, sorted by
//! severity (most severe first) and then by last update (newest first).

use serde::Serialize;
use serde_json::{Map, Value};

use super::TenantAnswer;
use crate::model::status::IncidentSummary;
use crate::wire::common::Incident;

/// Severities from most to least severe, as Graph names them.
pub const SEVERITIES: &[&str] = &["high", "medium", "low", "informational", "unknownFutureValue"];
/// Statuses as Graph names them.
pub use crate::wire::common::INCIDENT_STATUSES as STATUSES;

/// One row of the queue.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedIncident {
    pub tenant: String,
    pub tenant_id: String,
    pub id: String,
    pub severity: String,
    pub status: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_web_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
}

/// A tenant whose incidents could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnknownTenant {
    pub tenant: String,
    pub tenant_id: String,
    pub reason: String,
}

/// The merged queue.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub incidents: Vec<QueuedIncident>,
    /// Never silently dropped: listed with why.
    pub unknown_tenants: Vec<UnknownTenant>,
    /// Tenants read successfully.
    pub tenants_read: usize,
}

/// Which incidents to keep. Empty lists keep everything.
#[derive(Clone, Debug, Default)]
pub struct IncidentFilter {
    pub severities: Vec<String>,
    pub statuses: Vec<String>,
    /// Keep incidents updated (or, without an update time, created) at or after this instant.
    pub since: Option<jiff::Timestamp>,
    /// Keep incidents assigned to this owner (case-insensitive); `none` keeps unassigned ones.
    pub assigned_to: Option<String>,
    /// Keep incidents that carry every one of these custom tags.
    pub tags: Vec<String>,
}

impl IncidentFilter {
    pub fn keeps(&self, incident: &Incident) -> bool {
        let matches =
            |wanted: &[String], value: &str| wanted.is_empty() || wanted.iter().any(|w| w.eq_ignore_ascii_case(value));
        let owner = incident.other.get("assignedTo").and_then(Value::as_str).filter(|o| !o.is_empty());
        let tags: Vec<&str> = incident
            .other
            .get("customTags")
            .and_then(Value::as_array)
            .map(|tags| tags.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let owner_matches = match self.assigned_to.as_deref() {
            None => true,
            Some("none") => owner.is_none(),
            Some(wanted) => owner.is_some_and(|o| o.eq_ignore_ascii_case(wanted)),
        };
        owner_matches
            && self.tags.iter().all(|t| tags.contains(&t.as_str()))
            && matches(&self.severities, &incident.severity)
            && matches(&self.statuses, &incident.status)
            && self.since.is_none_or(|since| {
                let when = incident.last_update_date_time.as_deref().or(incident.created_date_time.as_deref());
                // An incident without a readable time is kept: dropping it would hide it.
                when.and_then(|w| w.parse::<jiff::Timestamp>().ok()).is_none_or(|when| when >= since)
            })
    }
}

/// The incidents still being worked (not resolved nor redirected), as much of each as a notification
/// needs.
pub fn active_summaries(incidents: Vec<Incident>, keep: impl Fn(&Incident) -> bool) -> Vec<IncidentSummary> {
    incidents
        .into_iter()
        .filter(|i| !matches!(i.status.as_str(), "resolved" | "redirected") && keep(i))
        .map(|i| IncidentSummary { id: i.id, display_name: i.display_name, severity: i.severity, status: i.status })
        .collect()
}

fn severity_rank(severity: &str) -> usize {
    SEVERITIES.iter().position(|s| s.eq_ignore_ascii_case(severity)).unwrap_or(SEVERITIES.len())
}

fn text(other: &Map<String, Value>, key: &str) -> Option<String> {
    other.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Merges every tenant's answer into one queue.
pub fn merge(answers: Vec<TenantAnswer<Vec<Incident>>>, filter: &IncidentFilter) -> Queue {
    let mut queue = Queue::default();
    for answer in answers {
        match answer.answer {
            Ok(incidents) => {
                queue.tenants_read += 1;
                queue.incidents.extend(incidents.into_iter().filter(|i| filter.keeps(i)).map(|incident| {
                    QueuedIncident {
                        tenant: answer.tenant.clone(),
                        tenant_id: answer.tenant_id.clone(),
                        incident_web_url: text(&incident.other, "incidentWebUrl"),
                        assigned_to: text(&incident.other, "assignedTo"),
                        id: incident.id,
                        severity: incident.severity,
                        status: incident.status,
                        display_name: incident.display_name,
                        created_date_time: incident.created_date_time,
                        last_update_date_time: incident.last_update_date_time,
                    }
                }));
            }
            Err(reason) => {
                queue.unknown_tenants.push(UnknownTenant { tenant: answer.tenant, tenant_id: answer.tenant_id, reason })
            }
        }
    }
    let time = |i: &QueuedIncident| {
        i.last_update_date_time
            .as_deref()
            .or(i.created_date_time.as_deref())
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    };
    queue.incidents.sort_by(|a, b| {
        severity_rank(&a.severity)
            .cmp(&severity_rank(&b.severity))
            .then_with(|| time(b).cmp(&time(a)))
            .then_with(|| (&a.tenant, &a.id).cmp(&(&b.tenant, &b.id)))
    });
    queue
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(id: &str, severity: &str, status: &str, updated: &str) -> Incident {
        serde_json::from_value(serde_json::json!({
            "id": id, "severity": severity, "status": status, "displayName": format!("incident {id}"),
            "lastUpdateDateTime": updated, "incidentWebUrl": format!("https://security.microsoft.com/incidents/{id}")
        }))
        .expect("incident")
    }

    fn answer(tenant: &str, incidents: Vec<Incident>) -> TenantAnswer<Vec<Incident>> {
        TenantAnswer { tenant: tenant.into(), tenant_id: format!("{tenant}-id"), answer: Ok(incidents) }
    }

    #[test]
    fn sorted_by_severity_then_newest_first_with_unknown_tenants_listed() {
        let answers = vec![
            answer(
                "a",
                vec![
                    incident("1", "low", "active", "2025-01-03T00:00:00Z"),
                    incident("2", "high", "active", "2025-01-01T00:00:00Z"),
                ],
            ),
            TenantAnswer { tenant: "b".into(), tenant_id: "b-id".into(), answer: Err("token refused".into()) },
            answer(
                "c",
                vec![
                    incident("3", "high", "resolved", "2025-01-02T00:00:00Z"),
                    incident("4", "medium", "active", "2025-01-05T00:00:00Z"),
                ],
            ),
        ];
        let queue = merge(answers, &IncidentFilter::default());
        let order: Vec<(&str, &str)> = queue.incidents.iter().map(|i| (i.tenant.as_str(), i.id.as_str())).collect();
        assert_eq!(order, [("c", "3"), ("a", "2"), ("c", "4"), ("a", "1")]);
        assert_eq!(queue.tenants_read, 2);
        assert_eq!(
            queue.unknown_tenants,
            [UnknownTenant { tenant: "b".into(), tenant_id: "b-id".into(), reason: "token refused".into() }]
        );
        assert_eq!(queue.incidents[0].incident_web_url.as_deref(), Some("https://security.microsoft.com/incidents/3"));
    }

    #[test]
    fn filters_by_severity_status_and_time() {
        let answers = || {
            vec![answer(
                "a",
                vec![
                    incident("1", "high", "active", "2025-01-01T00:00:00Z"),
                    incident("2", "High", "resolved", "2025-02-01T00:00:00Z"),
                    incident("3", "low", "active", "2025-03-01T00:00:00Z"),
                ],
            )]
        };
        let ids =
            |filter: IncidentFilter| merge(answers(), &filter).incidents.into_iter().map(|i| i.id).collect::<Vec<_>>();
        assert_eq!(ids(IncidentFilter { severities: vec!["high".into()], ..Default::default() }), ["2", "1"]);
        assert_eq!(ids(IncidentFilter { statuses: vec!["active".into()], ..Default::default() }), ["1", "3"]);
        let since = "2025-01-15T00:00:00Z".parse().ok();
        assert_eq!(ids(IncidentFilter { since, ..Default::default() }), ["2", "3"]);
    }
}
