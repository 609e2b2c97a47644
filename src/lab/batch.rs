//! JSON batching (`POST /$batch`): up to 20 requests, each handled like a request of its own (the
//! outer request's token; budget, throttling and server faults per inner request), so an inner
//! request can be throttled while the batch itself is 200, as on Graph. `dependsOn` is honoured: a
//! request whose dependency failed answers 424.

use std::str::FromStr;

use axum::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::context::Lab;
use super::faults::INJECTED_RETRY_AFTER_SECONDS;
use super::reply::{Reply, ReplyBody, RequestContext, service_unavailable, too_many_requests};
use super::route::{ApprovalHeaders, GraphRequest, Route, decode_segments, route_template};
use super::tokens::Grant;

/// Graph's limit of requests per batch.
pub const MAX_BATCH_REQUESTS: usize = 20;

#[derive(Deserialize)]
struct BatchBody {
    requests: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchItem {
    /// Graph accepts ids written as numbers too (`"id": 1`), and answers with them as strings.
    #[serde(deserialize_with = "text_or_number")]
    id: String,
    method: String,
    url: String,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    headers: serde_json::Map<String, Value>,
}

fn text_or_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        other => Err(serde::de::Error::custom(format!("a request id must be a string, not {other}"))),
    }
}

/// How one request is handled: the batch's inner requests go through the same handler as any other.
pub type Handler = fn(&Lab, &Grant, &GraphRequest, &RequestContext) -> Reply;

