//! `tenantctl incidents update` and `incidents show`: triage written across tenants. The update
//! reads the selected tenants' incidents, works out what each needs (only what differs; a comment
//! the incident has already is not added again), shows it and asks, then writes tenant by tenant
//! with bounded concurrency and reports every incident. Tenants that cannot be read are listed and
//! make the exit code 3; a failed write makes it 1.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::bail;
use clap::Args;
use clap::builder::PossibleValuesParser;
use serde_json::Value;

use super::connect::{GraphArgs, connect, tenant_credentials};
use super::fleet::{TabularFormat, ask_each, report_unknown, selected, write_rows};
use super::incidents::Which;
use super::pipeline::{progress, runtime};
use super::plan::Selection;
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::engine::resolve::TenantDesired;
use crate::security::incidents::UnknownTenant;
use crate::security::triage::{IncidentUpdate, Triage, UpdateOutcome, update_of};
use crate::util::fanout::for_each_tenant;
use crate::util::plural;
use crate::wire::common::{INCIDENT_CLASSIFICATIONS, INCIDENT_DETERMINATIONS, INCIDENT_STATUSES};

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub which: Which,
    /// Only these incidents: `TENANT/ID` (the tenant's `metadata.name`). Each must exist.
    #[arg(value_name = "TENANT/ID")]
    pub incidents: Vec<String>,
    /// New status.
    #[arg(long, value_parser = PossibleValuesParser::new(INCIDENT_STATUSES))]
    pub set_status: Option<String>,
    /// New classification.
    #[arg(long, value_parser = PossibleValuesParser::new(INCIDENT_CLASSIFICATIONS))]
    pub classification: Option<String>,
    /// New determination.
    #[arg(long, value_parser = PossibleValuesParser::new(INCIDENT_DETERMINATIONS))]
    pub determination: Option<String>,
    /// New owner (a user principal name).
    #[arg(long, value_name = "OWNER")]
    pub assign_to: Option<String>,
    /// A custom tag to add (repeatable).
    #[arg(long, value_name = "TAG")]
    pub add_tag: Vec<String>,
    /// A comment to add (not added again to an incident that has it).
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Write without asking.
    #[arg(long, alias = "auto-approve")]
    pub yes: bool,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// The incident: `TENANT/ID`.
    #[arg(value_name = "TENANT/ID")]
    pub incident: String,
    #[arg(short = 'o', long, value_enum, default_value_t = TabularFormat::Table)]
    pub output: TabularFormat,
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// `TENANT/ID` into its parts.
fn reference(text: &str) -> anyhow::Result<(String, String)> {
    match text.split_once('/') {
        Some((tenant, id)) if !tenant.is_empty() && !id.is_empty() => Ok((tenant.to_string(), id.to_string())),
        _ => bail!("`{text}` is not an incident reference (TENANT/ID)"),
    }
}

pub fn update(args: &UpdateArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let triage = Triage {
        status: args.set_status.clone(),
        classification: args.classification.clone(),
        determination: args.determination.clone(),
        assigned_to: args.assign_to.clone(),
        tags: args.add_tag.clone(),
        comment: args.comment.clone(),
    };
    if triage.is_empty() {
        bail!(
            "nothing to change: give --set-status, --classification, --determination, --assign-to, --add-tag or --comment"
        );
    }
    let references: Vec<(String, String)> = args.incidents.iter().map(|r| reference(r)).collect::<Result<_, _>>()?;
    let Some(mut prepared) = selected(&args.which.selection, err)? else { return Ok(EXIT_ERROR) };
    if !references.is_empty() {
        for (tenant, _) in &references {
            if !prepared.desired.tenants.iter().any(|t| &t.name == tenant) {
                bail!("{tenant}: not a selected tenant of the manifests");
            }
        }
        prepared.desired.tenants.retain(|t| references.iter().any(|(tenant, _)| *tenant == t.name));
    }
    let answers =
        ask_each(&prepared, &args.graph, "Reading incidents", |graph| async move { graph.list_incidents(None).await })?;
    let filter = args.which.filter();
    let mut updates = Vec::new();
    let mut unknown = Vec::new();
    let mut found = Vec::new();
    for answer in answers {
        match answer.answer {
            Ok(incidents) => {
                for incident in incidents.iter().filter(|i| filter.keeps(i)) {
                    let named = references.iter().any(|(t, id)| *t == answer.tenant && *id == incident.id);
                    if references.is_empty() || named {
                        found.push((answer.tenant.clone(), incident.id.clone()));
                        updates.push(update_of(&answer.tenant, &answer.tenant_id, incident, &triage));
                    }
                }
            }
            Err(reason) => unknown.push(UnknownTenant { tenant: answer.tenant, tenant_id: answer.tenant_id, reason }),
        }
    }
    let readable = |tenant: &str| !unknown.iter().any(|u| u.tenant == tenant);
    let missing: Vec<String> = references
        .iter()
        .filter(|r| readable(&r.0) && !found.contains(r))
        .map(|(tenant, id)| format!("{tenant}/{id}"))
        .collect();
    if !missing.is_empty() {
        report_unknown(&unknown, err)?;
        bail!("no such incident (with these filters): {}; nothing was written", missing.join(", "));
    }
    let (todo, unchanged): (Vec<IncidentUpdate>, Vec<IncidentUpdate>) = updates.into_iter().partition(|u| !u.is_noop());
    if !confirm_updates(&todo, unchanged.len(), &unknown, args.yes, err)? {
        return Ok(EXIT_ERROR);
    }
    write_and_report(&prepared, &args.graph, todo, unchanged, unknown, args.output, out, err)
}

