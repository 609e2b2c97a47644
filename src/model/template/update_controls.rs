//! `DefenderUpdateControlsPolicy` ↔ template "Defender Update controls"
//! (`e3f74c5a-a6de-411d-aef6-eb15628f3a0a_1`): the release channels of the engine, the platform and
//! security intelligence. The same settings exist in the antivirus template, with other template ids.

use std::sync::LazyLock;

use super::antivirus::{intelligence_channels, update_channels};
use super::*;

const PREFIX: &str = "device_vendor_msft_defender_configuration_";

pub static TABLE: LazyLock<TemplateTable> = LazyLock::new(|| {
    TemplateTable {
    template: Template::windows("e3f74c5a-a6de-411d-aef6-eb15628f3a0a_1"),
    nodes: vec![
        choice(
            format!("{PREFIX}engineupdateschannel"),
            "engineUpdatesChannel",
            "When devices get Defender engine updates (notConfigured, beta, currentPreview, currentStaged, currentBroad, critical).",
            update_channels(),
        )
        .refs("f7e1409d-9c85-4a3f-85a6-ad05cc8ccf13", "afc8df70-7b19-4335-b200-bf4b7e098f67"),
        choice(
            format!("{PREFIX}platformupdateschannel"),
            "platformUpdatesChannel",
            "When devices get Defender platform updates (notConfigured, beta, currentPreview, currentStaged, currentBroad, critical).",
            update_channels(),
        )
        .refs("e78b3ace-75d0-4aad-b3fa-4f49390d6483", "d3b0d61a-bdc5-4507-84d0-5f2a4a3e11a5"),
        choice(
            format!("{PREFIX}securityintelligenceupdateschannel"),
            "securityIntelligenceUpdatesChannel",
            "When devices get security intelligence updates (notConfigured, currentStaged, currentBroad).",
            intelligence_channels(),
        )
        .refs("ba273649-e186-4377-89d5-87405bc9a87c", "41ea06bf-e94a-482a-9aaa-7fd535fb4150"),
    ],
}
});
