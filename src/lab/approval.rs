//! Intune's Multi Admin Approval for app-only Graph writes (Microsoft Learn, "Multi Admin Approval
//! with Microsoft Graph API"). In a tenant whose access policy protects configuration policies:
//!
//! - a write without approval headers answers 400 (`x-msft-approval-justification` is required);
//! - with `x-msft-approval-justification` (Base64, at most 1024 characters decoded) it files an
//!   approval request and answers 412, the request's id in the `x-msft-approval-code` header (and in
//!   the error document's `HttpHeaders`); nothing is written;
//! - once an approver approved it, the same method, path and body sent with `x-msft-approval-code`
//!   is carried out, and the request becomes `completed`; another payload, or a request not (or no
//!   longer) approved, answers 403;
//! - a second request for an entity with one still active answers 409.
//!
//! Requests are `deviceManagement/operationApprovalRequests` (beta) and expire three days after they
//! were made. Approvers are people: the lab's control endpoint stands in for them.

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use super::call::Call;
use super::ids::random_guid;
use super::reply::{APPROVAL_CODE, Reply, RequestContext};
use super::route::{GraphRequest, Route};
use super::store::TenantData;
use super::tokens::Grant;

const COLLECTION: &str = "deviceManagement/operationApprovalRequests";
const MAX_JUSTIFICATION_CHARS: usize = 1024;
const LIFETIME: SignedDuration = SignedDuration::from_hours(72);

/// What the approval check decided about a protected write.
pub enum Gate {
    /// Answered without carrying out the write.
    Refused(Reply),
    /// Carry it out; when it succeeds, the approved request (if one was used) is completed.
    Proceed(Option<String>),
}

/// Decides about a write Multi Admin Approval protects.
pub fn gate(tenant: &mut TenantData, grant: &Grant, request: &GraphRequest, context: &RequestContext) -> Gate {
    let operation = Operation::of(request);
    if let Some(code) = &request.approval.code {
        return resume(tenant, code, &operation, context);
    }
    let Some(encoded) = &request.approval.justification else {
        let summary = "Header 'x-msft-approval-justification' is required to request approval.";
        return Gate::Refused(intune(context, StatusCode::BAD_REQUEST, "BadRequest", summary, &operation.path));
    };
    let justification = match decode_justification(encoded) {
        Ok(text) => text,
        Err(summary) => {
            return Gate::Refused(intune(context, StatusCode::BAD_REQUEST, "BadRequest", summary, &operation.path));
        }
    };
    let now = context.now;
    if tenant.approval_requests.iter().any(|r| operation.conflicts_with(r) && is_active(r, now)) {
        let summary = "An active Approval Request already exists for this entity.";
        return Gate::Refused(intune(context, StatusCode::CONFLICT, "Conflict", summary, &operation.path));
    }
    let id = random_guid();
    let stamp = graph_time(now);
    let filed = json!({
        "id": id,
        "requestDateTime": stamp,
        "expirationDateTime": graph_time(now.saturating_add(LIFETIME).unwrap_or(now)),
        "lastModifiedDateTime": stamp,
        "requestor": {"application": {"id": grant.client_id, "displayName": null}, "user": null, "device": null},
        "approver": null,
        "status": "needsApproval",
        "requestJustification": justification,
        "approvalJustification": null,
        "requiredOperationApprovalPolicyTypes": ["configurationPolicy"],
        "payloadOperation": operation.method,
        "payloadId": operation.path,
        "payload": operation.payload,
    });
    let stored = match filed {
        Value::Object(filed) => tenant.approval_requests.put(&id, filed),
        _ => Err(super::LabError::InvalidOption("an approval request is an object".into())),
    };
    if let Err(error) = stored {
        tracing::error!(%error, "lab: cannot persist an approval request");
        let message = format!("The lab could not persist the approval request: {error}");
        return Gate::Refused(Reply::error(
            context,
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            &message,
        ));
    }
    let summary = format!(
        "Approval Required. Request Approval using the request ID returned as part of the x-msft-approval-code response header. x-msft-approval-code: {id}"
    );
    let headers = json!({"x-msft-approval-code": id});
    let reply = Reply::intune_error_with_headers(
        context,
        StatusCode::PRECONDITION_FAILED,
        "BadRequest",
        &summary,
        &operation.path,
        &headers,
    );
    Gate::Refused(reply.with_header(APPROVAL_CODE, &id).committed())
}

