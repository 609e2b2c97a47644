//! Writes held by Intune's Multi Admin Approval (Microsoft Learn, "Multi Admin Approval with
//! Microsoft Graph API"). A protected write without approval headers is refused; sent again with a
//! justification it files an approval request (412, the request's id in `x-msft-approval-code`);
//! once an approver approved it, the same method, URL and body sent with `x-msft-approval-code` is
//! carried out.
//!
//! tenantctl keeps no state between runs, so every approval request it files names its write: the
//! justification ends with a tag derived from the method, path and body. A later run making the same
//! write finds its request among the tenant's approval requests and, depending on what an approver
//! decided, carries the write out (approved), keeps waiting (needs approval, no second request),
//! reports the rejection (never asked again for the same write), or asks anew (expired, cancelled).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::digest::{SHA256, digest};
use serde::Deserialize;

use super::TenantClient;
use super::error::GraphError;
use super::http::{ApprovalHeader, Call, CallKind, JUSTIFICATION_HEADER, Reply};
use crate::engine::plan::ApprovalRequestNote;

/// Intune's limit of a justification, in characters once decoded.
const MAX_JUSTIFICATION_CHARS: usize = 1024;
const APPROVAL_REQUESTS: &str = "/deviceManagement/operationApprovalRequests";
/// How the tag that ends a tenantctl approval request's justification starts.
const TAG_OPEN: &str = "[tenantctl write ";

/// `operationApprovalRequest`, the parts tenantctl reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalRequest {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    request_justification: Option<String>,
    #[serde(default)]
    approval_justification: Option<String>,
    #[serde(default)]
    request_date_time: Option<String>,
}

/// Whether Graph refused a write for want of approval: Intune answers 400 naming the justification
/// header (earlier, 403 `ApprovalRequired`).
fn approval_required(error: &GraphError) -> bool {
    match error {
        GraphError::Api(api) => {
            (api.status == 400 && api.message.contains(JUSTIFICATION_HEADER) && api.message.contains("required"))
                || (api.status == 403 && api.code.eq_ignore_ascii_case("ApprovalRequired"))
        }
        _ => false,
    }
}

/// The tag that ties an approval request to one write: the same method, path and body, the same tag.
fn write_tag(call: &Call) -> String {
    let mut bytes = format!("{} {}\n", call.method, call.url.path()).into_bytes();
    bytes.extend_from_slice(call.body.as_deref().unwrap_or_default());
    let hash = digest(&SHA256, &bytes);
    let hex: String = hash.as_ref().iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{TAG_OPEN}{hex}]")
}

/// The justification of a write's request: why (the plan), what, and the tag; within Intune's limit.
fn justification(reason: &str, call: &Call, tag: &str) -> String {
    let what = format!(": {} {} {tag}", call.method, call.url.path());
    let room = MAX_JUSTIFICATION_CHARS.saturating_sub(what.chars().count());
    let reason: String = reason.chars().take(room).collect();
    format!("{reason}{what}")
}

impl TenantClient {
    /// Sends a request, retrying what is safe to retry; a write the tenant's Multi Admin Approval
    /// holds goes through approval.
    pub(super) async fn execute(&self, call: &Call) -> Result<Reply, GraphError> {
        match self.send(call).await {
            Err(error) if call.kind != CallKind::Read && call.approval.is_none() && approval_required(&error) => {
                self.through_approval(call, error).await
            }
            other => other,
        }
    }

