//! `tenantctl apply -f PATH…` and `tenantctl apply plan.json`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use super::apply_report::ApplyReport;
use super::connect::{GraphArgs, TenantCredentials, connect};
use super::pipeline::{prepare, progress, runtime};
use super::plan::{OutputFormat, PlanChoices, Selection, plan_connected, render_spooled};
use super::plan_spool::SpooledPlan;
use super::saved_plan::read_saved_plan;
use super::{EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL};
use crate::engine::apply::{Interrupt, TenantOutcome, apply, apply_interruptible};
use crate::engine::plan::{Plan, Summary, TenantPlan};
use crate::graph::client::GraphClient;
use crate::render::Heading;
use crate::util::fanout::for_each_tenant;
use crate::util::plural;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `plan --out`: applied exactly, and refused for tenants that changed since.
    #[arg(value_name = "PLAN", conflicts_with_all = ["paths", "tenant", "profile", "adopt", "allow_mass_delete"])]
    pub plan_file: Option<PathBuf>,
    /// Manifest file or directory (recursive); `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required_unless_present = "plan_file")]
    pub paths: Vec<String>,
    /// Only this tenant (`metadata.name` or tenant ID). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub tenant: Vec<String>,
    /// Only the policies of this profile (pruning is off). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub profile: Vec<String>,
    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// What is printed: the plan and a line per tenant, or (with --auto-approve or a saved plan) one
    /// JSON document of what was done.
    #[arg(long, short = 'o', value_enum, default_value_t = ApplyOutput::Human)]
    pub output: ApplyOutput,
    #[command(flatten)]
    pub choices: PlanChoices,
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// What `apply` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyOutput {
    #[default]
    Human,
    /// One JSON document (`formatVersion` 1): the verdict, totals, and per tenant what was done.
    Json,
}

pub fn run(args: &ApplyArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    if args.output == ApplyOutput::Json && args.plan_file.is_none() && !args.auto_approve {
        bail!("-o json prints no plan and asks nothing: pass --auto-approve, or apply a saved plan");
    }
    match &args.plan_file {
        Some(path) => apply_saved(args, &read_saved_plan(path)?, out),
        None => apply_manifests(args, out, err),
    }
}

/// Plans and applies through one connection: every tenant is written with the credentials it was
/// read with, and `--lab` serves both from one lab.
fn apply_manifests(args: &ApplyArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(prepared) = prepare(&args.paths, err)? else { return Ok(EXIT_ERROR) };
    let selection = Selection { paths: args.paths.clone(), tenant: args.tenant.clone(), profile: args.profile.clone() };
    runtime()?.block_on(async {
        let planned = plan_connected(prepared, &selection, &args.graph, args.choices.options(), err).await?;
        let plan = &planned.plan;
        if args.output == ApplyOutput::Human {
            render_spooled(plan, Heading::Plan, OutputFormat::Human, out)?;
        }
        let writers = plan.writers().len();
        let result = match nothing_to_apply_of(plan.summary(), plan.nothing_read(), args.output, out)? {
            Some(code) => Ok(code),
            None if !args.auto_approve
                && !tokio::task::block_in_place(|| confirm_of(plan.summary(), writers, err))? =>
            {
                writeln!(out, "Apply cancelled; nothing was written.")?;
                Ok(EXIT_ERROR)
            }
            None => {
                let applied = apply_spooled(&planned.connection.client, plan, args.graph.concurrency, false).await?;
                report(&applied, args.output, out)
            }
        };
        planned.connection.close().await;
        result
    })
}

/// A saved plan was reviewed when it was made (as with Terraform): it applies without a prompt, each
/// tenant with the credentials the plan recorded for it, and refused for a tenant that moved since.
fn apply_saved(args: &ApplyArgs, plan: &SpooledPlan, out: &mut dyn Write) -> anyhow::Result<u8> {
    if let Some(code) = nothing_to_apply_of(plan.summary(), plan.nothing_read(), args.output, out)? {
        return Ok(code);
    }
    runtime()?.block_on(async {
        // Only the tenants that will be written need credentials.
        let tenants: Vec<TenantCredentials> = plan
            .writers()
            .iter()
            .map(|(name, tenant_id)| TenantCredentials { name, tenant_id, credentials: plan.credentials(name) })
            .collect();
        let connection = connect(&args.graph, &tenants, None).await?;
        let applied = apply_spooled(&connection.client, plan, args.graph.concurrency, true).await;
        connection.close().await;
        report(&applied?, args.output, out)
    })
}

/// The exit code when the plan writes nothing: a tenant whose plan failed (a refused mass delete, a
/// missing group) is an error even when nothing else is to be written.
pub(super) fn nothing_to_apply(plan: &Plan, output: ApplyOutput, out: &mut dyn Write) -> anyhow::Result<Option<u8>> {
    nothing_to_apply_of(&plan.summary, plan.nothing_read(), output, out)
}

