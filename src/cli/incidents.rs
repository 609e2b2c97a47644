//! `tenantctl incidents`: one incident queue across every selected tenant, with a tenant column.

use std::io::Write;

use clap::Args;
use clap::builder::PossibleValuesParser;

use super::connect::GraphArgs;
use super::fleet::{TabularFormat, ask_each, report_unknown, selected, write_rows};
use super::plan::Selection;
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::security::incidents::{IncidentFilter, SEVERITIES, STATUSES, merge};
use crate::util::plural;

#[derive(Debug, Args)]
pub struct IncidentsArgs {
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
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
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
    let Some(prepared) = selected(&args.selection, err)? else { return Ok(EXIT_ERROR) };
    let answers =
        ask_each(&prepared, &args.graph, "Reading incidents", |graph| async move { graph.list_incidents(None).await })?;
    let filter = IncidentFilter { severities: args.severity.clone(), statuses: args.status.clone(), since: args.since };
    let queue = merge(answers, &filter);
    let headers: Vec<String> =
        ["TENANT", "SEVERITY", "STATUS", "ID", "UPDATED", "TITLE"].iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = queue
        .incidents
        .iter()
        .map(|i| {
            let updated = i.last_update_date_time.clone().or_else(|| i.created_date_time.clone()).unwrap_or_default();
            vec![i.tenant.clone(), i.severity.clone(), i.status.clone(), i.id.clone(), updated, i.display_name.clone()]
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
