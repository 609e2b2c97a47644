//! `tenantctl schema` and `tenantctl crds`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::EXIT_OK;
use crate::manifest::generate::{crd_files, schema_files};

#[derive(Debug, Args)]
pub struct OutArgs {
    /// Write one file per kind into this directory instead of printing to standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn schema(args: &OutArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let files = schema_files();
    match &args.out {
        Some(dir) => write_files(dir, &files, err),
        None => {
            // One JSON document per line would be unreadable; print them as a JSON object by file name.
            let object: serde_json::Map<String, serde_json::Value> = files
                .iter()
                .map(|(name, text)| Ok((name.clone(), serde_json::from_str(text)?)))
                .collect::<Result<_, serde_json::Error>>()?;
            writeln!(out, "{}", serde_json::to_string_pretty(&object)?)?;
            Ok(EXIT_OK)
        }
    }
}

pub fn crds(args: &OutArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let files = crd_files()?;
    match &args.out {
        Some(dir) => write_files(dir, &files, err),
        None => {
            for (_, yaml) in &files {
                write!(out, "---\n{yaml}")?;
            }
            Ok(EXIT_OK)
        }
    }
}

fn write_files(dir: &Path, files: &[(String, String)], err: &mut dyn Write) -> anyhow::Result<u8> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(err, "wrote {}", path.display())?;
    }
    Ok(EXIT_OK)
}
