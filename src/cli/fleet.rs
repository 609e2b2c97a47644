//! What the cross-tenant read commands (`incidents`, `hunt`) share: the selected tenants, one call
//! each through the Graph client's fan-out, and rows rendered as a table, JSON or CSV.

use std::future::Future;
use std::io::Write;

use clap::ValueEnum;

use super::connect::{GraphArgs, connect, tenant_credentials};
use super::pipeline::{Prepared, narrow, prepare, progress, runtime};
use super::plan::Selection;
use crate::engine::resolve::TenantDesired;
use crate::graph::client::{GraphError, TenantClient};
use crate::render::tabular;
use crate::security::TenantAnswer;
use crate::util::fanout::for_each_tenant;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum TabularFormat {
    /// Aligned columns.
    #[default]
    Table,
    /// One JSON document.
    Json,
    /// RFC 4180, with a header row.
    Csv,
}

/// Validates the manifests and narrows them to the selection; `None` when invalid (already reported).
pub fn selected(selection: &Selection, err: &mut dyn Write) -> anyhow::Result<Option<Prepared>> {
    let Some(mut prepared) = prepare(&selection.paths, err)? else { return Ok(None) };
    narrow(&mut prepared.desired, &selection.tenant, &selection.profile)?;
    Ok(Some(prepared))
}

/// Asks every selected tenant (suspended ones are skipped) with bounded concurrency; a tenant whose
/// call fails is an answer too, with the reason.
pub fn ask_each<T, F, Fut>(
    prepared: &Prepared,
    graph: &GraphArgs,
    verb: &str,
    ask: F,
) -> anyhow::Result<Vec<TenantAnswer<T>>>
where
    F: Fn(TenantClient) -> Fut,
    Fut: Future<Output = Result<T, GraphError>>,
{
    let tenants: Vec<&TenantDesired> = prepared.desired.tenants.iter().filter(|t| !t.suspended).collect();
    runtime()?.block_on(async {
        let connection = connect(graph, &tenant_credentials(&prepared.set), prepared.lab_seed.as_deref()).await?;
        let bar = progress(tenants.len() as u64, verb);
        let answers = for_each_tenant(tenants, graph.concurrency, |tenant| {
            let client = connection.client.tenant(&tenant.tenant_id);
            let bar = &bar;
            let ask = &ask;
            async move {
                let answer = ask(client).await.map_err(|e| e.to_string());
                bar.inc(1);
                TenantAnswer { tenant: tenant.name.clone(), tenant_id: tenant.tenant_id.clone(), answer }
            }
        })
        .await;
        bar.finish_and_clear();
        connection.close().await;
        Ok(answers)
    })
}

/// Writes rows in the chosen format (`json` is given whole, already serialized).
pub fn write_rows(
    format: TabularFormat,
    headers: &[String],
    rows: &[Vec<String>],
    json: impl FnOnce() -> serde_json::Result<String>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match format {
        TabularFormat::Table => out.write_all(tabular::table(headers, rows).as_bytes())?,
        TabularFormat::Json => writeln!(out, "{}", json()?)?,
        TabularFormat::Csv => out.write_all(tabular::csv(headers, rows)?.as_bytes())?,
    }
    Ok(())
}

/// Tenants that could not be read, on standard error (they are never silently dropped).
pub fn report_unknown(
    unknown: &[crate::security::incidents::UnknownTenant],
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    for tenant in unknown {
        writeln!(err, "unknown: {} ({}): {}", tenant.tenant, tenant.tenant_id, tenant.reason)?;
    }
    Ok(())
}
