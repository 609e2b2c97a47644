//! `tenantctl plan` and `tenantctl drift`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::connect::{Connection, GraphArgs, connect, tenant_credentials};
use super::pipeline::{Prepared, Reading, narrow, observe_into_spool, prepare, runtime};
use super::plan_spool::SpooledPlan;
use super::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::engine::diff::PlanOptions;
use crate::engine::plan::{FORMAT_VERSION, Plan, Summary, TenantPlan};
use crate::engine::resolve::DesiredState;
use crate::engine::rollout::{self, HealthCheck};
use crate::graph::client::GraphClient;
use crate::graph::health::read_health;
use crate::manifest::ManifestSet;
use crate::model::profile::Mode;
use crate::render::{self, Heading, PlanWriter, Style};
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
    let Some((plan, _)) = make_plan_and_set(&args.selection, &args.graph, args.choices.options(), err)? else {
        return Ok(EXIT_ERROR);
    };
    if let Some(path) = &args.out {
        save_plan(&plan, path)?;
    }
    render_spooled(&plan, Heading::Plan, args.output, out)?;
    if let Some(path) = &args.out {
        writeln!(err, "Saved the plan to {}; apply it with `tenantctl apply {}`.", path.display(), path.display())?;
    }
    Ok(exit_code_of(plan.summary(), plan.nothing_read(), args.detailed_exitcode))
}

/// A saved plan: the JSON document with what apply sends, written one tenant at a time.
fn save_plan(plan: &SpooledPlan, path: &std::path::Path) -> anyhow::Result<()> {
    let cannot = || format!("cannot write {}", path.display());
    let file = std::fs::File::create(path).with_context(cannot)?;
    let mut file = std::io::BufWriter::new(file);
    let mut writer =
        render::json::JsonWriter::new(&mut file, FORMAT_VERSION, plan.summary(), true).with_context(cannot)?;
    plan.each(|tenant| writer.tenant(&tenant)).with_context(cannot)?;
    writer.finish(plan.summary(), plan.rollouts()).with_context(cannot)?;
    file.flush().with_context(cannot)?;
    Ok(())
}

/// Every change of a drift report is reported, none written.
fn as_audit(tenant: &mut TenantPlan) {
    for change in &mut tenant.changes {
        change.mode = Mode::Audit;
    }
}

/// `drift`: the plan as if every profile were in audit mode; exit 2 when any tenant drifted.
pub fn drift(args: &DriftArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some((mut plan, set)) = make_plan_and_set(&args.selection, &args.graph, PlanOptions::default(), err)? else {
        return Ok(EXIT_ERROR);
    };
    plan.adjust(as_audit).context("cannot read the plan back from its temporary file")?;
    render_spooled(&plan, Heading::Drift, args.output, out)?;
    if args.notify {
        let mut findings = Vec::new();
        plan.each(|tenant| {
            findings.extend(crate::notify::findings::from_tenant(&tenant, true));
            Ok(())
        })?;
        findings.extend(crate::notify::findings::from_rollouts(plan.rollouts()));
        let incidents = if super::notify::wants_incidents(&set) {
            super::notify::read_incidents(&args.selection, &args.graph, err)?
        } else {
            Vec::new()
        };
        if !super::notify::notify_policies(&set, findings, &incidents, &args.notify_state, err)? {
            return Ok(EXIT_ERROR);
        }
    }
    Ok(exit_code_of(plan.summary(), plan.nothing_read(), true))
}

/// The plan, and the manifests it was made from.
pub fn make_plan_and_set(
    selection: &Selection,
    graph: &GraphArgs,
    options: PlanOptions,
    err: &mut dyn Write,
) -> anyhow::Result<Option<(SpooledPlan, ManifestSet)>> {
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
    pub plan: SpooledPlan,
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
    let planned = async {
        let reading = Reading {
            client: &connection.client,
            desired: &prepared.desired,
            concurrency: graph.concurrency,
            options,
            cache,
        };
        let spool = observe_into_spool(reading, err).await?;
        let mut plan = SpooledPlan::new(spool);
        decide_rollouts(&connection.client, &prepared.desired, &mut plan, graph.concurrency).await?;
        note_approval_requests(&connection.client, &mut plan, graph.concurrency).await;
        anyhow::Ok(plan)
    };
    match planned.await {
        Ok(plan) => Ok(Planned { plan, set: prepared.set, connection }),
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
    plan: &mut SpooledPlan,
    concurrency: usize,
) -> anyhow::Result<()> {
    let staged = rollout::stage_by(desired, |tenant, profile| plan.standing(tenant, profile));
    if staged.is_empty() {
        return Ok(());
    }
    let now = crate::util::clock::now().map_err(anyhow::Error::msg)?;
    let checks: Vec<HealthCheck> = staged.iter().flat_map(|s| s.health_checks()).collect();
    let ids = desired.tenants.iter().map(|t| (t.name.clone(), t.tenant_id.clone())).collect();
    let health = read_health(client, checks, &ids, concurrency).await;
    let reports: Vec<_> = staged.iter().map(|s| s.decide(&health, now)).collect();
    let held_in = desired.tenants.iter().map(|t| (t.name.clone(), t.namespace.clone())).collect();
    plan.hold(reports, held_in).context("cannot read the plan back from its temporary file")?;
    Ok(())
}

/// Reads, for every tenant the plan writes to, the approval requests tenantctl filed there and has
/// not carried out (Multi Admin Approval), so the plan says which writes wait for an approver. A
/// tenant whose requests cannot be read shows none: approvals are looked up again when applying.
async fn note_approval_requests(client: &GraphClient, plan: &mut SpooledPlan, concurrency: usize) {
    let writing: Vec<(String, String)> = plan.writers().to_vec();
    let found = for_each_tenant(writing, concurrency, |(name, tenant_id)| async move {
        (name, client.tenant(&tenant_id).open_approval_requests().await)
    })
    .await;
    let mut approvals = std::collections::HashMap::new();
    for (name, requests) in found {
        match requests {
            Ok(requests) if !requests.is_empty() => {
                approvals.insert(name, requests);
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "approval requests not read"),
        }
    }
    plan.note_approvals(approvals);
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

/// A spooled plan's view, written one tenant at a time.
pub fn render_spooled(
    plan: &SpooledPlan,
    heading: Heading,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut writer: Box<dyn PlanWriter + '_> = match format {
        OutputFormat::Human => {
            let style = Style::for_output(std::io::stdout().is_terminal(), &|name| std::env::var(name).ok());
            Box::new(render::human::HumanWriter::new(heading, style, out))
        }
        OutputFormat::Json => Box::new(render::json::JsonWriter::new(out, FORMAT_VERSION, plan.summary(), false)?),
        OutputFormat::Markdown => Box::new(render::markdown::MarkdownWriter::new(heading, out)),
    };
    plan.each(|tenant| writer.tenant(&tenant))?;
    writer.finish(plan.summary(), plan.rollouts())?;
    Ok(())
}

/// 1 when a tenant failed or none could be read, 3 when some are unknown, 2 for changes (when
/// asked), else 0.
pub fn exit_code_of(summary: &Summary, nothing_read: bool, detailed: bool) -> u8 {
    if summary.failed_tenants > 0 || nothing_read {
        EXIT_ERROR
    } else if summary.unknown_tenants > 0 {
        EXIT_PARTIAL
    } else if detailed && summary.has_changes() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::{TenantPlan, TenantState};

    fn exit_code(plan: &Plan, detailed: bool) -> u8 {
        exit_code_of(&plan.summary, plan.nothing_read(), detailed)
    }

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
