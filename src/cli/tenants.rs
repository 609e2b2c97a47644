//! `tenantctl tenants check`: before the first plan, whether every selected tenant lets the app in
//! (and why not, in words, with the consent link), grants the permissions the manifests and commands
//! need, and holds the licences the features rest on.

use std::io::Write;

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::connect::{GraphArgs, connect, tenant_credentials};
use super::fleet::selected;
use super::pipeline::{progress, runtime};
use super::plan::Selection;
use super::tenants_add::AddArgs;
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::engine::access::{Purpose, licensed_features, needs_for};
use crate::engine::resolve::TenantDesired;
use crate::graph::readiness::{Readiness, check};
use crate::render::tabular;
use crate::util::fanout::for_each_tenant;
use crate::util::plural;

#[derive(Debug, Args)]
pub struct TenantsArgs {
    #[command(subcommand)]
    pub command: TenantsCommand,
}

#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Check that each tenant is ready: the app is consented and gets a token, holds the permissions
    /// the manifests and commands need, and the tenant has the licences the features need. Exit 3 when
    /// any tenant is not ready.
    Check(CheckArgs),
    /// Write a Tenant manifest for a tenant id, its display name read from the tenant when reachable.
    Add(AddArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// What the app must be ready for (repeatable, or comma-separated): `plan` reads what the
    /// manifests manage, `apply` also writes it, `incidents` and `hunt` are those commands.
    #[arg(long = "for", value_enum, value_delimiter = ',', default_value = "apply", value_name = "USE")]
    pub purposes: Vec<Use>,
    #[arg(short = 'o', long, value_enum, default_value_t = CheckFormat::Table)]
    pub output: CheckFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Use {
    /// Read what the manifests manage (`plan`, `drift`, `export`).
    Plan,
    /// Read and write it (`apply`, the operator).
    Apply,
    /// The incident queue.
    Incidents,
    /// Advanced hunting.
    Hunt,
    /// Incident triage (`incidents update`, `cases apply`).
    Triage,
    /// The managed devices view.
    Devices,
    /// The risky users view.
    Identities,
}

impl From<Use> for Purpose {
    fn from(value: Use) -> Purpose {
        match value {
            Use::Plan => Purpose::Plan,
            Use::Apply => Purpose::Apply,
            Use::Incidents => Purpose::Incidents,
            Use::Hunt => Purpose::Hunt,
            Use::Triage => Purpose::Triage,
            Use::Devices => Purpose::Devices,
            Use::Identities => Purpose::Identities,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Aligned columns, then what to fix per tenant.
    #[default]
    Table,
    /// One JSON document.
    Json,
    /// A Markdown table and list, for a pull request or a ticket.
    Markdown,
}

/// One tenant's line of the report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TenantReadiness {
    name: String,
    tenant_id: String,
    suspended: bool,
    #[serde(flatten)]
    readiness: Readiness,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    ready: usize,
    not_ready: usize,
    suspended: usize,
    tenants: Vec<TenantReadiness>,
}

pub fn run(args: &TenantsArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    match &args.command {
        TenantsCommand::Check(check_args) => check_tenants(check_args, out, err),
        TenantsCommand::Add(add_args) => super::tenants_add::run(add_args, out, err),
    }
}

fn check_tenants(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(prepared) = selected(&args.selection, err)? else { return Ok(EXIT_ERROR) };
    let purposes: Vec<Purpose> = args.purposes.iter().map(|&u| u.into()).collect();
    let tenants: Vec<&TenantDesired> = prepared.desired.tenants.iter().collect();
    let checked = runtime()?.block_on(async {
        let connection = connect(&args.graph, &tenant_credentials(&prepared.set), prepared.lab_seed.as_deref()).await?;
        let bar = progress(tenants.len() as u64, "Checking tenants");
        let purposes = &purposes;
        let checked = for_each_tenant(tenants, args.graph.concurrency, |tenant| {
            let client = connection.client.tenant(&tenant.tenant_id);
            let bar = &bar;
            async move {
                let readiness = if tenant.suspended {
                    Readiness { ready: true, reason: "Suspended", ..Readiness::default() }
                } else {
                    let needs: Vec<_> = purposes.iter().flat_map(|p| needs_for(*p, tenant)).collect();
                    check(&client, &needs, &licensed_features(purposes, tenant), None).await
                };
                bar.inc(1);
                TenantReadiness {
                    name: tenant.name.clone(),
                    tenant_id: tenant.tenant_id.clone(),
                    suspended: tenant.suspended,
                    readiness,
                }
            }
        })
        .await;
        bar.finish_and_clear();
        connection.close().await;
        anyhow::Ok(checked)
    })?;
    let report = Report {
        ready: checked.iter().filter(|t| !t.suspended && t.readiness.ready).count(),
        not_ready: checked.iter().filter(|t| !t.readiness.ready).count(),
        suspended: checked.iter().filter(|t| t.suspended).count(),
        tenants: checked,
    };
    match args.output {
        CheckFormat::Table => write_table(&report, out)?,
        CheckFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        CheckFormat::Markdown => write_markdown(&report, out)?,
    }
    writeln!(
        err,
        "{} ready, {} not ready{}.",
        plural::count(report.ready, "tenant"),
        report.not_ready,
        if report.suspended > 0 { format!(", {} suspended (not checked)", report.suspended) } else { String::new() }
    )?;
    Ok(if report.not_ready > 0 { EXIT_PARTIAL } else { EXIT_OK })
}

fn cells(tenant: &TenantReadiness) -> Vec<String> {
    let readiness = &tenant.readiness;
    let permissions = match (&readiness.granted_permissions, readiness.missing_permissions.len()) {
        (None, _) if tenant.suspended => "-".to_string(),
        (None, _) => "no token".to_string(),
        (Some(_), 0) => "ok".to_string(),
        (Some(_), missing) => format!("{missing} missing"),
    };
    let licences = match (&readiness.licences, readiness.missing_licences.len()) {
        (None, _) if readiness.licences_unknown.is_some() => "unknown".to_string(),
        (None, _) => "-".to_string(),
        (Some(held), 0) => held.join(" "),
        (Some(held), missing) => format!("{} ({missing} missing)", held.join(" ")),
    };
    let ready = if tenant.suspended {
        "-"
    } else if readiness.ready {
        "yes"
    } else {
        "no"
    };
    vec![tenant.name.clone(), tenant.tenant_id.clone(), ready.into(), readiness.reason.into(), permissions, licences]
}

const HEADERS: [&str; 6] = ["TENANT", "TENANT ID", "READY", "REASON", "PERMISSIONS", "LICENCES"];

fn write_table(report: &Report, out: &mut dyn Write) -> anyhow::Result<()> {
    let headers: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = report.tenants.iter().map(cells).collect();
    out.write_all(tabular::table(&headers, &rows).as_bytes())?;
    for tenant in &report.tenants {
        let problems = tenant.readiness.problems();
        if problems.is_empty() {
            continue;
        }
        writeln!(out, "\n{} ({}):", tenant.name, tenant.tenant_id)?;
        for problem in problems {
            writeln!(out, "  - {problem}")?;
        }
    }
    Ok(())
}

fn write_markdown(report: &Report, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "### Tenant readiness: {} ready, {} not ready\n", report.ready, report.not_ready)?;
    writeln!(out, "| {} |", HEADERS.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(HEADERS.len()))?;
    for tenant in &report.tenants {
        let row: Vec<String> = cells(tenant).iter().map(|c| c.replace('|', "\\|")).collect();
        writeln!(out, "| {} |", row.join(" | "))?;
    }
    for tenant in report.tenants.iter().filter(|t| !t.readiness.problems().is_empty()) {
        writeln!(out, "\n**{}** (`{}`)\n", tenant.name, tenant.tenant_id)?;
        for problem in tenant.readiness.problems() {
            writeln!(out, "- {problem}")?;
        }
    }
    Ok(())
}
