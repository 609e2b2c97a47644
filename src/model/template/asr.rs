//! `AttackSurfaceReductionPolicy` ↔ template "Attack Surface Reduction Rules"
//! (`e8c053d6-9f95-42b1-a7f1-ebfd71c67a4b_1`).
//!
//! The rules are choice children of one group (`..._attacksurfacereductionrules`, the only instance
//! of the group with a template reference); the manifest names them in words under `rules`. A rule's
//! per-rule exclusions depend on its block, audit or warn option and live under `ruleExclusions`.
//! Controlled folder access and the exclusions that apply to every rule are top-level settings.

use std::sync::LazyLock;

use super::*;
use crate::model::asr::AsrRule;

const RULES: &str = "device_vendor_msft_policy_config_defender_attacksurfacereductionrules";
const DEFENDER: &str = "device_vendor_msft_policy_config_defender_";

/// The rule modes, as the options of every rule.
pub fn modes() -> Vec<Opt> {
    options(&[("off", "off"), ("block", "block"), ("audit", "audit"), ("warn", "warn")])
}

/// Per-rule exclusions: paths, at most 1,000, none with `|`, `=` or `>` (the CSP's separators).
const RULE_EXCLUSION: TextRule = TextRule { min_len: 1, max_len: 1024, forbidden: "|=>", secret: false };

fn rule(rule: AsrRule) -> Node {
    let info = rule.info();
    let id = format!("{RULES}_{}", info.definition_suffix);
    let mut children = Vec::new();
    if info.supports_exclusions {
        children.push(
            text_list(
                format!("{id}_perruleexclusions"),
                format!("ruleExclusions.{}", info.key),
                format!("Files and folders excluded from \"{}\" only.", info.title),
                RULE_EXCLUSION,
                1000,
            )
            .under(&["block", "audit", "warn"]),
        );
    }
    choice(id, format!("rules.{}", info.key), format!("{} ({}).", info.title, info.guid), modes()).with(children)
}

const PATHS: TextRule = TextRule { min_len: 1, max_len: 1024, forbidden: "", secret: false };

pub static TABLE: LazyLock<TemplateTable> = LazyLock::new(|| TemplateTable {
    template: Template::windows("e8c053d6-9f95-42b1-a7f1-ebfd71c67a4b_1"),
    nodes: vec![
        group(RULES, "rules", "Mode of each rule (off, block, audit, warn). Rules not listed are not configured.", {
            AsrRule::ALL.into_iter().map(rule).collect()
        })
        .instance("19600663-e264-4c02-8f55-f2983216d6d7"),
        text_list(
            format!("{DEFENDER}attacksurfacereductiononlyexclusions"),
            "exclusions",
            "Files and folders excluded from every attack surface reduction rule.",
            PATHS,
            5000,
        )
        .instance("0eaea6bb-736e-44ed-a450-b2ef5bea1377"),
        choice(
            format!("{DEFENDER}enablecontrolledfolderaccess"),
            "controlledFolderAccess.mode",
            "Controlled folder access: disabled, enabled, audit, blockDiskModification or auditDiskModification.",
            options(&[
                ("disabled", "0"),
                ("enabled", "1"),
                ("audit", "2"),
                ("blockDiskModification", "3"),
                ("auditDiskModification", "4"),
            ]),
        )
        .refs("78c83b32-56c0-445a-932a-872d69af6e49", "e57db701-c3c6-4264-ab50-7896cb90dfd6"),
        text_list(
            format!("{DEFENDER}controlledfolderaccessprotectedfolders"),
            "controlledFolderAccess.protectedFolders",
            "Folders protected in addition to the Windows defaults.",
            PATHS,
            5000,
        )
        .instance("8f2096a7-d4f0-430c-9287-b08db7139163"),
        text_list(
            format!("{DEFENDER}controlledfolderaccessallowedapplications"),
            "controlledFolderAccess.allowedApplications",
            "Applications allowed to change protected folders.",
            PATHS,
            5000,
        )
        .instance("e10f2cf5-121a-4890-af23-d4e91e0fab5f"),
    ],
});
