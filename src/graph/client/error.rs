//! Errors of the Graph client. Every variant names the tenant and the request, never a secret.

use thiserror::Error;

use super::token_hints::TokenRefusal;
use crate::wire::common::{ErrorBody, TokenErrorBody};

#[derive(Debug, Error)]
pub enum GraphError {
    /// The token endpoint refused or failed to issue a token; `refusal` says why in words, when the
    /// AADSTS code is a known one, and `hint` what fixes it.
    #[error("token request for tenant {tenant} failed: {summary}{}", hint.as_deref().map(|h| format!(" — {h}")).unwrap_or_default())]
    Auth {
        tenant: String,
        status: Option<u16>,
        summary: String,
        transient: bool,
        refusal: Option<TokenRefusal>,
        hint: Option<String>,
    },

    /// Graph answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// No usable response: connection failure, reset, timeout. `ambiguous` is true when the request
    /// may have reached Graph and been carried out (the response was lost).
    #[error("{method} {path}: {message}")]
    Transport { method: String, path: String, message: String, ambiguous: bool },

    /// A response that does not parse as the documented payload.
    #[error("{method} {path}: unexpected response: {message}")]
    Decode { method: String, path: String, message: String },

    /// Misconfiguration (URLs, credentials) detected before any request.
    #[error("{0}")]
    Config(String),

    /// The tenant's Multi Admin Approval holds the write: an approval request waits for an approver
    /// (`request` names it when Graph said which).
    #[error("{method} {path}: {message}{}", request.as_deref().map(|r| format!(" (approval request {r})")).unwrap_or_default())]
    AwaitingApproval { method: String, path: String, request: Option<String>, message: String },

    /// The write was not sent: the client's [`super::WriteFence`] closed (the tenant is no longer this
    /// replica's to write).
    #[error("{method} {path}: not sent: {reason}")]
    WriteStopped { method: String, path: String, reason: String },

    /// An approver rejected the approval request of this very write.
    #[error("{method} {path}: approval request {request} was rejected{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    ApprovalRejected { method: String, path: String, request: String, reason: Option<String> },
}

/// An error status from Graph, with what Graph said about it.
#[derive(Debug, Error)]
#[error("{method} {path} answered {status} {code}: {message}{}", request_id_suffix(.request_id, .activity_id))]
pub struct ApiError {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub activity_id: Option<String>,
    /// `x-msft-approval-code`: the approval request a held write filed.
    pub approval_code: Option<String>,
}

impl ApiError {
    /// An error from a response body (Graph's envelope, or whatever came).
    pub fn from_body(method: &str, path: &str, status: u16, body: &[u8]) -> GraphError {
        let (code, message, request_id, activity_id) = parse_api_error(body);
        GraphError::Api(Box::new(ApiError {
            method: method.to_string(),
            path: path.to_string(),
            status,
            code,
            message,
            request_id,
            activity_id,
            approval_code: None,
        }))
    }
}

fn request_id_suffix(request_id: &Option<String>, activity_id: &Option<String>) -> String {
    match (request_id, activity_id) {
        (Some(r), Some(a)) => format!(" (request-id {r}, activity-id {a})"),
        (Some(r), None) => format!(" (request-id {r})"),
        (None, Some(a)) => format!(" (activity-id {a})"),
        (None, None) => String::new(),
    }
}

