//! `tenantctl apply -f PATH…` and `tenantctl apply plan.json`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use super::connect::{GraphArgs, TenantCredentials, connect};
use super::pipeline::{prepare, progress, runtime};
use super::plan::{OutputFormat, PlanChoices, Selection, plan_connected, render_plan};
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::engine::apply::{Skipped, TenantOutcome, apply};
use crate::engine::plan::{FORMAT_VERSION, Plan, TenantPlan};
use crate::graph::client::GraphClient;

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
            None if !args.auto_approve && !tokio::task::block_in_place(|| confirm(&planned.plan, out))? => {
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
        let tenants: Vec<TenantCredentials> = plan
            .tenants
            .iter()
            .map(|t| TenantCredentials { name: &t.name, tenant_id: &t.tenant_id, credentials: t.credentials.as_ref() })
            .collect();
        let connection = connect(&args.graph, &tenants, None).await?;
        let outcomes = apply_with(&connection.client, plan, args.graph.concurrency, true).await;
        connection.close().await;
        report(&outcomes, out)
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

async fn apply_with(client: &GraphClient, plan: &Plan, concurrency: usize, saved: bool) -> Vec<TenantOutcome> {
    let bar = progress(plan.tenants.len() as u64, "Applying");
    let connect = |tenant: &TenantPlan| client.tenant(&tenant.tenant_id);
    let outcomes = apply(connect, plan, concurrency, saved, &|_| bar.inc(1)).await;
    bar.finish_and_clear();
    outcomes
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

fn confirm(plan: &Plan, out: &mut dyn Write) -> anyhow::Result<bool> {
    let writes = plan.summary.create + plan.summary.update + plan.summary.delete;
    if !std::io::stdin().is_terminal() {
        bail!("refusing to apply without confirmation: standard input is not a terminal (pass --auto-approve)");
    }
    write!(
        out,
        "\nApply {writes} change{} to {} tenants? Only 'yes' will be accepted: ",
        if writes == 1 { "" } else { "s" },
        plan.tenants.iter().filter(|t| t.changes.iter().any(|c| c.is_write())).count()
    )?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

fn report(outcomes: &[TenantOutcome], out: &mut dyn Write) -> anyhow::Result<u8> {
    let (mut created, mut updated, mut deleted, mut failed, mut stale, mut skipped) = (0, 0, 0, 0, 0, 0);
    writeln!(out)?;
    for outcome in outcomes {
        created += outcome.created;
        updated += outcome.updated;
        deleted += outcome.deleted;
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
            skipped += 1;
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
        if !outcome.errors.is_empty() {
            failed += 1;
            for error in &outcome.errors {
                writeln!(out, "{}: failed: {error}", outcome.name)?;
            }
        }
    }
    writeln!(
        out,
        "\nApply complete: {created} created, {updated} updated, {deleted} deleted across {} tenants{}.",
        outcomes.len(),
        match (failed, stale) {
            (0, 0) => String::new(),
            _ => format!(" ({failed} failed, {stale} stale)"),
        }
    )?;
    Ok(if failed + stale > 0 {
        EXIT_ERROR
    } else if skipped > 0 && outcomes.iter().any(|o| o.skipped == Some(Skipped::UnknownWhenPlanned)) {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}
