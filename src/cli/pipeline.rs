//! The stages every Graph-facing command shares: load and validate manifests, resolve, narrow to the
//! requested tenants and profiles, observe with progress, plan.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::cache_dir::CacheDir;
use super::plan_spool::PlanSpool;
use crate::engine::diff::PlanOptions;
use crate::engine::observe::observe_and_plan_each;
use crate::engine::plan::{Plan, TenantPlan, TenantState};
use crate::engine::policy_cache::CacheStore;
use crate::engine::resolve::validate_and_resolve_at;
use crate::engine::resolve::{DesiredState, Resolution, TenantDesired};
use crate::graph::client::GraphClient;
use crate::manifest::diagnostics::sort;
use crate::manifest::load::{Input, Loaded, load_inputs, read_bounded};
use crate::manifest::{Diagnostic, ManifestSet};
use crate::util::plural;
use crate::util::suggest::did_you_mean;

/// Validated manifests and what they resolve to.
pub struct Prepared {
    pub set: ManifestSet,
    pub desired: DesiredState,
    /// The `lab/` folder next to the first manifest directory, used to seed an empty lab.
    pub lab_seed: Option<PathBuf>,
}

/// Loads every input (`-` is standard input) and validates the set; every diagnostic, sorted.
pub fn load_and_validate(paths: &[String]) -> (Loaded, Resolution, Vec<Diagnostic>) {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::parse(p)).collect();
    let mut loaded = load_inputs(&inputs, &mut || read_bounded(std::io::stdin().lock()));
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    // Semantic checks run on everything that loaded; structural errors already say what is wrong with the rest.
    let (now, clock_problem) = match crate::util::clock::now() {
        Ok(now) => (now, None),
        Err(problem) => (jiff::Timestamp::now(), Some(Diagnostic::error(problem))),
    };
    let (resolution, mut semantic) = validate_and_resolve_at(&loaded.set, now);
    semantic.extend(clock_problem);
    diagnostics.extend(semantic);
    sort(&mut diagnostics);
    (loaded, resolution, diagnostics)
}

/// Loads and validates; on any error prints every diagnostic and returns `None` (exit 1, nothing is
/// read or written). Warnings are printed and do not stop.
pub fn prepare(paths: &[String], err: &mut dyn Write) -> anyhow::Result<Option<Prepared>> {
    let (loaded, resolution, diagnostics) = load_and_validate(paths);
    for diagnostic in &diagnostics {
        writeln!(err, "{diagnostic}")?;
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        writeln!(err, "Invalid manifests: {}; nothing was read or written.", plural::count(errors, "error"))?;
        return Ok(None);
    }
    let lab_seed = paths.iter().map(PathBuf::from).find(|p| p.is_dir()).map(|dir| dir.join("lab"));
    Ok(Some(Prepared { set: loaded.set, desired: resolution.desired, lab_seed }))
}

/// Keeps only the tenants named (by `metadata.name` or tenant ID) and the policies the named profiles
/// deliver. Narrowing by profile turns pruning off: other profiles' policies are out of view, not
/// unwanted.
pub fn narrow(desired: &mut DesiredState, tenants: &[String], profiles: &[String]) -> anyhow::Result<()> {
    for name in tenants {
        if !desired.tenants.iter().any(|t| &t.name == name || t.tenant_id.eq_ignore_ascii_case(name)) {
            let hint = did_you_mean(name, desired.tenants.iter().map(|t| t.name.as_str()));
            bail!("--tenant {name}: no such tenant in the manifests{hint}");
        }
    }
    if !tenants.is_empty() {
        desired.tenants.retain(|t| tenants.iter().any(|n| n == &t.name || n.eq_ignore_ascii_case(&t.tenant_id)));
    }
    if !profiles.is_empty() {
        let known: Vec<&String> = desired.tenants.iter().flat_map(|t| &t.profiles).collect();
        if let Some(unknown) = profiles.iter().find(|p| !known.contains(p)) {
            let hint = did_you_mean(unknown, known.iter().map(|p| p.as_str()));
            bail!("--profile {unknown}: no such profile selects any of the tenants{hint}");
        }
        desired.tenants.retain(|t| t.profiles.iter().any(|p| profiles.contains(p)));
        for tenant in &mut desired.tenants {
            tenant.policies.retain(|p| profiles.contains(&p.profile));
            tenant.prune_max_delete_percent = None;
        }
    }
    Ok(())
}

