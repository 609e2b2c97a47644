//! `Case`: incidents of several tenants worked as one — a title, an owner, a severity, the member
//! incidents (named, or matched by tag, title and time), tasks and notes. Reconciling a case writes
//! the link onto the incidents themselves (a `case:<name>` tag, the owner when unassigned, one
//! comment), so the Defender portal shows it too; closing it can resolve them.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A case grouping incidents across tenants.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "tenantctl.dev",
    version = "v1alpha1",
    kind = "Case",
    doc = "Incidents of several tenants worked as one: owner, severity, member incidents, tasks.",
    namespaced,
    status = "CaseStatus",
    shortname = "case",
    category = "tenantctl",
    printcolumn = r#"{"name":"Title","type":"string","jsonPath":".spec.title"}"#,
    printcolumn = r#"{"name":"Owner","type":"string","jsonPath":".spec.owner"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".spec.status"}"#,
    printcolumn = r#"{"name":"Members","type":"integer","jsonPath":".status.memberCount"}"#,
    printcolumn = r#"{"name":"Open tasks","type":"integer","jsonPath":".status.openTasks"}"#
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaseSpec {
    /// What the case is about.
    #[schemars(length(min = 1))]
    pub title: String,
    /// Who leads it: member incidents without an owner are assigned to them.
    #[schemars(length(min = 1))]
    pub owner: String,
    #[serde(default)]
    pub severity: CaseSeverity,
    #[serde(default)]
    pub status: CaseStatusValue,
    /// Member incidents by reference: `TENANT/ID` (the Tenant's `metadata.name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<String>,
    /// Member incidents by what they are: every condition given must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<IncidentSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<CaseTask>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// With `status: closed`: what happens to the member incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<CaseClosing>,
}

// How serious the case is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CaseSeverity {
    Informational,
    Low,
    #[default]
    Medium,
    High,
}

// Whether the case is being worked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CaseStatusValue {
    #[default]
    Open,
    Closed,
}

/// Incidents a case takes in by what they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IncidentSelector {
    /// Incidents carrying this custom tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Incidents whose title contains this (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_contains: Option<String>,
    /// Incidents created on or after this date (`YYYY-MM-DD`, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_after: Option<String>,
    /// Incidents created before this date (`YYYY-MM-DD`, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_before: Option<String>,
    /// Only these tenants (`metadata.name`); every tenant of the namespace when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
}

/// One task of a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaseTask {
    #[schemars(length(min = 1))]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default)]
    pub done: bool,
}

/// What closing a case does to its incidents.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaseClosing {
    /// Resolve every member incident.
    #[serde(default)]
    pub resolve_incidents: bool,
    /// The classification resolved incidents get (`truePositive`, `falsePositive`,
    /// `informationalExpectedActivity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    /// The determination resolved incidents get (`malware`, `compromisedAccount`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub determination: Option<String>,
}

/// What the operator last saw of a case's incidents.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaseStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    pub member_count: u32,
    #[serde(default)]
    pub open_tasks: u32,
    /// Every member incident with its live status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<CaseMember>,
    /// Tenants whose incidents could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_tenants: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A member incident as last read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaseMember {
    pub tenant: String,
    pub id: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
}

impl CaseSpec {
    /// The tag that marks a member incident.
    pub fn tag(name: &str) -> String {
        format!("case:{name}")
    }

    /// The comment that links a member incident to the case: added once, whatever the title
    /// becomes (an incident with a comment that starts with [`CaseSpec::link_prefix`] has it).
    pub fn link_comment(name: &str, title: &str) -> String {
        format!("{}: {title}", Self::link_prefix(name))
    }

    pub fn link_prefix(name: &str) -> String {
        format!("Linked to case {name} by tenantctl")
    }

    pub fn open_tasks(&self) -> usize {
        self.tasks.iter().filter(|t| !t.done).count()
    }
}
