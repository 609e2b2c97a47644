//! The machine view: the plan as stable JSON (`formatVersion` 1), without request payloads (saved
//! plans keep them). Written one tenant at a time, byte for byte what serializing the whole plan
//! prints (`serde_json`'s pretty form), so that the document of a plan of any size is never held whole.

use std::io::{self, Write};

use serde::Serialize;

use super::PlanWriter;
use crate::engine::plan::{Plan, Summary, TenantPlan};
use crate::engine::rollout::RolloutReport;

pub fn render(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    super::write_plan(&mut JsonWriter::new(out, plan.format_version, &plan.summary, false)?, plan)
}

/// The JSON document, opened with the totals (they come first in the format), then each tenant.
pub struct JsonWriter<'a> {
    out: &'a mut dyn Write,
    /// With what `apply` sends (a saved plan), or without (what `--output json` prints).
    payloads: bool,
    tenants: usize,
}

impl<'a> JsonWriter<'a> {
    pub fn new(
        out: &'a mut dyn Write,
        format_version: u32,
        summary: &Summary,
        payloads: bool,
    ) -> io::Result<JsonWriter<'a>> {
        write!(out, "{{\n  \"formatVersion\": {format_version},\n  \"summary\": ")?;
        write_nested(out, summary, 1)?;
        write!(out, ",\n  \"tenants\": [")?;
        Ok(JsonWriter { out, payloads, tenants: 0 })
    }
}

impl PlanWriter for JsonWriter<'_> {
    fn tenant(&mut self, tenant: &TenantPlan) -> io::Result<()> {
        self.out.write_all(if self.tenants == 0 { b"\n    " } else { b",\n    " })?;
        self.tenants += 1;
        if self.payloads {
            write_nested(self.out, tenant, 2)
        } else {
            write_nested(self.out, &tenant.without_payloads(), 2)
        }
    }

    fn finish(&mut self, _summary: &Summary, rollouts: &[RolloutReport]) -> io::Result<()> {
        if self.tenants > 0 {
            self.out.write_all(b"\n  ")?;
        }
        self.out.write_all(b"]")?;
        if !rollouts.is_empty() {
            self.out.write_all(b",\n  \"rollouts\": ")?;
            write_nested(self.out, &rollouts, 1)?;
        }
        self.out.write_all(b"\n}\n")
    }
}

/// `value` in the pretty form, as it appears `depth` levels deep in a pretty document. Line breaks in
/// the pretty form are all structural (strings escape theirs), so indenting every line is exact.
fn write_nested(out: &mut dyn Write, value: &impl Serialize, depth: usize) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    let indent = "  ".repeat(depth);
    let mut lines = text.split('\n');
    if let Some(first) = lines.next() {
        out.write_all(first.as_bytes())?;
    }
    for line in lines {
        out.write_all(b"\n")?;
        out.write_all(indent.as_bytes())?;
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::TenantState;

    fn whole(plan: &Plan) -> String {
        serde_json::to_string_pretty(plan).expect("json") + "\n"
    }

    fn streamed(plan: &Plan, payloads: bool) -> String {
        let mut out = Vec::new();
        let mut writer = JsonWriter::new(&mut out, plan.format_version, &plan.summary, payloads).expect("open");
        super::super::write_plan(&mut writer, plan).expect("write");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn written_tenant_by_tenant_it_is_the_whole_document() {
        let empty = Plan::new(Vec::new());
        assert_eq!(streamed(&empty, true), whole(&empty));
        let mut planned = TenantPlan::empty("b", "id-b", TenantState::Planned);
        planned.profiles = vec!["p".into()];
        let plan = Plan::new(vec![planned, TenantPlan::empty("a", "id-a", TenantState::Unknown)]);
        assert_eq!(streamed(&plan, true), whole(&plan));
        assert_eq!(streamed(&plan, false), whole(&plan.without_payloads()));
    }
}
