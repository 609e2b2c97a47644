//! Cases across tenants: which incidents belong to a case (named ones, those its selector matches,
//! those already tagged with it), and what reconciling the case writes onto each — its tag, its owner
//! where nobody owns the incident, one linking comment, and on closing the resolution asked for.

use serde_json::Value;

use super::TenantAnswer;
use super::triage::{IncidentUpdate, Triage, update_of};
use crate::model::case::{CaseMember, CaseSpec, CaseStatusValue, IncidentSelector};
use crate::wire::common::Incident;

/// Whether an incident of a tenant belongs to the case.
pub fn is_member(name: &str, spec: &CaseSpec, tenant: &str, incident: &Incident) -> bool {
    let named = spec.incidents.iter().any(|r| r.split_once('/') == Some((tenant, incident.id.as_str())));
    named
        || tags(incident).contains(&CaseSpec::tag(name).as_str())
        || spec.selector.as_ref().is_some_and(|s| selects(s, tenant, incident))
}

fn tags(incident: &Incident) -> Vec<&str> {
    incident
        .other
        .get("customTags")
        .and_then(Value::as_array)
        .map(|tags| tags.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn selects(selector: &IncidentSelector, tenant: &str, incident: &Incident) -> bool {
    let created = incident.created_date_time.as_deref().and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let day = |date: &Option<String>| {
        date.as_deref()
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    };
    (selector.tenants.is_empty() || selector.tenants.iter().any(|t| t == tenant))
        && selector.tag.as_ref().is_none_or(|tag| tags(incident).contains(&tag.as_str()))
        && selector
            .title_contains
            .as_ref()
            .is_none_or(|text| incident.display_name.to_lowercase().contains(&text.to_lowercase()))
        && day(&selector.created_after).is_none_or(|after| created.is_some_and(|c| c >= after))
        && day(&selector.created_before).is_none_or(|before| created.is_some_and(|c| c < before))
}

/// What one tenant answered for its incidents.
pub type IncidentsAnswer = TenantAnswer<Vec<Incident>>;

/// Member incidents, each with its tenant's answer.
pub type Members<'a> = Vec<(&'a IncidentsAnswer, &'a Incident)>;

/// The case's members among what the tenants answered, with the tenants that could not be read.
pub fn members<'a>(
    name: &str,
    spec: &CaseSpec,
    answers: &'a [IncidentsAnswer],
) -> (Members<'a>, Vec<&'a IncidentsAnswer>) {
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for answer in answers {
        match &answer.answer {
            Ok(incidents) => {
                found.extend(incidents.iter().filter(|i| is_member(name, spec, &answer.tenant, i)).map(|i| (answer, i)))
            }
            Err(_) => unknown.push(answer),
        }
    }
    (found, unknown)
}

/// What reconciling the case writes onto one member incident.
pub fn reconcile(
    name: &str,
    spec: &CaseSpec,
    tenant: &TenantAnswer<Vec<Incident>>,
    incident: &Incident,
) -> IncidentUpdate {
    let unassigned = incident.other.get("assignedTo").and_then(Value::as_str).is_none_or(str::is_empty);
    let closing = spec.status == CaseStatusValue::Closed && spec.close.as_ref().is_some_and(|c| c.resolve_incidents);
    let close = spec.close.clone().unwrap_or_default();
    let triage = Triage {
        status: closing.then(|| "resolved".to_string()),
        classification: if closing { close.classification } else { None },
        determination: if closing { close.determination } else { None },
        assigned_to: unassigned.then(|| spec.owner.clone()),
        tags: vec![CaseSpec::tag(name)],
        comment: Some(CaseSpec::link_comment(name, &spec.title)),
    };
    let mut update = update_of(&tenant.tenant, &tenant.tenant_id, incident, &triage);
    let prefix = CaseSpec::link_prefix(name);
    let linked = incident.other.get("comments").and_then(Value::as_array).is_some_and(|comments| {
        comments.iter().any(|c| c.get("comment").and_then(Value::as_str).is_some_and(|t| t.starts_with(&prefix)))
    });
    if linked {
        update.comment = None;
    }
    update
}

/// A member as the case's status shows it.
pub fn member(tenant: &str, incident: &Incident) -> CaseMember {
    CaseMember {
        tenant: tenant.to_string(),
        id: incident.id.clone(),
        title: incident.display_name.clone(),
        severity: incident.severity.clone(),
        status: incident.status.clone(),
        assigned_to: incident.other.get("assignedTo").and_then(Value::as_str).map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn incident(id: &str, title: &str, tags: &[&str], comments: &[&str]) -> Incident {
        serde_json::from_value(json!({
            "id": id, "displayName": title, "status": "active", "severity": "high",
            "createdDateTime": "2026-11-20T10:00:00Z", "assignedTo": null, "customTags": tags,
            "comments": comments.iter().map(|c| json!({"comment": c})).collect::<Vec<_>>()
        }))
        .expect("incident")
    }

    fn spec(text: &str) -> CaseSpec {
        serde_yaml::from_str(text).expect("case spec")
    }

    #[test]
    fn members_are_named_selected_or_already_tagged_and_linked_once() {
        let case = spec(
            "{title: LSASS wave, owner: lead@contoso.example, incidents: [a/1], selector: {titleContains: lsass, createdAfter: '2026-11-01'}}",
        );
        let answers = vec![
            TenantAnswer {
                tenant: "a".into(),
                tenant_id: "a-id".into(),
                answer: Ok(vec![incident("1", "Phishing", &[], &[]), incident("2", "LSASS access", &[], &[])]),
            },
            TenantAnswer {
                tenant: "b".into(),
                tenant_id: "b-id".into(),
                answer: Ok(vec![
                    incident("3", "Other", &["case:wave"], &["Linked to case wave by tenantctl: old title"]),
                    incident("4", "Other", &[], &[]),
                ]),
            },
            TenantAnswer { tenant: "c".into(), tenant_id: "c-id".into(), answer: Err("unreachable".into()) },
        ];
        let (found, unknown) = members("wave", &case, &answers);
        let ids: Vec<&str> = found.iter().map(|(_, i)| i.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        assert_eq!(unknown.len(), 1);
        let first = reconcile("wave", &case, found[0].0, found[0].1);
        assert_eq!(first.comment.as_deref(), Some("Linked to case wave by tenantctl: LSASS wave"));
        assert_eq!(first.changes["assignedTo"], "lead@contoso.example");
        let linked = reconcile("wave", &case, found[2].0, found[2].1);
        assert_eq!(linked.comment, None, "linked once, whatever the title became");
        assert!(!linked.changes.contains_key("customTags"), "tagged already");
    }
}
