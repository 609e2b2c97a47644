//! Triage across tenants: from the incidents a selection matched and the changes asked for, what
//! each incident needs — the properties that differ (a `PATCH` body), the tags it lacks, the comment
//! unless it has it already — so that running the same triage twice writes nothing the second time.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::wire::common::Incident;

/// The changes asked for; `None` and empty leave a property as it is.
#[derive(Clone, Debug, Default)]
pub struct Triage {
    pub status: Option<String>,
    pub classification: Option<String>,
    pub determination: Option<String>,
    pub assigned_to: Option<String>,
    /// Tags added to the incident's custom tags.
    pub tags: Vec<String>,
    pub comment: Option<String>,
}

impl Triage {
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.classification.is_none()
            && self.determination.is_none()
            && self.assigned_to.is_none()
            && self.tags.is_empty()
            && self.comment.is_none()
    }
}

/// What one incident needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentUpdate {
    pub tenant: String,
    pub tenant_id: String,
    pub id: String,
    pub severity: String,
    pub display_name: String,
    /// The properties to set, as Graph's `PATCH` body; empty when none differ.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub changes: Map<String, Value>,
    /// The comment to add, when the incident does not have it yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl IncidentUpdate {
    pub fn is_noop(&self) -> bool {
        self.changes.is_empty() && self.comment.is_none()
    }

    /// The changes in words: `status → resolved`, `tag +case:x`, `comment`.
    pub fn words(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        for (key, value) in &self.changes {
            match (key.as_str(), value) {
                ("customTags", Value::Array(tags)) => words
                    .push(format!("tags → {}", tags.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))),
                (key, Value::String(value)) => words.push(format!("{key} → {value}")),
                (key, value) => words.push(format!("{key} → {value}")),
            }
        }
        if self.comment.is_some() {
            words.push("comment".into());
        }
        if words.is_empty() { "nothing to change".into() } else { words.join(", ") }
    }
}

/// What `triage` changes in one incident of a tenant.
pub fn update_of(tenant: &str, tenant_id: &str, incident: &Incident, triage: &Triage) -> IncidentUpdate {
    let mut changes = Map::new();
    let current = |key: &str| incident.other.get(key).and_then(Value::as_str).map(str::to_string);
    let mut set = |key: &str, wanted: &Option<String>, now: Option<String>| {
        if let Some(wanted) = wanted
            && now.as_deref() != Some(wanted.as_str())
        {
            changes.insert(key.to_string(), Value::String(wanted.clone()));
        }
    };
    set("status", &triage.status, Some(incident.status.clone()));
    set("classification", &triage.classification, current("classification"));
    set("determination", &triage.determination, current("determination"));
    set("assignedTo", &triage.assigned_to, current("assignedTo"));
    let tags: Vec<String> = incident
        .other
        .get("customTags")
        .and_then(Value::as_array)
        .map(|tags| tags.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let missing: Vec<&String> = triage.tags.iter().filter(|t| !tags.contains(t)).collect();
    if !missing.is_empty() {
        // Graph replaces the collection: the tags it has are sent with the new ones.
        let all: Vec<Value> = tags.iter().chain(missing).map(|t| Value::String(t.clone())).collect();
        changes.insert("customTags".into(), Value::Array(all));
    }
    let has_comment = |text: &str| {
        incident
            .other
            .get("comments")
            .and_then(Value::as_array)
            .is_some_and(|comments| comments.iter().any(|c| c.get("comment").and_then(Value::as_str) == Some(text)))
    };
    IncidentUpdate {
        tenant: tenant.to_string(),
        tenant_id: tenant_id.to_string(),
        id: incident.id.clone(),
        severity: incident.severity.clone(),
        display_name: incident.display_name.clone(),
        changes,
        comment: triage.comment.clone().filter(|text| !has_comment(text)),
    }
}

/// The outcome of one incident's update.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOutcome {
    #[serde(flatten)]
    pub update: IncidentUpdate,
    /// `updated`, `unchanged` or `failed`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn incident() -> Incident {
        serde_json::from_value(json!({
            "id": "7", "status": "active", "severity": "high", "displayName": "x", "classification": "unknown",
            "assignedTo": null, "customTags": ["vip"], "comments": [{"comment": "seen"}]
        }))
        .expect("incident")
    }

    #[test]
    fn only_what_differs_is_sent_and_a_comment_it_has_is_not_added_again() {
        let triage = Triage {
            status: Some("inProgress".into()),
            classification: Some("unknown".into()),
            assigned_to: Some("soc@contoso.example".into()),
            tags: vec!["vip".into(), "triaged".into()],
            comment: Some("seen".into()),
            ..Triage::default()
        };
        let update = update_of("t", "tid", &incident(), &triage);
        assert_eq!(
            Value::Object(update.changes.clone()),
            json!({"status": "inProgress", "assignedTo": "soc@contoso.example", "customTags": ["vip", "triaged"]})
        );
        assert_eq!(update.comment, None);
        assert_eq!(update.words(), "status → inProgress, assignedTo → soc@contoso.example, tags → vip,triaged");
        let again = Triage { status: Some("active".into()), tags: vec!["vip".into()], ..Triage::default() };
        assert!(update_of("t", "tid", &incident(), &again).is_noop());
    }
}
