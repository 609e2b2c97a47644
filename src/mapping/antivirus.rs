//! AntivirusPolicy ↔ template "Microsoft Defender Antivirus" (`804339ad-1553-4478-a742-138fb5807418_1`).
//!
//! Instance template ids come from a real GET of a policy of this template. Where no real payload
//! shows the id (scheduled scan type/day/time, mapped drives, exclusions), the instance is written
//! without `settingInstanceTemplateReference`: a wrong id is rejected by Intune (`InvalidReferenceId`),
//! a missing one is the smaller risk. Correct the table below when a live tenant shows the ids.

use super::{ChoiceOption, SettingDef, SettingVisitor, Template, WireReader, WireWriter, policy_payload};
use crate::mapping::MappingError;
use crate::model::Toggle;
use crate::model::antivirus::{
    AntivirusPolicySpec, AntivirusSettings, CloudBlockLevel, ProtectionLevel, SampleSubmission, ScanDay, ScanDirection,
    ScanType, ThreatAction, ThreatActions,
};
use crate::wire::ConfigurationPolicy;

pub const TEMPLATE: Template = Template {
    id: "804339ad-1553-4478-a742-138fb5807418_1",
    platforms: "windows10",
    technologies: "mdm,microsoftSense",
};

macro_rules! defender {
    ($suffix:literal) => {
        concat!("device_vendor_msft_policy_config_defender_", $suffix)
    };
}

const REAL_TIME_MONITORING: SettingDef = SettingDef::new("realTimeMonitoring", defender!("allowrealtimemonitoring"))
    .template("f0790e28-9231-4d37-8f44-84bb47ca1b3e");
const BEHAVIOR_MONITORING: SettingDef = SettingDef::new("behaviorMonitoring", defender!("allowbehaviormonitoring"))
    .template("8eef615a-1aa0-46f4-a25a-12cbe65de5ab");
const CLOUD_PROTECTION: SettingDef = SettingDef::new("cloudProtection", defender!("allowcloudprotection"))
    .template("7da139f1-9b7e-407d-853a-c2e5037cdc70");
const CLOUD_BLOCK_LEVEL: SettingDef =
    SettingDef::new("cloudBlockLevel", defender!("cloudblocklevel")).template("c7a37009-c16e-4145-84c8-89a8c121fb15");
const CLOUD_EXTENDED_TIMEOUT: SettingDef =
    SettingDef::new("cloudExtendedTimeoutSeconds", defender!("cloudextendedtimeout"))
        .template("f61c2788-14e4-4e80-a5a7-bf2ff5052f63")
        .range(0, 50);
const SUBMIT_SAMPLES_CONSENT: SettingDef = SettingDef::new("submitSamplesConsent", defender!("submitsamplesconsent"))
    .template("bc47ce7d-a251-4cae-a8a2-6e8384904ab7");
const PUA_PROTECTION: SettingDef = SettingDef::new("potentiallyUnwantedApps", defender!("puaprotection"))
    .template("c0135c2a-f802-44f4-9b71-b0b976411b8c");
const NETWORK_PROTECTION: SettingDef = SettingDef::new("networkProtection", defender!("enablenetworkprotection"))
    .template("f53ab20e-8af6-48f5-9fa1-46863e1e517e");
const ARCHIVE_SCANNING: SettingDef = SettingDef::new("archiveScanning", defender!("allowarchivescanning"))
    .template("7c5c9cde-f74d-4d11-904f-de4c27f72d89");
const EMAIL_SCANNING: SettingDef =
    SettingDef::new("emailScanning", defender!("allowemailscanning")).template("b0d9ee81-de6a-4750-86d7-9397961c9852");
const DOWNLOADS_SCANNING: SettingDef = SettingDef::new("downloadsScanning", defender!("allowioavprotection"))
    .template("fa06231d-aed4-4601-b631-3a37e85b62a0");
const SCRIPT_SCANNING: SettingDef = SettingDef::new("scriptScanning", defender!("allowscriptscanning"))
    .template("000cf176-949c-4c08-a5d4-90ed43718db7");
const NETWORK_FILES_SCANNING: SettingDef =
    SettingDef::new("networkFilesScanning", defender!("allowscanningnetworkfiles"))
        .template("f8f28442-0a6b-4b52-b42c-d31d9687c1cf");
const REMOVABLE_DRIVE_SCANNING: SettingDef =
    SettingDef::new("removableDriveScanning", defender!("allowfullscanremovabledrivescanning"))
        .template("fb36e70b-5bc9-488a-a949-8ea3ac1634d5");
