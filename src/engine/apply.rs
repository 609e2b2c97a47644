//! apply: carry out a plan's writes with bounded concurrency across tenants (the client paces each
//! tenant within its write budget). Creates never duplicate: a create whose response was lost is
//! looked for by its ownership marker before it is tried again.

use super::diff::fingerprint;
use super::ownership::split_marker;
use super::plan::{Action, Change, Plan, TenantPlan, TenantState};
use crate::graph::client::{GraphClient, GraphError, TenantClient, for_each_tenant};
use crate::graph::wire::{ConfigurationPolicy, PolicyAssignment};

/// How many times a create is attempted when its outcome stays unknown.
const CREATE_ATTEMPTS: usize = 3;

/// What happened in one tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantOutcome {
    pub name: String,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    /// The saved plan no longer matches the tenant: nothing was written.
    pub stale: bool,
    /// Not applied: unknown or suspended when planned.
    pub skipped: Option<String>,
    pub errors: Vec<String>,
}

impl TenantOutcome {
    pub fn writes(&self) -> usize {
        self.created + self.updated + self.deleted
    }
}

/// Applies every write of `plan`. With `check_stale` (saved plans), a tenant whose live state no
/// longer has the fingerprint recorded in the plan is refused and not written.
pub async fn apply(
    client: &GraphClient,
    plan: &Plan,
    concurrency: usize,
    check_stale: bool,
    on_done: &(dyn Fn(&str) + Sync),
) -> Vec<TenantOutcome> {
    let tenants: Vec<&TenantPlan> = plan.tenants.iter().collect();
    for_each_tenant(tenants, concurrency, |tenant| async move {
        let outcome = apply_tenant(client, tenant, check_stale).await;
        on_done(&tenant.name);
        outcome
    })
    .await
}

async fn apply_tenant(client: &GraphClient, tenant: &TenantPlan, check_stale: bool) -> TenantOutcome {
    let mut outcome = TenantOutcome { name: tenant.name.clone(), ..TenantOutcome::default() };
    match tenant.state {
        TenantState::Unknown => {
            outcome.skipped = Some("unknown when planned".into());
            return outcome;
        }
        TenantState::Suspended => {
            outcome.skipped = Some("suspended".into());
            return outcome;
        }
        TenantState::Planned | TenantState::Failed => {}
    }
    let writes: Vec<&Change> = tenant.changes.iter().filter(|c| c.is_write()).collect();
    if writes.is_empty() {
        return outcome;
    }
    let graph = client.tenant(&tenant.tenant_id);
    if check_stale {
        match graph.list_policies().await {
            Ok(live) if Some(fingerprint(&live)) == tenant.fingerprint => {}
            Ok(_) => {
                outcome.stale = true;
                return outcome;
            }
            Err(error) => {
                outcome.errors.push(format!("cannot check the saved plan against the tenant: {error}"));
                return outcome;
            }
        }
    }
    for change in writes {
        match apply_change(&graph, change).await {
            Ok(()) => match change.action {
                Action::Create => outcome.created += 1,
                Action::Update | Action::Adopt => outcome.updated += 1,
                Action::Delete => outcome.deleted += 1,
            },
            Err(error) => outcome.errors.push(format!("{}: {error}", change.policy)),
        }
    }
    outcome
}

async fn apply_change(graph: &TenantClient, change: &Change) -> Result<(), GraphError> {
    if let Some(role) = &change.role {
        return super::apply_roles::apply_role(graph, change, role).await;
    }
    let missing = |what: &str| GraphError::Config(format!("the plan has no {what} for {}", change.policy));
    match change.action {
        Action::Delete => {
            let id = change.policy_id.as_deref().ok_or_else(|| missing("policy id"))?;
            graph.delete_policy(id).await
        }
        Action::Create => {
            let payload = change.payload.as_ref().ok_or_else(|| missing("payload"))?;
            let created = create_once(graph, payload, &change.policy).await?;
            let id = created.id.ok_or_else(|| missing("id in the create response"))?;
            assign(graph, &id, change).await
        }
        Action::Update | Action::Adopt => {
            let id = change.policy_id.as_deref().ok_or_else(|| missing("policy id"))?;
            let payload = change.payload.as_ref().ok_or_else(|| missing("payload"))?;
            if change.action == Action::Adopt || change.fields.iter().any(|f| f != "assignments") {
                graph.update_policy(id, payload).await?;
            }
            if change.action == Action::Adopt || change.fields.iter().any(|f| f == "assignments") {
                assign(graph, id, change).await?;
            }
            Ok(())
        }
    }
}

async fn assign(graph: &TenantClient, id: &str, change: &Change) -> Result<(), GraphError> {
    let targets = change.targets.clone().unwrap_or_default();
    if targets.is_empty() && change.action == Action::Create {
        return Ok(());
    }
    let assignments = targets.into_iter().map(|target| PolicyAssignment { id: None, target }).collect();
    graph.assign(id, assignments).await.map(|_| ())
}

/// Creates a policy exactly once. When the outcome of a create is unknown (the response was lost),
/// the tenant is read again and the policy looked for by its marker before another attempt.
async fn create_once(
    graph: &TenantClient,
    payload: &ConfigurationPolicy,
    reference: &str,
) -> Result<ConfigurationPolicy, GraphError> {
    let mut last_error = None;
    for _ in 0..CREATE_ATTEMPTS {
        match graph.create_policy(payload).await {
            Ok(created) => return Ok(created),
            Err(error) if error.is_ambiguous() => {
                let live = graph.list_policies().await?;
                let mut found: Vec<ConfigurationPolicy> = live
                    .into_iter()
                    .filter(|p| split_marker(&p.description).1.is_some_and(|r| r.to_string() == reference))
                    .collect();
                found.sort_by(|a, b| (&a.created_date_time, &a.id).cmp(&(&b.created_date_time, &b.id)));
                if let Some(existing) = found.into_iter().next() {
                    return Ok(existing);
                }
                last_error = Some(error);
            }
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| GraphError::Config(format!("could not create {reference}"))))
}
