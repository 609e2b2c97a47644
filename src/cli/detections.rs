//! `tenantctl detections preview`: before a detection rule is distributed, how many alerts it would
//! have raised in each target tenant — its query run through advanced hunting over a look-back
//! window, counted there (`| count`), for the rules that are new to a tenant or whose query changed.

use std::io::Write;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::connect::{GraphArgs, connect, tenant_credentials};
use super::fleet::{TabularFormat, selected, write_rows};
use super::pipeline::{progress, runtime};
use super::plan::Selection;
use super::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::engine::preview::{RuleChange, preview_targets};
use crate::engine::resolve::TenantDesired;
use crate::graph::client::{GraphError, TenantClient};
use crate::util::fanout::for_each_tenant;
use crate::util::plural;

#[derive(Debug, Args)]
pub struct DetectionsArgs {
    #[command(subcommand)]
    pub command: DetectionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum DetectionsCommand {
    /// Run each new or changed detection rule's query through advanced hunting in every tenant that
    /// would receive it, and show how many alerts it would have raised over the look-back window.
    /// Exit 2 when a rule would raise more than --max-alerts, 3 when a tenant or a query could not be
    /// asked.
    Preview(PreviewArgs),
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// How far back to look (ISO 8601 duration; advanced hunting keeps 30 days).
    #[arg(long, default_value = "P30D", value_name = "DURATION")]
    pub lookback: String,
    /// Preview every delivered rule, not only new and changed ones.
    #[arg(long)]
    pub all: bool,
    /// Only these rules (DetectionRule names; repeatable).
    #[arg(long = "rule", value_name = "NAME")]
    pub rules: Vec<String>,
    /// A rule that would raise more alerts than this in a tenant is noisy: the command exits 2.
    #[arg(long, value_name = "N")]
    pub max_alerts: Option<u64>,
    /// Queries run in each tenant at most (advanced hunting allows 45 a minute per tenant).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_queries_per_tenant: usize,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// One rule's count in one tenant.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RulePreview {
    tenant: String,
    rule: String,
    display_name: String,
    change: RuleChange,
    /// Rows the query matched over the window: one alert each.
    #[serde(skip_serializing_if = "Option::is_none")]
    alerts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    noisy: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    lookback: String,
    rules: Vec<RulePreview>,
    /// Tenants whose rules could not be read: nothing is known of them.
    unknown_tenants: Vec<UnknownTenant>,
    /// Rules left out where --max-queries-per-tenant was reached.
    skipped: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UnknownTenant {
    tenant: String,
    reason: String,
}

pub fn run(args: &DetectionsArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    match &args.command {
        DetectionsCommand::Preview(preview) => run_preview(preview, out, err),
    }
}

fn run_preview(args: &PreviewArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(mut prepared) = selected(&args.selection, err)? else { return Ok(EXIT_ERROR) };
    for tenant in &mut prepared.desired.tenants {
        tenant.detection_rules.retain(|r| args.rules.is_empty() || args.rules.contains(&r.object.name));
    }
    let tenants: Vec<&TenantDesired> =
        prepared.desired.tenants.iter().filter(|t| !t.suspended && !t.detection_rules.is_empty()).collect();
    if tenants.is_empty() {
        writeln!(
            err,
            "No selected tenant receives a detection rule{}.",
            if args.rules.is_empty() { "" } else { " named" }
        )?;
        return Ok(EXIT_OK);
    }
    let answers = runtime()?.block_on(async {
        let connection = connect(&args.graph, &tenant_credentials(&prepared.set), prepared.lab_seed.as_deref()).await?;
        let bar = progress(tenants.len() as u64, "Previewing");
        let answers = for_each_tenant(tenants, args.graph.concurrency, |tenant| {
            let client = connection.client.tenant(&tenant.tenant_id);
            let bar = &bar;
            async move {
                let answer = preview_tenant(&client, tenant, args).await;
                bar.inc(1);
                (tenant.name.clone(), answer)
            }
        })
        .await;
        bar.finish_and_clear();
        anyhow::Ok(answers)
    })?;
    let mut report =
        Report { lookback: args.lookback.clone(), rules: Vec::new(), unknown_tenants: Vec::new(), skipped: 0 };
    for (tenant, answer) in answers {
        match answer {
            Ok((rules, skipped)) => {
                report.rules.extend(rules);
                report.skipped += skipped;
            }
            Err(error) => report.unknown_tenants.push(UnknownTenant { tenant, reason: error.to_string() }),
        }
    }
    write_report(&report, args, out, err)?;
    let failed = report.rules.iter().any(|r| r.error.is_some());
    Ok(if failed || !report.unknown_tenants.is_empty() {
        EXIT_PARTIAL
    } else if report.rules.iter().any(|r| r.noisy) {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

/// The tenant's rules, read to tell new and changed ones, then each one's count. A failed count is
/// that rule's error; a failed read of the rules leaves the whole tenant unknown.
async fn preview_tenant(
    client: &TenantClient,
    tenant: &TenantDesired,
    args: &PreviewArgs,
) -> Result<(Vec<RulePreview>, usize), GraphError> {
    let live = client.list_detection_rules().await?;
    let targets = preview_targets(tenant, &live, args.all);
    let skipped = targets.len().saturating_sub(args.max_queries_per_tenant);
    let mut previews = Vec::new();
    for target in targets.into_iter().take(args.max_queries_per_tenant) {
        let counted = client.run_hunting_query(&target.count_query, Some(&args.lookback)).await;
        let (alerts, error) = match counted {
            Ok(response) => (Some(crate::security::hunting::count_of(&response)), None),
            Err(error) => (None, Some(error.to_string())),
        };
        previews.push(RulePreview {
            tenant: tenant.name.clone(),
            rule: target.object.name,
            display_name: target.display_name,
            change: target.change,
            noisy: alerts.zip(args.max_alerts).is_some_and(|(alerts, max)| alerts > max),
            alerts,
            error,
        });
    }
    Ok((previews, skipped))
}

fn write_report(report: &Report, args: &PreviewArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<()> {
    let alerts_header = format!("Alerts ({})", report.lookback);
    let headers: Vec<String> =
        ["Tenant", "Rule", "Change", alerts_header.as_str(), "Note"].iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = report
        .rules
        .iter()
        .map(|r| {
            let change = match r.change {
                RuleChange::New => "new",
                RuleChange::QueryChanged => "query changed",
                RuleChange::Unchanged => "unchanged",
            };
            let note = match (&r.error, r.noisy, args.max_alerts) {
                (Some(_), _, _) => "query failed (below)".to_string(),
                (None, true, Some(max)) => format!("noisy: more than {max}"),
                _ => String::new(),
            };
            vec![
                r.tenant.clone(),
                r.rule.clone(),
                change.to_string(),
                r.alerts.map_or("?".into(), |a| a.to_string()),
                note,
            ]
        })
        .collect();
    write_rows(args.output, &headers, &rows, || serde_json::to_string_pretty(report), out)?;
    let total: u64 = report.rules.iter().filter_map(|r| r.alerts).sum();
    writeln!(
        err,
        "{} previewed: {} over {}.",
        plural::count(report.rules.len(), "rule run"),
        plural::count(total as usize, "alert"),
        report.lookback
    )?;
    if report.skipped > 0 {
        writeln!(
            err,
            "{} not run (--max-queries-per-tenant {}).",
            plural::count(report.skipped, "rule"),
            args.max_queries_per_tenant
        )?;
    }
    for failed in report.rules.iter().filter(|r| r.error.is_some()) {
        writeln!(
            err,
            "query failed: {} in {}: {}",
            failed.rule,
            failed.tenant,
            failed.error.as_deref().unwrap_or_default()
        )?;
    }
    for unknown in &report.unknown_tenants {
        writeln!(err, "unknown: {}: {}", unknown.tenant, unknown.reason)?;
    }
    Ok(())
}
