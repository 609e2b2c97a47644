//! `tenantctl cases`: cases as code. `cases` lists every case of the manifests with the live state of
//! its member incidents and its open tasks; `cases apply` writes each case onto its incidents (tag,
//! owner when unassigned, one linking comment; on a closed case, the resolution its `close` asks);
//! `cases close NAME --resolve` resolves a case's incidents now.

use std::io::Write;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::connect::GraphArgs;
use super::fleet::{TabularFormat, ask_each, report_unknown, selected};
use super::incidents_update::{confirm_updates, write_and_report};
use super::pipeline::Prepared;
use super::plan::Selection;
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::manifest::Manifest;
use crate::model::Case;
use crate::model::case::{CaseClosing, CaseMember, CaseSpec, CaseStatusValue, CaseTask};
use crate::security::TenantAnswer;
use crate::security::cases::{member, members, reconcile};
use crate::security::incidents::UnknownTenant;
use crate::security::triage::IncidentUpdate;
use crate::wire::common::Incident;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CasesArgs {
    #[command(subcommand)]
    pub command: Option<CasesCommand>,
    #[command(flatten)]
    pub list: CasesListArgs,
}

#[derive(Debug, Subcommand)]
pub enum CasesCommand {
    /// Write every case onto its incidents: the `case:<name>` tag, the case owner where nobody owns
    /// the incident, one comment linking the case; a closed case's `close` resolution.
    Apply(Box<CasesApplyArgs>),
    /// Resolve a case's incidents now (as if it were closed with this resolution).
    Close(Box<CasesCloseArgs>),
}

#[derive(Debug, Args)]
pub struct CasesListArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Only this case (`metadata.name`). Repeatable.
    #[arg(long = "case", value_name = "NAME")]
    pub cases: Vec<String>,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

#[derive(Debug, Args)]
pub struct CasesApplyArgs {
    #[command(flatten)]
    pub list: CasesListArgs,
    /// Write without asking.
    #[arg(long, alias = "auto-approve")]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct CasesCloseArgs {
    /// The case (`metadata.name`).
    pub name: String,
    #[command(flatten)]
    pub selection: Selection,
    /// Resolve the member incidents.
    #[arg(long)]
    pub resolve: bool,
    /// The classification resolved incidents get.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["truePositive", "falsePositive", "informationalExpectedActivity", "unknown"]))]
    pub classification: Option<String>,
    /// The determination resolved incidents get (`malware`, `compromisedAccount`, …).
    #[arg(long)]
    pub determination: Option<String>,
    /// Write without asking.
    #[arg(long, alias = "auto-approve")]
    pub yes: bool,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// A case with the live state of its members.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CaseView {
    name: String,
    title: String,
    owner: String,
    severity: String,
    status: String,
    members: Vec<CaseMember>,
    open_tasks: Vec<CaseTask>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown_tenants: Vec<String>,
}

fn words<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

pub fn run(args: &CasesArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    match &args.command {
        None => list(&args.list, out, err),
        Some(CasesCommand::Apply(apply)) => reconcile_cases(&apply.list, apply.yes, None, out, err),
        Some(CasesCommand::Close(close)) => {
            let list = CasesListArgs {
                selection: Selection {
                    paths: close.selection.paths.clone(),
                    tenant: close.selection.tenant.clone(),
                    profile: close.selection.profile.clone(),
                },
                cases: vec![close.name.clone()],
                output: close.output,
                graph: close.graph.clone(),
            };
            let closing = CaseClosing {
                resolve_incidents: close.resolve,
                classification: close.classification.clone(),
                determination: close.determination.clone(),
            };
            let code = reconcile_cases(&list, close.yes, Some(closing), out, err)?;
            writeln!(err, "Set `status: closed` in Case/{}'s file so that the repository says so too.", close.name)?;
            Ok(code)
        }
    }
}

/// The manifests, the cases asked for, and every selected tenant's incidents.
type Read = (Prepared, Vec<Manifest<Case>>, Vec<TenantAnswer<Vec<Incident>>>);

