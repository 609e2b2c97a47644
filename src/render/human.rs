//! The terminal view: per tenant, per policy, `+`/`~`/`-` with a YAML diff of what changes, and a
//! Terraform-like summary line.

use std::io::{self, Write};

use similar::ChangeTag;

use super::yaml_diff::diff;
use super::{Heading, PlanWriter, Style, closing_line};
use crate::engine::plan::{Action, Change, Plan, Revised, Summary, TenantPlan, TenantState};
use crate::engine::rollout::{RolloutReport, RolloutState};
use crate::util::plural;

pub fn render(plan: &Plan, heading: Heading, style: Style, out: &mut dyn Write) -> io::Result<()> {
    super::write_plan(&mut HumanWriter::new(heading, style, out), plan)
}

/// The terminal view, one tenant at a time: tenants in sync are counted, the others shown.
pub struct HumanWriter<'a> {
    heading: Heading,
    style: Style,
    out: &'a mut dyn Write,
    in_sync: usize,
}

impl<'a> HumanWriter<'a> {
    pub fn new(heading: Heading, style: Style, out: &'a mut dyn Write) -> HumanWriter<'a> {
        HumanWriter { heading, style, out, in_sync: 0 }
    }
}

impl PlanWriter for HumanWriter<'_> {
    fn tenant(&mut self, tenant: &TenantPlan) -> io::Result<()> {
        let quiet = tenant.state == TenantState::Planned && tenant.changes.is_empty() && tenant.problems.is_empty();
        if quiet {
            self.in_sync += 1;
            return Ok(());
        }
        render_tenant(tenant, self.style, self.out)?;
        writeln!(self.out)
    }

    fn finish(&mut self, summary: &Summary, rollouts: &[RolloutReport]) -> io::Result<()> {
        let (style, out) = (self.style, &mut *self.out);
        if !summary.has_changes() && summary.unknown_tenants == 0 && summary.failed_tenants == 0 {
            let text = if summary.waiting > 0 {
                "No changes this run. The changes above wait for their rollout wave."
            } else if summary.excepted > 0 {
                "No changes. Every tenant matches the manifests, but for the exceptions above."
            } else {
                "No changes. Every tenant matches the manifests."
            };
            writeln!(out, "{}", style.green(text))?;
        } else if self.in_sync > 0 {
            writeln!(out, "{}", style.dim(&format!("{} in sync.", plural::count(self.in_sync, "tenant"))))?;
        }
        for rollout in rollouts {
            render_rollout(rollout, style, out)?;
        }
        writeln!(out, "{}", style.bold(&closing_line(self.heading, summary)))
    }
}

/// `Rollout of retail-hardening (revision 7b1e0c44): wave 2 of 3 (early) waiting — …`, then each
/// wave with how many of its tenants run the revision.
fn render_rollout(rollout: &RolloutReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let name = rollout.waves.get(rollout.wave.saturating_sub(1)).map_or("", |w| w.name.as_str());
    let state = match rollout.state {
        RolloutState::Complete => style.green("complete"),
        RolloutState::Advancing => {
            style.green(&format!("wave {} of {} ({name}) advancing", rollout.wave, rollout.waves.len()))
        }
        RolloutState::Waiting => {
            style.yellow(&format!("wave {} of {} ({name}) waiting", rollout.wave, rollout.waves.len()))
        }
        RolloutState::Halted => {
            style.red(&format!("halted at wave {} of {} ({name})", rollout.wave, rollout.waves.len()))
        }
    };
    let reason = rollout.reason.as_deref().map(|r| format!(" — {r}")).unwrap_or_default();
    writeln!(out, "Rollout of {} (revision {}): {state}{reason}", rollout.profile, rollout.revision)?;
    let waves: Vec<String> = rollout.waves.iter().map(|w| format!("{} {}/{}", w.name, w.current, w.tenants)).collect();
    writeln!(out, "  {}", style.dim(&format!("runs the revision: {}", waves.join(", "))))
}

