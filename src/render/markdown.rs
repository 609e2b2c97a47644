//! The pull-request view: a summary, a table of changes, and collapsible diffs.

use std::io::{self, Write};

use similar::ChangeTag;

use super::yaml_diff::diff;
use super::{Heading, closing_line};
use crate::engine::plan::{Action, Plan, TenantState};

/// Rows and diffs shown at most: pull-request comments are limited to 65,536 characters.
const MAX_ROWS: usize = 200;
const MAX_DIFFS: usize = 30;

pub fn render(plan: &Plan, heading: Heading, out: &mut dyn Write) -> io::Result<()> {
    let title = match heading {
        Heading::Plan => "plan",
        Heading::Drift => "drift",
    };
    writeln!(out, "### tenantctl {title}\n")?;
    writeln!(out, "**{}**\n", closing_line(heading, &plan.summary))?;
    let changes: Vec<_> = plan.tenants.iter().flat_map(|t| t.changes.iter().map(move |c| (t, c))).collect();
    if changes.is_empty() && !plan.has_changes() {
        writeln!(out, "No changes. Every tenant matches the manifests.\n")?;
    } else {
        writeln!(out, "| Tenant | Object | Action | Profile |")?;
        writeln!(out, "|---|---|---|---|")?;
        for (tenant, change) in changes.iter().take(MAX_ROWS) {
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
            let overridden = if overridden.is_empty() {
                String::new()
            } else {
                format!(" (overridden by {})", overridden.join(", "))
            };
            writeln!(
                out,
                "| {} | `{}` {}{overridden} | {action} | {} |",
                tenant.name,
                change.object,
                escape(&change.display_name),
                change.profile().unwrap_or("—")
            )?;
        }
        if changes.len() > MAX_ROWS {
            writeln!(out, "| … | {} more changes | | |", changes.len() - MAX_ROWS)?;
        }
        writeln!(out)?;
    }
    // Diffs of what changes in existing policies; creates and deletes are whole policies, the table says them.
    for (tenant, change) in changes.iter().filter(|(_, c)| c.before().is_some() && c.after().is_some()).take(MAX_DIFFS)
    {
        let body = match (change.before(), change.after()) {
            (Some(before), Some(after)) => diff(before, after)
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
                .join("\n"),
            _ => continue,
        };
        writeln!(out, "<details><summary>{}: <code>{}</code></summary>\n", tenant.name, change.object)?;
        writeln!(out, "```diff\n{body}\n```\n</details>\n")?;
    }
    for rollout in &plan.rollouts {
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
    let attention: Vec<_> =
        plan.tenants.iter().filter(|t| matches!(t.state, TenantState::Unknown | TenantState::Failed)).collect();
    if !attention.is_empty() {
        writeln!(out, "**Needs attention**\n")?;
        for tenant in attention {
            let state = if tenant.state == TenantState::Unknown { "unknown" } else { "failed" };
            writeln!(out, "- {} ({state}): {}", tenant.name, escape(&tenant.problems_text()))?;
        }
    }
    Ok(())
}

/// Keeps user text from breaking the table.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
