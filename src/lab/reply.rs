//! Graph responses: JSON bodies, Graph's error envelope (with Intune's JSON-in-a-string messages for
//! Intune-backed endpoints), and the headers every Graph response carries.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use jiff::Timestamp;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::wire::common::{ErrorBody, ErrorDetail, InnerError};

/// Graph's content type for JSON responses.
pub const GRAPH_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// Microsoft Graph's own application id.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

pub const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
pub const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");
pub const APPROVAL_CODE: HeaderName = HeaderName::from_static("x-msft-approval-code");

/// What a Graph request is answered with, and the facts about the request that outlive it.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub client_request_id: Option<String>,
    /// `http://host:port` as the client addressed the lab, for absolute links.
    pub base_url: String,
    pub now: Timestamp,
}

/// Headers a reply adds to the ones every reply has.
pub type ExtraHeaders = Vec<(HeaderName, Box<str>)>;

/// A reply's JSON body: built as a value, or text kept as stored (a policy's settings are served as
/// the lab read them, without being parsed and printed again for every read).
#[derive(Clone, Debug)]
pub enum ReplyBody {
    Json(Value),
    Text(Box<RawValue>),
}

impl ReplyBody {
    /// The body as a value.
    #[cfg(test)]
    pub fn into_value(self) -> Value {
        match self {
            ReplyBody::Json(value) => value,
            ReplyBody::Text(text) => serde_json::from_str(text.get()).unwrap_or(Value::Null),
        }
    }
}

impl Serialize for ReplyBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ReplyBody::Json(value) => value.serialize(serializer),
            ReplyBody::Text(text) => text.serialize(serializer),
        }
    }
}

/// The answer to one Graph request (a whole HTTP request, or one request inside a `$batch`).
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Option<ReplyBody>,
    /// Seconds for `Retry-After`.
    pub retry_after: Option<u64>,
    /// The request changed the state directory.
    pub committed: bool,
    /// Headers of this reply alone (`WWW-Authenticate` on 401s, `x-msft-approval-code`), boxed
    /// because few replies have any.
    /// The body is a JSON string sent as `text/plain` (`/$count`).
    pub plain: bool,
    pub headers: Option<Box<ExtraHeaders>>,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            body: Some(ReplyBody::Json(body)),
            retry_after: None,
            committed: false,
            plain: false,
            headers: None,
        }
    }

    /// A reply whose body is JSON text already.
    pub fn text(status: StatusCode, body: Box<RawValue>) -> Reply {
        Reply { status, body: Some(ReplyBody::Text(body)), ..Reply::no_content() }
    }

    pub fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            retry_after: None,
            committed: false,
            plain: false,
            headers: None,
        }
    }

    /// `200 text/plain`, as `/$count` answers.
    pub fn plain(text: String) -> Reply {
        Reply { plain: true, ..Reply::json(StatusCode::OK, Value::String(text)) }
    }

    /// Graph's `WWW-Authenticate` for a refused token, naming where a token comes from.
    pub fn challenge(self, context: &RequestContext) -> Reply {
        let challenge = format!(
            "Bearer realm=\"\", authorization_uri=\"{}/common/oauth2/authorize\", client_id=\"{GRAPH_APP_ID}\"",
            context.base_url
        );
        self.with_header(header::WWW_AUTHENTICATE, &challenge)
    }

    /// The reply with one more header.
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Reply {
        self.headers.get_or_insert_with(Box::default).push((name, Box::from(value)));
        self
    }

    pub fn committed(mut self) -> Reply {
        self.committed = true;
        self
    }

    /// Graph's error envelope.
    pub fn error(context: &RequestContext, status: StatusCode, code: &str, message: &str) -> Reply {
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message: message.to_string(),
                inner_error: Some(InnerError {
                    date: Some(context.now.strftime("%Y-%m-%dT%H:%M:%S").to_string()),
                    request_id: Some(context.request_id.clone()),
                    client_request_id: context.client_request_id.clone(),
                }),
            },
        };
        Reply::json(status, serde_json::to_value(body).unwrap_or(Value::Null))
    }

    /// An error from an Intune-backed endpoint: the envelope's `message` is itself a JSON document
    /// (`_version` 3) naming the activity id and the backend URL, as Intune sends it.
    pub fn intune_error(context: &RequestContext, status: StatusCode, code: &str, summary: &str, path: &str) -> Reply {
        Reply::intune_error_with_headers(context, status, code, summary, path, &json!({}))
    }

    /// An Intune error whose document also lists response headers (`HttpHeaders`, a JSON string).
    pub fn intune_error_with_headers(
        context: &RequestContext,
        status: StatusCode,
        code: &str,
        summary: &str,
        path: &str,
        headers: &Value,
    ) -> Reply {
        let inner = json!({
            "_version": 3,
            "Message": format!(
                "{summary} - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: {} - Url: {}{path}?api-version=2024-10-01",
                context.request_id, context.base_url
            ),
            "CustomApiErrorPhrase": "",
            "RetryAfter": null,
            "ErrorSourceService": "",
            "HttpHeaders": headers.to_string()
        });
        let message = serde_json::to_string_pretty(&inner).unwrap_or_default().replace('\n', "\r\n");
        Reply::error(context, status, code, &message)
    }

    /// Response headers as a `$batch` item carries them.
    pub fn batch_headers(&self) -> Map<String, Value> {
        let mut headers = Map::new();
        if self.plain {
            headers.insert("Content-Type".into(), Value::String("text/plain".into()));
        } else if self.body.is_some() {
            headers.insert("Content-Type".into(), Value::String(GRAPH_JSON.into()));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert("Retry-After".into(), Value::String(seconds.to_string()));
        }
        for (name, value) in self.headers.iter().flat_map(|h| h.iter()) {
            headers.insert(name.as_str().into(), Value::String(value.to_string()));
        }
        headers
    }

    pub fn into_response(self, context: &RequestContext) -> Response {
        let has_body = self.body.is_some();
        let body = match self.body {
            Some(ReplyBody::Json(Value::String(text))) if self.plain => Body::from(text),
            Some(ReplyBody::Json(value)) => Body::from(serde_json::to_vec(&value).unwrap_or_default()),
            Some(ReplyBody::Text(text)) => Body::from(String::from(Box::<str>::from(text))),
            None => Body::empty(),
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if self.plain {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        } else if has_body {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(GRAPH_JSON));
        }
        for (name, value) in self.headers.iter().flat_map(|h| h.iter()) {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name.clone(), value);
            }
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        add_request_ids(headers, context);
        response
    }
}