/// Marks the approved request a write was carried out with as completed.
pub fn complete(tenant: &mut TenantData, id: &str, context: &RequestContext) {
    let Some(mut request) = tenant.approval_requests.get(id).cloned() else { return };
    request.insert("status".into(), json!("completed"));
    request.insert("lastModifiedDateTime".into(), json!(graph_time(context.now)));
    if let Err(error) = tenant.approval_requests.put(id, request) {
        tracing::error!(%error, "lab: cannot persist a completed approval request");
    }
}

/// `GET deviceManagement/operationApprovalRequests[/{id}]`.
pub fn handle(tenant: &TenantData, route: &Route, call: &Call) -> Reply {
    let now = call.context.now;
    match route {
        Route::ApprovalRequest(id) => match tenant.approval_requests.get(id) {
            Some(request) => call.entity(COLLECTION, Value::Object(shown(request, now))),
            None => {
                let summary = format!("The operationApprovalRequest {id} was not found.");
                intune(call.context, StatusCode::NOT_FOUND, "ResourceNotFound", &summary, COLLECTION)
            }
        },
        _ => call.collection_page(COLLECTION, &tenant.approval_requests, |r| Value::Object(shown(r, now))),
    }
}

/// Every request of the tenant, as it reads at `now`.
pub fn listed(tenant: &TenantData, now: Timestamp) -> Vec<Value> {
    tenant.approval_requests.iter().map(|r| Value::Object(shown(r, now))).collect()
}

/// An approver's decision (the lab's stand-in for an admin in the approver group): `approve` or
/// `reject` a request that needs approval. Answers the request as it now is.
pub fn decide(
    tenant: &mut TenantData,
    id: &str,
    approve: bool,
    justification: Option<&str>,
    now: Timestamp,
) -> Result<Map<String, Value>, String> {
    let Some(request) = tenant.approval_requests.get(id) else {
        return Err(format!("no approval request {id} in this tenant"));
    };
    let mut request = shown(request, now);
    let status = request.get("status").and_then(Value::as_str).unwrap_or_default().to_string();
    if status != "needsApproval" {
        return Err(format!("approval request {id} is {status}: only a request that needs approval can be decided"));
    }
    request.insert("status".into(), json!(if approve { "approved" } else { "rejected" }));
    request.insert("approvalJustification".into(), json!(justification));
    request.insert("approver".into(), json!({"user": {"id": null, "displayName": "Lab approver"}}));
    request.insert("lastModifiedDateTime".into(), json!(graph_time(now)));
    tenant.approval_requests.put(id, request.clone()).map_err(|e| e.to_string())?;
    Ok(request)
}

/// A write carried out with `x-msft-approval-code`.
fn resume(tenant: &mut TenantData, code: &str, operation: &Operation, context: &RequestContext) -> Gate {
    let refuse = |status: StatusCode, code: &str, summary: &str| {
        Gate::Refused(intune(context, status, code, summary, &operation.path))
    };
    if !is_guid(code) {
        return refuse(StatusCode::BAD_REQUEST, "BadRequest", "Invalid approval header format, expected GUID format");
    }
    let Some(request) = tenant.approval_requests.get(code).map(|r| shown(r, context.now)) else {
        return refuse(StatusCode::FORBIDDEN, "Forbidden", &format!("Approval request {code} does not exist."));
    };
    let status = request.get("status").and_then(Value::as_str).unwrap_or_default();
    if status != "approved" {
        return refuse(StatusCode::FORBIDDEN, "Forbidden", &format!("Approval request {code} is {status}."));
    }
    if !operation.is_the_one_of(&request) {
        return refuse(StatusCode::FORBIDDEN, "Forbidden", "The request does not match the approved request.");
    }
    Gate::Proceed(Some(code.to_string()))
}

