//! `tenantctl apply -f PATH…` and `tenantctl apply plan.json`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use super::connect::{GraphArgs, connect};
use super::pipeline::{progress, runtime};
use super::plan::{OutputFormat, PlanChoices, Selection, make_plan, render_plan};
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::engine::apply::{TenantOutcome, apply};
use crate::engine::plan::{FORMAT_VERSION, Plan};
use crate::manifest::ManifestSet;

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
    let (plan, saved) = match &args.plan_file {
        Some(path) => (read_saved_plan(path)?, true),
        None => {
            let selection =
                Selection { paths: args.paths.clone(), tenant: args.tenant.clone(), profile: args.profile.clone() };
            let Some(plan) = make_plan(&selection, &args.graph, args.choices.options(), err)? else {
                return Ok(EXIT_ERROR);
            };
            render_plan(&plan, OutputFormat::Human, out)?;
            (plan, false)
        }
    };
    let writes = plan.summary.create + plan.summary.update + plan.summary.delete;
    if writes == 0 {
        writeln!(out, "Nothing to apply.")?;
        // A tenant whose plan failed (a refused mass delete, a missing group) is an error even
        // when nothing else is to be written.
        return Ok(if plan.summary.failed_tenants > 0 {
            EXIT_ERROR
        } else if plan.summary.unknown_tenants > 0 {
            EXIT_PARTIAL
        } else {
            EXIT_OK
        });
    }
    // A saved plan was reviewed when it was made (as with Terraform): it applies without a prompt.
    if !saved && !args.auto_approve && !confirm(writes, &plan, out)? {
        writeln!(out, "Apply cancelled; nothing was written.")?;
        return Ok(EXIT_ERROR);
    }
    let outcomes = runtime()?.block_on(async {
        // A saved plan carries no manifests: the default credentials serve every tenant.
        let connection = connect(&args.graph, &ManifestSet::default(), None).await?;
        let bar = progress(plan.tenants.len() as u64, "Applying");
        let outcomes = apply(&connection.client, &plan, args.graph.concurrency, saved, &|_| bar.inc(1)).await;
        bar.finish_and_clear();
        connection.close().await;
        anyhow::Ok(outcomes)
    })?;
    report(&outcomes, out)
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

fn confirm(writes: usize, plan: &Plan, out: &mut dyn Write) -> anyhow::Result<bool> {
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
    } else if skipped > 0 && outcomes.iter().any(|o| o.skipped.as_deref() == Some("unknown when planned")) {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}
