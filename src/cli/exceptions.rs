//! `tenantctl exceptions`: every exception with the tenants it covers, its owner and reason, and the
//! days it has left — read from the manifests alone, as of `TENANTCTL_NOW` or the clock.

use std::io::Write;

use clap::Args;
use kube::ResourceExt;
use serde::Serialize;

use super::fleet::{TabularFormat, write_rows};
use super::pipeline::prepare;
use super::{EXIT_ERROR, EXIT_OK};
use crate::model::exception::{Standing, standing};
use crate::util::plural;

#[derive(Debug, Args)]
pub struct ExceptionsArgs {
    /// Manifest files or directories (`-` is standard input). Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// Exceptions with at most this many days left are marked `expiring`.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub warn_days: i64,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
}

/// One exception for one tenant.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    tenant: String,
    object: String,
    allow: String,
    owner: String,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<String>,
    expires: String,
    /// Whole days until enforcement resumes (negative once expired).
    days_left: i64,
    /// `active`, `expiring` (within --warn-days) or `expired`.
    state: &'static str,
    exception: String,
}

pub fn run(args: &ExceptionsArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let Some(prepared) = prepare(&args.paths, err)? else { return Ok(EXIT_ERROR) };
    let now = crate::util::clock::now().map_err(anyhow::Error::msg)?;
    let mut rows = Vec::new();
    for exception in &prepared.set.exceptions {
        let spec = &exception.object.spec;
        let Some((days_left, standing)) = standing(&spec.expires, now, args.warn_days) else { continue };
        let state = match standing {
            Standing::Active => "active",
            Standing::Expiring => "expiring",
            Standing::Expired => "expired",
        };
        let tenants = prepared
            .set
            .tenants
            .iter()
            .filter(|t| t.namespace() == exception.namespace() && spec.covers(&t.name(), t.object.labels()));
        for tenant in tenants {
            rows.push(Row {
                tenant: tenant.name(),
                object: format!("{}/{}", spec.target.kind, spec.target.name),
                allow: spec.allow.as_str().to_string(),
                owner: spec.owner.clone(),
                reason: spec.reason.clone(),
                ticket: spec.ticket.clone(),
                expires: spec.expires.clone(),
                days_left,
                state,
                exception: exception.name(),
            });
        }
    }
    rows.sort_by(|a, b| (&a.expires, &a.tenant, &a.object).cmp(&(&b.expires, &b.tenant, &b.object)));
    let headers: Vec<String> =
        ["Tenant", "Object", "Allow", "Owner", "Reason", "Ticket", "Expires", "Days left", "State"]
            .iter()
            .map(|h| h.to_string())
            .collect();
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.tenant.clone(),
                r.object.clone(),
                r.allow.clone(),
                r.owner.clone(),
                r.reason.clone(),
                r.ticket.clone().unwrap_or_default(),
                r.expires.clone(),
                r.days_left.to_string(),
                r.state.to_string(),
            ]
        })
        .collect();
    write_rows(args.output, &headers, &table, || serde_json::to_string_pretty(&rows), out)?;
    let expired = rows.iter().filter(|r| r.state == "expired").count();
    writeln!(err, "{} ({} expired).", plural::count(rows.len(), "exception"), expired)?;
    Ok(EXIT_OK)
}
