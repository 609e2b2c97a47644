//! The non-policy objects of a generated tenant: Entra groups, Defender incidents (v1.0 shape) and an
//! advanced hunting response.

use serde_json::{Value, json};

use super::seeded::Seeded;

/// Groups every lab tenant has; the manifests and tests refer to them by name.
pub const LAB_GROUPS: [&str; 3] = ["All Lab Devices", "SG-Lab-Pilot", "SG-Break-Glass-Devices"];

pub fn group(seeded: &Seeded, tenant_label: &str, display_name: &str) -> Value {
    let label = format!("{tenant_label}/group/{display_name}");
    let nickname: String = display_name.chars().filter(char::is_ascii_alphanumeric).collect();
    json!({
        "id": seeded.guid(&label),
        "displayName": display_name,
        "description": format!("{display_name} (lab)"),
        "createdDateTime": seeded.timestamp(&label),
        "groupTypes": [],
        "mailEnabled": false,
        "mailNickname": nickname.to_ascii_lowercase(),
        "securityEnabled": true
    })
}

const INCIDENT_TITLES: [&str; 6] = [
    "Multi-stage incident involving Initial access & Execution on one endpoint",
    "Suspicious PowerShell activity on one endpoint",
    "Credential theft attempt against lsass.exe",
    "Ransomware activity blocked on multiple endpoints",
    "Malware detected in a downloaded archive",
    "Suspicious sign-in followed by mailbox rule creation",
];
const SEVERITIES: [&str; 4] = ["high", "medium", "low", "informational"];
const STATUSES: [&str; 3] = ["active", "inProgress", "resolved"];

/// The `index`-th incident of a tenant; severities and statuses vary across a tenant's incidents.
pub fn incident(seeded: &Seeded, tenant_label: &str, tenant_id: &str, number: u64, index: usize) -> Value {
    let label = format!("{tenant_label}/incident/{index}");
    let id = number.to_string();
    let status = STATUSES[index % STATUSES.len()];
    let created = seeded.timestamp(&label);
    json!({
        "id": id,
        "incidentWebUrl": format!("https://security.microsoft.com/incidents/{id}?tid={tenant_id}"),
        "tenantId": tenant_id,
        "redirectIncidentId": null,
        "displayName": seeded.pick(&format!("{label}/title"), &INCIDENT_TITLES),
        "createdDateTime": created,
        "lastUpdateDateTime": created,
        "assignedTo": if status == "active" { Value::Null } else { json!("soc-analyst@lab.tenantctl.dev") },
        "classification": if status == "resolved" { "truePositive" } else { "unknown" },
        "determination": if status == "resolved" { "malware" } else { "unknown" },
        "status": status,
        "severity": SEVERITIES[(index + seeded.number(&format!("{label}/severity"), 2) as usize) % SEVERITIES.len()],
        "customTags": [],
        "systemTags": [],
        "description": null,
        "comments": []
    })
}

/// The alert an incident was raised from (`alerts_v2`, and the incident's `$expand=alerts`).
pub fn alert(incident: &Value) -> Value {
    let text = |key: &str| incident.get(key).cloned().unwrap_or(Value::Null);
    let incident_id = incident["id"].as_str().unwrap_or_default();
    let tenant_id = incident["tenantId"].as_str().unwrap_or_default();
    let id = format!("da{incident_id:0>18}_{incident_id}");
    json!({
        "@odata.type": "#microsoft.graph.security.alert",
        "id": id,
        "providerAlertId": id,
        "incidentId": incident_id,
        "status": if incident["status"] == "resolved" { "resolved" } else { "new" },
        "severity": text("severity"),
        "classification": text("classification"),
        "determination": text("determination"),
        "serviceSource": "microsoftDefenderForEndpoint",
        "detectionSource": "antivirus",
        "productName": "Microsoft Defender for Endpoint",
        "tenantId": tenant_id,
        "title": text("displayName"),
        "category": "Malware",
        "assignedTo": text("assignedTo"),
        "alertWebUrl": format!("https://security.microsoft.com/alerts/{id}?tid={tenant_id}"),
        "incidentWebUrl": text("incidentWebUrl"),
        "createdDateTime": text("createdDateTime"),
        "lastUpdateDateTime": text("lastUpdateDateTime"),
        "firstActivityDateTime": text("createdDateTime"),
        "lastActivityDateTime": text("createdDateTime"),
    })
}

