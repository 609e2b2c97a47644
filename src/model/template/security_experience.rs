//! `SecurityExperiencePolicy` ↔ template "Windows Security Experience"
//! (`d948ff9b-99cb-4ee0-8012-1fbc09685377_1`): tamper protection, which areas of the Windows Security
//! app users see, and the contact details it shows.

use std::sync::LazyLock;

use super::*;

const CENTER: &str = "device_vendor_msft_policy_config_windowsdefendersecuritycenter_";

fn w(suffix: &str) -> String {
    format!("{CENTER}{suffix}")
}

fn hide(suffix: &str, path: &'static str, doc: &'static str) -> Node {
    choice(w(suffix), path, doc, flag())
}

const CONTACT: TextRule = TextRule { min_len: 0, max_len: 1024, forbidden: "", secret: false };

pub static TABLE: LazyLock<TemplateTable> = LazyLock::new(|| TemplateTable {
    template: Template::windows("d948ff9b-99cb-4ee0-8012-1fbc09685377_1"),
    nodes: vec![
        choice(
            "vendor_msft_defender_configuration_tamperprotection_options",
            "tamperProtection",
            "Tamper protection: stops Defender's protection from being turned off on the device.",
            options(&[("enabled", "0"), ("disabled", "1")]),
        )
        .refs("5655cab2-7e6b-4c49-9ce2-3865da05f7e6", "fc365da9-2c1b-4f79-aa4b-dedca69e728f"),
        hide("disablevirusui", "hide.virusAndThreatProtection", "Hide the virus & threat protection area.")
            .refs("0a794014-5f4b-48ac-bcc1-c01c520036ad", "c7d8d335-5b76-464b-bb16-76cbe8abfa34"),
        hide("hideransomwaredatarecovery", "hide.ransomwareDataRecovery", "Hide the ransomware data recovery area.")
            .refs("af974717-e1f1-475b-83f6-548c70e97028", "251963db-3981-4ca3-8df1-b92f0a661c75"),
        hide("disableaccountprotectionui", "hide.accountProtection", "Hide the account protection area.")
            .refs("ac41827d-76a1-47fc-a457-d399b5f73181", "3c9b8f91-de2d-4722-8eb5-df9a8a2e8830"),
        hide("disablenetworkui", "hide.firewallAndNetworkProtection", "Hide the firewall & network protection area.")
            .refs("5f789df1-df7d-446e-bac4-f00bde46d9f2", "46da9ebb-fe6a-4a70-8e2d-6a3359ddb655"),
        hide("disableappbrowserui", "hide.appAndBrowserControl", "Hide the app & browser control area.")
            .refs("66e00605-0812-4071-8ebd-25c59e21da53", "1e13433f-873d-4887-bb7f-3ee3da08b23d"),
        hide("disabledevicesecurityui", "hide.deviceSecurity", "Hide the device security area.")
            .refs("2d94cb1f-cbd6-4c9e-8117-1e3b0f3538d8", "5015408c-9b54-4fe2-8901-049893a887b9"),
        hide("disablehealthui", "hide.devicePerformanceAndHealth", "Hide the device performance & health area.")
            .refs("b5b6359e-b835-420d-a341-9ed4e1340b82", "ebff67f1-8ca3-4450-a58e-ca4a7fa30e17"),
        hide("disablefamilyui", "hide.familyOptions", "Hide the family options area.")
            .refs("afcadc31-118d-4a5f-8a70-9f214389aa11", "6add170a-7868-41d1-82a9-1038d2b3ce2b"),
        hide("disablecleartpmbutton", "hide.clearTpmButton", "Hide the Clear TPM button.")
            .refs("b74cf007-28b9-472d-908c-943963a8e933", "a87e6581-4959-4c05-962c-ebfff40bf7a0"),
        hide(
            "disabletpmfirmwareupdatewarning",
            "hide.tpmFirmwareUpdateRecommendation",
            "Hide the recommendation to update TPM firmware.",
        )
        .refs("97f189ba-bcf6-4cd4-9b28-84866e982486", "355986f7-fe53-4d4b-957c-babcf6d3cd75"),
        hide(
            "hidewindowssecuritynotificationareacontrol",
            "hide.notificationAreaIcon",
            "Hide the Windows Security icon in the notification area.",
        )
        .refs("3a9dc836-5f32-4428-a04a-1bad526d3c7b", "39f2d84f-4082-478d-bf5c-3317ffb14fd7"),
        hide(
            "disableenhancednotifications",
            "notifications.criticalOnly",
            "Show only critical notifications from Windows Security.",
        )
        .refs("90d71ec1-eace-4cf1-a2da-023962fac6c5", "aeb811f1-7980-4c19-a6b9-959aa84582c8"),
        hide(
            "enablecustomizedtoasts",
            "contact.inNotifications",
            "Show the organization's contact details in notifications.",
        )
        .refs("bcf504b2-0285-4ec5-8d3c-cf135d98d925", "e0ce0a98-40e4-47ac-82e2-9de0616c6760"),
        hide("enableinappcustomization", "contact.inApp", "Show the organization's contact card in the app.")
            .refs("71b7efe5-c134-40d4-9d88-463592e367a7", "0a59e152-c250-43a6-88bb-72b6a48f48dd"),
        text(w("companyname"), "contact.companyName", "Organization name shown to users.", CONTACT)
            .refs("86d04a37-6b64-40a2-b6bf-cab433e68950", "d9b4a5a8-1ffb-4f01-9438-992db2988eec"),
        text(w("email"), "contact.email", "Support email address shown to users.", CONTACT),
        text(w("phone"), "contact.phone", "Support phone number shown to users.", CONTACT),
        text(w("url"), "contact.url", "Support website shown to users.", CONTACT),
    ],
});