pub fn run(lab: &Lab, grant: &Grant, request: &GraphRequest, context: &RequestContext, handle: Handler) -> Reply {
    let bad = |message: &str| Reply::error(context, StatusCode::BAD_REQUEST, "BadRequest", message);
    let Some(Ok(batch)) = request.body.clone().map(serde_json::from_value::<BatchBody>) else {
        return bad("Invalid batch payload format.");
    };
    if batch.requests.is_empty() {
        return bad("Invalid batch payload format: the batch contains no request.");
    }
    if batch.requests.len() > MAX_BATCH_REQUESTS {
        return bad(&format!(
            "The batch contains {} requests; at most {MAX_BATCH_REQUESTS} are allowed.",
            batch.requests.len()
        ));
    }
    // A request that is not one makes the whole batch malformed, as Graph answers it: one 400.
    let mut items: Vec<BatchItem> = Vec::with_capacity(batch.requests.len());
    for (index, request) in batch.requests.into_iter().enumerate() {
        match serde_json::from_value(request) {
            Ok(item) => items.push(item),
            Err(error) => return bad(&format!("Invalid batch payload format: request {index}: {error}")),
        }
    }
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    if (1..ids.len()).any(|i| ids[..i].contains(&ids[i])) {
        return bad("Invalid batch payload format: request ids must be unique.");
    }

    let mut statuses: Vec<(String, u16)> = Vec::new();
    let mut responses = Vec::with_capacity(items.len());
    let mut committed = false;
    for item in &items {
        let reply = inner_reply(lab, grant, request, context, item, &statuses, handle);
        committed |= reply.committed;
        statuses.push((item.id.clone(), reply.status.as_u16()));
        let headers = reply.batch_headers();
        responses.push(BatchReplyItem {
            id: item.id.clone(),
            status: reply.status.as_u16(),
            headers,
            body: reply.body,
        });
    }
    // Bodies kept as text (policies read with their settings) go out as they are.
    let reply = match serde_json::value::to_raw_value(&BatchReply { responses }) {
        Ok(text) => Reply::text(StatusCode::OK, text),
        Err(error) => {
            Reply::error(context, StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", &error.to_string())
        }
    };
    if committed { reply.committed() } else { reply }
}

#[derive(Serialize)]
struct BatchReply {
    responses: Vec<BatchReplyItem>,
}

#[derive(Serialize)]
struct BatchReplyItem {
    id: String,
    status: u16,
    headers: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<ReplyBody>,
}

fn inner_reply(
    lab: &Lab,
    grant: &Grant,
    outer: &GraphRequest,
    context: &RequestContext,
    item: &BatchItem,
    done: &[(String, u16)],
    handle: Handler,
) -> Reply {
    let Some((method, mut segments, query)) = parse_item(item) else {
        let message = format!("Invalid request URL or method: {} {}", item.method, item.url);
        return Reply::error(context, StatusCode::BAD_REQUEST, "BadRequest", &message);
    };
    // A URL may name its version (`/beta/groups`) or be relative to the batch's.
    let version = match segments.first().map(String::as_str) {
        Some(named @ ("v1.0" | "beta")) => {
            let named = named.to_string();
            segments.remove(0);
            named
        }
        _ => outer.version.clone(),
    };
    let route = route_template(&method, &version, &segments);
    let config = lab.config();
    let roll = lab.dice.roll_inner(&config.faults);
    let reply = if let Some(failed) = item.depends_on.iter().find(|d| !succeeded(done, d)) {
        let message = format!("The request depends on request '{failed}', which failed or has not run.");
        Reply::error(context, StatusCode::FAILED_DEPENDENCY, "FailedDependency", &message)
    } else if Route::of(&version, &segments) == Ok(Route::Batch) {
        Reply::error(context, StatusCode::BAD_REQUEST, "BadRequest", "A batch cannot contain a batch.")
    } else if roll.server_error {
        service_unavailable(context)
    } else if roll.throttled {
        let says_when = lab.budgets.count_refusal(&grant.tenant, config.retry_after);
        too_many_requests(context, says_when.then_some(INJECTED_RETRY_AFTER_SECONDS))
    } else {
        let inner = GraphRequest {
            method: method.clone(),
            version,
            segments,
            query,
            body: item.body.clone(),
            eventual: item.headers.iter().any(|(name, value)| {
                name.eq_ignore_ascii_case("ConsistencyLevel")
                    && value.as_str().is_some_and(|v| v.eq_ignore_ascii_case("eventual"))
            }),
            approval: ApprovalHeaders::from_pairs(
                item.headers.iter().map(|(name, value)| (name.as_str(), value.as_str())),
            ),
        };
        handle(lab, grant, &inner, context)
    };
    lab.stats.record(&route, method.as_str(), Some(&grant.tenant), reply.status.as_u16());
    reply
}

/// Method, decoded path segments and query of an inner request (its URL is relative to the version
/// root, with or without a leading `/`).
fn parse_item(item: &BatchItem) -> Option<(Method, Vec<String>, Option<String>)> {
    let method = Method::from_str(&item.method.to_ascii_uppercase()).ok()?;
    if item.url.contains("://") {
        return None;
    }
    let (path, query) = match item.url.split_once('?') {
        Some((path, query)) => (path, Some(query.to_string())),
        None => (item.url.as_str(), None),
    };
    Some((method, decode_segments(path), query))
}

fn succeeded(done: &[(String, u16)], id: &str) -> bool {
    done.iter().any(|(done_id, status)| done_id == id && (200..300).contains(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_urls_are_relative_to_the_version_root() {
        let item = |method: &str, url: &str| BatchItem {
            id: "1".into(),
            method: method.into(),
            url: url.into(),
            body: None,
            depends_on: vec![],
            headers: serde_json::Map::new(),
        };
        let (method, segments, query) =
            parse_item(&item("get", "/groups?$filter=displayName%20eq%20'a'")).expect("valid");
        assert_eq!(
            (method, segments, query.as_deref()),
            (Method::GET, vec!["groups".to_string()], Some("$filter=displayName%20eq%20'a'"))
        );
        let (_, segments, _) = parse_item(&item("GET", "deviceManagement/configurationPolicies/a%2Fb")).expect("valid");
        assert_eq!(segments, ["deviceManagement", "configurationPolicies", "a/b"]);
        assert!(parse_item(&item("GET", "https://graph.microsoft.com/v1.0/groups")).is_none());
        assert_eq!(decode_segments("/a/100%/b%20c"), ["a", "100%", "b c"]);
    }
}
