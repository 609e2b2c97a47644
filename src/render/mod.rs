//! Renderers turn a plan into text for people (a terminal, a pull-request comment) or machines. They
//! write to an injected writer and never decide anything.

pub mod human;
pub mod json;
pub mod markdown;
mod style;
pub mod tabular;
pub mod yaml_diff;

pub use style::Style;

use std::io;

use crate::engine::plan::{Plan, Summary, TenantPlan};
use crate::engine::rollout::RolloutReport;

/// A view of a plan written one tenant at a time, in the plan's order (by name), then closed with the
/// totals: a plan of any size is rendered without being held whole.
pub trait PlanWriter {
    fn tenant(&mut self, tenant: &TenantPlan) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary, rollouts: &[RolloutReport]) -> io::Result<()>;
}

/// Writes a plan held in memory through `writer`.
pub fn write_plan(writer: &mut dyn PlanWriter, plan: &Plan) -> io::Result<()> {
    for tenant in &plan.tenants {
        writer.tenant(tenant)?;
    }
    writer.finish(&plan.summary, &plan.rollouts)
}

/// What a rendered plan reports: a plan of writes, or drift (every difference reported, none written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heading {
    Plan,
    Drift,
}

/// The closing line of a rendered plan, as its heading says.
pub fn closing_line(heading: Heading, summary: &Summary) -> String {
    match heading {
        Heading::Plan => summary_line(summary),
        Heading::Drift => drift_line(summary),
    }
}

/// `Drift: 3 drifted across 12 tenants (20 in sync, 1 unknown).`
pub fn drift_line(summary: &Summary) -> String {
    let mut extra = vec![format!("{} in sync", summary.unchanged)];
    if summary.excepted > 0 {
        extra.push(format!("{} excepted", summary.excepted));
    }
    if summary.waiting > 0 {
        extra.push(format!("{} waiting for their rollout wave", summary.waiting));
    }
    extra.extend(tenant_trouble(summary));
    format!(
        "Drift: {} drifted across {} ({}).",
        summary.drifted + summary.create + summary.update + summary.delete,
        crate::util::plural::count(summary.tenants, "tenant"),
        extra.join(", ")
    )
}

/// `Plan: 3 to create, 5 to update, 0 to delete across 12 tenants (20 unchanged, 1 unknown).`
pub fn summary_line(summary: &Summary) -> String {
    let mut extra = vec![format!("{} unchanged", summary.unchanged)];
    if summary.drifted > 0 {
        extra.push(format!("{} drifted in audit mode", summary.drifted));
    }
    if summary.excepted > 0 {
        extra.push(format!("{} excepted", summary.excepted));
    }
    if summary.waiting > 0 {
        extra.push(format!("{} waiting for their rollout wave", summary.waiting));
    }
    extra.extend(tenant_trouble(summary));
    format!(
        "Plan: {} to create, {} to update, {} to delete across {} ({}).",
        summary.create,
        summary.update,
        summary.delete,
        crate::util::plural::count(summary.tenants, "tenant"),
        extra.join(", ")
    )
}

/// The tenants a summary line must mention: those unknown and those failed.
fn tenant_trouble(summary: &Summary) -> Vec<String> {
    let mut trouble = Vec::new();
    if summary.unknown_tenants > 0 {
        trouble.push(format!("{} unknown", summary.unknown_tenants));
    }
    if summary.failed_tenants > 0 {
        trouble.push(format!("{} failed", summary.failed_tenants));
    }
    trouble
}
