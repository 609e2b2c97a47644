//! Defender custom detection rules as a managed family. A rule's id is chosen by tenantctl (the same
//! for every attempt, see [`crate::engine::resolve::rule_id`]), so a create whose answer was lost and
//! that is sent again is refused by Defender as a duplicate rather than made twice: the refusal is
//! answered by reading the rule of that id.

use serde_json::Value;

use super::{LiveTenant, Managed};
use crate::engine::api::{CONFLICT, Reply, TenantApi};
use crate::engine::assignments::GroupsByName;
use crate::engine::plan::{Field, Overridden, Write};
use crate::engine::resolve::{DesiredDetectionRule, TenantDesired};
use crate::engine::respec::Edits;
use crate::mapping::detection_rule::{comparable, to_wire};
use crate::model::ownership::{description_with_marker, split_marker};
use crate::model::profile::Mode;
use crate::model::{Kind, ObjectRef};
use crate::wire::detection::DetectionRule;

/// The detection rules family.
pub struct DetectionRules;

impl Managed for DetectionRules {
    type Live = DetectionRule;
    type Desired = DesiredDetectionRule;
    type Payload = DetectionRule;

    const NOUN: &'static str = "detection rules";
    const ONE: &'static str = "detection rule";
    const FIELDS: &'static [Field] =
        &[Field::Name, Field::Description, Field::Status, Field::Query, Field::Schedule, Field::Alert, Field::Actions];

    fn desired(tenant: &TenantDesired) -> &[DesiredDetectionRule] {
        &tenant.detection_rules
    }

    fn live(tenant: &LiveTenant) -> Option<&[DetectionRule]> {
        tenant.detection_rules.as_deref()
    }

    fn group_names(_: &DesiredDetectionRule) -> Vec<String> {
        Vec::new()
    }

    fn object(desired: &DesiredDetectionRule) -> &ObjectRef {
        &desired.object
    }

    fn overrides(desired: &DesiredDetectionRule) -> &[Overridden] {
        &desired.overridden
    }

    fn patched(desired: &DesiredDetectionRule, edits: &Edits) -> Result<DesiredDetectionRule, Vec<String>> {
        desired.patched(edits)
    }

    fn profile(desired: &DesiredDetectionRule) -> &str {
        &desired.profile
    }

    fn mode(desired: &DesiredDetectionRule) -> Mode {
        desired.mode
    }

    fn revision(desired: &DesiredDetectionRule) -> &str {
        &desired.revision
    }

    fn described(live: &DetectionRule) -> &str {
        live.description.as_deref().unwrap_or_default()
    }

    fn writes_description(_: &[Field]) -> bool {
        // An update sends the whole rule.
        true
    }

    fn owner(live: &DetectionRule) -> Option<ObjectRef> {
        split_marker(live.description.as_deref().unwrap_or_default()).1.filter(|o| o.kind == Kind::DetectionRule)
    }

    fn id(live: &DetectionRule) -> Option<&str> {
        live.id.as_deref()
    }

    fn modified(live: &DetectionRule) -> Option<&str> {
        live.last_modified_date_time.as_deref()
    }

    fn created(live: &DetectionRule) -> Option<&str> {
        live.created_date_time.as_deref()
    }

    fn display_name(live: &DetectionRule) -> &str {
        &live.display_name
    }

    fn is_adoptable(_: &DetectionRule) -> bool {
        true
    }

    fn payload(desired: &DesiredDetectionRule, _: &GroupsByName) -> Result<DetectionRule, Vec<String>> {
        let description = description_with_marker(&desired.spec.description, &desired.object);
        Ok(to_wire(&desired.spec, &desired.id, description))
    }

    fn payload_name(payload: &DetectionRule) -> &str {
        &payload.display_name
    }

    fn changed(_: &DesiredDetectionRule, payload: &DetectionRule, live: &DetectionRule, _: bool) -> Vec<Field> {
        let (want, have) = (comparable(payload), comparable(live));
        want.iter()
            .filter(|(key, value)| have.get(key.as_str()) != Some(value))
            .filter_map(|(key, _)| Field::parse(key))
            .collect()
    }

    fn show_payload(_: &DesiredDetectionRule, payload: &DetectionRule, _: &GroupsByName) -> Value {
        Value::Object(comparable(payload))
    }

    fn show_live(_: &ObjectRef, live: &DetectionRule, _: &GroupsByName) -> Value {
        Value::Object(comparable(live))
    }

    fn into_write(payload: DetectionRule) -> Write {
        Write::DetectionRule(Box::new(payload))
    }

    fn from_write(write: &Write) -> Option<&DetectionRule> {
        match write {
            Write::DetectionRule(payload) => Some(payload.as_ref()),
            _ => None,
        }
    }

    async fn list<A: TenantApi>(api: &A) -> Reply<Vec<DetectionRule>> {
        api.list_detection_rules().await
    }

    async fn create<A: TenantApi>(api: &A, payload: &DetectionRule) -> Reply<DetectionRule> {
        match api.create_detection_rule(payload).await {
            Err(error) if error.category == CONFLICT => {
                // The id is ours and the same on every attempt: a conflict on it is an earlier
                // attempt that went through. Anything else of that id or name is not ours to take.
                let id = payload.id.as_deref().unwrap_or_default();
                let owner = |rule: &DetectionRule| DetectionRules::owner(rule);
                match api.get_detection_rule(id).await? {
                    Some(existing) if owner(&existing) == DetectionRules::owner(payload) => Ok(existing),
                    _ => Err(error),
                }
            }
            other => other,
        }
    }

    async fn complete<A: TenantApi>(_: &A, _: &str, _: &DetectionRule) -> Reply<()> {
        Ok(())
    }

    async fn update<A: TenantApi>(api: &A, id: &str, payload: &DetectionRule, _: &[Field]) -> Reply<()> {
        // The id is the URL's; Graph refuses it in the body of an update.
        let body = DetectionRule { id: None, ..payload.clone() };
        api.update_detection_rule(id, &body).await
    }

    async fn delete<A: TenantApi>(api: &A, id: &str) -> Reply<()> {
        api.delete_detection_rule(id).await
    }
}
