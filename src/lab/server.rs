//! The lab's HTTP server: the token endpoint, the Graph endpoints with latency and fault injection,
//! and the `/_lab` control endpoints, served by axum in a background task.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_server::Handle;
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;

use super::approval;
use super::budget::WriteBudgets;
use super::config::{ConfigUpdate, RuntimeConfig};
use super::context::Lab;
use super::dispatch::{authenticate, handle};
use super::faults::{FaultDice, INJECTED_RETRY_AFTER_SECONDS, dropped_connection};
use super::ids::random_guid;
use super::openid;
use super::origin::request_base;
use super::reply::{CLIENT_REQUEST_ID, Reply, RequestContext, add_request_ids, service_unavailable, too_many_requests};
use super::route::{ApprovalHeaders, GraphRequest, decode_segments, route_template};
use super::signing::SigningKey;
use super::stats::{DROPPED, Stats};
use super::store::Store;
use super::tls::{TlsSetup, setup as tls_setup};
use super::tokens::{TokenFailure, TokenIssuer, authorize};
use super::{LabError, LabOptions};
use crate::util::secret::Secret;
use crate::wire::common::TokenResponse;

/// Largest request body accepted (a policy with hundreds of settings is well below).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// How long shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
const TOKEN_ROUTE: &str = "POST /{tenant}/oauth2/v2.0/token";

/// A running lab.
pub struct LabServer {
    addr: SocketAddr,
    /// `https` when serving TLS.
    scheme: &'static str,
    /// The CA certificate clients should trust, when the lab made its certificate.
    ca_file: Option<std::path::PathBuf>,
    /// Held while the lab serves: one process writes a state folder at a time.
    _lock: Option<std::fs::File>,
    handle: Handle<SocketAddr>,
    task: Option<JoinHandle<()>>,
}

/// Locks a state folder for this process (released when the file closes, also on a crash): two labs
/// serving one folder would each write what the other does not see, and duplicate what tenantctl
/// creates through them.
fn lock_state(dir: &std::path::Path) -> Result<Option<std::fs::File>, LabError> {
    if !dir.is_dir() {
        // Nothing to lock: loading says what is missing.
        return Ok(None);
    }
    let path = dir.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| LabError::io(&path, source))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(LabError::InUse(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(source)) => Err(LabError::io(&path, source)),
    }
}

#[derive(Clone)]
struct Shared {
    lab: Arc<Lab>,
    /// `host:port` for links when a request carries no `Host` header.
    own_host: Arc<str>,
    tls: bool,
}

