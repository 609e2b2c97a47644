//! Sending one request: budget, token, timeout, and retries with jittered exponential backoff that
//! honour `Retry-After`. What may be retried depends on whether repeating the request is safe.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::TenantClient;
use super::auth::CachedToken;
use super::error::{ApiError, GraphError, summarize_token_error};
use super::token_hints::TokenRefusal;
use crate::util::secret::Secret;
use crate::wire::common::{Page, TokenResponse};

/// What repeating a request would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CallKind {
    /// A read: always safe to repeat.
    Read,
    /// A write whose repetition has the same effect (PUT, PATCH, DELETE, assign).
    Write,
    /// A create: repeating it after a lost response would duplicate, so it is only repeated when
    /// Graph said it did nothing (429) or the request never left (connection refused).
    Create,
}

#[derive(Clone)]
pub(super) struct Call {
    pub method: Method,
    pub url: Url,
    pub body: Option<Vec<u8>>,
    pub kind: CallKind,
    /// Multi Admin Approval's header, when the write goes through approval.
    pub approval: Option<ApprovalHeader>,
}

/// Multi Admin Approval's request headers (the code is also a response header).
pub(super) const JUSTIFICATION_HEADER: &str = "x-msft-approval-justification";
pub(super) const CODE_HEADER: &str = "x-msft-approval-code";

/// The approval request id an Intune error message names (`x-msft-approval-code: <id>`).
pub(super) fn approval_code_in(message: &str) -> Option<String> {
    let start = message.find("x-msft-approval-code: ")? + "x-msft-approval-code: ".len();
    let id: String = message[start..].chars().take_while(|c| c.is_ascii_hexdigit() || *c == '-').collect();
    (id.len() == 36).then_some(id)
}

/// The header a write held by Multi Admin Approval is sent with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ApprovalHeader {
    /// `x-msft-approval-justification`: files an approval request (Base64 of the text).
    Justification(String),
    /// `x-msft-approval-code`: carries out the approved request of this id.
    Code(String),
}

impl Call {
    pub fn new(method: Method, url: Url, body: Option<Vec<u8>>, kind: CallKind) -> Call {
        Call { method, url, body, kind, approval: None }
    }
}

pub(super) struct Reply {
    /// As received: not copied again (a plan reads hundreds of megabytes of policies).
    pub body: bytes::Bytes,
}

/// Retries of a request whose connection was refused, and the first wait between them.
const REFUSED_RETRIES: u32 = 2;
const REFUSED_BACKOFF: Duration = Duration::from_millis(250);

/// What one attempt came to.
enum Attempt {
    Done(Reply),
    Failed { error: GraphError, retry: bool, delay: Option<Duration>, unauthorized: bool, refused: bool },
}

impl TenantClient {
    /// A Graph URL: `{graph}/{version}{path}` where `path` starts with `/` and may carry a query.
    pub(super) fn url(&self, version: &str, path: &str) -> Result<Url, GraphError> {
        let base = &self.client.inner.config.graph_url;
        let text = format!("{}/{version}{path}", base.as_str().trim_end_matches('/'));
        Url::parse(&text).map_err(|e| GraphError::Config(format!("invalid Graph URL {text}: {e}")))
    }

    pub(super) async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T, GraphError> {
        let call = Call::new(Method::GET, url, None, CallKind::Read);
        let reply = self.send(&call).await?;
        decode(&call, &reply.body)
    }

