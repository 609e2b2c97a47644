//! `tenantctl plan` and `tenantctl drift`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::connect::{Connection, GraphArgs, connect, tenant_credentials};
use super::pipeline::{Prepared, narrow, observe_and_plan, prepare, runtime};
use super::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::engine::diff::PlanOptions;
use crate::engine::plan::Plan;
use crate::engine::resolve::DesiredState;
use crate::engine::rollout::{self, HealthCheck};
use crate::graph::client::GraphClient;
use crate::graph::health::read_health;
use crate::manifest::ManifestSet;
use crate::model::profile::Mode;
use crate::render::{self, Heading, Style};
use crate::util::fanout::for_each_tenant;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Colored on a terminal, plain when piped.
    #[default]
    Human,
    /// The stable JSON document (`formatVersion` 1).
    Json,
    /// For pull-request comments.
    Markdown,
}

/// Which manifests, and which of their tenants and profiles, a command works on.
#[derive(Debug, Args)]
pub struct Selection {
    /// Manifest file or directory (recursive); `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// Only this tenant (`metadata.name` or tenant ID). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub tenant: Vec<String>,
    /// Only the policies of this profile (pruning is off). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub profile: Vec<String>,
}

/// What a plan may do beyond the safe defaults.
#[derive(Debug, Args)]
pub struct PlanChoices {
    /// Take over an unmanaged policy whose display name is the desired one (refused when several are).
    #[arg(long)]
    pub adopt: bool,
    /// Allow deletes beyond a profile's `prune.maxDeletePercent`.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// Write revisions that `rollback` moved tenants off (they wait otherwise).
    #[arg(long)]
    pub roll_forward: bool,
}

