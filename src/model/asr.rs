//! The attack surface reduction rules, named in words: each rule's key in manifests, Microsoft's title
//! and GUID, and its Settings Catalog definition. The `AttackSurfaceReductionPolicy` table
//! (`template::asr`) is built from this list.

use serde::{Deserialize, Serialize};

/// Every attack surface reduction rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AsrRule {
    BlockAbuseOfExploitedVulnerableSignedDrivers,
    BlockAdobeReaderChildProcesses,
    BlockOfficeChildProcesses,
    BlockCredentialStealingFromLsass,
    BlockExecutableContentFromEmail,
    BlockExecutablesUnlessPrevalentOrTrusted,
    BlockObfuscatedScripts,
    BlockScriptsLaunchingDownloadedExecutables,
    BlockOfficeCreatingExecutables,
    BlockOfficeCodeInjection,
    BlockOfficeCommunicationChildProcesses,
    BlockWmiEventSubscriptionPersistence,
    BlockPsexecAndWmiProcessCreation,
    BlockRebootInSafeMode,
    BlockUntrustedUsbProcesses,
    BlockCopiedOrImpersonatedSystemTools,
    BlockWebshellCreationForServers,
    BlockWin32ApiCallsFromOfficeMacros,
    UseAdvancedRansomwareProtection,
}

/// Facts about one rule, from Microsoft's ASR rules reference and the Settings Catalog.
pub struct AsrRuleInfo {
    /// The key users write (`blockCredentialStealingFromLsass`).
    pub key: &'static str,
    /// Microsoft's name for the rule.
    pub title: &'static str,
    /// The rule GUID Defender uses.
    pub guid: &'static str,
    /// Suffix of the Settings Catalog definition id after `..._attacksurfacereductionrules_`.
    pub definition_suffix: &'static str,
    /// Whether Microsoft documents `warn` for the rule.
    pub supports_warn: bool,
    /// Whether the catalog offers per-rule exclusions for the rule.
    pub supports_exclusions: bool,
}

impl AsrRule {
    pub const ALL: [AsrRule; 19] = [
        AsrRule::BlockAbuseOfExploitedVulnerableSignedDrivers,
        AsrRule::BlockAdobeReaderChildProcesses,
        AsrRule::BlockOfficeChildProcesses,
        AsrRule::BlockCredentialStealingFromLsass,
        AsrRule::BlockExecutableContentFromEmail,
        AsrRule::BlockExecutablesUnlessPrevalentOrTrusted,
        AsrRule::BlockObfuscatedScripts,
        AsrRule::BlockScriptsLaunchingDownloadedExecutables,
        AsrRule::BlockOfficeCreatingExecutables,
        AsrRule::BlockOfficeCodeInjection,
        AsrRule::BlockOfficeCommunicationChildProcesses,
        AsrRule::BlockWmiEventSubscriptionPersistence,
        AsrRule::BlockPsexecAndWmiProcessCreation,
        AsrRule::BlockRebootInSafeMode,
        AsrRule::BlockUntrustedUsbProcesses,
        AsrRule::BlockCopiedOrImpersonatedSystemTools,
        AsrRule::BlockWebshellCreationForServers,
        AsrRule::BlockWin32ApiCallsFromOfficeMacros,
        AsrRule::UseAdvancedRansomwareProtection,
    ];

