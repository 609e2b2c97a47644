//! The pull-request view: a summary, a table of changes, and collapsible diffs.

use std::io::{self, Write};

use similar::ChangeTag;

use super::yaml_diff::diff;
use super::{Heading, PlanWriter, closing_line};
use crate::engine::plan::{Action, Change, Plan, Summary, TenantPlan, TenantState};
use crate::engine::rollout::RolloutReport;

/// Rows and diffs shown at most: pull-request comments are limited to 65,536 characters.
const MAX_ROWS: usize = 200;
const MAX_DIFFS: usize = 30;

pub fn render(plan: &Plan, heading: Heading, out: &mut dyn Write) -> io::Result<()> {
    super::write_plan(&mut MarkdownWriter::new(heading, out), plan)
}

/// The pull-request view, gathered one tenant at a time: it opens with the totals, so the rows and
/// diffs it will show (no more than a comment holds) wait for them; the rest is only counted.
pub struct MarkdownWriter<'a> {
    heading: Heading,
    out: &'a mut dyn Write,
    rows: Vec<String>,
    changes: usize,
    diffs: Vec<String>,
    attention: Vec<String>,
}

impl<'a> MarkdownWriter<'a> {
    pub fn new(heading: Heading, out: &'a mut dyn Write) -> MarkdownWriter<'a> {
        MarkdownWriter { heading, out, rows: Vec::new(), changes: 0, diffs: Vec::new(), attention: Vec::new() }
    }
}

impl PlanWriter for MarkdownWriter<'_> {
    fn tenant(&mut self, tenant: &TenantPlan) -> io::Result<()> {
        for change in &tenant.changes {
            self.changes += 1;
            if self.rows.len() < MAX_ROWS {
                self.rows.push(row(tenant, change));
            }
            // Diffs of what changes in existing policies; creates and deletes are whole policies, the
            // table says them.
            if self.diffs.len() < MAX_DIFFS
                && let (Some(before), Some(after)) = (change.before(), change.after())
            {
                self.diffs.push(diff_block(tenant, change, before, after));
            }
        }
        if matches!(tenant.state, TenantState::Unknown | TenantState::Failed) {
            let state = if tenant.state == TenantState::Unknown { "unknown" } else { "failed" };
            self.attention.push(format!("- {} ({state}): {}", tenant.name, escape(&tenant.problems_text())));
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary, rollouts: &[RolloutReport]) -> io::Result<()> {
        let out = &mut *self.out;
        let title = match self.heading {
            Heading::Plan => "plan",
            Heading::Drift => "drift",
        };
        writeln!(out, "### tenantctl {title}\n")?;
        writeln!(out, "**{}**\n", closing_line(self.heading, summary))?;
        if self.changes == 0 && !summary.has_changes() {
            writeln!(out, "No changes. Every tenant matches the manifests.\n")?;
        } else {
            writeln!(out, "| Tenant | Object | Action | Profile |")?;
            writeln!(out, "|---|---|---|---|")?;
            for row in &self.rows {
                writeln!(out, "{row}")?;
            }
            if self.changes > MAX_ROWS {
                writeln!(out, "| … | {} more changes | | |", self.changes - MAX_ROWS)?;
            }
            writeln!(out)?;
        }
        for block in &self.diffs {
            write!(out, "{block}")?;
        }
        for rollout in rollouts {
            let reason = rollout.reason.as_deref().map(|r| format!(" — {}", escape(r))).unwrap_or_default();
            writeln!(
                out,
                "**Rollout of {}** (revision `{}`): {} at wave {} of {}{reason}\n",
                rollout.profile,
                rollout.revision,
                rollout.state.as_str(),
                rollout.wave,
                rollout.waves.len()
            )?;
        }
        if !self.attention.is_empty() {
            writeln!(out, "**Needs attention**\n")?;
            for line in &self.attention {
                writeln!(out, "{line}")?;
            }
        }
        Ok(())
    }
}

fn row(tenant: &TenantPlan, change: &Change) -> String {
    let excepted = change.excepted.as_ref().map(|e| format!("⏸️ excepted until {} ({})", e.expires, e.owner));
    let action = match (change.is_write(), change.action()) {
        (false, _) if let Some(excepted) = &excepted => excepted.as_str(),
        (false, _) if change.waiting.is_some() => "⏸️ waits for its rollout wave",
        (false, Action::Create) => "⚠️ missing (audit)",
        (false, _) => "⚠️ drifted (audit)",
        (true, Action::Create) => "➕ create",
        (true, Action::Update) => "✏️ update",
        (true, Action::Adopt) => "✏️ adopt",
        (true, Action::Delete) => "🗑️ delete",
    };
    let overridden: Vec<&str> = change.overridden.iter().map(|o| o.r#override.as_str()).collect();
    let overridden =
        if overridden.is_empty() { String::new() } else { format!(" (overridden by {})", overridden.join(", ")) };
    format!(
        "| {} | `{}` {}{overridden} | {action} | {} |",
        tenant.name,
        change.object,
        escape(&change.display_name),
        change.profile().unwrap_or("—")
    )
}

fn diff_block(tenant: &TenantPlan, change: &Change, before: &serde_json::Value, after: &serde_json::Value) -> String {
    let body = diff(before, after)
        .into_iter()
        .map(|line| match line {
            None => "@@".to_string(),
            Some(l) => match l.tag {
                ChangeTag::Delete => format!("-{}", l.text),
                ChangeTag::Insert => format!("+{}", l.text),
                ChangeTag::Equal => format!(" {}", l.text),
            },
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "<details><summary>{}: <code>{}</code></summary>\n\n```diff\n{body}\n```\n</details>\n\n",
        tenant.name, change.object
    )
}

/// Keeps user text from breaking the table.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
