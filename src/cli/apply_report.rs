//! What an apply did, for people (one line per tenant and a verdict) and for machines (`-o json`),
//! and the exit code that says it.

use std::io::Write;

use serde::Serialize;

use super::{EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL};
use crate::engine::apply::{Skipped, TenantOutcome};
use crate::engine::problem::Problem;
use crate::model::ObjectRef;
use crate::util::plural;

/// Version of the JSON document; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// The verdict of an apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// Every planned write was made (some tenants may have been unknown when planned).
    Complete,
    /// Some writes were made, some tenants failed or were stale.
    Incomplete,
    /// Nothing was written: every tenant with writes failed or was stale.
    NothingApplied,
    /// Nothing failed, but writes a tenant's Multi Admin Approval holds wait for an approver; an
    /// apply after the approval carries them out.
    AwaitingApproval,
    /// Ctrl-C or SIGTERM: writes in flight finished, no new one started.
    Interrupted,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    pub format_version: u32,
    pub verdict: Verdict,
    pub summary: Totals,
    pub tenants: Vec<TenantReport>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub not_started: usize,
    pub tenants: usize,
    pub failed_tenants: usize,
    pub stale_tenants: usize,
    pub unknown_tenants: usize,
    /// Writes held for approval, and the tenants they are in.
    pub awaiting_approval: usize,
    pub awaiting_approval_tenants: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantReport {
    pub name: String,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Refused: the tenant changed since the saved plan was made.
    pub stale: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub not_started: usize,
    /// Creates not made: the object appeared since the plan (another writer made it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub created_elsewhere: Vec<ObjectRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Problem>,
    /// Writes held for Multi Admin Approval, each naming its approval request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub awaiting_approval: Vec<Problem>,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

impl ApplyReport {
    pub fn new(outcomes: &[TenantOutcome], interrupted: bool) -> ApplyReport {
        let mut totals = Totals { tenants: outcomes.len(), ..Totals::default() };
        let tenants: Vec<TenantReport> = outcomes
            .iter()
            .map(|o| {
                totals.created += o.created;
                totals.updated += o.updated;
                totals.deleted += o.deleted;
                totals.not_started += o.not_started;
                totals.stale_tenants += usize::from(o.stale);
                totals.failed_tenants += usize::from(!o.errors.is_empty());
                totals.unknown_tenants += usize::from(o.skipped == Some(Skipped::UnknownWhenPlanned));
                totals.awaiting_approval += o.awaiting_approval.len();
                totals.awaiting_approval_tenants += usize::from(!o.awaiting_approval.is_empty());
                TenantReport {
                    name: o.name.clone(),
                    created: o.created,
                    updated: o.updated,
                    deleted: o.deleted,
                    stale: o.stale,
                    skipped: o.skipped.map(|s| s.to_string()),
                    not_started: o.not_started,
                    created_elsewhere: o.created_elsewhere.clone(),
                    errors: o.errors.clone(),
                    awaiting_approval: o.awaiting_approval.clone(),
                }
            })
            .collect();
        let written = totals.created + totals.updated + totals.deleted;
        let verdict = if interrupted {
            Verdict::Interrupted
        } else if totals.failed_tenants + totals.stale_tenants == 0 && totals.awaiting_approval > 0 {
            Verdict::AwaitingApproval
        } else if totals.failed_tenants + totals.stale_tenants == 0 {
            Verdict::Complete
        } else if written > 0 {
            Verdict::Incomplete
        } else {
            Verdict::NothingApplied
        };
        ApplyReport { format_version: FORMAT_VERSION, verdict, summary: totals, tenants }
    }

    pub fn exit_code(&self) -> u8 {
        match self.verdict {
            Verdict::Interrupted => EXIT_INTERRUPTED,
            Verdict::Incomplete | Verdict::NothingApplied => EXIT_ERROR,
            // Not done, not failed: as with unreadable tenants, a later run finishes the job.
            Verdict::AwaitingApproval => EXIT_PARTIAL,
            Verdict::Complete if self.summary.unknown_tenants > 0 => EXIT_PARTIAL,
            Verdict::Complete => EXIT_OK,
        }
    }

    pub fn render_json(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)?;
        Ok(())
    }

    pub fn render_human(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        writeln!(out)?;
        for tenant in &self.tenants {
            let name = &tenant.name;
            if tenant.stale {
                writeln!(out, "{name}: refused: the tenant changed since the plan was made (stale); nothing written")?;
                continue;
            }
            if let Some(reason) = &tenant.skipped {
                writeln!(out, "{name}: skipped ({reason})")?;
                continue;
            }
            if tenant.created + tenant.updated + tenant.deleted > 0 {
                writeln!(
                    out,
                    "{name}: {} created, {} updated, {} deleted",
                    tenant.created, tenant.updated, tenant.deleted
                )?;
            }
            for object in &tenant.created_elsewhere {
                writeln!(out, "{name}: {object} not created: it appeared since the plan (another writer made it)")?;
            }
            for error in &tenant.errors {
                writeln!(out, "{name}: failed: {error}")?;
            }
            for held in &tenant.awaiting_approval {
                writeln!(out, "{name}: awaiting approval: {held}")?;
            }
        }
        let t = &self.summary;
        let done = format!("{} created, {} updated, {} deleted", t.created, t.updated, t.deleted);
        let tenants = plural::count(t.tenants, "tenant");
        let mut trouble = Vec::new();
        if t.failed_tenants > 0 {
            trouble.push(format!("{} failed", plural::count(t.failed_tenants, "tenant")));
        }
        if t.stale_tenants > 0 {
            trouble.push(format!("{} stale", plural::count(t.stale_tenants, "tenant")));
        }
        let held = format!(
            "{} awaiting approval in {}",
            plural::count(t.awaiting_approval, "write"),
            plural::count(t.awaiting_approval_tenants, "tenant")
        );
        if t.awaiting_approval > 0 {
            trouble.push(held.clone());
        }
        match self.verdict {
            Verdict::Interrupted => {
                writeln!(out, "\nApply interrupted: {done}; {} not started.", plural::count(t.not_started, "write"))?
            }
            Verdict::Complete => writeln!(out, "\nApply complete: {done} across {tenants}.")?,
            Verdict::AwaitingApproval => writeln!(
                out,
                "\nApply awaiting approval: {done} across {tenants}; {held}. Once approvers approve the \
                 requests, apply again to carry them out."
            )?,
            Verdict::Incomplete => {
                writeln!(out, "\nApply incomplete: {done} across {tenants}; {}.", trouble.join(", "))?
            }
            Verdict::NothingApplied => {
                writeln!(out, "\nNothing applied: {done} across {tenants}; {}.", trouble.join(", "))?
            }
        }
        Ok(())
    }
}