impl GraphError {
    /// Whether the operation may have been carried out even though no success was seen. A create in
    /// that state must be looked for before it is retried.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            GraphError::Transport { ambiguous, .. } => *ambiguous,
            GraphError::Api(api) => api.status >= 500,
            _ => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Api(api) => Some(api.status),
            GraphError::Auth { status, .. } => *status,
            _ => None,
        }
    }

    /// A stable, low-cardinality name for metrics and event reasons.
    pub fn category(&self) -> &'static str {
        match self {
            GraphError::Auth { .. } => "auth",
            GraphError::Api(api) if api.status == 429 => "throttled",
            GraphError::Api(api) if api.status == 404 => "not-found",
            GraphError::Api(api) if api.status == 403 => crate::engine::api::FORBIDDEN,
            GraphError::Api(api) if api.status == 409 => crate::engine::api::CONFLICT,
            GraphError::Api(api) if api.status >= 500 => "server",
            GraphError::Api(_) => "rejected",
            GraphError::Transport { .. } => "transport",
            GraphError::Decode { .. } => "decode",
            GraphError::Config(_) => "config",
            GraphError::AwaitingApproval { .. } => crate::engine::api::AWAITING_APPROVAL,
            GraphError::ApprovalRejected { .. } => "approval-rejected",
            GraphError::WriteStopped { .. } => "write-stopped",
        }
    }
}

/// Code, message and ids of a Graph error body. Intune puts a JSON document inside `message`; its
/// `Message` and `Activity ID` are what a person needs.
pub fn parse_api_error(body: &[u8]) -> (String, String, Option<String>, Option<String>) {
    let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) else {
        let text = String::from_utf8_lossy(body).chars().take(200).collect::<String>();
        return ("unknown".to_string(), text, None, None);
    };
    let request_id = parsed.error.inner_error.as_ref().and_then(|i| i.request_id.clone());
    let (message, activity_id) = match serde_json::from_str::<serde_json::Value>(&parsed.error.message) {
        Ok(nested) => {
            let text = nested.get("Message").and_then(|m| m.as_str()).unwrap_or(&parsed.error.message).to_string();
            let activity = activity_id_in(&text);
            let short = text.split(" - Operation ID").next().unwrap_or(&text).trim().to_string();
            (short, activity)
        }
        Err(_) => (parsed.error.message.clone(), None),
    };
    (parsed.error.code, message, request_id, activity_id)
}

fn activity_id_in(text: &str) -> Option<String> {
    let start = text.find("Activity ID: ")? + "Activity ID: ".len();
    let id: String = text[start..].chars().take_while(|c| c.is_ascii_hexdigit() || *c == '-').collect();
    (!id.is_empty()).then_some(id)
}

/// A one-line summary of a token endpoint error: the AADSTS line, without trace ids and timestamps.
pub fn summarize_token_error(body: &[u8]) -> String {
    match serde_json::from_slice::<TokenErrorBody>(body) {
        Ok(error) => {
            let first_line = error.error_description.lines().next().unwrap_or_default().trim().to_string();
            if first_line.is_empty() { error.error } else { format!("{} ({first_line})", error.error) }
        }
        Err(_) => String::from_utf8_lossy(body).chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"))).expect("sample")
    }

    #[test]
    fn intune_nested_error_message_is_unwrapped() {
        let (code, message, request_id, activity) =
            parse_api_error(&sample("graph-error-404-intune-resourcenotfound.json"));
        assert_eq!(code, "ResourceNotFound");
        assert_eq!(message, "An error has occurred");
        assert_eq!(request_id.as_deref(), Some("d4f53fa4-4771-454c-9cbf-7c4z60796465"));
        assert_eq!(activity.as_deref(), Some("d4f43fa4-4791-424c-9cbf-7c4a60796465"));
    }

    #[test]
    fn plain_graph_error() {
        let (code, message, request_id, activity) = parse_api_error(&sample("graph-error-429-toomanyrequests.json"));
        assert_eq!((code.as_str(), message.as_str()), ("TooManyRequests", "Too many requests."));
        assert_eq!(request_id.as_deref(), Some("xxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxx"));
        assert_eq!(activity, None);
    }

    #[test]
    fn token_error_keeps_the_aadsts_line_only() {
        let summary = summarize_token_error(&sample("token-error-invalid-scope.json"));
        assert!(summary.starts_with("invalid_scope (AADSTS70011: The provided value"), "{summary}");
        assert!(!summary.contains("Trace ID"));
    }
}
