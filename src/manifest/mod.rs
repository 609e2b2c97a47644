//! Manifests: loading YAML into typed resources with source positions, and validating them.

pub mod detection_checks;
pub mod diagnostics;
pub mod generate;
pub mod load;
pub mod metadata;
pub mod spec_paths;
pub mod typed_checks;
pub mod validate;
pub mod yaml;

use kube::{Resource, ResourceExt};

use crate::model::{
    Case, DefenderRole, DetectionRule, DistributionProfile, IntuneRole, Kind, NotificationPolicy, PolicyException,
    PolicyKind, PolicyOverride, PolicyRef, SettingsCatalogPolicy, Tenant, TypedPolicy,
};
pub use diagnostics::{Diagnostic, Location, Severity};
use yaml::PositionIndex;

/// Namespace of resources that name none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Where a resource came from, for messages.
#[derive(Clone, Debug)]
pub struct Source {
    pub positions: PositionIndex,
    /// Start of the document.
    pub start: Location,
}

/// A resource, with its source when it was read from a file (resources read from a cluster have none).
#[derive(Clone, Debug)]
pub struct Manifest<T> {
    pub object: T,
    pub source: Option<Source>,
}

impl<T> Manifest<T> {
    pub fn new(object: T) -> Self {
        Manifest { object, source: None }
    }

    /// Position of the field at `path` (or of its nearest ancestor present in the file).
    pub fn value_at(&self, path: &str) -> Option<Location> {
        self.source.as_ref().and_then(|s| s.positions.value(path))
    }

    /// Position of the key of the field at `path`.
    pub fn key_at(&self, path: &str) -> Option<Location> {
        self.source.as_ref().and_then(|s| s.positions.key(path))
    }
}

impl<T: Resource> Manifest<T> {
    pub fn name(&self) -> String {
        self.object.name_any()
    }

    /// `metadata.name`, borrowed.
    pub fn name_str(&self) -> &str {
        self.object.meta().name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> String {
        self.object.namespace().unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
    }
}

/// Any policy kind.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyResource {
    /// A typed kind (one made from an endpoint-security template).
    Typed(TypedPolicy),
    SettingsCatalog(SettingsCatalogPolicy),
}

impl PolicyResource {
    pub fn kind(&self) -> PolicyKind {
        match self {
            PolicyResource::Typed(p) => p.kind,
            PolicyResource::SettingsCatalog(_) => PolicyKind::SettingsCatalogPolicy,
        }
    }

    pub fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            PolicyResource::Typed(p) => &p.metadata,
            PolicyResource::SettingsCatalog(p) => p.meta(),
        }
    }

    pub fn name(&self) -> String {
        self.meta().name.clone().unwrap_or_default()
    }

    pub fn reference(&self) -> PolicyRef {
        PolicyRef { kind: self.kind(), name: self.name() }
    }

    pub fn display_name(&self) -> &str {
        match self {
            PolicyResource::Typed(p) => &p.spec.display_name,
            PolicyResource::SettingsCatalog(p) => &p.spec.display_name,
        }
    }

    pub fn description(&self) -> &str {
        match self {
            PolicyResource::Typed(p) => &p.spec.description,
            PolicyResource::SettingsCatalog(p) => &p.spec.description,
        }
    }
}

impl Manifest<PolicyResource> {
    /// `metadata.name`, borrowed.
    pub fn name_str(&self) -> &str {
        self.object.meta().name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> String {
        self.object.meta().namespace.clone().unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
    }
}

/// Everything loaded from the inputs (or read from a cluster).
#[derive(Clone, Debug, Default)]
pub struct ManifestSet {
    pub tenants: Vec<Manifest<Tenant>>,
    pub profiles: Vec<Manifest<DistributionProfile>>,
    pub policies: Vec<Manifest<PolicyResource>>,
    pub notifications: Vec<Manifest<NotificationPolicy>>,
    pub roles: Vec<Manifest<IntuneRole>>,
    pub detection_rules: Vec<Manifest<DetectionRule>>,
    pub defender_roles: Vec<Manifest<DefenderRole>>,
    pub exceptions: Vec<Manifest<PolicyException>>,
    pub overrides: Vec<Manifest<PolicyOverride>>,
    pub cases: Vec<Manifest<Case>>,
    /// Documents that named a kind and a name but failed to load: `(kind, namespace, name)`.
    pub broken: Vec<(Kind, String, String)>,
}

impl ManifestSet {
    /// The policy a profile in `namespace` means by `reference`.
    pub fn policy(&self, namespace: &str, reference: &PolicyRef) -> Option<&Manifest<PolicyResource>> {
        self.policies.iter().find(|p| p.namespace() == namespace && p.object.reference() == *reference)
    }

    /// The tenant named `name` in `namespace`.
    pub fn tenant(&self, namespace: &str, name: &str) -> Option<&Manifest<Tenant>> {
        self.tenants.iter().find(|t| t.namespace() == namespace && t.name() == name)
    }

    /// The role named `name` in `namespace`.
    pub fn role(&self, namespace: &str, name: &str) -> Option<&Manifest<IntuneRole>> {
        self.roles.iter().find(|r| r.namespace() == namespace && r.name() == name)
    }

    /// The Defender role named `name` in `namespace`.
    pub fn defender_role(&self, namespace: &str, name: &str) -> Option<&Manifest<DefenderRole>> {
        self.defender_roles.iter().find(|r| r.namespace() == namespace && r.name() == name)
    }

    /// The detection rule named `name` in `namespace`.
    pub fn detection_rule(&self, namespace: &str, name: &str) -> Option<&Manifest<DetectionRule>> {
        self.detection_rules.iter().find(|r| r.namespace() == namespace && r.name() == name)
    }

    /// Whether a document of this kind and name was present but failed to load.
    pub fn is_broken(&self, kind: Kind, namespace: &str, name: &str) -> bool {
        self.broken.iter().any(|(k, ns, n)| *k == kind && ns == namespace && n == name)
    }

    pub fn document_count(&self) -> usize {
        self.tenants.len()
            + self.profiles.len()
            + self.policies.len()
            + self.notifications.len()
            + self.roles.len()
            + self.detection_rules.len()
            + self.defender_roles.len()
            + self.exceptions.len()
            + self.overrides.len()
            + self.cases.len()
    }
}