impl LabServer {
    /// Loads the state directory, binds `addr` (port 0 picks a free port) and serves in a background
    /// task until [`LabServer::shutdown`].
    pub async fn start(options: LabOptions, addr: SocketAddr) -> Result<LabServer, LabError> {
        if options.state_dir.as_os_str().is_empty() {
            return Err(LabError::InvalidOption("the state directory must be set".into()));
        }
        let config = RuntimeConfig::from_options(&options).map_err(LabError::InvalidOption)?;
        let lock = lock_state(&options.state_dir)?;
        let dir = options.state_dir.clone();
        let resident = options.resident_tenants;
        let store = tokio::task::spawn_blocking(move || Store::load(&dir, resident))
            .await
            .map_err(|e| LabError::InvalidOption(format!("loading the state directory failed: {e}")))??;
        let tls = match &options.tls {
            None => None,
            Some(source) => {
                let (dir, source) = (options.state_dir.clone(), source.clone());
                Some(
                    tokio::task::spawn_blocking(move || tls_setup(&dir, &source))
                        .await
                        .map_err(|e| LabError::InvalidOption(format!("setting up TLS failed: {e}")))??,
                )
            }
        };
        let key = tokio::task::spawn_blocking(SigningKey::new)
            .await
            .map_err(|e| LabError::InvalidOption(format!("making the signing key failed: {e}")))?
            .map_err(LabError::InvalidOption)?;
        let lab = Lab {
            store,
            tokens: TokenIssuer::new(key),
            budgets: WriteBudgets::default(),
            detection_creates: WriteBudgets::default(),
            dice: FaultDice::new(options.seed),
            stats: Stats::default(),
            config: std::sync::RwLock::new(config),
        };
        let listener = std::net::TcpListener::bind(addr).map_err(|source| LabError::Bind { addr, source })?;
        listener.set_nonblocking(true).map_err(|source| LabError::Bind { addr, source })?;
        let bound = listener.local_addr().map_err(|source| LabError::Bind { addr, source })?;
        let shared =
            Shared { lab: Arc::new(lab), own_host: Arc::from(reachable(bound).to_string()), tls: tls.is_some() };
        let router = Router::new()
            .route("/_lab/config", get(config_view).put(config_update))
            .route("/_lab/stats", get(stats_view).delete(stats_reset))
            .route("/_lab/approvals/{tenant}", get(approvals_view))
            .route("/_lab/approvals/{tenant}/{request}/{decision}", post(approval_decision))
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/{tenant}/adminconsent", get(admin_consent))
            .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery_v2))
            .route("/{tenant}/.well-known/openid-configuration", get(discovery_v1))
            .route("/{tenant}/discovery/v2.0/keys", get(keys))
            .route("/{tenant}/discovery/keys", get(keys))
            .fallback(graph)
            .with_state(shared)
            .into_make_service();
        let handle = Handle::new();
        let server = axum_server::from_tcp(listener).map_err(|source| LabError::Bind { addr, source })?;
        // Small responses must not wait for Nagle's algorithm: latency is a knob, not an accident.
        let (scheme, ca_file, task) = match tls {
            None => {
                let server = server.acceptor(NoDelayAcceptor::new()).handle(handle.clone());
                ("http", None, tokio::spawn(async move { report(server.serve(router).await) }))
            }
            Some(TlsSetup { config, ca_file, .. }) => {
                let acceptor = RustlsAcceptor::new(RustlsConfig::from_config(config)).acceptor(NoDelayAcceptor::new());
                let server = server.acceptor(acceptor).handle(handle.clone());
                ("https", ca_file, tokio::spawn(async move { report(server.serve(router).await) }))
            }
        };
        Ok(LabServer { addr: bound, scheme, ca_file, _lock: lock, handle, task: Some(task) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https` with TLS): the base of both the login URL and the Graph URL.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, reachable(self.addr))
    }

    /// The CA certificate a client must trust to reach the lab over TLS, when the lab made it.
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.ca_file.as_deref()
    }

    /// Stops accepting requests and waits (a few seconds at most) for those in flight.
    pub async fn shutdown(mut self) {
        self.handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for LabServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn report(served: std::io::Result<()>) {
    if let Err(error) = served {
        tracing::error!(%error, "lab: server failed");
    }
}

/// The address clients use: an unspecified bind address is reached through loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = if addr.ip().is_unspecified() { std::net::IpAddr::from([127, 0, 0, 1]) } else { addr.ip() };
    SocketAddr::new(ip, addr.port())
}

fn context(headers: &HeaderMap, shared: &Shared) -> RequestContext {
    let client_request_id = headers.get(&CLIENT_REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_string);
    RequestContext {
        request_id: random_guid(),
        client_request_id,
        base_url: request_base(headers, shared.tls, &shared.own_host),
        now: jiff::Timestamp::now(),
    }
}

async fn graph(State(shared): State<Shared>, request: Request) -> Response {
    let lab = &shared.lab;
    let config = lab.config();
    if !config.latency.is_zero() {
        tokio::time::sleep(config.latency).await;
    }
    let (parts, body) = request.into_parts();
    let context = context(&parts.headers, &shared);
    let segments = decode_segments(parts.uri.path());
    let method = parts.method.clone();
    let Some(version) = segments.first().filter(|v| *v == "beta" || *v == "v1.0").cloned() else {
        let message = format!("Invalid version: {}", segments.first().map_or("", String::as_str));
        lab.stats.record(&format!("{method} /*"), method.as_str(), None, StatusCode::BAD_REQUEST.as_u16());
        return Reply::error(&context, StatusCode::BAD_REQUEST, "BadRequest", &message).into_response(&context);
    };
    let segments = segments[1..].to_vec();
    let route = route_template(&method, &version, &segments);
    let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let caller = authenticate(lab, authorization, &context);
    let tenant = caller.as_ref().ok().map(|grant| grant.tenant.clone());
    let record = |status: u16| lab.stats.record(&route, method.as_str(), tenant.as_deref(), status);

    let roll = lab.dice.roll(&config.faults);
    if roll.connection_reset {
        record(DROPPED);
        return dropped_connection();
    }
    let refusal = match &caller {
        _ if roll.server_error => Some(service_unavailable(&context)),
        _ if roll.throttled => {
            let says_when = lab.budgets.count_refusal(tenant.as_deref().unwrap_or_default(), config.retry_after);
            Some(too_many_requests(&context, says_when.then_some(INJECTED_RETRY_AFTER_SECONDS)))
        }
        Err(unauthorized) => Some(unauthorized.clone()),
        Ok(grant) if config.is_failing(&grant.tenant) => Some(service_unavailable(&context)),
        Ok(_) => None,
    };
    let body = match refusal {
        Some(reply) => Err(reply),
        None => read_json_body(body, &context).await,
    };
    let (grant, body) = match (caller, body) {
        (Ok(grant), Ok(body)) => (grant, body),
        (_, Err(reply)) | (Err(reply), _) => {
            record(reply.status.as_u16());
            return reply.into_response(&context);
        }
    };
    let eventual = parts
        .headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    let query = parts.uri.query().map(str::to_string);
    let approval =
        ApprovalHeaders::from_pairs(parts.headers.iter().map(|(name, value)| (name.as_str(), value.to_str().ok())));
    let request = GraphRequest { method: method.clone(), version, segments, query, body, eventual, approval };
    let worker = {
        let (lab, context) = (Arc::clone(lab), context.clone());
        tokio::task::spawn_blocking(move || handle(&lab, &grant, &request, &context))
    };
    let reply = worker.await.unwrap_or_else(|error| {
        tracing::error!(%error, "lab: request handler failed");
        Reply::error(&context, StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "The request handler failed.")
    });
    if reply.committed && roll.lost_response {
        record(DROPPED);
        return dropped_connection();
    }
    record(reply.status.as_u16());
    reply.into_response(&context)
}

async fn read_json_body(body: axum::body::Body, context: &RequestContext) -> Result<Option<Value>, Reply> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        Reply::error(context, StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge", "The request body is too large.")
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|_| {
        let message = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.";
        Reply::error(context, StatusCode::BAD_REQUEST, "BadRequest", message)
    })
}

async fn token(State(shared): State<Shared>, Path(tenant): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let lab = &shared.lab;
    let config = lab.config();
    if !config.latency.is_zero() {
        tokio::time::sleep(config.latency).await;
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let stats_tenant = lab.store.tenant_id(&tenant).unwrap_or(&tenant).to_string();
    let correlation = headers.get(&CLIENT_REQUEST_ID).and_then(|v| v.to_str().ok());
    let withheld = config.withheld_from(lab.store.tenant_id(&tenant).unwrap_or(&tenant));
    let issued = authorize(&lab.store, &tenant, &form, basic, withheld).and_then(|who| {
        let now = std::time::SystemTime::now();
        lab.tokens.issue(&who, config.token_lifetime, now).map_err(|problem| {
            tracing::error!(%problem, "lab: cannot sign a token");
            TokenFailure::server_error(problem)
        })
    });
    let (status, body) = match issued {
        Ok(issued) => {
            let response = TokenResponse {
                token_type: "Bearer".into(),
                expires_in: issued.expires_in,
                ext_expires_in: Some(issued.expires_in),
                access_token: Secret::new(issued.token),
            };
            (StatusCode::OK, serde_json::to_value(response).unwrap_or(Value::Null))
        }
        Err(failure) => {
            let body = failure.body(jiff::Timestamp::now(), correlation);
            (failure.status, serde_json::to_value(body).unwrap_or(Value::Null))
        }
    };
    lab.stats.record(TOKEN_ROUTE, "POST", Some(&stats_tenant), status.as_u16());
    let mut response = (status, axum::Json(body)).into_response();
    let response_headers = response.headers_mut();
    // Token responses must never be cached (RFC 6749 §5.1).
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    response_headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

async fn config_view(State(shared): State<Shared>) -> Response {
    axum::Json(shared.lab.config().view()).into_response()
}

async fn config_update(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let context = context(&headers, &shared);
    let update: ConfigUpdate = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(error) => return lab_bad_request(&context, &error.to_string()),
    };
    let mut config = shared.lab.config.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    match config.apply(update) {
        Ok(()) => axum::Json(config.view()).into_response(),
        Err(problem) => lab_bad_request(&context, &problem),
    }
}

fn lab_bad_request(context: &RequestContext, message: &str) -> Response {
    Reply::error(context, StatusCode::BAD_REQUEST, "BadRequest", message).into_response(context)
}

/// `GET /_lab/stats[?tenants=false]`: request counters, and what each tenant holds unless
/// `tenants=false` (which spares a lab of many tenants reading every one of them).
async fn stats_view(State(shared): State<Shared>, uri: axum::http::Uri) -> Response {
    let lab = &shared.lab;
    let view = lab.stats.view();
    let mut tenants = Map::new();
    let per_tenant = uri.query().is_none_or(|q| !q.split('&').any(|pair| pair == "tenants=false"));
    for id in lab.store.tenant_ids().filter(|_| per_tenant) {
        if let Ok(Some(tenant)) = lab.store.tenant(id) {
            let counts = json!({
                "configurationPolicies": tenant.policies.len(),
                "assignments": tenant.assignment_count(),
                "groups": tenant.groups.len(),
                "incidents": tenant.incidents.len(),
            });
            tenants.insert(id.to_string(), counts);
        }
    }
    let resident = lab.store.resident_tenants();
    axum::Json(
        json!({"requests": view.requests, "totals": view.totals, "tenants": tenants, "residentTenants": resident}),
    )
    .into_response()
}

async fn stats_reset(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    shared.lab.stats.reset();
    let mut response = StatusCode::NO_CONTENT.into_response();
    add_request_ids(response.headers_mut(), &context(&headers, &shared));
    response
}

/// `GET /_lab/approvals/{tenant}`: the tenant's Multi Admin Approval requests, as Graph lists them.
async fn approvals_view(State(shared): State<Shared>, Path(tenant): Path<String>, headers: HeaderMap) -> Response {
    let context = context(&headers, &shared);
    let lab = Arc::clone(&shared.lab);
    let listed = tokio::task::spawn_blocking(move || {
        let id = lab.store.tenant_id(&tenant).ok_or_else(|| format!("the lab has no tenant {tenant}"))?.to_string();
        let guard = lab.store.tenant(&id).map_err(|e| e.to_string())?.ok_or("the tenant cannot be loaded")?;
        let now = jiff::Timestamp::now();
        Ok::<Vec<Value>, String>(approval::listed(&guard, now))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match listed {
        Ok(requests) => axum::Json(json!({"value": requests})).into_response(),
        Err(problem) => lab_bad_request(&context, &problem),
    }
}

/// `POST /_lab/approvals/{tenant}/{request}/approve|reject` with an optional `{"justification"}`: an
/// approver's decision, which no app can make in Intune.
async fn approval_decision(
    State(shared): State<Shared>,
    Path((tenant, request, decision)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let context = context(&headers, &shared);
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => return lab_bad_request(&context, &format!("unknown decision `{other}` (approve or reject)")),
    };
    let justification = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b.get("justification").and_then(Value::as_str).map(str::to_string));
    let lab = Arc::clone(&shared.lab);
    let decided = tokio::task::spawn_blocking(move || {
        let id = lab.store.tenant_id(&tenant).ok_or_else(|| format!("the lab has no tenant {tenant}"))?.to_string();
        let mut guard = lab.store.tenant(&id).map_err(|e| e.to_string())?.ok_or("the tenant cannot be loaded")?;
        approval::decide(&mut guard, &request, approve, justification.as_deref(), jiff::Timestamp::now())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match decided {
        Ok(request) => axum::Json(Value::Object(request)).into_response(),
        Err(problem) => lab_bad_request(&context, &problem),
    }
}

/// `GET /{tenant}/adminconsent?client_id=…[&redirect_uri=…&state=…]`: an admin of the tenant consents
/// to the app, at once (the lab has no one to sign in). The answer is Entra's redirect to
/// `redirect_uri` with `admin_consent=True`, or a line of text without one.
async fn admin_consent(
    State(shared): State<Shared>,
    Path(tenant): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::BTreeMap<String, String>>,
) -> Response {
    let id = match known_tenant(&shared.lab, &tenant) {
        Ok(id) => id,
        Err(refusal) => return *refusal,
    };
    let Some(app) = query.get("client_id").and_then(|client| shared.lab.store.app(client)).cloned() else {
        let failure = TokenFailure::unknown_application(query.get("client_id").map_or("", String::as_str), &id);
        return (failure.status, axum::Json(failure.body(jiff::Timestamp::now(), None))).into_response();
    };
    let lab = Arc::clone(&shared.lab);
    let (tenant_id, client_id) = (id.clone(), app.client_id.clone());
    let consented = tokio::task::spawn_blocking(move || lab.store.consent(&tenant_id, &client_id))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    if let Err(problem) = consented {
        tracing::error!(%problem, "lab: cannot record a consent");
        return (StatusCode::INTERNAL_SERVER_ERROR, problem).into_response();
    }
    match query.get("redirect_uri").and_then(|uri| url::Url::parse(uri).ok()) {
        Some(mut redirect) => {
            redirect.query_pairs_mut().append_pair("admin_consent", "True").append_pair("tenant", &id);
            if let Some(state) = query.get("state") {
                redirect.query_pairs_mut().append_pair("state", state);
            }
            axum::response::Redirect::to(redirect.as_str()).into_response()
        }
        None => format!("An admin of tenant {id} consented to app {}.\n", app.client_id).into_response(),
    }
}

/// The tenant's id as stored, or Entra's answer for a tenant it does not know.
fn known_tenant(lab: &Lab, tenant: &str) -> Result<String, Box<Response>> {
    match lab.store.tenant_id(tenant) {
        Some(id) => Ok(id.to_string()),
        None => {
            let failure = TokenFailure::unknown_tenant(tenant);
            let body = failure.body(jiff::Timestamp::now(), None);
            Err(Box::new((failure.status, axum::Json(body)).into_response()))
        }
    }
}

async fn discovery_v2(State(shared): State<Shared>, Path(tenant): Path<String>, headers: HeaderMap) -> Response {
    let base = request_base(&headers, shared.tls, &shared.own_host);
    match known_tenant(&shared.lab, &tenant) {
        Ok(id) => axum::Json(openid::discovery_v2(&base, &id)).into_response(),
        Err(refusal) => *refusal,
    }
}

async fn discovery_v1(State(shared): State<Shared>, Path(tenant): Path<String>, headers: HeaderMap) -> Response {
    let base = request_base(&headers, shared.tls, &shared.own_host);
    match known_tenant(&shared.lab, &tenant) {
        Ok(id) => axum::Json(openid::discovery_v1(&base, &id)).into_response(),
        Err(refusal) => *refusal,
    }
}

/// The signing keys: the same for every tenant, as Entra's are.
async fn keys(State(shared): State<Shared>, Path(tenant): Path<String>, headers: HeaderMap) -> Response {
    let base = request_base(&headers, shared.tls, &shared.own_host);
    let issuer = format!("{base}/{tenant}/v2.0");
    axum::Json(openid::keys(shared.lab.tokens.key().jwk(&issuer))).into_response()
}