/// A write as an approval request records it.
struct Operation {
    method: String,
    /// Below the version root, lower case: `/devicemanagement/configurationpolicies/{id}`.
    path: String,
    /// The body as sent (re-encoded), empty for none.
    payload: String,
}

impl Operation {
    fn of(request: &GraphRequest) -> Operation {
        let path = format!("/{}", request.segments.join("/")).to_ascii_lowercase();
        let payload = request.body.as_ref().map(Value::to_string).unwrap_or_default();
        Operation { method: request.method.to_string(), path, payload }
    }

    fn is_the_one_of(&self, request: &Map<String, Value>) -> bool {
        let field = |name: &str| request.get(name).and_then(Value::as_str).unwrap_or_default();
        field("payloadOperation") == self.method && field("payloadId") == self.path && field("payload") == self.payload
    }

    /// Whether a request filed for `request` is for the same entity: the same object, or for a
    /// create (which has no object yet) the same payload.
    fn conflicts_with(&self, request: &Map<String, Value>) -> bool {
        let field = |name: &str| request.get(name).and_then(Value::as_str).unwrap_or_default();
        let creates = self.method == Method::POST.as_str() && field("payloadOperation") == self.method;
        field("payloadId") == self.path && (!creates || field("payload") == self.payload)
    }
}

fn is_active(request: &Map<String, Value>, now: Timestamp) -> bool {
    matches!(status_at(request, now).as_str(), "needsApproval" | "approved")
}

/// The request as it reads at `now`: an undecided or unfinished request past its expiry is expired.
fn shown(request: &Map<String, Value>, now: Timestamp) -> Map<String, Value> {
    let mut shown = request.clone();
    shown.insert("status".into(), Value::String(status_at(request, now)));
    shown
}

fn status_at(request: &Map<String, Value>, now: Timestamp) -> String {
    let status = request.get("status").and_then(Value::as_str).unwrap_or("unknown");
    let expires = request.get("expirationDateTime").and_then(Value::as_str).and_then(|t| t.parse::<Timestamp>().ok());
    match (status, expires) {
        ("needsApproval" | "approved", Some(expires)) if expires <= now => "expired".to_string(),
        _ => status.to_string(),
    }
}

fn decode_justification(encoded: &str) -> Result<String, &'static str> {
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| "'x-msft-approval-justification' must be a valid base64 encoded string.")?;
    let text = String::from_utf8(bytes)
        .map_err(|_| "'x-msft-approval-justification' must be a valid base64 encoded string.")?;
    if text.chars().count() > MAX_JUSTIFICATION_CHARS {
        return Err(
            "Decoded content of 'x-msft-approval-justification' header must be no greater than 1024 characters",
        );
    }
    Ok(text)
}

fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn intune(context: &RequestContext, status: StatusCode, code: &str, summary: &str, path: &str) -> Reply {
    Reply::intune_error(context, status, code, summary, path)
}

fn graph_time(time: Timestamp) -> String {
    format!("{time:.7}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn justifications_are_base64_and_bounded() {
        assert_eq!(decode_justification("YXBwIG9ubHkgdGVzdA==").as_deref(), Ok("app only test"));
        assert!(decode_justification("app only test").is_err());
        assert!(decode_justification(&STANDARD.encode("x".repeat(1025))).is_err());
    }

    #[test]
    fn approval_codes_are_guids() {
        assert!(is_guid("0b6d4e2f-8a13-4c57-b9e2-5f7a1c3d8e33"));
        assert!(!is_guid("MGI2ZDRlMmYtOGExMy00YzU3"));
    }

    #[test]
    fn a_request_past_its_expiry_reads_expired() {
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().expect("time");
        let request = json!({"status": "approved", "expirationDateTime": "2026-05-31T00:00:00Z"});
        let Value::Object(request) = request else { panic!() };
        assert_eq!(status_at(&request, now), "expired");
        assert!(!is_active(&request, now));
    }
}
