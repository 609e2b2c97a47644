//! `tenantctl hunt`: one advanced hunting query (KQL) in every selected tenant, rows merged under a
//! leading tenant column.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::Value;

use super::connect::GraphArgs;
use super::fleet::{TabularFormat, ask_each, report_unknown, selected, write_rows};
use super::plan::Selection;
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::security::hunting::{RowLimits, merge};
use crate::util::plural;

#[derive(Debug, Args)]
pub struct HuntArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// The KQL query.
    #[arg(long, value_name = "KQL", required_unless_present = "query_file", conflicts_with = "query_file")]
    pub query: Option<String>,
    /// A file holding the KQL query.
    #[arg(long, value_name = "FILE")]
    pub query_file: Option<PathBuf>,
    /// ISO 8601 duration the query looks back over (e.g. P7D); Defender's default otherwise.
    #[arg(long, value_name = "DURATION")]
    pub timespan: Option<String>,
    /// Rows kept from each tenant.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_rows_per_tenant: usize,
    /// Rows kept in total.
    #[arg(long, default_value_t = 10000, value_name = "N")]
    pub max_rows: usize,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

pub fn run(args: &HuntArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let query = match (&args.query, &args.query_file) {
        (Some(query), _) => query.clone(),
        (None, Some(file)) => {
            std::fs::read_to_string(file).with_context(|| format!("cannot read --query-file {}", file.display()))?
        }
        (None, None) => anyhow::bail!("give the query with --query or --query-file"),
    };
    if query.trim().is_empty() {
        anyhow::bail!("the query is empty");
    }
    let Some(prepared) = selected(&args.selection, err)? else { return Ok(EXIT_ERROR) };
    let (query, timespan) = (&query, args.timespan.as_deref());
    let answers =
        ask_each(
            &prepared,
            &args.graph,
            "Hunting",
            |graph| async move { graph.run_hunting_query(query, timespan).await },
        )?;
    let merged = merge(answers, RowLimits { per_tenant: args.max_rows_per_tenant, total: args.max_rows });
    let headers: Vec<String> = merged.schema.iter().map(|c| c.name.clone()).collect();
    let rows: Vec<Vec<String>> =
        merged.results.iter().map(|row| headers.iter().map(|h| cell(row.get(h))).collect()).collect();
    write_rows(args.output, &headers, &rows, || serde_json::to_string_pretty(&merged), out)?;
    writeln!(
        err,
        "{} from {}{}.",
        plural::count(merged.results.len(), "row"),
        plural::count(merged.tenants.len(), "tenant"),
        if merged.truncated() { format!(" ({} returned; capped)", merged.returned()) } else { String::new() }
    )?;
    for tenant in merged.tenants.iter().filter(|t| t.kept < t.returned) {
        writeln!(
            err,
            "cut: {} returned {} rows, {} kept (--max-rows-per-tenant {}, --max-rows {})",
            tenant.tenant, tenant.returned, tenant.kept, args.max_rows_per_tenant, args.max_rows
        )?;
    }
    report_unknown(&merged.unknown_tenants, err)?;
    Ok(if merged.unknown_tenants.is_empty() { EXIT_OK } else { EXIT_PARTIAL })
}
