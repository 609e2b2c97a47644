//! The revisions a profile's rollout went through, kept in the cluster as ControllerRevisions (as
//! DaemonSets and StatefulSets keep theirs): `<profile>-<revision>` holds the manifests of every object
//! the profile delivered at that revision, so that `spec.rollout.pin` can return tenants to it.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde_json::{Value, json};

use super::context::namespace_of;
use crate::manifest::load::{Loaded, load_text};
use crate::manifest::{Manifest, ManifestSet, PolicyResource};
use crate::model::profile::DistributionProfileSpec;
use crate::model::{DistributionProfile, Kind};

/// Revisions kept per profile; older ones are deleted.
const KEPT: usize = 10;
const PROFILE_LABEL: &str = "tenantctl.dev/profile";

/// The ControllerRevision of a profile's revision.
fn name_of(profile: &str, revision: &str) -> String {
    format!("{profile}-{revision}")
}

/// The manifests of what a profile delivers, each as its Kubernetes object (kind, name, spec).
pub fn delivered(set: &ManifestSet, namespace: &str, spec: &DistributionProfileSpec) -> Vec<Value> {
    let document = |kind: Kind, name: &str, spec: Value| {
        json!({
            "apiVersion": "tenantctl.dev/v1alpha1",
            "kind": kind.as_str(),
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        })
    };
    let mut documents = Vec::new();
    for reference in &spec.policies {
        match set.policy(namespace, reference).map(|p| &p.object) {
            Some(PolicyResource::Typed(policy)) => {
                documents.push(document(policy.kind.kind(), &reference.name, as_json(&policy.spec)))
            }
            Some(PolicyResource::SettingsCatalog(policy)) => {
                documents.push(document(Kind::SettingsCatalogPolicy, &reference.name, as_json(&policy.spec)))
            }
            None => {}
        }
    }
    for name in &spec.roles {
        if let Some(role) = set.role(namespace, name) {
            documents.push(document(Kind::IntuneRole, name, as_json(&role.object.spec)));
        }
        if let Some(role) = set.defender_role(namespace, name) {
            documents.push(document(Kind::DefenderRole, name, as_json(&role.object.spec)));
        }
    }
    for name in &spec.detection_rules {
        if let Some(rule) = set.detection_rule(namespace, name) {
            documents.push(document(Kind::DetectionRule, name, as_json(&rule.object.spec)));
        }
    }
    documents
}

fn as_json(spec: &impl Serialize) -> Value {
    serde_json::to_value(spec).unwrap_or_default()
}

/// Records a profile's revision once (and forgets the oldest beyond [`KEPT`]).
pub async fn record(
    kube: &kube::Client,
    profile: &DistributionProfile,
    revision: &str,
    documents: Vec<Value>,
) -> Result<(), kube::Error> {
    let namespace = namespace_of(profile);
    let api: Api<ControllerRevision> = Api::namespaced(kube.clone(), &namespace);
    let name = name_of(&profile.name_any(), revision);
    if api.get_opt(&name).await?.is_some() {
        return Ok(());
    }
    let selector = format!("{PROFILE_LABEL}={}", profile.name_any());
    let mut existing = api.list(&ListParams::default().labels(&selector)).await?.items;
    existing.sort_by_key(|r| r.revision);
    let number = existing.last().map_or(1, |r| r.revision + 1);
    let labels = BTreeMap::from([(PROFILE_LABEL.to_string(), profile.name_any())]);
    let object = ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace),
            labels: Some(labels),
            owner_references: profile.controller_owner_ref(&()).map(|owner| vec![owner]),
            ..ObjectMeta::default()
        },
        data: Some(RawExtension(json!({"revision": revision, "objects": documents}))),
        revision: number,
    };
    api.create(&PostParams::default(), &object).await?;
    let surplus = (existing.len() + 1).saturating_sub(KEPT);
    for old in existing.iter().take(surplus) {
        api.delete(&old.name_any(), &DeleteParams::default()).await?;
    }
    Ok(())
}

/// The manifests a profile delivered at a recorded revision: `None` when the operator did not
/// record it (or has forgotten it).
pub async fn recorded(
    kube: &kube::Client,
    namespace: &str,
    profile: &str,
    revision: &str,
) -> Result<Option<Vec<Value>>, kube::Error> {
    let api: Api<ControllerRevision> = Api::namespaced(kube.clone(), namespace);
    let Some(object) = api.get_opt(&name_of(profile, revision)).await? else { return Ok(None) };
    let objects = object.data.and_then(|RawExtension(data)| data.get("objects").and_then(Value::as_array).cloned());
    Ok(objects)
}

/// The manifest set with the objects of a recorded revision in place of today's (by kind and name).
pub fn as_recorded(current: &ManifestSet, documents: &[Value]) -> Result<ManifestSet, String> {
    let text = documents.iter().map(Value::to_string).collect::<Vec<_>>().join("\n---\n");
    let mut loaded = Loaded::default();
    load_text(&mut loaded, Arc::from("recorded revision"), &text);
    if let Some(error) = loaded.diagnostics.iter().find(|d| d.is_error()) {
        return Err(format!("the recorded revision does not load: {error}"));
    }
    let mut set = current.clone();
    for policy in loaded.set.policies {
        let reference = policy.object.reference();
        set.policies.retain(|p| p.object.reference() != reference);
        set.policies.push(Manifest::new(policy.object));
    }
    for role in loaded.set.roles {
        set.roles.retain(|r| r.name() != role.name());
        set.roles.push(Manifest::new(role.object));
    }
    for role in loaded.set.defender_roles {
        set.defender_roles.retain(|r| r.name() != role.name());
        set.defender_roles.push(Manifest::new(role.object));
    }
    for rule in loaded.set.detection_rules {
        set.detection_rules.retain(|r| r.name() != rule.name());
        set.detection_rules.push(Manifest::new(rule.object));
    }
    Ok(set)
}
