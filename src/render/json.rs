//! The machine view: the plan as stable JSON (`formatVersion` 1), without request payloads.

use std::io::{self, Write};

use crate::engine::plan::Plan;

pub fn render(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &plan.without_payloads())?;
    writeln!(out)
}