/// Says how many incidents of how many tenants change and how, lists them, and asks (unless `yes`);
/// whether to go on.
pub fn confirm_updates(
    todo: &[IncidentUpdate],
    unchanged: usize,
    unknown: &[UnknownTenant],
    yes: bool,
    err: &mut dyn Write,
) -> anyhow::Result<bool> {
    let tenants = todo.iter().map(|u| u.tenant.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    writeln!(
        err,
        "{} to update in {}{}{}.",
        plural::count(todo.len(), "incident"),
        plural::count(tenants, "tenant"),
        if unchanged == 0 { String::new() } else { format!(" ({unchanged} already as asked)") },
        if unknown.is_empty() {
            String::new()
        } else {
            format!("; {} unknown", plural::count(unknown.len(), "tenant"))
        },
    )?;
    report_unknown(unknown, err)?;
    if todo.is_empty() {
        return Ok(true);
    }
    for update in todo {
        writeln!(err, "  ~ {}/{}  {}  {}", update.tenant, update.id, update.words(), update.display_name)?;
    }
    let question = format!("Update {} in {}?", plural::count(todo.len(), "incident"), plural::count(tenants, "tenant"));
    if !yes && !super::pipeline::ask_yes(&question, "--yes", err)? {
        writeln!(err, "Nothing was written.")?;
        return Ok(false);
    }
    Ok(true)
}

/// Writes the updates, reports every incident (written, unchanged or failed) and gives the exit code:
/// 1 when a write failed, 3 when a tenant could not be read.
#[allow(clippy::too_many_arguments)]
pub fn write_and_report(
    prepared: &super::pipeline::Prepared,
    graph: &GraphArgs,
    todo: Vec<IncidentUpdate>,
    unchanged: Vec<IncidentUpdate>,
    unknown: Vec<UnknownTenant>,
    output: TabularFormat,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let mut outcomes = write_updates(&prepared.desired.tenants, todo, graph, prepared)?;
    outcomes.extend(unchanged.into_iter().map(|update| UpdateOutcome { update, result: "unchanged", error: None }));
    outcomes.sort_by(|a, b| (&a.update.tenant, &a.update.id).cmp(&(&b.update.tenant, &b.update.id)));
    let headers: Vec<String> = ["TENANT", "ID", "RESULT", "CHANGES", "TITLE"].iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .map(|o| {
            let result = o.error.as_ref().map_or(o.result.to_string(), |e| format!("{}: {e}", o.result));
            vec![o.update.tenant.clone(), o.update.id.clone(), result, o.update.words(), o.update.display_name.clone()]
        })
        .collect();
    let document = serde_json::json!({"incidents": outcomes, "unknownTenants": unknown});
    write_rows(output, &headers, &rows, || serde_json::to_string_pretty(&document), out)?;
    let failed = outcomes.iter().filter(|o| o.result == "failed").count();
    let updated = outcomes.iter().filter(|o| o.result == "updated").count();
    writeln!(err, "Updated {}; {} failed.", plural::count(updated, "incident"), failed)?;
    Ok(if failed > 0 {
        EXIT_ERROR
    } else if unknown.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    })
}