const MAPPED_DRIVE_SCANNING: SettingDef =
    SettingDef::new("mappedDriveScanning", defender!("allowfullscanonmappednetworkdrives"));
const USER_UI_ACCESS: SettingDef =
    SettingDef::new("userUiAccess", defender!("allowuseruiaccess")).template("0170a900-b0bc-4ccc-b7ce-dda9be49189b");
const ON_ACCESS_PROTECTION: SettingDef = SettingDef::new("onAccessProtection", defender!("allowonaccessprotection"))
    .template("afbc322b-083c-4281-8242-ebbb91398b41");
const REAL_TIME_SCAN_DIRECTION: SettingDef =
    SettingDef::new("realTimeScanDirection", defender!("realtimescandirection"))
        .template("f5ff00a4-e5c7-44cf-a650-9c7619ff1561");
const SCHEDULED_SCAN_TYPE: SettingDef = SettingDef::new("scheduledScanType", defender!("scanparameter"));
const SCHEDULED_SCAN_DAY: SettingDef = SettingDef::new("scheduledScanDay", defender!("schedulescanday"));
const SCHEDULED_SCAN_TIME: SettingDef =
    SettingDef::new("scheduledScanTimeMinutes", defender!("schedulescantime")).range(0, 1380);
const DAILY_QUICK_SCAN_TIME: SettingDef =
    SettingDef::new("dailyQuickScanTimeMinutes", defender!("schedulequickscantime"))
        .template("784a4af1-33fa-45f2-b945-138b7ff3bcb6")
        .range(0, 1380);
const SIGNATURE_UPDATE_INTERVAL: SettingDef =
    SettingDef::new("signatureUpdateIntervalHours", defender!("signatureupdateinterval"))
        .template("89879f27-6b7d-44d4-a08e-0a0de3e9663d")
        .range(0, 24);
const CHECK_SIGNATURES_BEFORE_SCAN: SettingDef =
    SettingDef::new("checkSignaturesBeforeScan", defender!("checkforsignaturesbeforerunningscan"))
        .template("4fea56e3-7bb6-4ad3-88c6-e364dd2f97b9");
const CATCHUP_FULL_SCAN: SettingDef = SettingDef::new("catchupFullScan", defender!("disablecatchupfullscan"))
    .template("f881b08c-f047-40d2-b7d9-3dde7ce9ef64");
const CATCHUP_QUICK_SCAN: SettingDef = SettingDef::new("catchupQuickScan", defender!("disablecatchupquickscan"))
    .template("dabf6781-9d5d-42da-822a-d4327aa2bdd1");
const CPU_LOAD_FACTOR: SettingDef = SettingDef::new("cpuLoadFactorPercent", defender!("avgcpuloadfactor"))
    .template("816cc03e-8f96-4cba-b14f-2658d031a79a")
    .range(0, 100);
const LOW_CPU_PRIORITY: SettingDef = SettingDef::new("lowCpuPriority", defender!("enablelowcpupriority"))
    .template("cdeb96cf-18f5-4477-a710-0ea9ecc618af");
const LOCAL_ADMIN_MERGE: SettingDef =
    SettingDef::new("localAdminMerge", "device_vendor_msft_defender_configuration_disablelocaladminmerge")
        .template("5f9a9c65-dea7-4987-a5f5-b28cfd9762ba");
const METERED_CONNECTION_UPDATES: SettingDef =
    SettingDef::new("meteredConnectionUpdates", "device_vendor_msft_defender_configuration_meteredconnectionupdates")
        .template("7e3aaffb-309f-46de-8cd7-25c1a3b19e5b");
const THREAT_ACTIONS: SettingDef = SettingDef::new("threatActions", defender!("threatseveritydefaultaction"))
    .template("f6394bc5-6486-4728-b510-555f5c161f2b");
const THREAT_LOW: SettingDef = SettingDef::new("low", defender!("threatseveritydefaultaction_lowseveritythreats"));
const THREAT_MODERATE: SettingDef =
    SettingDef::new("moderate", defender!("threatseveritydefaultaction_moderateseveritythreats"));
