//! `tenantctl validate -f PATH…`

use std::io::Write;

use clap::Args;

use super::pipeline::load_and_validate;
use super::{EXIT_ERROR, EXIT_OK};
use crate::util::plural::count as plural;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest file or directory (recursive, *.yaml/*.yml); `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub paths: Vec<String>,
}

pub fn run(args: &ValidateArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let (loaded, _, diagnostics) = load_and_validate(&args.paths);
    for diagnostic in &diagnostics {
        writeln!(err, "{diagnostic}")?;
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let files = plural(loaded.files, "file");
    let documents = plural(loaded.documents, "document");
    if errors > 0 {
        writeln!(
            err,
            "Invalid: {}, {} in {documents} ({files}).",
            plural(errors, "error"),
            plural(warnings, "warning")
        )?;
        return Ok(EXIT_ERROR);
    }
    let set = &loaded.set;
    writeln!(
        out,
        "Valid: {documents} in {files} ({}, {}, {}{}{}{}{}{}{}){}.",
        plural(set.tenants.len(), "tenant"),
        plural(set.profiles.len(), "profile"),
        plural(set.policies.len(), "policy"),
        match set.roles.len() + set.defender_roles.len() {
            0 => String::new(),
            n => format!(", {}", plural(n, "role")),
        },
        match set.detection_rules.len() {
            0 => String::new(),
            n => format!(", {}", plural(n, "detection rule")),
        },
        match set.exceptions.len() {
            0 => String::new(),
            n => format!(", {}", plural(n, "exception")),
        },
        match set.overrides.len() {
            0 => String::new(),
            n => format!(", {}", plural(n, "override")),
        },
        match set.notifications.len() {
            0 => String::new(),
            n => format!(", {}", plural(n, "notification policy")),
        },
        match set.cases.len() {
            0 => String::new(),
            n => format!(", {}", plural(n, "case")),
        },
        if warnings > 0 { format!("; {}", plural(warnings, "warning")) } else { String::new() }
    )?;
    Ok(EXIT_OK)
}