/// Writes the updates, tenant by tenant with bounded concurrency, incident after incident within a
/// tenant; the property changes first, then the comment.
fn write_updates(
    tenants: &[TenantDesired],
    todo: Vec<IncidentUpdate>,
    graph: &GraphArgs,
    prepared: &super::pipeline::Prepared,
) -> anyhow::Result<Vec<UpdateOutcome>> {
    if todo.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_tenant: BTreeMap<String, Vec<IncidentUpdate>> = BTreeMap::new();
    for update in todo {
        by_tenant.entry(update.tenant_id.clone()).or_default().push(update);
    }
    let work: Vec<(&TenantDesired, Vec<IncidentUpdate>)> =
        tenants.iter().filter_map(|t| by_tenant.remove(&t.tenant_id).map(|updates| (t, updates))).collect();
    let total = work.iter().map(|(_, u)| u.len()).sum::<usize>() as u64;
    runtime()?.block_on(async {
        let connection = connect(graph, &tenant_credentials(&prepared.set), prepared.lab_seed.as_deref()).await?;
        let bar = progress(total, "Updating incidents");
        let results = for_each_tenant(work, graph.concurrency, |(tenant, updates)| {
            let client = connection.client.tenant(&tenant.tenant_id);
            let bar = &bar;
            async move {
                let mut outcomes = Vec::new();
                for update in updates {
                    let mut error = None;
                    if !update.changes.is_empty()
                        && let Err(e) = client.update_incident(&update.id, &update.changes).await
                    {
                        error = Some(e.to_string());
                    }
                    if let (None, Some(comment)) = (&error, &update.comment)
                        && let Err(e) = client.add_incident_comment(&update.id, comment).await
                    {
                        error = Some(format!("comment not added: {e}"));
                    }
                    bar.inc(1);
                    let result = if error.is_some() { "failed" } else { "updated" };
                    outcomes.push(UpdateOutcome { update, result, error });
                }
                outcomes
            }
        })
        .await;
        bar.finish_and_clear();
        connection.close().await;
        anyhow::Ok(results.into_iter().flatten().collect())
    })
}

pub fn show(args: &ShowArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let (tenant, id) = reference(&args.incident)?;
    let Some(mut prepared) = selected(&args.selection, err)? else { return Ok(EXIT_ERROR) };
    prepared.desired.tenants.retain(|t| t.name == tenant);
    if prepared.desired.tenants.is_empty() {
        bail!("{tenant}: not a tenant of the manifests");
    }
    let answers = ask_each(&prepared, &args.graph, "Reading the incident", |graph| {
        let id = id.clone();
        async move { graph.incident_with_alerts(&id).await }
    })?;
    let Some(answer) = answers.into_iter().next() else { bail!("{tenant}: suspended, not read") };
    let incident = match answer.answer {
        Ok(incident) => incident,
        Err(reason) => {
            writeln!(err, "{}/{id}: {reason}", answer.tenant)?;
            return Ok(EXIT_PARTIAL);
        }
    };
    if args.output == TabularFormat::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&incident)?)?;
        return Ok(EXIT_OK);
    }
    let text = |key: &str| incident.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    writeln!(out, "{tenant}/{id}  {}", text("displayName"))?;
    for key in [
        "severity",
        "status",
        "classification",
        "determination",
        "assignedTo",
        "createdDateTime",
        "lastUpdateDateTime",
        "incidentWebUrl",
    ] {
        writeln!(out, "  {key:<20} {}", text(key))?;
    }
    let tags: Vec<&str> = incident
        .get("customTags")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    writeln!(out, "  {:<20} {}", "customTags", tags.join(", "))?;
    let alerts = incident.get("alerts").and_then(Value::as_array).cloned().unwrap_or_default();
    let headers: Vec<String> =
        ["ALERT", "SEVERITY", "STATUS", "CATEGORY", "TITLE"].iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|a| {
            let field = |key: &str| a.get(key).and_then(Value::as_str).unwrap_or("").to_string();
            vec![field("id"), field("severity"), field("status"), field("category"), field("title")]
        })
        .collect();
    writeln!(out)?;
    write_rows(args.output, &headers, &rows, || Ok(String::new()), out)?;
    let comments = incident.get("comments").and_then(Value::as_array).cloned().unwrap_or_default();
    for comment in comments {
        let field = |key: &str| comment.get(key).and_then(Value::as_str).unwrap_or("").to_string();
        writeln!(out, "  # {} {}: {}", field("createdDateTime"), field("createdByDisplayName"), field("comment"))?;
    }
    Ok(EXIT_OK)
}
