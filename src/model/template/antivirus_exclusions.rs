//! `AntivirusExclusionsPolicy` ↔ template "Microsoft Defender Antivirus exclusions"
//! (`45fea5e9-280d-4da1-9792-fb5736da0ca9_1`): files, extensions and processes Defender does not scan.
//! The same settings exist in the antivirus template, with other template ids.

use std::sync::LazyLock;

use super::*;

const PREFIX: &str = "device_vendor_msft_policy_config_defender_";

pub static TABLE: LazyLock<TemplateTable> = LazyLock::new(|| TemplateTable {
    template: Template::windows("45fea5e9-280d-4da1-9792-fb5736da0ca9_1"),
    nodes: vec![
        text_list(
            format!("{PREFIX}excludedpaths"),
            "exclusions.paths",
            "Excluded files and folders.",
            TextRule::ANY,
            5000,
        )
        .instance("aaf04adc-c639-464f-b4a7-152e784092e8"),
        text_list(
            format!("{PREFIX}excludedextensions"),
            "exclusions.extensions",
            "Excluded file extensions.",
            TextRule::ANY,
            5000,
        )
        .instance("c203725b-17dc-427b-9470-673a2ce9cd5e"),
        text_list(
            format!("{PREFIX}excludedprocesses"),
            "exclusions.processes",
            "Excluded processes.",
            TextRule::ANY,
            5000,
        )
        .instance("96b046ed-f138-4250-9ae0-b0772a93d16f"),
    ],
});