/// What observing reads, and how.
pub struct Reading<'a> {
    pub client: &'a GraphClient,
    pub desired: &'a DesiredState,
    pub concurrency: usize,
    pub options: PlanOptions,
    /// The `--cache` folder.
    pub cache: Option<&'a std::path::Path>,
}

/// Observes and plans with a progress bar on a terminal. Prints how long reading took.
pub async fn observe_and_plan(reading: Reading<'_>, err: &mut dyn Write) -> anyhow::Result<Plan> {
    let mut tenants = Vec::new();
    observe_each(reading, err, &mut |plan| {
        tenants.push(plan);
        Ok(())
    })
    .await?;
    Ok(Plan::new(tenants))
}

/// Observes and plans into a spool: each tenant's plan leaves memory as soon as it is made.
pub async fn observe_into_spool(reading: Reading<'_>, err: &mut dyn Write) -> anyhow::Result<PlanSpool> {
    let mut spool = PlanSpool::new().context("cannot create a temporary file for the plan")?;
    observe_each(reading, err, &mut |plan| spool.push(&plan).context("cannot write the plan to its temporary file"))
        .await?;
    Ok(spool)
}

/// Observes and plans, handing each tenant's plan to `on_plan` as it is made, with a progress bar on
/// a terminal; prints how long reading took.
async fn observe_each(
    reading: Reading<'_>,
    err: &mut dyn Write,
    on_plan: &mut dyn FnMut(TenantPlan) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Reading { client, desired, concurrency, options, cache } = reading;
    let caches = cache.map(CacheDir::open).transpose()?;
    let caches = caches.as_ref().map(|c| c as &dyn CacheStore);
    let started = Instant::now();
    let before = client.counts();
    let count = desired.tenants.iter().filter(|t| !t.suspended).count();
    let bar = progress(count as u64, "Observing");
    let connect = |tenant: &TenantDesired| client.tenant(&tenant.tenant_id);
    let mut failure = None;
    observe_and_plan_each(connect, desired, concurrency, options, caches, &mut |plan| {
        if plan.state != TenantState::Suspended {
            bar.inc(1);
        }
        if failure.is_none()
            && let Err(error) = on_plan(plan)
        {
            failure = Some(error);
        }
    })
    .await;
    bar.finish_and_clear();
    if let Some(error) = failure {
        return Err(error);
    }
    let counts = client.counts();
    writeln!(
        err,
        "Observed {} in {:.1} s ({}, {}).",
        plural::count(count, "tenant"),
        started.elapsed().as_secs_f64(),
        plural::count((counts.requests - before.requests) as usize, "Graph request"),
        plural::count((counts.token_requests - before.token_requests) as usize, "token request"),
    )?;
    Ok(())
}

/// A progress bar on standard error, drawn only when it is a terminal.
pub fn progress(length: u64, verb: &str) -> ProgressBar {
    let target =
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(length), target);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} tenants ({elapsed})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(verb.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A runtime for the async commands.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// Asks on standard error (so that `| tee` does not hide it) and reads the answer from standard
/// input, typed or piped (`echo yes | tenantctl apply …`); only `yes` is a yes, no answer is a no.
pub fn ask_yes(question: &str, skip_flag: &str, err: &mut dyn Write) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal};
    write!(err, "{question} Only 'yes' will be accepted: ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.is_empty() && !std::io::stdin().is_terminal() {
        writeln!(err)?;
        anyhow::bail!("no answer on standard input; pass {skip_flag} to go on without confirmation");
    }
    Ok(answer.trim() == "yes")
}