    /// Carries out a write Multi Admin Approval holds, as far as approvers allow today.
    pub(super) async fn through_approval(&self, call: &Call, required: GraphError) -> Result<Reply, GraphError> {
        let Some(reason) = self.justification.as_deref() else { return Err(required) };
        let tag = write_tag(call);
        let path = call.url.path().to_string();
        let method = call.method.to_string();
        let filed = match self.approval_requests().await {
            Ok(requests) => {
                let mut mine: Vec<ApprovalRequest> = requests
                    .into_iter()
                    .filter(|r| r.request_justification.as_deref().is_some_and(|j| j.ends_with(&tag)))
                    .collect();
                mine.sort_by(|a, b| a.request_date_time.cmp(&b.request_date_time));
                mine.pop()
            }
            // Without the list, a request may already wait: filing another would ask approvers twice.
            Err(error) => {
                return Err(GraphError::AwaitingApproval {
                    method,
                    path,
                    request: None,
                    message: format!(
                        "approval is required, and the tenant's approval requests cannot be read: {error}"
                    ),
                });
            }
        };
        match filed {
            Some(request) if request.status == "approved" => {
                let approved = Call { approval: Some(ApprovalHeader::Code(request.id)), ..call.clone() };
                self.send(&approved).await
            }
            Some(request) if request.status == "needsApproval" => Err(GraphError::AwaitingApproval {
                method,
                path,
                request: Some(request.id),
                message: "an approver has not decided yet".into(),
            }),
            Some(request) if request.status == "rejected" => Err(GraphError::ApprovalRejected {
                method,
                path,
                request: request.id,
                reason: request.approval_justification.filter(|r| !r.is_empty()),
            }),
            // None yet, or one that expired, was cancelled or was used: ask.
            _ => self.request_approval(call, reason, &tag).await,
        }
    }

    /// Files an approval request for the write.
    async fn request_approval(&self, call: &Call, reason: &str, tag: &str) -> Result<Reply, GraphError> {
        let text = justification(reason, call, tag);
        let asking = Call { approval: Some(ApprovalHeader::Justification(STANDARD.encode(text))), ..call.clone() };
        let (method, path) = (call.method.to_string(), call.url.path().to_string());
        match self.send(&asking).await {
            Err(GraphError::Api(api)) if api.status == 412 || api.approval_code.is_some() => {
                Err(GraphError::AwaitingApproval {
                    method,
                    path,
                    request: api.approval_code.clone(),
                    message: "approval requested".into(),
                })
            }
            Err(GraphError::Api(api)) if api.status == 409 => Err(GraphError::AwaitingApproval {
                method,
                path,
                request: None,
                message: format!("another approval request for this object is active: {}", api.message),
            }),
            // Not held after all (the access policy changed): the write was made.
            other => other,
        }
    }

    async fn approval_requests(&self) -> Result<Vec<ApprovalRequest>, GraphError> {
        self.get_all(self.url("beta", APPROVAL_REQUESTS)?).await
    }

    /// The approval requests tenantctl filed in the tenant whose write is not carried out yet:
    /// waiting for an approver, approved (the next apply uses them) or rejected.
    pub async fn open_approval_requests(&self) -> Result<Vec<ApprovalRequestNote>, GraphError> {
        let requests = self.approval_requests().await?;
        Ok(requests
            .into_iter()
            .filter(|r| matches!(r.status.as_str(), "needsApproval" | "approved" | "rejected"))
            .filter_map(|r| {
                let justification = r.request_justification.filter(|j| j.contains(TAG_OPEN))?;
                Some(ApprovalRequestNote { id: r.id, status: r.status, justification })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use reqwest::Method;

    use super::*;
    use crate::graph::client::http::approval_code_in;

    fn call(body: &str) -> Call {
        let url =
            url::Url::parse("https://graph.microsoft.com/beta/deviceManagement/configurationPolicies/a").expect("url");
        Call::new(Method::PUT, url, Some(body.as_bytes().to_vec()), CallKind::Write)
    }

    #[test]
    fn the_same_write_has_the_same_tag_and_another_payload_another() {
        assert_eq!(write_tag(&call("{\"a\":1}")), write_tag(&call("{\"a\":1}")));
        assert_ne!(write_tag(&call("{\"a\":1}")), write_tag(&call("{\"a\":2}")));
    }

    #[test]
    fn a_justification_stays_within_intunes_limit_and_keeps_its_tag() {
        let tag = write_tag(&call("{}"));
        let text = justification(&"x".repeat(2000), &call("{}"), &tag);
        assert_eq!(text.chars().count(), MAX_JUSTIFICATION_CHARS);
        assert!(text.ends_with(&tag));
    }

    #[test]
    fn the_request_id_is_read_from_intunes_message() {
        let message = "Approval Required. Request Approval using the request ID returned as part of the x-msft-approval-code response header. x-msft-approval-code: 0b6d4e2f-8a13-4c57-b9e2-5f7a1c3d8e33";
        assert_eq!(approval_code_in(message).as_deref(), Some("0b6d4e2f-8a13-4c57-b9e2-5f7a1c3d8e33"));
    }
}