const THREAT_HIGH: SettingDef = SettingDef::new("high", defender!("threatseveritydefaultaction_highseveritythreats"));
const THREAT_SEVERE: SettingDef = SettingDef::new("severe", defender!("threatseveritydefaultaction_severethreats"));
const EXCLUDED_PATHS: SettingDef = SettingDef::new("exclusions.paths", defender!("excludedpaths"));
const EXCLUDED_EXTENSIONS: SettingDef = SettingDef::new("exclusions.extensions", defender!("excludedextensions"));
const EXCLUDED_PROCESSES: SettingDef = SettingDef::new("exclusions.processes", defender!("excludedprocesses"));

impl ChoiceOption for Toggle {
    const OPTIONS: &'static [(Toggle, &'static str)] = &[(Toggle::Enabled, "1"), (Toggle::Disabled, "0")];
}

/// A Toggle for settings whose CSP is phrased as "disable …": option `_1` turns the feature off.
#[derive(Clone, Copy, PartialEq)]
struct DisableFlag(Toggle);

impl ChoiceOption for DisableFlag {
    const OPTIONS: &'static [(DisableFlag, &'static str)] =
        &[(DisableFlag(Toggle::Enabled), "0"), (DisableFlag(Toggle::Disabled), "1")];
}

fn inverted(v: &mut impl SettingVisitor, def: &SettingDef, value: &mut Option<Toggle>) {
    let mut flag = value.map(DisableFlag);
    v.choice(def, &mut flag);
    *value = flag.map(|DisableFlag(toggle)| toggle);
}

impl ChoiceOption for CloudBlockLevel {
    const OPTIONS: &'static [(CloudBlockLevel, &'static str)] = &[
        (CloudBlockLevel::Default, "0"),
        (CloudBlockLevel::High, "2"),
        (CloudBlockLevel::HighPlus, "4"),
        (CloudBlockLevel::ZeroTolerance, "6"),
    ];
}

impl ChoiceOption for SampleSubmission {
    const OPTIONS: &'static [(SampleSubmission, &'static str)] = &[
        (SampleSubmission::AlwaysPrompt, "0"),
        (SampleSubmission::SendSafeSamples, "1"),
        (SampleSubmission::NeverSend, "2"),
        (SampleSubmission::SendAllSamples, "3"),
    ];
}

impl ChoiceOption for ProtectionLevel {
    const OPTIONS: &'static [(ProtectionLevel, &'static str)] =
        &[(ProtectionLevel::Off, "0"), (ProtectionLevel::Block, "1"), (ProtectionLevel::Audit, "2")];
}

impl ChoiceOption for ScanDirection {
    const OPTIONS: &'static [(ScanDirection, &'static str)] =
        &[(ScanDirection::All, "0"), (ScanDirection::Incoming, "1"), (ScanDirection::Outgoing, "2")];
}

impl ChoiceOption for ScanType {
    const OPTIONS: &'static [(ScanType, &'static str)] = &[(ScanType::Quick, "1"), (ScanType::Full, "2")];
}

impl ChoiceOption for ScanDay {
    const OPTIONS: &'static [(ScanDay, &'static str)] = &[
        (ScanDay::Everyday, "0"),
        (ScanDay::Sunday, "1"),
        (ScanDay::Monday, "2"),
        (ScanDay::Tuesday, "3"),
        (ScanDay::Wednesday, "4"),
        (ScanDay::Thursday, "5"),
        (ScanDay::Friday, "6"),
        (ScanDay::Saturday, "7"),
        (ScanDay::Never, "8"),
    ];
}

impl ChoiceOption for ThreatAction {
    const OPTIONS: &'static [(ThreatAction, &'static str)] = &[
        (ThreatAction::Clean, "clean"),
        (ThreatAction::Quarantine, "quarantine"),
        (ThreatAction::Remove, "remove"),
        (ThreatAction::Allow, "allow"),
        (ThreatAction::UserDefined, "userdefined"),
        (ThreatAction::Block, "block"),
    ];
}

