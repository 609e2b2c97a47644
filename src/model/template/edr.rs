//! `EndpointDetectionPolicy` ↔ template "Endpoint detection and response"
//! (`0385b795-0f2f-44ac-8602-9f65bf6adede_1`): onboarding to Microsoft Defender for Endpoint, sample
//! sharing and telemetry frequency. The onboarding and offboarding packages are secrets: Graph reads
//! them back only as tokens, so tenantctl writes them but keeps what it reads back verbatim.

use std::sync::LazyLock;

use super::*;

const ATP: &str = "device_vendor_msft_windowsadvancedthreatprotection_";

const PACKAGE: TextRule = TextRule { min_len: 1, max_len: 175_032, forbidden: "", secret: true };

pub static TABLE: LazyLock<TemplateTable> = LazyLock::new(|| {
    TemplateTable {
    template: Template::windows("0385b795-0f2f-44ac-8602-9f65bf6adede_1"),
    nodes: vec![
        choice(
            format!("{ATP}configurationtype"),
            "onboarding.source",
            "Where the onboarding package comes from: autoFromConnector (the tenant's Defender for Endpoint connector), onboard or offboard (a package you give).",
            options(&[("autoFromConnector", "autofromconnector"), ("onboard", "onboard"), ("offboard", "offboard")]),
        )
        .refs("23ab0ea3-1b12-429a-8ed0-7390cf699160", "e5c7c98c-c854-4140-836e-bd22db59d651")
        .with(vec![
            text(
                format!("{ATP}onboarding_fromconnector"),
                "onboarding.connectorPackage",
                "Onboarding package from the connector (Intune fills it in).",
                PACKAGE,
            )
            .under(&["autofromconnector"]),
            text(format!("{ATP}onboarding"), "onboarding.package", "Onboarding package.", PACKAGE).under(&["onboard"]),
            text(format!("{ATP}offboarding"), "onboarding.offboardingPackage", "Offboarding package.", PACKAGE)
                .under(&["offboard"]),
        ]),
        choice(
            format!("{ATP}configuration_samplesharing"),
            "sampleSharing",
            "Share file samples with Microsoft during investigations: all or none.",
            options(&[("none", "0"), ("all", "1")]),
        )
        .refs("6998c81e-2814-4f5e-b492-a6159128a97b", "f72c326c-7c5b-4224-b890-0b9b54522bd9"),
        choice(
            format!("{ATP}configuration_telemetryreportingfrequency"),
            "telemetryReportingFrequency",
            "How often devices report telemetry: normal or expedite.",
            options(&[("normal", "1"), ("expedite", "2")]),
        )
        .refs("03de6095-07c4-4f35-be38-c1cd3bae4484", "350b0bea-b67b-43d4-9a04-c796edb961fd"),
    ],
}
});