    pub fn info(self) -> AsrRuleInfo {
        let (key, title, guid, definition_suffix) = match self {
            AsrRule::BlockAbuseOfExploitedVulnerableSignedDrivers => (
                "blockAbuseOfExploitedVulnerableSignedDrivers",
                "Block abuse of exploited vulnerable signed drivers",
                "56a863a9-875e-4185-98a7-b882c64b5ce5",
                "blockabuseofexploitedvulnerablesigneddrivers",
            ),
            AsrRule::BlockAdobeReaderChildProcesses => (
                "blockAdobeReaderChildProcesses",
                "Block Adobe Reader from creating child processes",
                "7674ba52-37eb-4a4f-a9a1-f0f9a1619a2c",
                "blockadobereaderfromcreatingchildprocesses",
            ),
            AsrRule::BlockOfficeChildProcesses => (
                "blockOfficeChildProcesses",
                "Block all Office applications from creating child processes",
                "d4f940ab-401b-4efc-aadc-ad5f3c50688a",
                "blockallofficeapplicationsfromcreatingchildprocesses",
            ),
            AsrRule::BlockCredentialStealingFromLsass => (
                "blockCredentialStealingFromLsass",
                "Block credential stealing from the Windows local security authority subsystem (lsass.exe)",
                "9e6c4e1f-7d60-472f-ba1a-a39ef669e4b2",
                "blockcredentialstealingfromwindowslocalsecurityauthoritysubsystem",
            ),
            AsrRule::BlockExecutableContentFromEmail => (
                "blockExecutableContentFromEmail",
                "Block executable content from email client and webmail",
                "be9ba2d9-53ea-4cdc-84e5-9b1eeee46550",
                "blockexecutablecontentfromemailclientandwebmail",
            ),
            AsrRule::BlockExecutablesUnlessPrevalentOrTrusted => (
                "blockExecutablesUnlessPrevalentOrTrusted",
                "Block executable files from running unless they meet a prevalence, age, or trusted list criterion",
                "01443614-cd74-433a-b99e-2ecdc07bfc25",
                "blockexecutablefilesrunningunlesstheymeetprevalenceagetrustedlistcriterion",
            ),
            AsrRule::BlockObfuscatedScripts => (
                "blockObfuscatedScripts",
                "Block execution of potentially obfuscated scripts",
                "5beb7efe-fd9a-4556-801d-275e5ffc04cc",
                "blockexecutionofpotentiallyobfuscatedscripts",
            ),
            AsrRule::BlockScriptsLaunchingDownloadedExecutables => (
                "blockScriptsLaunchingDownloadedExecutables",
                "Block JavaScript or VBScript from launching downloaded executable content",
                "d3e037e1-3eb8-44c8-a917-57927947596d",
                "blockjavascriptorvbscriptfromlaunchingdownloadedexecutablecontent",
            ),
            AsrRule::BlockOfficeCreatingExecutables => (
                "blockOfficeCreatingExecutables",
                "Block Office applications from creating executable content",
                "3b576869-a4ec-4529-8536-b80a7769e899",
                "blockofficeapplicationsfromcreatingexecutablecontent",
            ),
            AsrRule::BlockOfficeCodeInjection => (
                "blockOfficeCodeInjection",
                "Block Office applications from injecting code into other processes",
                "75668c1f-73b5-4cf0-bb93-3ecf5cb7cc84",
                "blockofficeapplicationsfrominjectingcodeintootherprocesses",
            ),
            AsrRule::BlockOfficeCommunicationChildProcesses => (
                "blockOfficeCommunicationChildProcesses",
                "Block Office communication application from creating child processes",
                "26190899-1602-49e8-8b27-eb1d0a1ce869",
                "blockofficecommunicationappfromcreatingchildprocesses",
            ),
            AsrRule::BlockWmiEventSubscriptionPersistence => (
                "blockWmiEventSubscriptionPersistence",
                "Block persistence through WMI event subscription",
                "e6db77e5-3df2-4cf1-b95a-636979351e5b",
                "blockpersistencethroughwmieventsubscription",
            ),
            AsrRule::BlockPsexecAndWmiProcessCreation => (
                "blockPsexecAndWmiProcessCreation",
                "Block process creations originating from PSExec and WMI commands",
                "d1e49aac-8f56-4280-b9ba-993a6d77406c",
                "blockprocesscreationsfrompsexecandwmicommands",
            ),
            AsrRule::BlockRebootInSafeMode => (
                "blockRebootInSafeMode",
                "Block rebooting machine in Safe Mode",
                "33ddedf1-c6e0-47cb-833e-de6133960387",
                "blockrebootingmachineinsafemode",
            ),
            AsrRule::BlockUntrustedUsbProcesses => (
                "blockUntrustedUsbProcesses",
                "Block untrusted and unsigned processes that run from USB",
                "b2b3f03d-6a65-4f7b-a9c7-1c7ef74a9ba4",
                "blockuntrustedunsignedprocessesthatrunfromusb",
            ),
            AsrRule::BlockCopiedOrImpersonatedSystemTools => (
                "blockCopiedOrImpersonatedSystemTools",
                "Block use of copied or impersonated system tools",
                "c0033c00-d16d-4114-a5a0-dc9b3a7d2ceb",
                "blockuseofcopiedorimpersonatedsystemtools",
            ),
            AsrRule::BlockWebshellCreationForServers => (
                "blockWebshellCreationForServers",
                "Block Webshell creation for Servers",
                "a8f5898e-1dc8-49a9-9878-85004b8a61e6",
                "blockwebshellcreationforservers",
            ),
            AsrRule::BlockWin32ApiCallsFromOfficeMacros => (
                "blockWin32ApiCallsFromOfficeMacros",
                "Block Win32 API calls from Office macros",
                "92e97fa1-2edf-4476-bdd6-9dd0b4dddc7b",
                "blockwin32apicallsfromofficemacros",
            ),
            AsrRule::UseAdvancedRansomwareProtection => (
                "useAdvancedRansomwareProtection",
                "Use advanced protection against ransomware",
                "c1db55ab-c21a-4637-bb3f-a12568109d35",
                "useadvancedprotectionagainstransomware",
            ),
        };
        AsrRuleInfo {
            key,
            title,
            guid,
            definition_suffix,
            supports_warn: !matches!(
                self,
                AsrRule::BlockCredentialStealingFromLsass | AsrRule::BlockOfficeCodeInjection
            ),
            supports_exclusions: self != AsrRule::BlockWmiEventSubscriptionPersistence,
        }
    }
}
