//! What every controller writes to Kubernetes, written one way: status by server-side apply with the
//! operator's field manager (it owns `status` and nothing else), and events on the object.

use std::fmt::Debug;

use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use k8s_openapi::api::core::v1::ObjectReference;

use super::FIELD_MANAGER;
use super::names::namespace_of;
use crate::model::ObjectRef;

/// One event to publish on an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub type_: EventType,
    /// Stable reason: `Created`, `Updated`, `Adopted`, `Deleted`, `Drifted`, a problem's category…
    pub reason: &'static str,
    pub note: String,
    /// The tenantctl resource (in the object's namespace) the event is about, as its related object:
    /// each policy's event stands alone instead of being folded into one series per reason.
    pub related: Option<ObjectRef>,
}

impl Note {
    pub fn normal(reason: &'static str, note: String) -> Note {
        Note { type_: EventType::Normal, reason, note, related: None }
    }

    pub fn warning(reason: &'static str, note: String) -> Note {
        Note { type_: EventType::Warning, reason, note, related: None }
    }

    pub fn about(mut self, object: &ObjectRef) -> Note {
        self.related = Some(object.clone());
        self
    }
}

/// Replaces the object's status with `status`.
pub async fn apply_status<K>(kube: &kube::Client, object: &K, status: &impl Serialize) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
{
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    let api: Api<K> = Api::namespaced(kube.clone(), &namespace_of(object));
    api.patch_status(&object.name_any(), &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&patch)).await?;
    Ok(())
}

/// Publishes events on the object; a failure to publish is logged, never fatal.
pub async fn publish<K: Resource<DynamicType = ()>>(recorder: &Recorder, object: &K, action: &str, notes: &[Note]) {
    let reference = object.object_ref(&());
    for Note { type_, reason, note, related } in notes {
        let secondary = related.as_ref().map(|related| ObjectReference {
            api_version: Some(crate::model::API_VERSION.to_string()),
            kind: Some(related.kind.to_string()),
            name: Some(related.name.clone()),
            namespace: Some(namespace_of(object)),
            ..ObjectReference::default()
        });
        let event = Event {
            type_: *type_,
            reason: (*reason).to_string(),
            note: Some(note.chars().take(1000).collect()),
            action: action.into(),
            secondary,
        };
        if let Err(error) = recorder.publish(&event, &reference).await {
            let name = format!("{}/{}", namespace_of(object), object.name_any());
            tracing::warn!(object = %name, kind = %K::kind(&()), %error, "cannot publish an event");
        }
    }
}