/// The one listing of antivirus settings; both directions of the mapping walk it.
pub fn visit(s: &mut AntivirusSettings, v: &mut impl SettingVisitor) {
    v.choice(&REAL_TIME_MONITORING, &mut s.real_time_monitoring);
    v.choice(&BEHAVIOR_MONITORING, &mut s.behavior_monitoring);
    v.choice(&CLOUD_PROTECTION, &mut s.cloud_protection);
    v.choice(&CLOUD_BLOCK_LEVEL, &mut s.cloud_block_level);
    v.integer(&CLOUD_EXTENDED_TIMEOUT, &mut s.cloud_extended_timeout_seconds);
    v.choice(&SUBMIT_SAMPLES_CONSENT, &mut s.submit_samples_consent);
    v.choice(&PUA_PROTECTION, &mut s.potentially_unwanted_apps);
    v.choice(&NETWORK_PROTECTION, &mut s.network_protection);
    v.choice(&ARCHIVE_SCANNING, &mut s.archive_scanning);
    v.choice(&EMAIL_SCANNING, &mut s.email_scanning);
    v.choice(&DOWNLOADS_SCANNING, &mut s.downloads_scanning);
    v.choice(&SCRIPT_SCANNING, &mut s.script_scanning);
    v.choice(&NETWORK_FILES_SCANNING, &mut s.network_files_scanning);
    v.choice(&REMOVABLE_DRIVE_SCANNING, &mut s.removable_drive_scanning);
    v.choice(&MAPPED_DRIVE_SCANNING, &mut s.mapped_drive_scanning);
    v.choice(&USER_UI_ACCESS, &mut s.user_ui_access);
    v.choice(&ON_ACCESS_PROTECTION, &mut s.on_access_protection);
    v.choice(&REAL_TIME_SCAN_DIRECTION, &mut s.real_time_scan_direction);
    v.choice(&SCHEDULED_SCAN_TYPE, &mut s.scheduled_scan_type);
    v.choice(&SCHEDULED_SCAN_DAY, &mut s.scheduled_scan_day);
    v.integer(&SCHEDULED_SCAN_TIME, &mut s.scheduled_scan_time_minutes);
    v.integer(&DAILY_QUICK_SCAN_TIME, &mut s.daily_quick_scan_time_minutes);
    v.integer(&SIGNATURE_UPDATE_INTERVAL, &mut s.signature_update_interval_hours);
    v.choice(&CHECK_SIGNATURES_BEFORE_SCAN, &mut s.check_signatures_before_scan);
    inverted(v, &CATCHUP_FULL_SCAN, &mut s.catchup_full_scan);
    inverted(v, &CATCHUP_QUICK_SCAN, &mut s.catchup_quick_scan);
    v.integer(&CPU_LOAD_FACTOR, &mut s.cpu_load_factor_percent);
    v.choice(&LOW_CPU_PRIORITY, &mut s.low_cpu_priority);
    inverted(v, &LOCAL_ADMIN_MERGE, &mut s.local_admin_merge);
    v.choice(&METERED_CONNECTION_UPDATES, &mut s.metered_connection_updates);

    let mut present = s.threat_actions.is_some();
    let mut actions = s.threat_actions.take().unwrap_or_default();
    v.group(&THREAT_ACTIONS, &mut present, |v| visit_threat_actions(&mut actions, v));
    s.threat_actions = present.then_some(actions);

    v.string_list(&EXCLUDED_PATHS, &mut s.exclusions.paths);
    v.string_list(&EXCLUDED_EXTENSIONS, &mut s.exclusions.extensions);
    v.string_list(&EXCLUDED_PROCESSES, &mut s.exclusions.processes);
}

fn visit_threat_actions(a: &mut ThreatActions, v: &mut impl SettingVisitor) {
    v.choice(&THREAT_LOW, &mut a.low);
    v.choice(&THREAT_MODERATE, &mut a.moderate);
    v.choice(&THREAT_HIGH, &mut a.high);
    v.choice(&THREAT_SEVERE, &mut a.severe);
}

/// The Graph payload for a policy (description as given: the caller adds the ownership marker).
pub fn to_wire(spec: &AntivirusPolicySpec, description: &str) -> ConfigurationPolicy {
    let mut settings = spec.settings.clone();
    let wire = WireWriter::write(|w| visit(&mut settings, w));
    policy_payload(&TEMPLATE, &spec.display_name, description, wire)
}

