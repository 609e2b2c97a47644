//! The default property sets Graph returns for directory and security objects: a stored object that
//! lacks a property is shown with the value Graph gives it when unset, in Graph's order.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `GET /groups` without `$select` (v1.0 group, documented default properties).
pub static GROUP: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    object(json!({
        "id": null, "deletedDateTime": null, "classification": null, "createdDateTime": null,
        "creationOptions": [], "description": null, "displayName": null, "expirationDateTime": null,
        "groupTypes": [], "isAssignableToRole": null, "mail": null, "mailEnabled": false, "mailNickname": null,
        "membershipRule": null, "membershipRuleProcessingState": null, "onPremisesDomainName": null,
        "onPremisesLastSyncDateTime": null, "onPremisesNetBiosName": null, "onPremisesSamAccountName": null,
        "onPremisesSecurityIdentifier": null, "onPremisesSyncEnabled": null, "preferredDataLocation": null,
        "preferredLanguage": null, "proxyAddresses": [], "renewedDateTime": null, "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": [], "securityEnabled": true, "securityIdentifier": null, "theme": null,
        "uniqueName": null, "visibility": null, "onPremisesProvisioningErrors": [], "serviceProvisioningErrors": []
    }))
});

/// A security incident (v1.0).
pub static INCIDENT: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    object(json!({
        "id": null, "incidentWebUrl": null, "tenantId": null, "redirectIncidentId": null, "displayName": null,
        "createdDateTime": null, "lastUpdateDateTime": null, "assignedTo": null, "classification": "unknown",
        "determination": "unknown", "status": "active", "severity": "unknown", "customTags": [], "systemTags": [],
        "description": null, "lastModifiedBy": null, "resolvingComment": null, "summary": null,
        "priorityScore": null, "comments": []
    }))
});

/// A security alert (v1.0 `alerts_v2`).
pub static ALERT: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    object(json!({
        "@odata.type": "#microsoft.graph.security.alert",
        "id": null, "providerAlertId": null, "incidentId": null, "status": "new", "severity": "unknown",
        "classification": null, "determination": null, "serviceSource": "microsoftDefenderForEndpoint",
        "detectionSource": null, "productName": "Microsoft Defender for Endpoint", "detectorId": null,
        "tenantId": null, "title": null, "description": null, "recommendedActions": null, "category": null,
        "assignedTo": null, "alertWebUrl": null, "incidentWebUrl": null, "actorDisplayName": null,
        "threatDisplayName": null, "threatFamilyName": null, "mitreTechniques": [], "createdDateTime": null,
        "lastUpdateDateTime": null, "resolvedDateTime": null, "firstActivityDateTime": null,
        "lastActivityDateTime": null, "comments": [], "evidence": [], "systemTags": []
    }))
});

/// `stored` shown with Graph's defaults for what it lacks: the default properties in Graph's order,
/// then any other stored property.
pub fn with_defaults(stored: &Map<String, Value>, defaults: &Map<String, Value>) -> Map<String, Value> {
    let mut shown = Map::with_capacity(defaults.len() + 4);
    for (key, default) in defaults {
        shown.insert(key.clone(), stored.get(key).unwrap_or(default).clone());
    }
    for (key, value) in stored {
        if !shown.contains_key(key) {
            shown.insert(key.clone(), value.clone());
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_win_and_missing_ones_take_graphs_defaults() {
        let stored = object(json!({"displayName": "Devices", "id": "g1", "extra": 1}));
        let shown = with_defaults(&stored, &GROUP);
        assert_eq!(shown["displayName"], "Devices");
        assert_eq!(shown["groupTypes"], json!([]));
        assert_eq!(shown.keys().next().map(String::as_str), Some("id"), "Graph's order");
        assert_eq!(shown["extra"], 1);
    }
}
