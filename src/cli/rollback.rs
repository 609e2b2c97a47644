//! `tenantctl rollback`: returns a profile's tenants (all, one wave, or named ones) to the revision the
//! manifests had at a git ref. Only the objects that profile delivers are written, in those tenants
//! only; each is stamped "rolled back from" the revision it leaves, so that the rollout does not bring
//! it back until the manifests change.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;

use super::apply::{ApplyOutput, apply_with, confirm, nothing_to_apply, report};
use super::connect::{GraphArgs, connect, tenant_credentials};
use super::pipeline::{Prepared, Reading, observe_and_plan, prepare, runtime};
use super::plan::{OutputFormat, render_plan};
use super::{EXIT_ERROR, EXIT_OK};
use crate::engine::diff::PlanOptions;
use crate::engine::plan::Plan;
use crate::engine::resolve::{DesiredState, TenantDesired};
use crate::engine::rollback::{Rollback, rollback_state};
use crate::model::ObjectRef;
use crate::util::suggest::did_you_mean;

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Manifest file or directory (recursive), as it is now: which tenants the profile selects and
    /// in which wave.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// The profile whose objects are rolled back.
    #[arg(long, value_name = "NAME")]
    pub profile: String,
    /// The git commit, tag or branch whose manifests hold the revision to return to (read with
    /// `git show`; the paths must be inside a git work tree).
    #[arg(long, value_name = "REF")]
    pub from_git: String,
    /// Only the tenants of this wave (by name or 1-based number).
    #[arg(long, value_name = "WAVE", conflicts_with = "tenant")]
    pub wave: Option<String>,
    /// Only this tenant (`metadata.name`). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub tenant: Vec<String>,
    /// Roll back without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub graph: GraphArgs,
}

pub fn run(args: &RollbackArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(current) = prepare(&args.paths, err)? else { return Ok(EXIT_ERROR) };
    let checkout = GitCheckout::of(&args.paths, &args.from_git)?;
    writeln!(err, "Reading the manifests of {} from git.", args.from_git)?;
    let Some(previous) = prepare(&checkout.paths, err)? else {
        writeln!(err, "The manifests at {} do not validate; nothing was read or written.", args.from_git)?;
        return Ok(EXIT_ERROR);
    };
    let scope = scope(&current.desired, args)?;
    let Rollback { desired, objects, left_out } =
        rollback_state(&current.desired, &previous.desired, &args.profile, &scope);
    for name in left_out {
        writeln!(err, "{name}: not a tenant of {} at {}; left as it is.", args.profile, args.from_git)?;
    }
    if desired.tenants.is_empty() {
        writeln!(
            out,
            "Nothing to roll back: no tenant of {} in scope has the profile at {}.",
            args.profile, args.from_git
        )?;
        return Ok(EXIT_OK);
    }
    runtime()?.block_on(rollback(args, current, desired, &objects, out, err))
}

async fn rollback(
    args: &RollbackArgs,
    current: Prepared,
    desired: DesiredState,
    objects: &BTreeMap<String, BTreeSet<ObjectRef>>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let ids: Vec<&str> = desired.tenants.iter().map(|t| t.tenant_id.as_str()).collect();
    let mut tenants = tenant_credentials(&current.set);
    tenants.retain(|t| ids.contains(&t.tenant_id));
    let connection = connect(&args.graph, &tenants, current.lab_seed.as_deref()).await?;
    let options = PlanOptions { allow_mass_delete: true, ..PlanOptions::default() };
    let reading = Reading {
        client: &connection.client,
        desired: &desired,
        concurrency: args.graph.concurrency,
        options,
        cache: None,
    };
    let planned = observe_and_plan(reading, err).await;
    let result = match planned {
        Ok(plan) => {
            let plan = only_scope(plan, objects);
            render_plan(&plan, OutputFormat::Human, out)?;
            match nothing_to_apply(&plan, ApplyOutput::Human, out)? {
                Some(code) => Ok(code),
                None if !args.auto_approve && !tokio::task::block_in_place(|| confirm(&plan, err))? => {
                    writeln!(out, "Rollback cancelled; nothing was written.")?;
                    Ok(EXIT_ERROR)
                }
                None => {
                    let applied = apply_with(&connection.client, &plan, args.graph.concurrency, false).await;
                    report(&applied, ApplyOutput::Human, out)
                }
            }
        }
        Err(error) => Err(error),
    };
    connection.close().await;
    result
}

