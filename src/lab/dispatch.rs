//! One Graph request, whether it came over HTTP or inside a `$batch`: routing, the caller's token,
//! the write budget, query options, then the endpoint. Synchronous: it runs on a blocking thread
//! because writes wait for the disk.

use std::time::Instant;

use axum::http::StatusCode;

use super::call::Call;
use super::context::Lab;
use super::odata::parse_query;
use super::rbac;
use super::reply::{Reply, RequestContext, too_many_requests};
use super::route::{GraphRequest, Route};
use super::store::TenantData;
use super::tokens::{Grant, TokenProblem};
use super::{
    absent, approval, batch, catalog, defender_rbac, detections, incidents, licences, permissions, policies,
    policy_settings, tenant_api,
};

/// The caller behind a bearer token, or Graph's 401.
pub fn authenticate(lab: &Lab, authorization: Option<&str>, context: &RequestContext) -> Result<Grant, Reply> {
    let token = authorization
        .and_then(|h| h.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    let problem = match token.map(|t| lab.tokens.check(t, std::time::SystemTime::now())) {
        Some(Ok(grant)) => return Ok(grant),
        None => "Access token is empty.",
        Some(Err(TokenProblem::Unknown)) => "Invalid JWT token. The token is not recognized.",
        Some(Err(TokenProblem::Expired)) => "Lifetime validation failed, the token is expired.",
    };
    Err(Reply::error(context, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", problem).challenge(context))
}

/// Handles an authenticated request (not the faults and failing tenants the HTTP layer decides).
pub fn handle(lab: &Lab, grant: &Grant, request: &GraphRequest, context: &RequestContext) -> Reply {
    let config = lab.config();
    let route = match Route::of(&request.version, &request.segments) {
        Ok(route) => route,
        Err(segment) => {
            let message = format!("Resource not found for the segment '{segment}'.");
            return Reply::error(context, StatusCode::BAD_REQUEST, "BadRequest", &message);
        }
    };
    if !route.allows(&request.method) {
        let message = format!("The HTTP method '{}' is not allowed for this resource.", request.method);
        return Reply::error(context, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", &message);
    }
    let path = format!("/{}", request.segments.join("/"));
    if let Some(forbidden) = permissions::refusal(&route, &request.method, &grant.roles, context, &path) {
        return forbidden;
    }
    if let (true, Some(budget)) = (route.is_policy_write(&request.method), config.write_budget)
        && let Err(throttled) =
            lab.budgets.admit(&grant.tenant, &grant.client_id, budget, config.retry_after, Instant::now())
    {
        return too_many_requests(context, throttled.retry_after);
    }
    if route == Route::DetectionRules
        && request.method == axum::http::Method::POST
        && let Some(budget) = config.detection_create_budget
        && let Err(throttled) =
            lab.detection_creates.admit(&grant.tenant, &grant.client_id, budget, config.retry_after, Instant::now())
    {
        return too_many_requests(context, throttled.retry_after);
    }
    let mut query = match parse_query(request.query.as_deref()).and_then(|q| q.check(route.supported()).map(|()| q)) {
        Ok(query) => query,
        Err(error) => return Reply::error(context, StatusCode::BAD_REQUEST, "BadRequest", &error.0),
    };
    if route == Route::Batch {
        return batch::run(lab, grant, request, context, handle);
    }
    if is_directory(&route) && !request.eventual {
        if matches!(route, Route::Count(_)) {
            return Reply::error(
                context,
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                "$count is not currently supported.",
            );
        }
        // Entra answers `$count=true` without `ConsistencyLevel: eventual` as if it had not been asked.
        query.count = false;
    }
    if matches!(route, Route::Organization | Route::SubscribedSkus) {
        let call = Call {
            request,
            query: &query,
            context,
            page_size: config.page_size,
            max_top: config.max_top,
            expanded_page_size: None,
        };
        return about_the_tenant(lab, grant, &route, &call, config.withheld_from(&grant.tenant));
    }
    let mut tenant = match lab.store.tenant(&grant.tenant) {
        Ok(Some(tenant)) => tenant,
        Ok(None) => {
            return Reply::error(context, StatusCode::NOT_FOUND, "ResourceNotFound", "The tenant does not exist.");
        }
        Err(error) => {
            tracing::error!(%error, "lab: cannot load a tenant");
            let message = format!("The lab could not load the tenant: {error}");
            return Reply::error(context, StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", &message);
        }
    };
    let page_size = config.page_size;
    let call = Call {
        request,
        query: &query,
        context,
        page_size,
        max_top: config.max_top,
        expanded_page_size: config.expanded_page_size,
    };
    let approved = if config.requires_approval(&grant.tenant) && route.is_approval_protected(&request.method) {
        match approval::gate(&mut tenant, grant, request, context) {
            approval::Gate::Refused(reply) => return reply,
            approval::Gate::Proceed(approved) => approved,
        }
    } else {
        None
    };
    let reply = route_call(&mut tenant, route, &call);
    if let Some(id) = approved.filter(|_| reply.status.is_success()) {
        approval::complete(&mut tenant, &id, context);
    }
    reply
}

/// `organization` and `subscribedSkus`, from the tenant's directory entry.
fn about_the_tenant(lab: &Lab, grant: &Grant, route: &Route, call: &Call, withheld: &[String]) -> Reply {
    let Some(directory) = lab.store.directory(&grant.tenant) else {
        return Reply::error(call.context, StatusCode::NOT_FOUND, "ResourceNotFound", "The tenant does not exist.");
    };
    match route {
        Route::Organization => {
            call.list_page("organization", vec![licences::organization(&grant.tenant, &directory.display_name)])
        }
        _ => call.list_page("subscribedSkus", licences::subscribed_skus(&grant.tenant, &directory.licenses, withheld)),
    }
}

/// The endpoint of a route.
fn route_call(tenant: &mut TenantData, route: Route, call: &Call) -> Reply {
    match route {
        Route::ApprovalRequests | Route::ApprovalRequest(_) => approval::handle(tenant, &route, call),
        Route::Groups => tenant_api::groups(tenant, call),
        Route::Group(id) => tenant_api::group(tenant, &id, call),
        Route::Incidents => tenant_api::incidents(tenant, call),
        Route::Incident(id) if call.request.method == axum::http::Method::PATCH => incidents::update(tenant, &id, call),
        Route::Incident(id) => tenant_api::incident(tenant, &id, call),
        Route::IncidentComments(id) => incidents::comment(tenant, &id, call),
        Route::Alerts => tenant_api::alerts(tenant, call),
        Route::ManagedDevices => {
            call.collection_page("deviceManagement/managedDevices", &tenant.managed_devices, |d| {
                serde_json::Value::Object(d.clone())
            })
        }
        Route::RiskyUsers => call.collection_page("identityProtection/riskyUsers", &tenant.risky_users, |u| {
            serde_json::Value::Object(u.clone())
        }),
        Route::Alert(id) => tenant_api::alert(tenant, &id, call),
        Route::HuntingQuery => tenant_api::hunting_query(tenant, call),
        route @ (Route::DetectionRules | Route::DetectionRule(_)) => detections::handle(tenant, &route, call),
        route @ (Route::DefenderRoleDefinitions
        | Route::DefenderRoleDefinition(_)
        | Route::DefenderRoleAssignments
        | Route::DefenderRoleAssignment(_)
        | Route::DefenderNamespaces) => defender_rbac::handle(tenant, &route, call),
        Route::Templates | Route::Template(_) | Route::TemplateSettings(_) => catalog::handle(&route, call),
        Route::Count(inner) => count(tenant, &inner, call),
        Route::RoleScopeTags => absent::role_scope_tags(call),
        Route::RoleScopeTag(id) => absent::role_scope_tag(&id, call),
        Route::RoleScopeTagAssignments(id) => absent::role_scope_tag_assignments(&id, call),
        Route::Absent(index) => absent::handle(tenant, index, call),
        route @ (Route::PolicySettings(_) | Route::PolicySetting(..)) => policy_settings::handle(tenant, &route, call),
        route @ (Route::RoleDefinitions
        | Route::RoleDefinition(_)
        | Route::RoleAssignments
        | Route::RoleAssignment(_)) => rbac::handle(tenant, &route, call),
        route => policies::handle(tenant, &route, call),
    }
}

/// Entra's directory objects, whose advanced queries need `ConsistencyLevel: eventual`.
fn is_directory(route: &Route) -> bool {
    match route {
        Route::Groups | Route::Group(_) => true,
        Route::Count(inner) => is_directory(inner),
        _ => false,
    }
}

/// `/$count` of a collection: the number of its objects that match `$filter`.
fn count(tenant: &TenantData, collection: &Route, call: &Call) -> Reply {
    match collection {
        Route::Policies => call.count(&tenant.policies),
        Route::Groups => call.count(&tenant.groups),
        Route::Incidents => call.count(&tenant.incidents),
        Route::Alerts => call.count(&tenant.alerts),
        Route::ManagedDevices => call.count(&tenant.managed_devices),
        Route::RiskyUsers => call.count(&tenant.risky_users),
        Route::Templates => catalog::count(call),
        Route::Absent(_) => Reply::plain("0".into()),
        Route::RoleScopeTags => Reply::plain("1".into()),
        Route::ApprovalRequests => call.count(&tenant.approval_requests),
        Route::DetectionRules => call.count(&tenant.detection_rules),
        Route::DefenderRoleDefinitions => call.count(&tenant.defender_role_definitions),
        Route::DefenderRoleAssignments => call.count(&tenant.defender_role_assignments),
        Route::Organization => Reply::plain("1".into()),
        _ => call.bad_request("$count is not supported on this resource."),
    }
}
