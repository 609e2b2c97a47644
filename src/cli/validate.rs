//! `tenantctl validate -f PATH…`

use std::io::{Read, Write};

use clap::Args;

use super::{EXIT_ERROR, EXIT_OK};
use crate::manifest::diagnostics::sort;
use crate::manifest::load::{Input, load_inputs};
use crate::manifest::validate::validate;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest file or directory (recursive, *.yaml/*.yml); `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub paths: Vec<String>,
}

pub fn run(args: &ValidateArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let inputs: Vec<Input> = args.paths.iter().map(|p| Input::parse(p)).collect();
    let mut loaded = load_inputs(&inputs, &mut || {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    });
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    // Semantic checks need every document; structural errors already say what is wrong with the rest.
    let (_, semantic) = validate(&loaded.set);
    diagnostics.extend(semantic);
    sort(&mut diagnostics);

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
        "Valid: {documents} in {files} ({}, {}, {}){}.",
        plural(set.tenants.len(), "tenant"),
        plural(set.profiles.len(), "profile"),
        plural(set.policies.len(), "policy"),
        if warnings > 0 { format!("; {}", plural(warnings, "warning")) } else { String::new() }
    )?;
    Ok(EXIT_OK)
}

fn plural(count: usize, noun: &str) -> String {
    match (count, noun) {
        (1, _) => format!("1 {noun}"),
        (_, "policy") => format!("{count} policies"),
        _ => format!("{count} {noun}s"),
    }
}
