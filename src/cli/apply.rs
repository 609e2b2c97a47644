//! `tenantctl apply -f PATH…` and `tenantctl apply plan.json`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use super::connect::{GraphArgs, TenantCredentials, connect};
use super::pipeline::{prepare, progress, runtime};
use super::plan::{OutputFormat, PlanChoices, Selection, plan_connected, render_plan};
use super::{EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL};
use crate::engine::apply::{Interrupt, Skipped, TenantOutcome, apply};
use crate::engine::plan::{FORMAT_VERSION, Plan, TenantPlan, TenantState};
use crate::graph::client::GraphClient;
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
    #[command(flatten)]
    pub choices: PlanChoices,
    #[command(flatten)]
    pub graph: GraphArgs,
}

pub fn run(args: &ApplyArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
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
        render_plan(&planned.plan, OutputFormat::Human, out)?;
        let result = match nothing_to_apply(&planned.plan, out)? {
            Some(code) => Ok(code),
            None if !args.auto_approve && !tokio::task::block_in_place(|| confirm(&planned.plan, err))? => {
                writeln!(out, "Apply cancelled; nothing was written.")?;
                Ok(EXIT_ERROR)
            }
            None => {
                let outcomes =
                    apply_with(&planned.connection.client, &planned.plan, args.graph.concurrency, false).await;
                report(&outcomes, out)
            }
        };
        planned.connection.close().await;
        result
    })
}

/// A saved plan was reviewed when it was made (as with Terraform): it applies without a prompt, each
/// tenant with the credentials the plan recorded for it.
fn apply_saved(args: &ApplyArgs, plan: &Plan, out: &mut dyn Write) -> anyhow::Result<u8> {
    if let Some(code) = nothing_to_apply(plan, out)? {
        return Ok(code);
    }
    runtime()?.block_on(async {
        // Only the tenants that will be written need credentials.
        let tenants: Vec<TenantCredentials> = plan
            .tenants
            .iter()
            .filter(|t| t.writes().next().is_some() && matches!(t.state, TenantState::Planned | TenantState::Failed))
            .map(|t| TenantCredentials { name: &t.name, tenant_id: &t.tenant_id, credentials: t.credentials.as_ref() })
            .collect();
        let connection = connect(&args.graph, &tenants, None).await?;
        let applied = apply_with(&connection.client, plan, args.graph.concurrency, true).await;
        connection.close().await;
        report(&applied, out)
    })
}

/// The exit code when the plan writes nothing: a tenant whose plan failed (a refused mass delete, a
/// missing group) is an error even when nothing else is to be written.
fn nothing_to_apply(plan: &Plan, out: &mut dyn Write) -> anyhow::Result<Option<u8>> {
    if plan.summary.create + plan.summary.update + plan.summary.delete > 0 {
        return Ok(None);
    }
    writeln!(out, "Nothing to apply.")?;
    Ok(Some(if plan.summary.failed_tenants > 0 {
        EXIT_ERROR
    } else if plan.summary.unknown_tenants > 0 {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    }))
}

async fn apply_with(client: &GraphClient, plan: &Plan, concurrency: usize, saved: bool) -> Applied {
    let bar = progress(plan.tenants.len() as u64, "Applying");
    let interrupt = Arc::new(Interrupt::default());
    let signals = tokio::spawn(interrupt_on_signals(interrupt.clone(), bar.clone()));
    let connect = |tenant: &TenantPlan| client.tenant(&tenant.tenant_id);
    let outcomes = apply(connect, plan, concurrency, saved, &interrupt, &|_| bar.inc(1)).await;
    signals.abort();
    bar.finish_and_clear();
    Applied { outcomes, interrupted: interrupt.is_requested() }
}

/// What an apply did, and whether it was interrupted.
struct Applied {
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

fn read_saved_plan(path: &PathBuf) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let plan: Plan =
        serde_json::from_str(&text).with_context(|| format!("{} is not a tenantctl plan", path.display()))?;
    if plan.format_version != FORMAT_VERSION {
        bail!("{} has plan format {} (this tenantctl reads {FORMAT_VERSION})", path.display(), plan.format_version);
    }
    Ok(plan)
}

/// Asks on standard error (so that `| tee` does not hide it) and reads the answer from standard
/// input, typed or piped (`echo yes | tenantctl apply …`); no answer is a no.
fn confirm(plan: &Plan, err: &mut dyn Write) -> anyhow::Result<bool> {
    let writes = plan.summary.create + plan.summary.update + plan.summary.delete;
    let tenants = plan.tenants.iter().filter(|t| t.writes().next().is_some()).count();
    write!(
        err,
        "\nApply {} to {}? Only 'yes' will be accepted: ",
        plural::count(writes, "change"),
        plural::count(tenants, "tenant")
    )?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.is_empty() && !std::io::stdin().is_terminal() {
        writeln!(err)?;
        bail!("no answer on standard input; pass --auto-approve to apply without confirmation");
    }
    Ok(answer.trim() == "yes")
}

fn report(applied: &Applied, out: &mut dyn Write) -> anyhow::Result<u8> {
    let outcomes = &applied.outcomes;
    let (mut created, mut updated, mut deleted, mut failed, mut stale, mut not_started) = (0, 0, 0, 0, 0, 0);
    writeln!(out)?;
    for outcome in outcomes {
        created += outcome.created;
        updated += outcome.updated;
        deleted += outcome.deleted;
        not_started += outcome.not_started;
        if outcome.stale {
            stale += 1;
            writeln!(
                out,
                "{}: refused: the tenant changed since the plan was made (stale); nothing written",
                outcome.name
            )?;
            continue;
        }
        if let Some(reason) = &outcome.skipped {
            writeln!(out, "{}: skipped ({reason})", outcome.name)?;
            continue;
        }
        if outcome.writes() > 0 {
            writeln!(
                out,
                "{}: {} created, {} updated, {} deleted",
                outcome.name, outcome.created, outcome.updated, outcome.deleted
            )?;
        }
        for object in &outcome.created_elsewhere {
            writeln!(
                out,
                "{}: {object} not created: it appeared since the plan (another writer made it)",
                outcome.name
            )?;
        }
        if !outcome.errors.is_empty() {
            failed += 1;
            for error in &outcome.errors {
                writeln!(out, "{}: failed: {error}", outcome.name)?;
            }
        }
    }
    let done = format!("{created} created, {updated} updated, {deleted} deleted");
    let tenants = plural::count(outcomes.len(), "tenant");
    let mut trouble = Vec::new();
    if failed > 0 {
        trouble.push(format!("{} failed", plural::count(failed, "tenant")));
    }
    if stale > 0 {
        trouble.push(format!("{} stale", plural::count(stale, "tenant")));
    }
    if applied.interrupted {
        writeln!(out, "\nApply interrupted: {done}; {} not started.", plural::count(not_started, "write"))?;
        return Ok(EXIT_INTERRUPTED);
    }
    let unknown = outcomes.iter().any(|o| o.skipped == Some(Skipped::UnknownWhenPlanned));
    if trouble.is_empty() {
        writeln!(out, "\nApply complete: {done} across {tenants}.")?;
        return Ok(if unknown { EXIT_PARTIAL } else { EXIT_OK });
    }
    let verdict = if created + updated + deleted > 0 { "Apply incomplete" } else { "Nothing applied" };
    writeln!(out, "\n{verdict}: {done} across {tenants}; {}.", trouble.join(", "))?;
    Ok(EXIT_ERROR)
}
