//! `tenantctl tenants add`: onboarding a customer as one command and a commit — a Tenant manifest for
//! a tenant id, its display name read from the tenant's `organization` when the app can already reach
//! it, checked against the manifests it joins before anything is written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use serde_json::{Map, Value, json};

use super::connect::{GraphArgs, TenantCredentials, connect};
use super::export::slug;
use super::pipeline::runtime;
use super::{EXIT_ERROR, EXIT_OK};
use crate::manifest::load::{Input, Loaded, load_inputs, load_text, read_bounded};
use crate::model::{API_VERSION, is_guid};

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The tenant's id (a GUID).
    pub tenant_id: String,
    /// `metadata.name` of the Tenant; from the display name when not given.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The display name; read from the tenant's organization when not given.
    #[arg(long, value_name = "TEXT")]
    pub display_name: Option<String>,
    /// A grouping label, `key=value` (repeatable): what profiles select tenants by.
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    /// The manifests the tenant joins (file or directory, repeatable): a tenant id or name already
    /// there is refused, and `--lab` seeds from their `lab/` folder.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub paths: Vec<String>,
    /// Write to this file (appended as a new document when it exists) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub graph: GraphArgs,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

pub fn run(args: &AddArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    if !is_guid(&args.tenant_id) {
        writeln!(
            err,
            "error: `{}` is not a tenant id (a GUID such as 4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11)",
            args.tenant_id
        )?;
        return Ok(EXIT_ERROR);
    }
    let display_name = match &args.display_name {
        Some(name) => name.clone(),
        None => match read_display_name(args) {
            Ok(name) => name,
            Err(error) => {
                writeln!(
                    err,
                    "error: cannot read the display name of tenant {}: {}; give --display-name",
                    args.tenant_id,
                    super::error_chain(&error)
                )?;
                return Ok(EXIT_ERROR);
            }
        },
    };
    let name = args.name.clone().unwrap_or_else(|| slug(&display_name));
    let document = tenant_document(&name, &args.tenant_id, &display_name, &args.labels)?;
    let target = args.out.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "<new Tenant>".into());
    let problems = check_joined(&args.paths, &target, args.out.as_deref(), &document);
    if !problems.is_empty() {
        for problem in &problems {
            writeln!(err, "{problem}")?;
        }
        writeln!(err, "The Tenant was not written.")?;
        return Ok(EXIT_ERROR);
    }
    match &args.out {
        None => out.write_all(document.as_bytes())?,
        Some(path) => {
            write_appending(path, &document)?;
            writeln!(err, "Wrote Tenant/{name} ({display_name}) to {}.", path.display())?;
            writeln!(err, "Next: tenantctl tenants check -f {} --tenant {name}", path.display())?;
        }
    }
    Ok(EXIT_OK)
}

/// The tenant's name as its organization says, with the default credentials.
fn read_display_name(args: &AddArgs) -> anyhow::Result<String> {
    let seed = args.paths.iter().map(PathBuf::from).find(|p| p.is_dir()).map(|dir| dir.join("lab"));
    let tenant = TenantCredentials { name: &args.tenant_id, tenant_id: &args.tenant_id, credentials: None };
    runtime()?.block_on(async {
        let connection = connect(&args.graph, &[tenant], seed.as_deref()).await?;
        let organization = connection.client.tenant(&args.tenant_id).organization().await;
        connection.close().await;
        organization?
            .and_then(|o| o.display_name)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| anyhow::anyhow!("the tenant's organization has no display name"))
    })
}

fn tenant_document(
    name: &str,
    tenant_id: &str,
    display_name: &str,
    labels: &[(String, String)],
) -> anyhow::Result<String> {
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(name.to_string()));
    if !labels.is_empty() {
        let labels: Map<String, Value> = labels.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        metadata.insert("labels".into(), Value::Object(labels));
    }
    let document = json!({
        "apiVersion": API_VERSION,
        "kind": "Tenant",
        "metadata": metadata,
        "spec": {"tenantId": tenant_id.to_ascii_lowercase(), "displayName": display_name},
    });
    Ok(crate::util::yaml11::quote_ambiguous(&serde_yaml::to_string(&document)?))
}

/// The diagnostics of the manifests with the new document added (where it goes, when that file is
/// not among them): its own mistakes (a bad label) and the clashes it makes (a tenant id or name
/// already declared).
fn check_joined(paths: &[String], target: &str, out: Option<&Path>, document: &str) -> Vec<String> {
    let inputs: Vec<Input> = paths.iter().map(|p| Input::parse(p)).collect();
    let mut loaded: Loaded = load_inputs(&inputs, &mut || read_bounded(std::io::stdin().lock()));
    if let Some(out) = out.filter(|o| o.is_file() && !is_among(o, paths)) {
        match std::fs::read_to_string(out) {
            Ok(text) => load_text(&mut loaded, Arc::from(target), &text),
            Err(error) => return vec![format!("error: cannot read {}: {error}", out.display())],
        }
    }
    load_text(&mut loaded, Arc::from(target), document);
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    let (_, semantic) = crate::engine::resolve::validate_and_resolve(&loaded.set);
    diagnostics.extend(semantic);
    diagnostics.iter().filter(|d| d.is_error()).map(ToString::to_string).collect()
}

/// Whether `file` is one of `paths`, or in one of them.
fn is_among(file: &Path, paths: &[String]) -> bool {
    let Ok(file) = std::fs::canonicalize(file) else { return false };
    paths.iter().filter_map(|p| std::fs::canonicalize(p).ok()).any(|path| file.starts_with(path))
}

/// Writes `document` to `path`, after what it already holds (as a new YAML document), atomically: a
/// reader sees the old file or the new one, never half of it.
fn write_appending(path: &Path, document: &str) -> anyhow::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut text = existing.clone();
    if !text.trim().is_empty() {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("---\n");
    }
    text.push_str(document);
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let mut temporary =
        tempfile::NamedTempFile::new_in(parent).with_context(|| format!("cannot write next to {}", path.display()))?;
    temporary.write_all(text.as_bytes())?;
    temporary.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