fn read(args: &CasesListArgs, err: &mut dyn Write) -> anyhow::Result<Option<Read>> {
    let Some(prepared) = selected(&args.selection, err)? else { return Ok(None) };
    let cases: Vec<Manifest<Case>> = prepared
        .set
        .cases
        .iter()
        .filter(|c| args.cases.is_empty() || args.cases.contains(&c.name()))
        .cloned()
        .collect();
    if let Some(missing) = args.cases.iter().find(|n| !cases.iter().any(|c| c.name() == **n)) {
        anyhow::bail!("Case/{missing}: not in the manifests");
    }
    let answers =
        ask_each(&prepared, &args.graph, "Reading incidents", |graph| async move { graph.list_incidents(None).await })?;
    Ok(Some((prepared, cases, answers)))
}

fn unknown_of(answers: &[TenantAnswer<Vec<Incident>>]) -> Vec<UnknownTenant> {
    answers
        .iter()
        .filter_map(|a| a.answer.as_ref().err().map(|reason| (a, reason)))
        .map(|(a, reason)| UnknownTenant {
            tenant: a.tenant.clone(),
            tenant_id: a.tenant_id.clone(),
            reason: reason.clone(),
        })
        .collect()
}

fn list(args: &CasesListArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some((_, cases, answers)) = read(args, err)? else { return Ok(EXIT_ERROR) };
    let views: Vec<CaseView> = cases
        .iter()
        .map(|case| {
            let spec = &case.object.spec;
            let (found, unknown) = members(&case.name(), spec, &answers);
            CaseView {
                name: case.name(),
                title: spec.title.clone(),
                owner: spec.owner.clone(),
                severity: words(&spec.severity),
                status: words(&spec.status),
                members: found.iter().map(|(tenant, incident)| member(&tenant.tenant, incident)).collect(),
                open_tasks: spec.tasks.iter().filter(|t| !t.done).cloned().collect(),
                unknown_tenants: unknown.iter().map(|a| a.tenant.clone()).collect(),
            }
        })
        .collect();
    if args.output == TabularFormat::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&views)?)?;
    } else {
        for view in &views {
            writeln!(
                out,
                "Case/{}  {}  ({} severity, {}; owner {})",
                view.name, view.title, view.severity, view.status, view.owner
            )?;
            for m in &view.members {
                let owner = m.assigned_to.as_deref().unwrap_or("unassigned");
                writeln!(out, "  {}/{}  {}  {}  {}  {}", m.tenant, m.id, m.severity, m.status, owner, m.title)?;
            }
            for task in &view.open_tasks {
                writeln!(
                    out,
                    "  [ ] {}{}",
                    task.title,
                    task.assignee.as_ref().map(|a| format!(" ({a})")).unwrap_or_default()
                )?;
            }
            writeln!(out)?;
        }
    }
    let unknown = unknown_of(&answers);
    writeln!(err, "{} case(s); incidents read from {} tenant(s).", views.len(), answers.len() - unknown.len())?;
    report_unknown(&unknown, err)?;
    Ok(if unknown.is_empty() { EXIT_OK } else { EXIT_PARTIAL })
}

fn reconcile_cases(
    args: &CasesListArgs,
    yes: bool,
    closing: Option<CaseClosing>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let Some((prepared, cases, answers)) = read(args, err)? else { return Ok(EXIT_ERROR) };
    let mut updates: Vec<IncidentUpdate> = Vec::new();
    for case in &cases {
        let mut spec: CaseSpec = case.object.spec.clone();
        if let Some(closing) = &closing {
            spec.status = CaseStatusValue::Closed;
            spec.close = Some(closing.clone());
        }
        let (found, _) = members(&case.name(), &spec, &answers);
        for (tenant, incident) in found {
            let update = reconcile(&case.name(), &spec, tenant, incident);
            // An incident in two cases gets both, one after the other.
            updates.push(update);
        }
    }
    let unknown = unknown_of(&answers);
    let (todo, unchanged): (Vec<IncidentUpdate>, Vec<IncidentUpdate>) = updates.into_iter().partition(|u| !u.is_noop());
    if !confirm_updates(&todo, unchanged.len(), &unknown, yes, err)? {
        return Ok(EXIT_ERROR);
    }
    write_and_report(&prepared, &args.graph, todo, unchanged, unknown, args.output, out, err)
}
