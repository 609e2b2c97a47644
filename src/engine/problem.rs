//! Problems of a tenant's plan or apply, typed: each has a stable category used as Event reason,
//! metric label and JSON field, and names the object it is about. Nothing is parsed out of strings.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::ObjectRef;

/// What kind of problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Category {
    /// The tenant could not be read: no writes, no drift verdict.
    Unreadable,
    /// The tenant was not observed at all.
    NotObserved,
    /// A group an assignment names is missing in the tenant, or several share its name.
    UnresolvedGroup,
    /// Several unmanaged objects could be adopted; none is.
    AmbiguousAdoption,
    /// Prune would delete more than the blast-radius guard allows.
    MassDeleteRefused,
    /// An object carries the marker of a desired object under another name.
    DuplicateMarker,
    /// The saved plan no longer matches the tenant.
    Stale,
    /// A write failed.
    WriteFailed,
    /// A write the tenant's Multi Admin Approval holds: a request waits for an approver.
    AwaitingApproval,
    /// The app lacks an application permission the tenant's reads or writes need: refused ahead.
    MissingPermission,
    /// The object names something the tenant does not have (an action its namespace does not list):
    /// refused before any write.
    UnknownInTenant,
    /// The values a tenant has for the settings an exception lets differ do not fit the object's
    /// spec, so what to write around them is unknown: nothing is written.
    ExceptionUnappliable,
}

impl Category {
    /// The Kubernetes Event reason: `UnresolvedGroup`, `WriteFailed`, …
    pub fn reason(self) -> &'static str {
        match self {
            Category::Unreadable => "Unreadable",
            Category::NotObserved => "NotObserved",
            Category::UnresolvedGroup => "UnresolvedGroup",
            Category::AmbiguousAdoption => "AmbiguousAdoption",
            Category::MassDeleteRefused => "MassDeleteRefused",
            Category::DuplicateMarker => "DuplicateMarker",
            Category::Stale => "Stale",
            Category::WriteFailed => "WriteFailed",
            Category::AwaitingApproval => "AwaitingApproval",
            Category::MissingPermission => "MissingPermission",
            Category::UnknownInTenant => "UnknownInTenant",
            Category::ExceptionUnappliable => "ExceptionUnappliable",
        }
    }

    /// The stable name: metric label, Event reason suffix, JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Unreadable => "unreadable",
            Category::NotObserved => "notObserved",
            Category::UnresolvedGroup => "unresolvedGroup",
            Category::AmbiguousAdoption => "ambiguousAdoption",
            Category::MassDeleteRefused => "massDeleteRefused",
            Category::DuplicateMarker => "duplicateMarker",
            Category::Stale => "stale",
            Category::WriteFailed => "writeFailed",
            Category::AwaitingApproval => "awaitingApproval",
            Category::MissingPermission => "missingPermission",
            Category::UnknownInTenant => "unknownInTenant",
            Category::ExceptionUnappliable => "exceptionUnappliable",
        }
    }
}

/// One problem, about one object or the whole tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    pub category: Category,
    /// The object it is about; none for the whole tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    pub message: String,
    /// For a failed write: the API's own category (`throttled`, `forbidden`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl Problem {
    pub fn tenant(category: Category, message: impl Into<String>) -> Problem {
        Problem { category, object: None, message: message.into(), cause: None }
    }

    pub fn object(category: Category, object: &ObjectRef, message: impl Into<String>) -> Problem {
        Problem { category, object: Some(object.clone()), message: message.into(), cause: None }
    }

    /// Whether it is about this object.
    pub fn is_about(&self, object: &ObjectRef) -> bool {
        self.object.as_ref() == Some(object)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.object {
            Some(object) => write!(f, "{object}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}