/// The response `runHuntingQuery` gives for any query in the tenant.
pub fn hunting(seeded: &Seeded, tenant_label: &str, device_prefix: &str) -> Value {
    let rows: Vec<Value> = (0..3)
        .map(|row| {
            json!({
                "Timestamp": seeded.timestamp(&format!("{tenant_label}/hunting/{row}")),
                "DeviceName": format!("{device_prefix}-pc-{:03}", 1 + seeded.number(&format!("{tenant_label}/device/{row}"), 300)),
                "FileName": "cmd.exe",
                "InitiatingProcessFileName": "powershell.exe"
            })
        })
        .collect();
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults",
        "schema": [
            {"name": "Timestamp", "type": "DateTime"},
            {"name": "DeviceName", "type": "String"},
            {"name": "FileName", "type": "String"},
            {"name": "InitiatingProcessFileName", "type": "String"}
        ],
        "results": rows
    })
}

const OPERATING_SYSTEMS: [(&str, &str); 4] =
    [("Windows", "10.0.22631.4460"), ("Windows", "10.0.26100.2314"), ("macOS", "15.1.1"), ("iOS", "18.1.1")];
const COMPLIANCE: [&str; 5] = ["compliant", "compliant", "compliant", "noncompliant", "inGracePeriod"];

/// The `index`-th Intune managed device of a tenant (v1.0 `managedDevice`, the fields a fleet view
/// shows); compliance, OS and last sync vary.
pub fn managed_device(seeded: &Seeded, tenant_label: &str, short: &str, index: usize) -> Value {
    let label = format!("{tenant_label}/device/{index}");
    let (os, version) = *seeded.pick(&format!("{label}/os"), &OPERATING_SYSTEMS);
    let user = index % 4 + 1;
    json!({
        "id": seeded.guid(&label),
        "deviceName": format!("{}-{:03}", short.to_ascii_uppercase(), index + 1),
        "operatingSystem": os,
        "osVersion": version,
        "complianceState": seeded.pick(&format!("{label}/compliance"), &COMPLIANCE),
        "lastSyncDateTime": seeded.timestamp(&format!("{label}/sync")),
        "enrolledDateTime": seeded.timestamp(&format!("{label}/enrolled")),
        "userPrincipalName": format!("user{user}@{short}.tenantctl.dev"),
        "userDisplayName": format!("Lab User {user}"),
        "managedDeviceOwnerType": "company",
        "managementAgent": "mdm",
        "azureADDeviceId": seeded.guid(&format!("{label}/entra")),
    })
}

const RISK_LEVELS: [&str; 3] = ["high", "medium", "low"];
const RISK_STATES: [&str; 3] = ["atRisk", "atRisk", "remediated"];

/// The `index`-th risky user of a tenant (v1.0 `riskyUser`).
pub fn risky_user(seeded: &Seeded, tenant_label: &str, short: &str, index: usize) -> Value {
    let label = format!("{tenant_label}/risky/{index}");
    let state = *seeded.pick(&format!("{label}/state"), &RISK_STATES);
    json!({
        "id": seeded.guid(&label),
        "isDeleted": false,
        "isProcessing": false,
        "riskLastUpdatedDateTime": seeded.timestamp(&label),
        "riskLevel": if state == "remediated" { "none" } else { *seeded.pick(&format!("{label}/level"), &RISK_LEVELS) },
        "riskState": state,
        "riskDetail": if state == "remediated" { "userPerformedSecuredPasswordReset" } else { "none" },
        "userDisplayName": format!("Lab User {}", index + 1),
        "userPrincipalName": format!("user{}@{short}.tenantctl.dev", index + 1),
    })
}
