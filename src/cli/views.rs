//! `tenantctl devices` and `tenantctl identities`: the fleet's Intune managed devices and Entra ID
//! Protection risky users, every selected tenant's in one list with a tenant column.

use std::io::Write;

use clap::Args;
use clap::builder::PossibleValuesParser;
use serde::Serialize;

use super::connect::GraphArgs;
use super::fleet::{TabularFormat, ask_each, report_unknown, selected, write_rows};
use super::plan::Selection;
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::security::fleet::{DeviceFilter, Merged, device_order, merge, risk_order};
use crate::security::hunting::RowLimits;
use crate::util::plural;

/// Caps shared by the views.
#[derive(Debug, Args)]
pub struct Caps {
    /// Rows kept from each tenant.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_rows_per_tenant: usize,
    /// Rows kept in total.
    #[arg(long, default_value_t = 10000, value_name = "N")]
    pub max_rows: usize,
}

impl Caps {
    fn limits(&self) -> RowLimits {
        RowLimits { per_tenant: self.max_rows_per_tenant, total: self.max_rows }
    }
}

#[derive(Debug, Args)]
pub struct DevicesArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Only devices that are not compliant.
    #[arg(long)]
    pub non_compliant: bool,
    /// Only devices that have not synced for this many days.
    #[arg(long, value_name = "DAYS")]
    pub stale_days: Option<u32>,
    /// Only devices of this operating system (`windows`, `macos`, `ios`, `android`…).
    #[arg(long, value_name = "OS")]
    pub os: Option<String>,
    #[command(flatten)]
    pub caps: Caps,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

#[derive(Debug, Args)]
pub struct IdentitiesArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Only these risk levels (repeatable, or comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = PossibleValuesParser::new(["high", "medium", "low", "hidden", "none"]))]
    pub risk_level: Vec<String>,
    /// Only these risk states (repeatable, or comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = PossibleValuesParser::new(["atRisk", "confirmedCompromised", "remediated", "dismissed", "confirmedSafe", "none"]))]
    pub risk_state: Vec<String>,
    #[command(flatten)]
    pub caps: Caps,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

pub fn devices(args: &DevicesArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(prepared) = selected(&args.selection, err)? else { return Ok(EXIT_ERROR) };
    let now = crate::util::clock::now().map_err(anyhow::Error::msg)?;
    let synced_before = match args.stale_days {
        Some(days) => Some(now.checked_sub(jiff::SignedDuration::from_hours(i64::from(days) * 24))?),
        None => None,
    };
    let filter = DeviceFilter { non_compliant: args.non_compliant, synced_before, os: args.os.clone() };
    let answers =
        ask_each(&prepared, &args.graph, "Reading devices", |graph| async move { graph.list_managed_devices().await })?;
    let merged = merge(answers, |d| filter.keeps(d), device_order, args.caps.limits());
    let headers = ["TENANT", "DEVICE", "OS", "VERSION", "COMPLIANCE", "LAST SYNC", "USER"];
    let cells = |d: &crate::wire::fleet::ManagedDevice| {
        let (name, os, version, compliance) = (&d.device_name, &d.operating_system, &d.os_version, &d.compliance_state);
        vec![name, os, version, compliance, &d.last_sync_date_time, &d.user_principal_name]
            .into_iter()
            .cloned()
            .collect()
    };
    finish(&merged, &headers, cells, "device", &args.caps, args.output, out, err)
}

pub fn identities(args: &IdentitiesArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(prepared) = selected(&args.selection, err)? else { return Ok(EXIT_ERROR) };
    let answers =
        ask_each(&prepared, &args.graph, "Reading risky users", |graph| async move { graph.list_risky_users().await })?;
    let wanted = |list: &[String], value: &str| list.is_empty() || list.iter().any(|w| w.eq_ignore_ascii_case(value));
    let keeps = |u: &crate::wire::fleet::RiskyUser| {
        wanted(&args.risk_level, &u.risk_level) && wanted(&args.risk_state, &u.risk_state)
    };
    let merged = merge(answers, keeps, risk_order, args.caps.limits());
    let headers = ["TENANT", "USER", "NAME", "RISK LEVEL", "RISK STATE", "DETAIL", "UPDATED"];
    let cells = |u: &crate::wire::fleet::RiskyUser| {
        let (user, name, level, state) = (&u.user_principal_name, &u.user_display_name, &u.risk_level, &u.risk_state);
        vec![user, name, level, state, &u.risk_detail, &u.risk_last_updated_date_time].into_iter().cloned().collect()
    };
    finish(&merged, &headers, cells, "risky user", &args.caps, args.output, out, err)
}

/// Writes the rows, then on standard error how many from how many tenants, what the caps cut and
/// which tenants could not be read; exit 3 when any could not. Each row is the tenant, then `cells`
/// of its item.
#[allow(clippy::too_many_arguments)]
fn finish<T: Serialize>(
    merged: &Merged<T>,
    headers: &[&str],
    cells: impl Fn(&T) -> Vec<String>,
    noun: &str,
    caps: &Caps,
    output: TabularFormat,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> =
        merged.rows.iter().map(|r| std::iter::once(r.tenant.clone()).chain(cells(&r.item)).collect()).collect();
    write_rows(output, &headers, &rows, || serde_json::to_string_pretty(merged), out)?;
    writeln!(
        err,
        "{} from {}{}.",
        plural::count(merged.rows.len(), noun),
        plural::count(merged.tenants.len(), "tenant"),
        if merged.truncated() { format!(" ({} matched; capped)", merged.matched()) } else { String::new() }
    )?;
    for tenant in merged.tenants.iter().filter(|t| t.kept < t.returned) {
        writeln!(
            err,
            "cut: {} matched {}, {} kept (--max-rows-per-tenant {}, --max-rows {})",
            tenant.tenant, tenant.returned, tenant.kept, caps.max_rows_per_tenant, caps.max_rows
        )?;
    }
    report_unknown(&merged.unknown_tenants, err)?;
    Ok(if merged.unknown_tenants.is_empty() { EXIT_OK } else { EXIT_PARTIAL })
}
