//! apply: carry out a plan's writes, tenant by tenant, through the [`TenantApi`]. Written once for
//! every managed family. Creates never duplicate: a create whose response was lost is looked for (by
//! its ownership marker) before it is tried again.

use std::collections::BTreeSet;

use super::access::needs_of_writes;
use super::api::{ApiError, Reply, TenantApi};
use super::diff::fingerprint;
use super::managed::{DefenderRoles, DetectionRules, Managed, Policies, Roles};
use super::once::create_once;
use super::plan::{Action, Change, Operation, Plan, TenantPlan, TenantState, Write};
use super::problem::{Category, Problem};
use crate::model::{Kind, ObjectRef};
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
    /// Writes held by the tenant's Multi Admin Approval, each about its object: a request waits for
    /// an approver, and a later apply carries the write out once it is approved.
    pub awaiting_approval: Vec<Problem>,
    /// Writes not started because the apply was interrupted.
    pub not_started: usize,
    /// Creates not made because the object appeared since the plan (another writer made it).
    pub created_elsewhere: Vec<ObjectRef>,
}

/// A request to stop starting writes, shared with whoever asks (a signal handler). Writes already
/// started finish, so that no object is left half-written (created but not assigned).
#[derive(Debug, Default)]
pub struct Interrupt(std::sync::atomic::AtomicBool);

impl Interrupt {
    pub fn request(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_requested(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
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

    /// Whether the write of `change` waits for an approver.
    pub fn held_for_approval(&self, change: &Change) -> Option<&Problem> {
        self.awaiting_approval.iter().find(|p| p.is_about(&change.object))
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
    interrupt: &Interrupt,
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
        let outcome = apply_interruptible(&api, tenant, check_stale, interrupt).await;
        on_done(&tenant.name);
        outcome
    })
    .await
}

/// Applies one tenant's writes, in plan order.
pub async fn apply_tenant<A: TenantApi>(api: &A, tenant: &TenantPlan, check_stale: bool) -> TenantOutcome {
    apply_interruptible(api, tenant, check_stale, &Interrupt::default()).await
}

/// Applies one tenant's writes, in plan order, until an interrupt is requested: from then on no
/// write is started.
pub async fn apply_interruptible<A: TenantApi>(
    api: &A,
    tenant: &TenantPlan,
    check_stale: bool,
    interrupt: &Interrupt,
) -> TenantOutcome {
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
    if let Some(refused) = tenant.problems.iter().find(|p| p.category == Category::MissingPermission) {
        outcome.errors.push(refused.clone());
        return outcome;
    }
    // A saved plan may have been made with other credentials, or grants may have been withdrawn since.
    match api.access().await.map(|access| access.refusal(&needs_of_writes(writes.iter().copied()))) {
        Ok(None) => {}
        Ok(Some(refusal)) => {
            outcome.errors.push(Problem::tenant(Category::MissingPermission, refusal.to_string()));
            return outcome;
        }
        Err(error) => {
            let message = format!("cannot get a token before writing, so nothing is written: {error}");
            outcome.errors.push(Problem::tenant(Category::Unreadable, message));
            return outcome;
        }
    }
    // The plan may be minutes old (a review, a prompt) and another writer may have run since: the
    // tenant is read again just before the writes, so that a saved plan that no longer matches is
    // refused, and a create that another writer has made meanwhile is not made twice.
    let creates: Vec<&Change> = writes.iter().copied().filter(|c| c.action() == Action::Create).collect();
    let policies = if check_stale || creates.iter().any(|c| c.object.kind.is_policy()) {
        match api.list_policies().await {
            Ok(live) => Some(live),
            Err(error) => {
                let message = format!("cannot read the tenant again before writing, so nothing is written: {error}");
                outcome.errors.push(Problem::tenant(Category::Unreadable, message));
                return outcome;
            }
        }
    } else {
        None
    };
    if check_stale && policies.as_deref().map(fingerprint) != tenant.fingerprint {
        outcome.stale = true;
        return outcome;
    }
    let mut present: BTreeSet<ObjectRef> = policies.iter().flatten().filter_map(Policies::owner).collect();
    let creates_of = |kind: Kind| creates.iter().any(|c| c.object.kind == kind);
    let others =
        owners_of(api, creates_of(Kind::IntuneRole), creates_of(Kind::DefenderRole), creates_of(Kind::DetectionRule))
            .await;
    match others {
        Ok(owners) => present.extend(owners),
        Err(error) => {
            let message = format!("cannot read the tenant again before writing, so nothing is written: {error}");
            outcome.errors.push(Problem::tenant(Category::Unreadable, message));
            return outcome;
        }
    }
    let total = writes.len();
    for (index, change) in writes.into_iter().enumerate() {
        if interrupt.is_requested() {
            outcome.not_started = total - index;
            break;
        }
        if change.action() == Action::Create && present.contains(&change.object) {
            outcome.created_elsewhere.push(change.object.clone());
            continue;
        }
        let result = match change.write() {
            Some(Write::ConfigurationPolicy(_)) => apply_change::<Policies, A>(api, change).await,
            Some(Write::IntuneRole(_)) => apply_change::<Roles, A>(api, change).await,
            Some(Write::DetectionRule(_)) => apply_change::<DetectionRules, A>(api, change).await,
            Some(Write::DefenderRole(_)) => apply_change::<DefenderRoles, A>(api, change).await,
            // A delete carries no payload: the family follows from the object's kind.
            None => match change.object.kind {
                Kind::IntuneRole => apply_change::<Roles, A>(api, change).await,
                Kind::DetectionRule => apply_change::<DetectionRules, A>(api, change).await,
                Kind::DefenderRole => apply_change::<DefenderRoles, A>(api, change).await,
                _ => apply_change::<Policies, A>(api, change).await,
            },
        };
        match result {
            Ok(()) => match change.action() {
                Action::Create => outcome.created += 1,
                Action::Update | Action::Adopt => outcome.updated += 1,
                Action::Delete => outcome.deleted += 1,
            },
            Err(error) if error.is_awaiting_approval() => outcome.awaiting_approval.push(Problem {
                category: Category::AwaitingApproval,
                object: Some(change.object.clone()),
                message: error.message,
                cause: None,
            }),
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

/// The owners of the tenant's roles and detection rules, for the families asked.
async fn owners_of<A: TenantApi>(api: &A, roles: bool, defender: bool, rules: bool) -> Reply<Vec<ObjectRef>> {
    let mut owners = Vec::new();
    if roles {
        owners.extend(Roles::list(api).await?.iter().filter_map(Roles::owner));
    }
    if defender {
        owners.extend(DefenderRoles::list(api).await?.iter().filter_map(DefenderRoles::owner));
    }
    if rules {
        owners.extend(DetectionRules::list(api).await?.iter().filter_map(DetectionRules::owner));
    }
    Ok(owners)
}

async fn apply_change<M: Managed, A: TenantApi>(api: &A, change: &Change) -> Reply<()> {
    let change = change.stamped();
    let change = change.as_ref();
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