fn render_tenant(tenant: &TenantPlan, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let title = format!("{}  {}", style.bold(&tenant.name), style.dim(&tenant.display_name));
    match tenant.state {
        TenantState::Unknown => {
            return writeln!(out, "{title}  {} — {}", style.red("unknown"), tenant.problems_text());
        }
        TenantState::Suspended => return writeln!(out, "{title}  {}", style.dim("suspended: not read, not written")),
        TenantState::Planned | TenantState::Failed => {}
    }
    let profiles = match tenant.profiles.as_slice() {
        [] => String::new(),
        [one] => format!("  (profile {one})"),
        many => format!("  (profiles {})", many.join(", ")),
    };
    writeln!(out, "{title}{}", style.dim(&profiles))?;
    for standing in &tenant.rollouts {
        let runs = match (&standing.runs, standing.present) {
            (_, 0) => "new to the profile".to_string(),
            (Some(runs), _) => format!("runs {runs}"),
            (None, _) => "runs an unknown revision".to_string(),
        };
        let line = format!(
            "rollout {}: wave {} ({}), {runs}, gets {}",
            standing.profile, standing.wave_number, standing.wave, standing.gets
        );
        writeln!(out, "  {}", style.cyan(&line))?;
    }
    let width = tenant.changes.iter().map(|c| c.object.to_string().len()).max().unwrap_or(0);
    for change in &tenant.changes {
        render_change(change, width, style, out)?;
    }
    for request in &tenant.approval_requests {
        let verdict = match request.status.as_str() {
            "approved" => style.green("approved: apply carries the write out"),
            "rejected" => style.red("rejected: not asked again for the same write"),
            _ => style.yellow("awaiting approval"),
        };
        let what = request.justification.rsplit_once(": ").map_or(request.justification.as_str(), |(_, w)| w);
        writeln!(out, "  {} approval request {} {verdict} — {}", style.yellow("⏸"), request.id, style.dim(what))?;
    }
    if tenant.unmanaged > 0 {
        let unmanaged = plural::count(tenant.unmanaged, "unmanaged object");
        writeln!(out, "  {}", style.dim(&format!("· {unmanaged} left alone")))?;
    }
    for problem in &tenant.problems {
        writeln!(out, "  {} {problem}", style.red("✗"))?;
    }
    Ok(())
}

fn render_change(change: &Change, width: usize, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let excepted = change.excepted.as_ref().map(|e| {
        let settings =
            if e.settings.is_empty() { String::new() } else { format!(" — {} may differ", e.settings.join(", ")) };
        format!("excepted until {} ({}: {}){settings}", e.expires, e.owner, e.reason)
    });
    let (symbol, verb) = match (change.is_write(), change.action()) {
        (false, _) if let Some(excepted) = &excepted => (style.dim("="), style.dim(excepted)),
        (false, _) if change.waiting.is_some() => (style.cyan("⏸"), style.cyan("waiting")),
        (false, Action::Create) => (style.magenta("!"), style.magenta("missing (audit mode: not written)")),
        (false, Action::Delete) => (style.magenta("!"), style.magenta("should not exist (audit mode: not written)")),
        (false, _) => (style.magenta("!"), style.magenta("drifted (audit mode: not written)")),
        (true, Action::Create) => (style.green("+"), style.green("create")),
        (true, Action::Update) => (style.yellow("~"), style.yellow("update")),
        (true, Action::Adopt) => (style.yellow("~"), style.yellow("adopt")),
        (true, Action::Delete) => (style.red("-"), style.red("delete")),
    };
    let fields = if change.fields().is_empty() { String::new() } else { format!(" ({})", change.fields_text()) };
    let revision = match &change.revision {
        Some(Revised { from: Some(from), to }) => style.dim(&format!("  revision {from} → {to}")),
        _ => String::new(),
    };
    let object = change.object.to_string();
    writeln!(out, "  {symbol} {object:<width$}  \"{}\"  {verb}{fields}{revision}", change.display_name)?;
    if let Some(reason) = &change.reason {
        writeln!(out, "      {}", style.dim(reason))?;
    }
    if let Some(waiting) = &change.waiting {
        writeln!(out, "      {}", style.cyan(waiting))?;
    }
    for overridden in &change.overridden {
        for edit in &overridden.edits {
            writeln!(out, "      {}", style.cyan(&format!("{edit}  ← {}", overridden.r#override)))?;
        }
    }
    if let (Some(before), Some(after)) = (change.before(), change.after()) {
        for line in diff(before, after) {
            let Some(line) = line else {
                writeln!(out, "      {}", style.dim("…"))?;
                continue;
            };
            let text = match line.tag {
                ChangeTag::Delete => style.red(&format!("-   {}", line.text)),
                ChangeTag::Insert => style.green(&format!("+   {}", line.text)),
                ChangeTag::Equal => style.dim(&format!("    {}", line.text)),
            };
            writeln!(out, "      {text}")?;
        }
    }
    Ok(())
}