    /// Every item of a collection, following `@odata.nextLink` verbatim.
    pub(super) async fn get_all<T: DeserializeOwned>(&self, url: Url) -> Result<Vec<T>, GraphError> {
        let mut items = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let page: Page<T> = self.get_json(url).await?;
            items.extend(page.value);
            if let Some(link) = page.next_link {
                next = Some(self.same_origin(&link)?);
            }
        }
        Ok(items)
    }

    /// A next link is only followed to the Graph endpoint itself: the bearer token goes with it.
    fn same_origin(&self, link: &str) -> Result<Url, GraphError> {
        let base = &self.client.inner.config.graph_url;
        let url = Url::parse(link).map_err(|e| GraphError::Config(format!("invalid @odata.nextLink {link}: {e}")))?;
        if url.origin() != base.origin() {
            return Err(GraphError::Config(format!(
                "@odata.nextLink leaves {}: {}",
                base.origin().ascii_serialization(),
                url.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }

    pub(super) async fn send_json(
        &self,
        method: Method,
        url: Url,
        body: &impl Serialize,
        kind: CallKind,
    ) -> Result<Reply, GraphError> {
        let body = serde_json::to_vec(body).map_err(|e| GraphError::Config(format!("cannot encode request: {e}")))?;
        self.execute(&Call::new(method, url, Some(body), kind)).await
    }

    /// Sends a request, retrying what is safe to retry.
    pub(super) async fn send(&self, call: &Call) -> Result<Reply, GraphError> {
        let inner = &self.client.inner;
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        loop {
            inner.budgets.acquire(&self.tenant_id, call.kind != CallKind::Read).await;
            // Checked after the budget's wait, the last moment before the write leaves.
            if call.kind != CallKind::Read && self.fence.as_ref().is_some_and(|fence| !fence.is_open()) {
                return Err(GraphError::WriteStopped {
                    method: call.method.to_string(),
                    path: call.url.path().to_string(),
                    reason: "this process no longer owns the tenant".into(),
                });
            }
            let token = self.token().await?;
            inner.stats.requests.fetch_add(1, Ordering::Relaxed);
            match self.attempt(call, &token, attempt).await {
                Attempt::Done(reply) => return Ok(reply),
                Attempt::Failed { unauthorized: true, .. } if !refreshed => {
                    // The token may have been revoked or the server restarted: get a new one, once.
                    refreshed = true;
                    self.forget_token(&token).await;
                }
                Attempt::Failed { error, retry, delay, refused, .. } => {
                    // A refused connection means the endpoint is down, not busy: a tenant behind it is
                    // reported unknown in about a second, instead of after a minute of backoff.
                    let limit =
                        if refused { REFUSED_RETRIES.min(inner.config.max_retries) } else { inner.config.max_retries };
                    if !retry || attempt >= limit {
                        return Err(error);
                    }
                    let delay = match (refused, delay) {
                        (true, _) => REFUSED_BACKOFF * 2u32.pow(attempt),
                        (false, Some(delay)) => delay,
                        (false, None) => self.backoff(attempt),
                    };
                    attempt += 1;
                    inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(tenant = %self.tenant_id, %error, ?delay, attempt, "retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(&self, call: &Call, token: &Secret, attempt: u32) -> Attempt {
        let inner = &self.client.inner;
        let path = call.url.path().to_string();
        let mut request = inner.http.request(call.method.clone(), call.url.clone()).bearer_auth(token.expose());
        if let Some(body) = &call.body {
            request = request.header(CONTENT_TYPE, "application/json").body(body.clone());
        }
        match &call.approval {
            Some(ApprovalHeader::Justification(text)) => request = request.header(JUSTIFICATION_HEADER, text),
            Some(ApprovalHeader::Code(id)) => request = request.header(CODE_HEADER, id),
            None => {}
        }
        let transport = |error: reqwest::Error, sent: bool| {
            let repeat_is_safe = call.kind != CallKind::Create || !sent;
            let refused = !sent;
            Attempt::Failed {
                refused,
                error: GraphError::Transport {
                    method: call.method.to_string(),
                    path: path.clone(),
                    message: describe(&error),
                    ambiguous: sent && call.kind != CallKind::Read,
                },
                retry: repeat_is_safe,
                delay: None,
                unauthorized: false,
            }
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let sent = !error.is_connect();
                return transport(error, sent);
            }
        };
        let status = response.status().as_u16();
        let approval_code =
            response.headers().get(CODE_HEADER).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string());
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|seconds| Duration::from_secs(seconds).min(inner.config.backoff_max));
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => return transport(error, true),
        };
        if (200..300).contains(&status) {
            return Attempt::Done(Reply { body });
        }
        if call.method == Method::DELETE && status == 404 && attempt > 0 {
            // An earlier attempt whose response was lost already deleted it.
            return Attempt::Done(Reply { body: bytes::Bytes::new() });
        }
        let mut error = ApiError::from_body(call.method.as_str(), &path, status, &body);
        if let GraphError::Api(api) = &mut error {
            api.approval_code = approval_code.or_else(|| approval_code_in(&api.message));
        }
        match status {
            401 => Attempt::Failed { error, retry: false, delay: None, unauthorized: true, refused: false },
            429 => {
                inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
                let delay = retry_after.unwrap_or_else(|| self.throttle_backoff(attempt));
                Attempt::Failed { error, retry: true, delay: Some(delay), unauthorized: false, refused: false }
            }
            500 | 502 | 503 | 504 => Attempt::Failed {
                error,
                retry: call.kind != CallKind::Create,
                delay: retry_after,
                unauthorized: false,
                refused: false,
            },
            _ => Attempt::Failed { error, retry: false, delay: None, unauthorized: false, refused: false },
        }
    }

    /// Full-jitter exponential backoff.
    fn backoff(&self, attempt: u32) -> Duration {
        let config = &self.client.inner.config;
        jitter(config.backoff_base.saturating_mul(2u32.saturating_pow(attempt)).min(config.backoff_max))
    }

    /// After a 429 without `Retry-After`: wait long, and longer each time (Intune omits the header
    /// at times, and hammering a throttled tenant only extends the throttling).
    fn throttle_backoff(&self, attempt: u32) -> Duration {
        let config = &self.client.inner.config;
        let ceiling = config.throttle_backoff.saturating_mul(2u32.saturating_pow(attempt)).min(config.backoff_max);
        ceiling / 2 + jitter(ceiling / 2)
    }

    /// A token for this tenant, from the cache or the token endpoint.
    pub(super) async fn token(&self) -> Result<Secret, GraphError> {
        let slot = self.client.inner.tokens.slot(&self.tenant_id);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.is_fresh()) {
            return Ok(token.token.clone());
        }
        let token = self.request_token().await?;
        *cached = Some(token.clone());
        Ok(token.token)
    }

    async fn forget_token(&self, stale: &Secret) {
        let slot = self.client.inner.tokens.slot(&self.tenant_id);
        let mut cached = slot.lock().await;
        if cached.as_ref().is_some_and(|t| t.token == *stale) {
            *cached = None;
        }
    }

    async fn request_token(&self) -> Result<CachedToken, GraphError> {
        let inner = &self.client.inner;
        let credential =
            inner.credentials.read().unwrap_or_else(PoisonError::into_inner).for_tenant(&self.tenant_id)?.clone();
        let mut url = inner.config.login_url.clone();
        url.path_segments_mut()
            .map_err(|_| GraphError::Config(format!("login URL {} cannot take a path", inner.config.login_url)))?
            .pop_if_empty()
            .extend([self.tenant_id.as_str(), "oauth2", "v2.0", "token"]);
        let mut attempt = 0;
        loop {
            let form = credential.token_form(url.as_str())?;
            inner.stats.token_requests.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let mut refused = false;
            let failure = match inner.http.post(url.clone()).form(&form).send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                    if status == 200 {
                        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| GraphError::Auth {
                            tenant: self.tenant_id.clone(),
                            status: Some(status),
                            summary: format!("unexpected token response: {e}"),
                            transient: false,
                            refusal: None,
                            hint: None,
                        })?;
                        let lifetime = Duration::from_secs(parsed.expires_in);
                        return Ok(CachedToken { token: parsed.access_token, expires_at: started + lifetime });
                    }
                    let transient = status >= 500 || status == 429;
                    let refusal = serde_json::from_slice(&body).ok().as_ref().and_then(TokenRefusal::of);
                    let consent_url = self.consent_url_for(credential.client_id());
                    GraphError::Auth {
                        tenant: self.tenant_id.clone(),
                        status: Some(status),
                        summary: summarize_token_error(&body),
                        transient,
                        refusal,
                        hint: refusal.map(|r| r.explain(consent_url.as_deref())),
                    }
                }
                Err(error) => {
                    refused = error.is_connect();
                    GraphError::Auth {
                        tenant: self.tenant_id.clone(),
                        status: None,
                        summary: describe(&error),
                        transient: true,
                        refusal: None,
                        hint: None,
                    }
                }
            };
            let transient = matches!(failure, GraphError::Auth { transient: true, .. });
            let limit = if refused { REFUSED_RETRIES.min(inner.config.max_retries) } else { inner.config.max_retries };
            if !transient || attempt >= limit {
                return Err(failure);
            }
            let delay = if refused { REFUSED_BACKOFF * 2u32.pow(attempt) } else { self.backoff(attempt) };
            attempt += 1;
            inner.stats.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
        }
    }
}

