//! `tenantctl incidents`: one incident queue across every selected tenant, with a tenant column.

use std::io::Write;

use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand, ValueEnum};

use super::connect::GraphArgs;
use super::fleet::{TabularFormat, ask_each, report_unknown, selected, write_rows};
use super::plan::Selection;
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::security::incidents::{IncidentFilter, QueuedIncident, SEVERITIES, STATUSES, merge};
use crate::util::plural;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct IncidentsArgs {
    #[command(subcommand)]
    pub command: Option<IncidentsCommand>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Set status, classification, determination, owner and tags of the selected incidents across
    /// tenants, and add a comment: shows what changes where, and asks before writing.
    Update(Box<super::incidents_update::UpdateArgs>),
    /// One incident with its alerts: `TENANT/ID`.
    Show(Box<super::incidents_update::ShowArgs>),
}

/// The queue: every selected tenant's incidents.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub which: Which,
    /// Order of the rows.
    #[arg(long, value_enum, default_value_t = Sort::Severity)]
    pub sort: Sort,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Sort {
    /// Most severe first, then newest.
    Severity,
    /// Most recently updated first.
    Updated,
    /// By tenant, then most severe.
    Tenant,
}

/// Which incidents: the tenants, and filters on the incidents.
#[derive(Debug, Args)]
pub struct Which {
    #[command(flatten)]
    pub selection: Selection,
    /// Only these severities (repeatable, or comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = PossibleValuesParser::new(SEVERITIES))]
    pub severity: Vec<String>,
    /// Only these statuses (repeatable, or comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = PossibleValuesParser::new(STATUSES))]
    pub status: Vec<String>,
    /// Only incidents updated since: a span back from now (24h, 7d, 2w) or a date or time (2025-01-31,
    /// 2025-01-31T08:00:00Z).
    #[arg(long, value_parser = parse_since, value_name = "WHEN")]
    pub since: Option<jiff::Timestamp>,
    /// Only incidents assigned to this owner (`none` for unassigned ones).
    #[arg(long, value_name = "OWNER")]
    pub assigned_to: Option<String>,
    /// Only incidents with this custom tag (repeatable: all of them).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
}

impl Which {
    pub fn filter(&self) -> IncidentFilter {
        IncidentFilter {
            severities: self.severity.clone(),
            statuses: self.status.clone(),
            since: self.since,
            assigned_to: self.assigned_to.clone(),
            tags: self.tag.clone(),
        }
    }
}

/// When an incident was last updated (or created), as Graph wrote it.
fn updated(incident: &QueuedIncident) -> Option<&str> {
    incident.last_update_date_time.as_deref().or(incident.created_date_time.as_deref())
}

fn parse_since(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(timestamp) = text.parse::<jiff::Timestamp>() {
        return Ok(timestamp);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        return date.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|e| e.to_string());
    }
    let span: jiff::Span = text
        .parse()
        .map_err(|_| format!("`{text}` is neither a span back from now (24h, 7d) nor a date (2025-01-31) or time"))?;
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_sub(span.abs())
        .map(|z| z.timestamp())
        .map_err(|e| format!("`{text}`: {e}"))
}

pub fn run(args: &IncidentsArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    match &args.command {
        Some(IncidentsCommand::Update(update)) => super::incidents_update::update(update, out, err),
        Some(IncidentsCommand::Show(show)) => super::incidents_update::show(show, out, err),
        None => list(&args.list, out, err),
    }
}

fn list(args: &ListArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(prepared) = selected(&args.which.selection, err)? else { return Ok(EXIT_ERROR) };
    let answers =
        ask_each(&prepared, &args.graph, "Reading incidents", |graph| async move { graph.list_incidents(None).await })?;
    let mut queue = merge(answers, &args.which.filter());
    match args.sort {
        Sort::Severity => {}
        Sort::Updated => queue.incidents.sort_by(|a, b| updated(b).cmp(&updated(a))),
        Sort::Tenant => queue.incidents.sort_by(|a, b| a.tenant.cmp(&b.tenant)),
    }
    let headers: Vec<String> = ["TENANT", "SEVERITY", "STATUS", "ID", "UPDATED", "ASSIGNED TO", "TITLE"]
        .iter()
        .map(|h| h.to_string())
        .collect();
    let rows: Vec<Vec<String>> = queue
        .incidents
        .iter()
        .map(|i| {
            vec![
                i.tenant.clone(),
                i.severity.clone(),
                i.status.clone(),
                i.id.clone(),
                updated(i).unwrap_or_default().to_string(),
                i.assigned_to.clone().unwrap_or_default(),
                i.display_name.clone(),
            ]
        })
        .collect();
    write_rows(args.output, &headers, &rows, || serde_json::to_string_pretty(&queue), out)?;
    writeln!(
        err,
        "{} from {}{}.",
        plural::count(queue.incidents.len(), "incident"),
        plural::count(queue.tenants_read, "tenant"),
        if queue.unknown_tenants.is_empty() {
            String::new()
        } else {
            format!("; {} unknown", queue.unknown_tenants.len())
        }
    )?;
    report_unknown(&queue.unknown_tenants, err)?;
    Ok(if queue.unknown_tenants.is_empty() { EXIT_OK } else { EXIT_PARTIAL })
}