/// The typed policy for a Graph payload (description as given: the caller strips the marker).
pub fn from_wire(policy: &ConfigurationPolicy, description: &str) -> Result<AntivirusPolicySpec, Vec<MappingError>> {
    let mut settings = AntivirusSettings::default();
    WireReader::read(&policy.settings, |r| visit(&mut settings, r))?;
    Ok(AntivirusPolicySpec { display_name: policy.name.clone(), description: description.to_string(), settings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::testing::{Populate, ROUNDS, count_instances};

    fn spec(settings: AntivirusSettings) -> AntivirusPolicySpec {
        AntivirusPolicySpec { display_name: "AV".into(), description: String::new(), settings }
    }

    #[test]
    fn every_setting_and_every_option_round_trips() {
        for round in 0..ROUNDS {
            let mut settings = AntivirusSettings::default();
            let mut populate = Populate::new(round);
            visit(&mut settings, &mut populate);
            let original = spec(settings);
            let wire = to_wire(&original, "");
            assert_eq!(count_instances(&wire.settings), populate.set, "every populated setting is rendered");
            let json = serde_json::to_value(&wire).expect("serialize");
            let parsed: ConfigurationPolicy = serde_json::from_value(json).expect("parse");
            assert_eq!(from_wire(&parsed, "").expect("read back"), original, "round {round}");
        }
    }

    #[test]
    fn renders_graph_ids_and_template_references() {
        let mut settings = AntivirusSettings {
            real_time_monitoring: Some(Toggle::Enabled),
            cloud_block_level: Some(CloudBlockLevel::HighPlus),
            catchup_full_scan: Some(Toggle::Enabled),
            threat_actions: Some(ThreatActions { severe: Some(ThreatAction::Quarantine), ..Default::default() }),
            ..Default::default()
        };
        settings.exclusions.paths = vec!["C:\\Temp".into()];
        let wire = serde_json::to_value(to_wire(&spec(settings), "d")).expect("serialize");
        assert_eq!(wire["templateReference"]["templateId"], "804339ad-1553-4478-a742-138fb5807418_1");
        assert_eq!(wire["technologies"], "mdm,microsoftSense");
        let s = &wire["settings"];
        assert_eq!(
            s[0]["settingInstance"]["choiceSettingValue"]["value"],
            "device_vendor_msft_policy_config_defender_allowrealtimemonitoring_1"
        );
        assert_eq!(
            s[0]["settingInstance"]["settingInstanceTemplateReference"]["settingInstanceTemplateId"],
            "f0790e28-9231-4d37-8f44-84bb47ca1b3e"
        );
        assert_eq!(
            s[1]["settingInstance"]["choiceSettingValue"]["value"],
            "device_vendor_msft_policy_config_defender_cloudblocklevel_4"
        );
        // "Catch-up full scan: enabled" is the CSP's DisableCatchupFullScan = 0.
        assert_eq!(
            s[2]["settingInstance"]["choiceSettingValue"]["value"],
            "device_vendor_msft_policy_config_defender_disablecatchupfullscan_0"
        );
        let group = &s[3]["settingInstance"];
        assert_eq!(
            group["@odata.type"],
            "#microsoft.graph.deviceManagementConfigurationGroupSettingCollectionInstance"
        );
        assert_eq!(
            group["groupSettingCollectionValue"][0]["children"][0]["choiceSettingValue"]["value"],
            "device_vendor_msft_policy_config_defender_threatseveritydefaultaction_severethreats_quarantine"
        );
        assert_eq!(s[4]["settingInstance"]["simpleSettingCollectionValue"][0]["value"], "C:\\Temp");
        assert!(s[4]["settingInstance"].get("settingInstanceTemplateReference").is_none());
    }

    #[test]
    fn unknown_settings_and_options_are_reported_not_dropped() {
        let mut settings = AntivirusSettings { real_time_monitoring: Some(Toggle::Enabled), ..Default::default() };
        let mut wire = to_wire(&spec(settings.clone()), "d");
        let mut foreign = to_wire(&spec(settings.clone()), "d").settings.remove(0);
        if let crate::wire::SettingInstance::Choice { setting_definition_id, choice_setting_value, .. } =
            &mut foreign.setting_instance
        {
            *setting_definition_id = "device_vendor_msft_policy_config_defender_somethingnew".into();
            choice_setting_value.value = "device_vendor_msft_policy_config_defender_somethingnew_1".into();
        }
        wire.settings.push(foreign);
        let errors = from_wire(&wire, "d").expect_err("unknown setting");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].setting.ends_with("somethingnew"), "{errors:?}");

        settings.real_time_monitoring = Some(Toggle::Disabled);
        let mut wire = to_wire(&spec(settings), "d");
        if let crate::wire::SettingInstance::Choice { choice_setting_value, .. } =
            &mut wire.settings[0].setting_instance
        {
            choice_setting_value.value = "device_vendor_msft_policy_config_defender_allowrealtimemonitoring_7".into();
        }
        let errors = from_wire(&wire, "d").expect_err("unknown option");
        assert!(errors[0].message.contains("unknown option"), "{errors:?}");
    }
}