impl PlanChoices {
    pub fn options(&self) -> PlanOptions {
        PlanOptions { adopt: self.adopt, allow_mass_delete: self.allow_mass_delete, roll_forward: self.roll_forward }
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Save the plan (with everything `apply` needs) to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// Exit 2 when there are changes (0: none, 1: error, 3: some tenants unknown).
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub choices: PlanChoices,
    #[command(flatten)]
    pub graph: GraphArgs,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// Send the NotificationPolicies of the manifests what changed since they last were told.
    #[arg(long)]
    pub notify: bool,
    /// Where `--notify` remembers what each policy was last told (keep it between runs, e.g. in a CI
    /// cache, or every run notifies again).
    #[arg(long, value_name = "DIR", default_value = ".tenantctl/notifications")]
    pub notify_state: PathBuf,
    #[command(flatten)]
    pub graph: GraphArgs,
}

pub fn plan(args: &PlanArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(plan) = make_plan(&args.selection, &args.graph, args.choices.options(), err)? else {
        return Ok(EXIT_ERROR);
    };
    if let Some(path) = &args.out {
        let text = serde_json::to_string_pretty(&plan)?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    render_plan(&plan, args.output, out)?;
    if let Some(path) = &args.out {
        writeln!(err, "Saved the plan to {}; apply it with `tenantctl apply {}`.", path.display(), path.display())?;
    }
    Ok(exit_code(&plan, args.detailed_exitcode))
}

/// `drift`: the plan as if every profile were in audit mode; exit 2 when any tenant drifted.
pub fn drift(args: &DriftArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some((mut plan, set)) = make_plan_and_set(&args.selection, &args.graph, PlanOptions::default(), err)? else {
        return Ok(EXIT_ERROR);
    };
    for change in plan.tenants.iter_mut().flat_map(|t| t.changes.iter_mut()) {
        change.mode = Mode::Audit;
    }
    let rollouts = std::mem::take(&mut plan.rollouts);
    let plan = Plan { rollouts, ..Plan::new(plan.tenants) };
    render_as(&plan, Heading::Drift, args.output, out)?;
    if args.notify {
        let findings = crate::notify::findings::from_plan(&plan, true);
        let incidents = if super::notify::wants_incidents(&set) {
            super::notify::read_incidents(&args.selection, &args.graph, err)?
        } else {
            Vec::new()
        };
        if !super::notify::notify_policies(&set, findings, &incidents, &args.notify_state, err)? {
            return Ok(EXIT_ERROR);
        }
    }
    Ok(exit_code(&plan, true))
}

pub fn make_plan(
    selection: &Selection,
    graph: &GraphArgs,
    options: PlanOptions,
    err: &mut dyn Write,
) -> anyhow::Result<Option<Plan>> {
    Ok(make_plan_and_set(selection, graph, options, err)?.map(|(plan, _)| plan))
}

/// The plan, and the manifests it was made from.
pub fn make_plan_and_set(
    selection: &Selection,
    graph: &GraphArgs,
    options: PlanOptions,
    err: &mut dyn Write,
) -> anyhow::Result<Option<(Plan, ManifestSet)>> {
    let Some(prepared) = prepare(&selection.paths, err)? else { return Ok(None) };
    runtime()?.block_on(async {
        let planned = plan_connected(prepared, selection, graph, options, err).await?;
        planned.connection.close().await;
        Ok(Some((planned.plan, planned.set)))
    })
}

/// A plan, the manifests it was made from, and the connection it was made through (still open, so
/// that apply writes through the same credentials and the same lab).
pub struct Planned {
    pub plan: Plan,
    pub set: ManifestSet,
    pub connection: Connection,
}

/// Narrows, connects (each tenant with its own credentials), observes and plans.
pub async fn plan_connected(
    mut prepared: Prepared,
    selection: &Selection,
    graph: &GraphArgs,
    options: PlanOptions,
    err: &mut dyn Write,
) -> anyhow::Result<Planned> {
    narrow(&mut prepared.desired, &selection.tenant, &selection.profile)?;
    // Only the tenants that will be read need credentials.
    let read: Vec<&str> =
        prepared.desired.tenants.iter().filter(|t| !t.suspended).map(|t| t.tenant_id.as_str()).collect();
    let mut tenants = tenant_credentials(&prepared.set);
    tenants.retain(|t| read.contains(&t.tenant_id));
    let connection = connect(graph, &tenants, prepared.lab_seed.as_deref()).await?;
    let cache = graph.cache.as_deref();
    match observe_and_plan(&connection.client, &prepared.desired, graph.concurrency, options, cache, err).await {
        Ok(mut plan) => {
            decide_rollouts(&connection.client, &prepared.desired, &mut plan, graph.concurrency).await?;
            note_approval_requests(&connection.client, &mut plan, graph.concurrency).await;
            Ok(Planned { plan, set: prepared.set, connection })
        }
        Err(error) => {
            connection.close().await;
            Err(error)
        }
    }
}

/// Decides how far each rollout goes in this run: reads the health of the tenants that got the
/// revision (only when a wave waits on them), then holds the changes of the waves that do not move.
pub async fn decide_rollouts(
    client: &GraphClient,
    desired: &DesiredState,
    plan: &mut Plan,
    concurrency: usize,
) -> anyhow::Result<()> {
    let staged = rollout::stage(desired, plan);
    if staged.is_empty() {
        return Ok(());
    }
    let now = crate::util::clock::now().map_err(anyhow::Error::msg)?;
    let checks: Vec<HealthCheck> = staged.iter().flat_map(|s| s.health_checks()).collect();
    let ids = desired.tenants.iter().map(|t| (t.name.clone(), t.tenant_id.clone())).collect();
    let health = read_health(client, checks, &ids, concurrency).await;
    let reports: Vec<_> = staged.iter().map(|s| s.decide(&health, now)).collect();
    rollout::hold(plan, &reports, desired);
    Ok(())
}

/// Reads, for every tenant the plan writes to, the approval requests tenantctl filed there and has
/// not carried out (Multi Admin Approval), so the plan says which writes wait for an approver. A
/// tenant whose requests cannot be read shows none: approvals are looked up again when applying.
async fn note_approval_requests(client: &GraphClient, plan: &mut Plan, concurrency: usize) {
    let writing: Vec<(usize, String)> = plan
        .tenants
        .iter()
        .enumerate()
        .filter(|(_, t)| t.writes().next().is_some())
        .map(|(index, t)| (index, t.tenant_id.clone()))
        .collect();
    let found = for_each_tenant(writing, concurrency, |(index, tenant_id)| async move {
        (index, client.tenant(&tenant_id).open_approval_requests().await)
    })
    .await;
    for (index, requests) in found {
        match requests {
            Ok(requests) => plan.tenants[index].approval_requests = requests,
            Err(error) => tracing::debug!(%error, "approval requests not read"),
        }
    }
}

pub fn render_plan(plan: &Plan, format: OutputFormat, out: &mut dyn Write) -> anyhow::Result<()> {
    render_as(plan, Heading::Plan, format, out)
}

pub fn render_as(plan: &Plan, heading: Heading, format: OutputFormat, out: &mut dyn Write) -> anyhow::Result<()> {
    match format {
        OutputFormat::Human => {
            let style = Style::for_output(std::io::stdout().is_terminal(), &|name| std::env::var(name).ok());
            render::human::render(plan, heading, style, out)?;
        }
        OutputFormat::Json => render::json::render(plan, out)?,
        OutputFormat::Markdown => render::markdown::render(plan, heading, out)?,
    }
    Ok(())
}

/// 1 when a tenant failed or none could be read, 3 when some are unknown, 2 for changes (when
/// asked), else 0.
pub fn exit_code(plan: &Plan, detailed: bool) -> u8 {
    if plan.summary.failed_tenants > 0 || plan.nothing_read() {
        EXIT_ERROR
    } else if plan.summary.unknown_tenants > 0 {
        EXIT_PARTIAL
    } else if detailed && plan.has_changes() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::{TenantPlan, TenantState};

    fn tenant(name: &str, state: TenantState) -> TenantPlan {
        TenantPlan::empty(name, &format!("id-{name}"), state)
    }

    #[test]
    fn no_tenant_read_is_an_error_and_some_unread_is_partial() {
        let all_unknown = Plan::new(vec![tenant("a", TenantState::Unknown), tenant("b", TenantState::Suspended)]);
        assert_eq!(exit_code(&all_unknown, false), EXIT_ERROR);
        let some_unknown = Plan::new(vec![tenant("a", TenantState::Unknown), tenant("b", TenantState::Planned)]);
        assert_eq!(exit_code(&some_unknown, true), EXIT_PARTIAL);
        let suspended_only = Plan::new(vec![tenant("a", TenantState::Suspended)]);
        assert_eq!(exit_code(&suspended_only, true), EXIT_OK, "nothing was to be read");
    }
}
