//! `AntivirusPolicy` ↔ template "Microsoft Defender Antivirus" (`804339ad-1553-4478-a742-138fb5807418_1`).
//! Every setting lives under `spec.settings`. Instance and value template ids are those of real
//! payloads of this template; where none is known the instance is written without one, which Intune
//! accepts (a wrong id it refuses with `InvalidReferenceId`).

use std::sync::LazyLock;

use super::*;

const DEFENDER: &str = "device_vendor_msft_policy_config_defender_";
const CONFIGURATION: &str = "device_vendor_msft_defender_configuration_";

fn d(suffix: &str) -> String {
    format!("{DEFENDER}{suffix}")
}

fn c(suffix: &str) -> String {
    format!("{CONFIGURATION}{suffix}")
}

/// Options of the update channel settings (engine and platform).
pub fn update_channels() -> Vec<Opt> {
    options(&[
        ("notConfigured", "0"),
        ("beta", "2"),
        ("currentPreview", "3"),
        ("currentStaged", "4"),
        ("currentBroad", "5"),
        ("critical", "6"),
    ])
}

/// Options of the security intelligence update channel.
pub fn intelligence_channels() -> Vec<Opt> {
    options(&[("notConfigured", "0"), ("currentStaged", "4"), ("currentBroad", "5")])
}

fn threat_actions() -> Vec<Opt> {
    options(&[
        ("clean", "clean"),
        ("quarantine", "quarantine"),
        ("remove", "remove"),
        ("allow", "allow"),
        ("userDefined", "userdefined"),
        ("block", "block"),
    ])
}

const ANY: TextRule = TextRule::ANY;

