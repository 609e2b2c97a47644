//! apply: carry out a plan's writes, tenant by tenant, through the [`TenantApi`]. Written once for
//! every managed family. Creates never duplicate: a create whose response was lost is looked for (by
//! its ownership marker) before it is tried again.

use super::api::{ApiError, Reply, TenantApi};
use super::diff::fingerprint;
use super::managed::{Managed, Policies, Roles};
use super::once::create_once;
use super::plan::{Action, Change, Operation, Plan, TenantPlan, TenantState, Write};
use super::problem::{Category, Problem};
use crate::util::fanout::for_each_tenant;

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
    pub skipped: Option<Skipped>,
    /// Writes that failed, each about its object.
    pub errors: Vec<Problem>,
}

/// Why a tenant was not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skipped {
    UnknownWhenPlanned,
    Suspended,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Skipped::UnknownWhenPlanned => "unknown when planned",
            Skipped::Suspended => "suspended",
        })
    }
}

impl TenantOutcome {
    pub fn writes(&self) -> usize {
        self.created + self.updated + self.deleted
    }

    /// Whether the write of `change` failed.
    pub fn failure_of(&self, change: &Change) -> Option<&Problem> {
        self.errors.iter().find(|p| p.is_about(&change.object))
    }
}

/// Applies every write of `plan`, at most `concurrency` tenants at once, each through the API
/// `connect` gives for it. With `check_stale` (saved plans), a tenant whose live state no longer has
/// the fingerprint recorded in the plan is refused and not written.
pub async fn apply<A, C>(
    connect: C,
    plan: &Plan,
    concurrency: usize,
    check_stale: bool,
    on_done: &(dyn Fn(&str) + Sync),
) -> Vec<TenantOutcome>
where
    A: TenantApi,
    C: Fn(&TenantPlan) -> A,
{
    let tenants: Vec<&TenantPlan> = plan.tenants.iter().collect();
    let connect = &connect;
    for_each_tenant(tenants, concurrency, |tenant| async move {
        let api = connect(tenant);
        let outcome = apply_tenant(&api, tenant, check_stale).await;
        on_done(&tenant.name);
        outcome
    })
    .await
}

/// Applies one tenant's writes, in plan order.
pub async fn apply_tenant<A: TenantApi>(api: &A, tenant: &TenantPlan, check_stale: bool) -> TenantOutcome {
    let mut outcome = TenantOutcome { name: tenant.name.clone(), ..TenantOutcome::default() };
    match tenant.state {
        TenantState::Unknown => {
            outcome.skipped = Some(Skipped::UnknownWhenPlanned);
            return outcome;
        }
        TenantState::Suspended => {
            outcome.skipped = Some(Skipped::Suspended);
            return outcome;
        }
        TenantState::Planned | TenantState::Failed => {}
    }
    let writes: Vec<&Change> = tenant.writes().collect();
    if writes.is_empty() {
        return outcome;
    }
    if check_stale {
        match api.list_policies().await {
            Ok(live) if Some(fingerprint(&live)) == tenant.fingerprint => {}
            Ok(_) => {
                outcome.stale = true;
                return outcome;
            }
            Err(error) => {
                let message = format!("cannot check the saved plan against the tenant: {error}");
                outcome.errors.push(Problem::tenant(Category::Stale, message));
                return outcome;
            }
        }
    }
    for change in writes {
        let result = match change.write() {
            Some(Write::ConfigurationPolicy(_)) => apply_change::<Policies, A>(api, change).await,
            Some(Write::IntuneRole(_)) => apply_change::<Roles, A>(api, change).await,
            // A delete carries no payload: the family follows from the object's kind.
            None if change.object.kind.is_policy() => apply_change::<Policies, A>(api, change).await,
            None => apply_change::<Roles, A>(api, change).await,
        };
        match result {
            Ok(()) => match change.action() {
                Action::Create => outcome.created += 1,
                Action::Update | Action::Adopt => outcome.updated += 1,
                Action::Delete => outcome.deleted += 1,
            },
            Err(error) => outcome.errors.push(Problem {
                category: Category::WriteFailed,
                object: Some(change.object.clone()),
                message: error.message,
                cause: Some(error.category.to_string()),
            }),
        }
    }
    outcome
}

async fn apply_change<M: Managed, A: TenantApi>(api: &A, change: &Change) -> Reply<()> {
    let payload = || {
        change.write().and_then(M::from_write).ok_or_else(|| {
            ApiError::new("plan", format!("the plan has no payload for {} (was it saved without one?)", change.object))
        })
    };
    match &change.operation {
        Operation::Delete { id, .. } => M::delete(api, id).await,
        Operation::Create { .. } => {
            let payload = payload()?;
            let object = &change.object;
            let lookup = || async {
                let live = M::list(api).await?;
                let mut found: Vec<M::Live> =
                    live.into_iter().filter(|o| M::owner(o).as_ref() == Some(object)).collect();
                found.sort_by(|a, b| (M::created(a), M::id(a)).cmp(&(M::created(b), M::id(b))));
                Ok(found.into_iter().next())
            };
            let created = create_once(|| M::create(api, payload), lookup).await?;
            let id = M::id(&created)
                .ok_or_else(|| ApiError::new("decode", format!("the create of {object} answered no id")))?
                .to_string();
            M::complete(api, &id, payload).await
        }
        Operation::Update(update) => M::update(api, &update.id, payload()?, &update.fields).await,
        Operation::Adopt(update) => M::update(api, &update.id, payload()?, M::FIELDS).await,
    }
}