/// The tenants the rollback is for: the profile's, narrowed to a wave or to named tenants.
fn scope(desired: &DesiredState, args: &RollbackArgs) -> anyhow::Result<Vec<String>> {
    let selected: Vec<&TenantDesired> =
        desired.tenants.iter().filter(|t| t.profiles.contains(&args.profile) && !t.suspended).collect();
    if selected.is_empty() {
        let known: BTreeSet<&str> =
            desired.tenants.iter().flat_map(|t| t.profiles.iter().map(String::as_str)).collect();
        bail!("--profile {}: no such profile selects any tenant{}", args.profile, did_you_mean(&args.profile, known));
    }
    if let Some(wave) = &args.wave {
        let in_wave = |t: &&&TenantDesired| {
            t.waves.iter().any(|s| s.profile == args.profile && (s.name == *wave || (s.index + 1).to_string() == *wave))
        };
        let chosen: Vec<String> = selected.iter().filter(in_wave).map(|t| t.name.clone()).collect();
        if chosen.is_empty() {
            bail!("--wave {wave}: no tenant of {} is in such a wave (a wave is named by name or number)", args.profile);
        }
        return Ok(chosen);
    }
    for name in &args.tenant {
        if !selected.iter().any(|t| &t.name == name) {
            let hint = did_you_mean(name, selected.iter().map(|t| t.name.as_str()));
            bail!("--tenant {name}: not a tenant of {}{hint}", args.profile);
        }
    }
    Ok(selected
        .iter()
        .filter(|t| args.tenant.is_empty() || args.tenant.contains(&t.name))
        .map(|t| t.name.clone())
        .collect())
}

/// The plan with only the changes to the objects in scope: the profile's, then and now. Deletes
/// of anything else (other profiles' objects, out of view here) are dropped.
fn only_scope(plan: Plan, objects: &BTreeMap<String, BTreeSet<ObjectRef>>) -> Plan {
    let mut tenants = plan.tenants;
    for tenant in &mut tenants {
        let Some(touched) = objects.get(&tenant.name) else { continue };
        tenant.changes.retain(|c| touched.contains(&c.object));
        tenant.unchanged.retain(|o| touched.contains(o));
    }
    Plan::new(tenants)
}

/// The manifests of a git ref, written to a temporary folder with the same layout.
struct GitCheckout {
    _dir: tempfile::TempDir,
    paths: Vec<String>,
}

impl GitCheckout {
    fn of(paths: &[String], reference: &str) -> anyhow::Result<GitCheckout> {
        let dir = tempfile::tempdir().context("cannot make a temporary folder")?;
        let mut checked_out = Vec::new();
        for path in paths {
            if path == "-" {
                bail!("--from-git reads files from git: standard input has no history");
            }
            let path = Path::new(path);
            let absolute = std::fs::canonicalize(path).with_context(|| format!("cannot read {}", path.display()))?;
            let folder = if absolute.is_dir() {
                absolute.clone()
            } else {
                absolute.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            let root = PathBuf::from(git(&folder, &["rev-parse", "--show-toplevel"])?.trim());
            let relative = absolute
                .strip_prefix(&root)
                .with_context(|| format!("{} is not inside {}", absolute.display(), root.display()))?;
            let relative_text = match relative.to_string_lossy().to_string() {
                text if text.is_empty() => ".".to_string(),
                text => text,
            };
            let listing = git(&root, &["ls-tree", "-r", "--name-only", "-z", reference, "--", &relative_text])
                .with_context(|| format!("cannot list {} at {reference}", path.display()))?;
            let files: Vec<&str> = listing.split('\0').filter(|f| !f.is_empty()).collect();
            if files.is_empty() {
                bail!("{} does not exist at {reference}", path.display());
            }
            for file in files {
                let content = git(&root, &["show", &format!("{reference}:{file}")])?;
                let target = dir.path().join(file);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&target, content)?;
            }
            checked_out.push(dir.path().join(relative).to_string_lossy().to_string());
        }
        Ok(GitCheckout { _dir: dir, paths: checked_out })
    }
}

/// Runs git in a folder; its output, or what it said when it failed.
fn git(folder: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output =
        Command::new("git").arg("-C").arg(folder).args(args).output().context("cannot run git: is it installed?")?;
    if !output.status.success() {
        bail!("git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    String::from_utf8(output.stdout).context("git printed something that is not UTF-8")
}