/// Graph's 503, for injected server faults and failing tenants.
pub fn service_unavailable(context: &RequestContext) -> Reply {
    let message = "The service is temporarily unavailable. Please retry later.";
    Reply::error(context, StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", message)
}

/// Graph's 429, for the write budget and injected throttling.
pub fn too_many_requests(context: &RequestContext, retry_after: Option<u64>) -> Reply {
    let mut reply = Reply::error(context, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Too many requests.");
    reply.retry_after = retry_after;
    reply
}

/// `request-id`, and `client-request-id` echoed when the client sent one.
pub fn add_request_ids(headers: &mut axum::http::HeaderMap, context: &RequestContext) {
    if let Ok(value) = HeaderValue::from_str(&context.request_id) {
        headers.insert(REQUEST_ID, value);
    }
    if let Some(value) = context.client_request_id.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(CLIENT_REQUEST_ID, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RequestContext {
        RequestContext {
            request_id: "r-1".into(),
            client_request_id: Some("c-1".into()),
            base_url: "http://127.0.0.1:9".into(),
            now: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn errors_use_graphs_envelope() {
        let reply =
            Reply::error(&context(), StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty.");
        let body: ErrorBody = serde_json::from_value(reply.body.expect("body").into_value()).expect("envelope");
        assert_eq!(body.error.code, "InvalidAuthenticationToken");
        let inner = body.error.inner_error.expect("innerError");
        assert_eq!(inner.date.as_deref(), Some("1970-01-01T00:00:00"));
        assert_eq!((inner.request_id.as_deref(), inner.client_request_id.as_deref()), (Some("r-1"), Some("c-1")));
    }

    #[test]
    fn intune_errors_nest_a_json_document_in_the_message() {
        let reply = Reply::intune_error(&context(), StatusCode::NOT_FOUND, "ResourceNotFound", "Not found", "/x");
        let body: ErrorBody = serde_json::from_value(reply.body.expect("body").into_value()).expect("envelope");
        assert!(body.error.message.contains("\r\n"));
        let nested: Value = serde_json::from_str(&body.error.message).expect("nested JSON");
        assert_eq!(nested["_version"], 3);
        assert!(nested["Message"].as_str().expect("Message").contains("Activity ID: r-1"));
    }
}