/// [`nothing_to_apply`] from a plan's totals.
fn nothing_to_apply_of(
    summary: &Summary,
    nothing_read: bool,
    output: ApplyOutput,
    out: &mut dyn Write,
) -> anyhow::Result<Option<u8>> {
    if summary.create + summary.update + summary.delete > 0 {
        return Ok(None);
    }
    match output {
        ApplyOutput::Human => writeln!(out, "Nothing to apply.")?,
        ApplyOutput::Json => {
            let outcomes: Vec<TenantOutcome> = Vec::new();
            ApplyReport::new(&outcomes, false).render_json(out)?;
        }
    }
    Ok(Some(if summary.failed_tenants > 0 || nothing_read {
        EXIT_ERROR
    } else if summary.unknown_tenants > 0 {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    }))
}

/// Applies a spooled plan, each tenant read back from the spool when its turn comes; a saved plan
/// (`check_stale`) is refused for each tenant whose live state moved since it was made.
async fn apply_spooled(
    client: &GraphClient,
    plan: &SpooledPlan,
    concurrency: usize,
    check_stale: bool,
) -> anyhow::Result<Applied> {
    let plan_id = plan.id().context("cannot read the plan back from its temporary file")?;
    let names = plan.names();
    let (bar, interrupt, signals) = interruptible(names.len());
    let (bar_ref, interrupt_ref) = (&bar, &interrupt);
    let outcomes = for_each_tenant(names, concurrency, |name| {
        let plan_id = plan_id.as_str();
        async move {
            let tenant = plan.tenant(&name)?;
            let reason = format!("tenantctl apply of plan {plan_id} to {} ({})", tenant.name, tenant.tenant_id);
            let api = client.tenant(&tenant.tenant_id).requesting_approval(reason);
            let outcome = apply_interruptible(&api, &tenant, check_stale, interrupt_ref).await;
            bar_ref.inc(1);
            std::io::Result::Ok(outcome)
        }
    })
    .await;
    signals.abort();
    bar.finish_and_clear();
    let outcomes = outcomes
        .into_iter()
        .collect::<std::io::Result<Vec<_>>>()
        .context("cannot read the plan back from its temporary file")?;
    Ok(Applied { outcomes, interrupted: interrupt.is_requested() })
}

/// A progress bar, and the signal handler that turns Ctrl-C into an interrupt.
fn interruptible(tenants: usize) -> (indicatif::ProgressBar, Arc<Interrupt>, tokio::task::JoinHandle<()>) {
    let bar = progress(tenants as u64, "Applying");
    let interrupt = Arc::new(Interrupt::default());
    let signals = tokio::spawn(interrupt_on_signals(interrupt.clone(), bar.clone()));
    (bar, interrupt, signals)
}

pub(super) async fn apply_with(client: &GraphClient, plan: &Plan, concurrency: usize, saved: bool) -> Applied {
    let (bar, interrupt, signals) = interruptible(plan.tenants.len());
    let plan_id = plan.id();
    let connect = |tenant: &TenantPlan| {
        let reason = format!("tenantctl apply of plan {plan_id} to {} ({})", tenant.name, tenant.tenant_id);
        client.tenant(&tenant.tenant_id).requesting_approval(reason)
    };
    let outcomes = apply(connect, plan, concurrency, saved, &interrupt, &|_| bar.inc(1)).await;
    signals.abort();
    bar.finish_and_clear();
    Applied { outcomes, interrupted: interrupt.is_requested() }
}

/// What an apply did, and whether it was interrupted.
pub(super) struct Applied {
    outcomes: Vec<TenantOutcome>,
    interrupted: bool,
}

/// The first Ctrl-C (or SIGTERM) stops new writes and lets those in flight finish; the second aborts.
async fn interrupt_on_signals(interrupt: Arc<Interrupt>, bar: indicatif::ProgressBar) {
    let Ok(mut terminate) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
        return;
    };
    let mut signals = 0;
    loop {
        tokio::select! {
            result = tokio::signal::ctrl_c() => if result.is_err() { return },
            _ = terminate.recv() => {}
        }
        signals += 1;
        if signals == 1 {
            interrupt.request();
            bar.suspend(|| {
                eprintln!("Interrupted: finishing the writes in flight, starting no new ones (again to abort).");
            });
        } else {
            bar.finish_and_clear();
            eprintln!("Aborted: writes in flight may or may not have been made; run apply again to converge.");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    }
}

pub(super) fn confirm(plan: &Plan, err: &mut dyn Write) -> anyhow::Result<bool> {
    let tenants = plan.tenants.iter().filter(|t| t.writes().next().is_some()).count();
    confirm_of(&plan.summary, tenants, err)
}

/// [`confirm`] from a plan's totals and the number of tenants it writes to.
fn confirm_of(summary: &Summary, tenants: usize, err: &mut dyn Write) -> anyhow::Result<bool> {
    let writes = summary.create + summary.update + summary.delete;
    let question = format!("\nApply {} to {}?", plural::count(writes, "change"), plural::count(tenants, "tenant"));
    super::pipeline::ask_yes(&question, "--auto-approve", err)
}

pub(super) fn report(applied: &Applied, output: ApplyOutput, out: &mut dyn Write) -> anyhow::Result<u8> {
    let report = ApplyReport::new(&applied.outcomes, applied.interrupted);
    match output {
        ApplyOutput::Human => report.render_human(out)?,
        ApplyOutput::Json => report.render_json(out)?,
    }
    Ok(report.exit_code())
}
