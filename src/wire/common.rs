//! Microsoft Graph wire types shared by every endpoint: collections, errors, tokens, `$batch`,
//! groups, and the security API. Unknown properties are ignored on read.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::util::secret::Secret;

/// One page of a Graph collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    #[serde(rename = "@odata.context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(rename = "@odata.count", default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(rename = "@odata.nextLink", default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
}

impl<T> Page<T> {
    pub fn new(value: Vec<T>, next_link: Option<String>) -> Self {
        Page { context: None, count: None, next_link, value }
    }
}

/// Graph's error envelope: `{"error": {"code", "message", "innerError": {...}}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(rename = "innerError", alias = "innererror", default, skip_serializing_if = "Option::is_none")]
    pub inner_error: Option<InnerError>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(rename = "request-id", default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(rename = "client-request-id", default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
}

impl ErrorBody {
    pub fn new(code: &str, message: &str, request_id: Option<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message: message.to_string(),
                inner_error: Some(InnerError { date: None, request_id, client_request_id: None }),
            },
        }
    }
}

/// Successful response of the Microsoft identity platform token endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token_type: String,
    pub expires_in: u64,
    /// How long the token stays usable when the service that issues tokens is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_expires_in: Option<u64>,
    pub access_token: Secret,
}

/// Error response of the token endpoint (`AADSTSnnnnn` in `error_description`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: String,
    #[serde(default)]
    pub error_codes: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
}

/// `POST /$batch` request body (at most 20 requests).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchRequest {
    pub requests: Vec<BatchRequestItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchRequestItem {
    pub id: String,
    pub method: String,
    /// Relative to the version root, for example `/deviceManagement/configurationPolicies`.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// `POST /$batch` response body.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BatchResponse {
    pub responses: Vec<BatchResponseItem>,
}

/// One response of a batch; its body is kept as sent, to be decoded once into what it holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BatchResponseItem {
    pub id: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Box<serde_json::value::RawValue>>,
}

impl BatchResponseItem {
    /// The body as JSON text (`null` when there is none).
    pub fn body_text(&self) -> &str {
        self.body.as_deref().map_or("null", serde_json::value::RawValue::get)
    }
}

/// An Entra group, as far as assignment targets need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub display_name: String,
}

/// `POST .../configurationPolicies/{id}/assign` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssignRequest {
    pub assignments: Vec<super::policy::PolicyAssignment>,
}

/// A Defender XDR incident (`security/incidents`, v1.0). Properties tenantctl does not use are kept
/// in `other`, so an incident passes through unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Incident {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `microsoft.graph.security.incidentStatus` values.
pub const INCIDENT_STATUSES: &[&str] =
    &["active", "resolved", "inProgress", "redirected", "awaitingAction", "unknownFutureValue"];
/// `microsoft.graph.security.alertClassification` values.
pub const INCIDENT_CLASSIFICATIONS: &[&str] =
    &["unknown", "falsePositive", "truePositive", "informationalExpectedActivity", "unknownFutureValue"];
/// `microsoft.graph.security.alertDetermination` values.
pub const INCIDENT_DETERMINATIONS: &[&str] = &[
    "unknown",
    "apt",
    "malware",
    "securityPersonnel",
    "securityTesting",
    "unwantedSoftware",
    "other",
    "multiStagedAttack",
    "compromisedAccount",
    "phishing",
    "maliciousUserActivity",
    "notMalicious",
    "notEnoughDataToValidate",
    "confirmedUserActivity",
    "lineOfBusinessApplication",
    "unknownFutureValue",
];

/// `POST security/runHuntingQuery` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HuntingQueryRequest {
    #[serde(rename = "Query")]
    pub query: String,
    #[serde(rename = "Timespan", default, skip_serializing_if = "Option::is_none")]
    pub timespan: Option<String>,
}

/// `security/runHuntingQuery` response. Column names come as `name`/`type` or `Name`/`Type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HuntingQueryResponse {
    #[serde(default)]
    pub schema: Vec<HuntingColumn>,
    #[serde(default)]
    pub results: Vec<Map<String, Value>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuntingColumn {
    #[serde(alias = "Name")]
    pub name: String,
    #[serde(rename = "type", alias = "Type")]
    pub column_type: String,
}

/// Reads an absent or `null` field as its default: Graph answers `null` for empty lists and texts.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