fn jitter(ceiling: Duration) -> Duration {
    let millis = ceiling.as_millis().min(u128::from(u64::MAX)) as u64;
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

/// The innermost cause of a transport error, which is what tells a reset from a timeout.
fn describe(error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() { "timed out".to_string() } else { error.to_string() };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    // reqwest puts the URL in its message; the path is already in ours, and queries can be long.
    match message.find(" for url (") {
        Some(start) => {
            let end = message[start..].find(')').map_or(message.len(), |i| start + i + 1);
            format!("{}{}", &message[..start], &message[end..])
        }
        None => message,
    }
}

/// A reply body decoded as JSON. Its UTF-8 is checked once, with SIMD, and the text read as a
/// `str`: read from bytes, `serde_json` checks each string and each raw value (a policy's settings)
/// on its own, a tenth of the time spent decoding a plan's reads. Bytes that are not UTF-8 are read
/// as bytes, for `serde_json`'s error and its position.
fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    match simdutf8::basic::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

fn decode<T: DeserializeOwned>(call: &Call, body: &[u8]) -> Result<T, GraphError> {
    from_json(body).map_err(|e| GraphError::Decode {
        method: call.method.to_string(),
        path: call.url.path().to_string(),
        message: e.to_string(),
    })
}

pub(super) fn decode_reply<T: DeserializeOwned>(method: &str, url: &Url, body: &[u8]) -> Result<T, GraphError> {
    from_json(body).map_err(|e| GraphError::Decode {
        method: method.to_string(),
        path: url.path().to_string(),
        message: e.to_string(),
    })
}