pub static TABLE: LazyLock<TemplateTable> = LazyLock::new(|| {
    TemplateTable {
    template: Template::windows("804339ad-1553-4478-a742-138fb5807418_1"),
    nodes: vec![
        choice(d("allowrealtimemonitoring"), "settings.realTimeMonitoring", "Real-time monitoring.", toggle())
            .refs("f0790e28-9231-4d37-8f44-84bb47ca1b3e", "0492c452-1069-4b91-9363-93b8e006ab12"),
        choice(d("allowbehaviormonitoring"), "settings.behaviorMonitoring", "Behavior monitoring.", toggle())
            .refs("8eef615a-1aa0-46f4-a25a-12cbe65de5ab", "905921da-95e2-4a10-9e30-fe5540002ce1"),
        choice(d("allowcloudprotection"), "settings.cloudProtection", "Cloud-delivered protection (MAPS).", toggle())
            .refs("7da139f1-9b7e-407d-853a-c2e5037cdc70", "16fe8afd-67be-4c50-8619-d535451a500c"),
        choice(
            d("cloudblocklevel"),
            "settings.cloudBlockLevel",
            "How aggressively cloud-delivered protection blocks: default, high, highPlus or zeroTolerance.",
            options(&[("default", "0"), ("high", "2"), ("highPlus", "4"), ("zeroTolerance", "6")]),
        )
        .refs("c7a37009-c16e-4145-84c8-89a8c121fb15", "517b4e84-e933-42b9-b92f-00e640b1a82d"),
        integer(
            d("cloudextendedtimeout"),
            "settings.cloudExtendedTimeoutSeconds",
            "Extra seconds (0–50) a file may be held for a cloud verdict.",
            0,
            50,
        )
        .refs("f61c2788-14e4-4e80-a5a7-bf2ff5052f63", "608f1561-b603-46bd-bf5f-0b9872002f75"),
        choice(
            d("submitsamplesconsent"),
            "settings.submitSamplesConsent",
            "Whether samples are submitted to Microsoft.",
            options(&[
                ("alwaysPrompt", "0"),
                ("sendSafeSamples", "1"),
                ("neverSend", "2"),
                ("sendAllSamples", "3"),
            ]),
        )
        .refs("bc47ce7d-a251-4cae-a8a2-6e8384904ab7", "826ed4b6-e04f-4975-9d23-6f0904b0d87e"),
        choice(
            d("puaprotection"),
            "settings.potentiallyUnwantedApps",
            "Potentially unwanted application (PUA) protection.",
            options(&[("off", "0"), ("block", "1"), ("audit", "2")]),
        )
        .refs("c0135c2a-f802-44f4-9b71-b0b976411b8c", "2d790211-18cb-4e32-b8cc-97407e2c0b45"),
        choice(
            d("enablenetworkprotection"),
            "settings.networkProtection",
            "Network protection.",
            options(&[("off", "0"), ("block", "1"), ("audit", "2")]),
        )
        .refs("f53ab20e-8af6-48f5-9fa1-46863e1e517e", "ee58fb51-9ae5-408b-9406-b92b643f388a"),
        choice(d("allowarchivescanning"), "settings.archiveScanning", "Scanning of archive files (.zip, .cab).", toggle())
            .refs("7c5c9cde-f74d-4d11-904f-de4c27f72d89", "9ead75d4-6f30-4bc5-8cc5-ab0f999d79f0"),
        choice(d("allowemailscanning"), "settings.emailScanning", "Scanning of email messages and attachments.", toggle())
            .refs("b0d9ee81-de6a-4750-86d7-9397961c9852", "fdf107fd-e13b-4507-9d8f-db4d93476af9"),
        choice(
            d("allowioavprotection"),
            "settings.downloadsScanning",
            "Scanning of downloaded files and attachments (IOAV protection).",
            toggle(),
        )
        .refs("fa06231d-aed4-4601-b631-3a37e85b62a0", "df4e6cbd-f7ff-41c8-88cd-fa25264a237e"),
        choice(d("allowscriptscanning"), "settings.scriptScanning", "Scanning of scripts.", toggle())
            .refs("000cf176-949c-4c08-a5d4-90ed43718db7", "ab9e4320-c953-4067-ac9a-be2becd06b4a"),
        choice(d("allowscanningnetworkfiles"), "settings.networkFilesScanning", "Scanning of network files.", toggle())
            .refs("f8f28442-0a6b-4b52-b42c-d31d9687c1cf", "7b8c858c-a17d-4623-9e20-f34b851670ce"),
        choice(
            d("allowfullscanremovabledrivescanning"),
            "settings.removableDriveScanning",
            "Scanning of removable drives during full scans.",
            toggle(),
        )
        .refs("fb36e70b-5bc9-488a-a949-8ea3ac1634d5", "366c5727-629b-4a81-b50b-52f90282fa2c"),
        choice(
            d("allowfullscanonmappednetworkdrives"),
            "settings.mappedDriveScanning",
            "Scanning of mapped network drives during full scans.",
            toggle(),
        )
        .refs("dac47505-f072-48d6-9f23-8d93262d58ed", "3e920b10-3773-4ac5-957e-e5573aec6d04"),
        choice(
            d("allowuseruiaccess"),
            "settings.userUiAccess",
            "Whether users can open the Defender user interface.",
            toggle(),
        )
        .refs("0170a900-b0bc-4ccc-b7ce-dda9be49189b", "4b6c9739-4449-4006-8e5f-3049136470ea"),
        choice(d("allowonaccessprotection"), "settings.onAccessProtection", "On-access protection.", toggle())
            .refs("afbc322b-083c-4281-8242-ebbb91398b41", "ed077fee-9803-44f3-b045-aab34d8e6d52"),
        choice(
            d("allowintrusionpreventionsystem"),
            "settings.intrusionPrevention",
            "Network intrusion prevention.",
            toggle(),
        )
        .refs("d47f06e2-5378-43f2-adbc-e924538f1512", "03738a99-7065-44cb-ba1e-93530ed906a7"),
        choice(
            d("realtimescandirection"),
            "settings.realTimeScanDirection",
            "Which file operations real-time protection scans: all, incoming or outgoing.",
            options(&[("all", "0"), ("incoming", "1"), ("outgoing", "2")]),
        )
        .refs("f5ff00a4-e5c7-44cf-a650-9c7619ff1561", "6b4e3497-cfbb-4761-a152-de935bbf3f07"),
        choice(
            d("scanparameter"),
            "settings.scheduledScanType",
            "Scheduled scan type: quick or full.",
            options(&[("quick", "1"), ("full", "2")]),
        )
        .refs("27ca2652-46f3-4cc7-83f2-bf85ff722d84", "70c8f42e-ee6a-4ef1-a070-cb0e9d472581"),
        choice(
            d("schedulescanday"),
            "settings.scheduledScanDay",
            "Day of the scheduled scan (`everyday`, a weekday, or `never`).",
            options(&[
                ("everyday", "0"),
                ("sunday", "1"),
                ("monday", "2"),
                ("tuesday", "3"),
                ("wednesday", "4"),
                ("thursday", "5"),
                ("friday", "6"),
                ("saturday", "7"),
                ("never", "8"),
            ]),
        )
        .refs("087d3362-7e78-4983-96bc-1f4ea183f0e4", "7f4d9dda-6d48-4353-90ca-9fa7164c7215"),
        integer(
            d("schedulescantime"),
            "settings.scheduledScanTimeMinutes",
            "Time of the scheduled scan, in minutes after midnight (0–1380).",
            0,
            1380,
        )
        .refs("66d36baa-74ee-498d-958a-af477008c850", "a204c511-6130-473a-b05f-93bda521aba9"),
        integer(
            d("schedulequickscantime"),
            "settings.dailyQuickScanTimeMinutes",
            "Time of the daily quick scan, in minutes after midnight (0–1380).",
            0,
            1380,
        )
        .refs("784a4af1-33fa-45f2-b945-138b7ff3bcb6", "5d5c55c8-1a4e-4272-830d-8dc64cd3ac03"),
        choice(
            c("randomizescheduletasktimes"),
            "settings.randomizeScheduledTaskTimes",
            "Randomize the start of scheduled scans and updates.",
            toggle(),
        )
        .refs("458a2544-4ce5-4d20-9d6f-31e6fefc1294", "2d2563cc-fd0c-4d03-98ef-617878b09180"),
        integer(
            c("schedulerrandomizationtime"),
            "settings.schedulerRandomizationHours",
            "Window, in hours (1–23), over which scheduled tasks are randomized.",
            1,
            23,
        )
        .refs("c8912303-7967-411e-8723-eb86a1d418db", "3107ec22-c9b4-41da-b567-7a4850bb7731"),
        integer(
            d("signatureupdateinterval"),
            "settings.signatureUpdateIntervalHours",
            "Hours between security intelligence update checks (0–24).",
            0,
            24,
        )
        .refs("89879f27-6b7d-44d4-a08e-0a0de3e9663d", "0af6bbed-a74a-4d08-8587-b16b10b774cb"),
        text_list(
            d("signatureupdatefallbackorder"),
            "settings.signatureUpdateFallbackOrder",
            "Sources of security intelligence updates, in order (InternalDefinitionUpdateServer, MicrosoftUpdateServer, MMPC, FileShares).",
            ANY,
            10,
        )
        .instance("cce4b3e7-b1a5-42a0-ab91-3bb8c68cc670"),
        text_list(
            d("signatureupdatefilesharessources"),
            "settings.signatureUpdateFileShares",
            "UNC file shares to download security intelligence updates from.",
            ANY,
            100,
        )
        .instance("f8f4d6fc-dcb4-4bf8-b1fb-88942d05bdc8"),
        choice(
            d("checkforsignaturesbeforerunningscan"),
            "settings.checkSignaturesBeforeScan",
            "Check for new security intelligence before running a scan.",
            toggle(),
        )
        .refs("4fea56e3-7bb6-4ad3-88c6-e364dd2f97b9", "010779d1-edd4-441d-8034-89ad57a863fe"),
        choice(
            d("disablecatchupfullscan"),
            "settings.catchupFullScan",
            "Catch-up full scans after missed scheduled scans.",
            inverted_toggle(),
        )
        .refs("f881b08c-f047-40d2-b7d9-3dde7ce9ef64", "1b26092f-48c4-447b-99d4-e9c501542f1c"),
        choice(
            d("disablecatchupquickscan"),
            "settings.catchupQuickScan",
            "Catch-up quick scans after missed scheduled scans.",
            inverted_toggle(),
        )
        .refs("dabf6781-9d5d-42da-822a-d4327aa2bdd1", "d263ced7-0d23-4095-9326-99c8b3f5d35b"),
        integer(
            d("avgcpuloadfactor"),
            "settings.cpuLoadFactorPercent",
            "Average CPU load (percent, 0–100) a scan may use.",
            0,
            100,
        )
        .refs("816cc03e-8f96-4cba-b14f-2658d031a79a", "37195fb1-3743-4c8e-a0ce-b6fae6fa3acd"),
        choice(
            d("enablelowcpupriority"),
            "settings.lowCpuPriority",
            "Run scheduled scans at low CPU priority.",
            toggle(),
        )
        .refs("cdeb96cf-18f5-4477-a710-0ea9ecc618af", "045a4a13-deee-4e24-9fe4-985c9357680d"),
        integer(
            c("archivemaxdepth"),
            "settings.archiveMaxDepth",
            "How deep nested archives are scanned.",
            0,
            4_294_967_295,
        )
        .refs("12616952-94a8-4e53-b797-de3d1ca27d8d", "de452788-d643-4704-b378-7a3a161056d2"),
        integer(
            c("archivemaxsize"),
            "settings.archiveMaxSizeKb",
            "Largest archive scanned, in KB (0: no limit).",
            0,
            4_294_967_295,
        ),
        integer(
            d("daystoretaincleanedmalware"),
            "settings.daysToRetainCleanedMalware",
            "Days (0–90) quarantined items are kept; 0 keeps them forever.",
            0,
            90,
        )
        .refs("6f6d741c-1186-42e2-b2f2-8582febcfd60", "214b6feb-c9b2-4a17-af54-d51c805473e4"),
        choice(
            c("disablelocaladminmerge"),
            "settings.localAdminMerge",
            "Merge local administrator exclusions and settings with policy.",
            inverted_toggle(),
        )
        .refs("5f9a9c65-dea7-4987-a5f5-b28cfd9762ba", "3a9774b2-3143-47eb-bbca-d73c0ace2b7e"),
        choice(
            c("meteredconnectionupdates"),
            "settings.meteredConnectionUpdates",
            "Security intelligence updates over metered connections.",
            toggle(),
        )
        .refs("7e3aaffb-309f-46de-8cd7-25c1a3b19e5b", "20cf972c-be3f-4bc1-93d3-781829d55233"),
        choice(
            c("allownetworkprotectiondownlevel"),
            "settings.networkProtectionDownlevel",
            "Network protection on Windows versions before 1709 and on Windows Server.",
            toggle(),
        )
        .refs("d7342aaf-833d-4afc-92d6-e9621256a3cc", "248fdbe0-e0c9-4b47-bce1-95c8058736fb"),
        choice(
            c("allowdatagramprocessingonwinserver"),
            "settings.datagramProcessingOnWindowsServer",
            "UDP (datagram) inspection by network protection on Windows Server.",
            toggle(),
        )
        .refs("69fa7ce4-6cd8-4699-aff7-024a889c25ce", "0333679d-3b8a-4b51-9f8e-bba39b263712"),
        choice(
            c("disablednsovertcpparsing"),
            "settings.dnsOverTcpParsing",
            "Inspection of DNS over TCP by network protection.",
            inverted_toggle(),
        )
        .refs("522811d2-c99e-4e6d-9cf5-36779498aec6", "19e3f074-15d5-43ec-8718-2e09aee0a972"),
        choice(
            c("disablehttpparsing"),
            "settings.httpParsing",
            "Inspection of HTTP by network protection.",
            inverted_toggle(),
        )
        .refs("662abd23-4077-4b4b-a305-7f104ef28beb", "d4a20dd5-8cc2-4b7e-ac84-6f76fde3cfc9"),
        choice(
            c("disablesshparsing"),
            "settings.sshParsing",
            "Inspection of SSH by network protection.",
            inverted_toggle(),
        )
        .refs("f092fb32-a546-4111-a4d0-cd9f57787fd7", "514d2640-09d4-428e-835d-dd1d63fba8fb"),
        choice(
            c("disabletlsparsing"),
            "settings.tlsParsing",
            "Inspection of TLS by network protection.",
            inverted_toggle(),
        )
        .refs("b806c934-b19f-40b5-8d87-36117976c161", "a4872f4f-6588-4110-a250-635b2267a5ad"),
        choice(
            c("enablednssinkhole"),
            "settings.dnsSinkhole",
            "Network protection answers malicious DNS queries with a sinkhole address.",
            toggle(),
        )
        .refs("c2d4039a-b57e-41df-9e2a-23ace9b51972", "0110668a-f308-411b-9b82-6567f6bbbd9c"),
        choice(
            c("engineupdateschannel"),
            "settings.engineUpdatesChannel",
            "When devices get Defender engine updates (notConfigured, beta, currentPreview, currentStaged, currentBroad, critical).",
            update_channels(),
        )
        .refs("0d762a6b-9301-457c-b47b-47466280e681", "90b8ab4a-58fb-4b0a-9639-4c9a9a9efab8"),
        choice(
            c("platformupdateschannel"),
            "settings.platformUpdatesChannel",
            "When devices get Defender platform updates (notConfigured, beta, currentPreview, currentStaged, currentBroad, critical).",
            update_channels(),
        )
        .refs("737b828d-17ee-4c6a-ac43-206faea94220", "43b48d15-4149-4982-9086-4f9ccb0190fd"),
        choice(
            c("securityintelligenceupdateschannel"),
            "settings.securityIntelligenceUpdatesChannel",
            "When devices get security intelligence updates (notConfigured, currentStaged, currentBroad).",
            intelligence_channels(),
        )
        .refs("368be8ef-11aa-4c0d-919f-d6ed16bc6950", "1de23cd5-23f3-4600-88d7-570e8ebbbf39"),
        group(d("threatseveritydefaultaction"), "settings.threatActions", "Default remediation per threat severity.", vec![
            choice(
                d("threatseveritydefaultaction_lowseveritythreats"),
                "settings.threatActions.low",
                "Action for low-severity threats.",
                threat_actions(),
            ),
            choice(
                d("threatseveritydefaultaction_moderateseveritythreats"),
                "settings.threatActions.moderate",
                "Action for moderate-severity threats.",
                threat_actions(),
            ),
            choice(
                d("threatseveritydefaultaction_highseveritythreats"),
                "settings.threatActions.high",
                "Action for high-severity threats.",
                threat_actions(),
            ),
            choice(
                d("threatseveritydefaultaction_severethreats"),
                "settings.threatActions.severe",
                "Action for severe threats.",
                threat_actions(),
            ),
        ])
        .instance("f6394bc5-6486-4728-b510-555f5c161f2b"),
        text_list(d("excludedpaths"), "settings.exclusions.paths", "Excluded files and folders.", ANY, 5000)
            .instance("867f7498-1484-443f-bf6a-f12abb1f2f60"),
        text_list(d("excludedextensions"), "settings.exclusions.extensions", "Excluded file extensions.", ANY, 5000)
            .instance("634df7cc-28ae-438c-81b7-65f2f8ec0c63"),
        text_list(d("excludedprocesses"), "settings.exclusions.processes", "Excluded processes.", ANY, 5000)
            .instance("6b54c69b-1686-4088-95bb-62c19817e132"),
    ],
}
});
