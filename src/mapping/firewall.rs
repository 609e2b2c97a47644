//! FirewallPolicy ↔ template "Windows Firewall" (`6078910e-d808-4a9f-a51d-1b8a7bacb7c0_1`).
//!
//! Each profile is one top-level choice `<profile>_enablefirewall`; the profile's other settings are
//! children of its `_true` option, as in the documented create request. Instance and value template
//! ids come from real payloads; children carry none.

use std::borrow::Cow;

use super::{ChoiceOption, MappingError, SettingDef, SettingVisitor, Template, WireReader, WireWriter, policy_payload};
use crate::model::firewall::{FirewallAction, FirewallPolicySpec, FirewallProfile};
use crate::wire::ConfigurationPolicy;

pub const TEMPLATE: Template = Template {
    id: "6078910e-d808-4a9f-a51d-1b8a7bacb7c0_1",
    platforms: "windows10",
    technologies: "mdm,microsoftSense",
};

const PREFIX: &str = "vendor_msft_firewall_mdmstore_";

const DISABLE_STATEFUL_FTP: SettingDef =
    SettingDef::new("disableStatefulFtp", "vendor_msft_firewall_mdmstore_global_disablestatefulftp")
        .template("38329af6-2670-4a71-972d-482010ca97fc");

/// A network profile: YAML field, CSP segment, and the template ids of its `enablefirewall` instance.
struct ProfileSlot {
    field: &'static str,
    segment: &'static str,
    instance_template: &'static str,
    value_template: &'static str,
}

const DOMAIN: ProfileSlot = ProfileSlot {
    field: "domain",
    segment: "domainprofile",
    instance_template: "7714c373-a19a-4b64-ba6d-2e9db04a7684",
    value_template: "120c5dbe-0c88-46f0-b897-2c996d3e5277",
};
const PRIVATE: ProfileSlot = ProfileSlot {
    field: "private",
    segment: "privateprofile",
    instance_template: "1c14f914-69bb-49f8-af5b-e29173a6ee95",
    value_template: "9d55dfae-d55f-4f2a-af03-9a9524f61e76",
};
const PUBLIC: ProfileSlot = ProfileSlot {
    field: "public",
    segment: "publicprofile",
    instance_template: "e2714734-708e-4286-8ae9-d56821e306a3",
    value_template: "c38694c7-51a4-4a35-8f64-b10866a04776",
};

impl ChoiceOption for FirewallAction {
    const OPTIONS: &'static [(FirewallAction, &'static str)] =
        &[(FirewallAction::Allow, "0"), (FirewallAction::Block, "1")];
}

fn child(slot: &ProfileSlot, field: &'static str, name: &str) -> SettingDef {
    SettingDef {
        field,
        id: Cow::Owned(format!("{PREFIX}{}_{name}", slot.segment)),
        instance_template: None,
        value_template: None,
        range: None,
    }
}

fn visit_profile(slot: &ProfileSlot, profile: &mut Option<FirewallProfile>, v: &mut impl SettingVisitor) {
    let enable = SettingDef {
        field: slot.field,
        id: Cow::Owned(format!("{PREFIX}{}_enablefirewall", slot.segment)),
        instance_template: Some(slot.instance_template),
        value_template: Some(slot.value_template),
        range: None,
    };
    let mut enabled = profile.as_ref().map(|p| p.enabled);
    let mut p = profile.take().unwrap_or_default();
    v.choice_with_children(&enable, &mut enabled, |v| {
        v.choice(&child(slot, "defaultInboundAction", "defaultinboundaction"), &mut p.default_inbound_action);
        v.choice(&child(slot, "defaultOutboundAction", "defaultoutboundaction"), &mut p.default_outbound_action);
        v.choice(
            &child(slot, "disableInboundNotifications", "disableinboundnotifications"),
            &mut p.disable_inbound_notifications,
        );
        v.choice(&child(slot, "disableStealthMode", "disablestealthmode"), &mut p.disable_stealth_mode);
        v.choice(&child(slot, "shielded", "shielded"), &mut p.shielded);
        v.choice(&child(slot, "allowLocalPolicyMerge", "allowlocalpolicymerge"), &mut p.allow_local_policy_merge);
        v.choice(
            &child(slot, "allowLocalIpsecPolicyMerge", "allowlocalipsecpolicymerge"),
            &mut p.allow_local_ipsec_policy_merge,
        );
        v.choice(
            &child(slot, "authAppsAllowUserPrefMerge", "authappsallowuserprefmerge"),
            &mut p.auth_apps_allow_user_pref_merge,
        );
        v.choice(
            &child(slot, "globalPortsAllowUserPrefMerge", "globalportsallowuserprefmerge"),
            &mut p.global_ports_allow_user_pref_merge,
        );
        v.choice(
            &child(slot, "disableUnicastResponsesToMulticastBroadcast", "disableunicastresponsestomulticastbroadcast"),
            &mut p.disable_unicast_responses_to_multicast_broadcast,
        );
        v.choice(&child(slot, "logDroppedPackets", "enablelogdroppedpackets"), &mut p.log_dropped_packets);
        v.choice(
            &child(slot, "logSuccessfulConnections", "enablelogsuccessconnections"),
            &mut p.log_successful_connections,
        );
        v.choice(&child(slot, "logIgnoredRules", "enablelogignoredrules"), &mut p.log_ignored_rules);
        v.string(&child(slot, "logFilePath", "logfilepath"), &mut p.log_file_path);
        let mut size_def = child(slot, "logMaxFileSizeKb", "logmaxfilesize");
        size_def.range = Some((1, 32767));
        v.integer(&size_def, &mut p.log_max_file_size_kb);
    });
    *profile = enabled.map(|enabled| FirewallProfile { enabled, ..p });
}

/// The one listing of firewall settings; both directions of the mapping walk it.
pub fn visit(spec: &mut FirewallPolicySpec, v: &mut impl SettingVisitor) {
    visit_profile(&DOMAIN, &mut spec.domain, v);
    visit_profile(&PRIVATE, &mut spec.private, v);
    visit_profile(&PUBLIC, &mut spec.public, v);
    v.choice(&DISABLE_STATEFUL_FTP, &mut spec.global.disable_stateful_ftp);
}

/// The Graph payload for a policy (description as given: the caller adds the ownership marker).
pub fn to_wire(spec: &FirewallPolicySpec, description: &str) -> ConfigurationPolicy {
    let mut spec_copy = spec.clone();
    let wire = WireWriter::write(|w| visit(&mut spec_copy, w));
    policy_payload(&TEMPLATE, &spec.display_name, description, wire)
}

/// The typed policy for a Graph payload (description as given: the caller strips the marker).
pub fn from_wire(policy: &ConfigurationPolicy, description: &str) -> Result<FirewallPolicySpec, Vec<MappingError>> {
    let mut spec = FirewallPolicySpec {
        display_name: policy.name.clone(),
        description: description.to_string(),
        domain: None,
        private: None,
        public: None,
        global: Default::default(),
    };
    WireReader::read(&policy.settings, |r| visit(&mut spec, r))?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::testing::{Populate, ROUNDS, count_instances, normalized};

    fn empty() -> FirewallPolicySpec {
        FirewallPolicySpec {
            display_name: "FW".into(),
            description: String::new(),
            domain: None,
            private: None,
            public: None,
            global: Default::default(),
        }
    }

    #[test]
    fn every_setting_and_every_option_round_trips() {
        for round in 0..ROUNDS {
            let mut spec = empty();
            let mut populate = Populate::new(round);
            visit(&mut spec, &mut populate);
            // A disabled profile carries no children: Intune only accepts them under `_true`.
            for profile in [&mut spec.domain, &mut spec.private, &mut spec.public].into_iter().flatten() {
                profile.enabled = true;
            }
            let wire = to_wire(&spec, "");
            assert_eq!(count_instances(&wire.settings), populate.set);
            assert_eq!(from_wire(&wire, "").expect("read back"), spec, "round {round}");
        }
        let mut disabled = empty();
        disabled.public = Some(FirewallProfile { enabled: false, ..Default::default() });
        assert_eq!(from_wire(&to_wire(&disabled, ""), "").expect("read back"), disabled);
    }

    #[test]
    fn documented_create_request_reads_and_renders_back_identically() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/graph/configurationPolicy-create-firewall.request.json"
        );
        let text = std::fs::read_to_string(path).expect("sample");
        let sample: serde_json::Value = serde_json::from_str(&text).expect("json");
        let policy: ConfigurationPolicy = serde_json::from_value(sample.clone()).expect("wire");
        let spec = from_wire(&policy, &policy.description).expect("typed");
        let domain = spec.domain.clone().expect("domain profile");
        assert!(domain.enabled);
        assert_eq!(domain.default_inbound_action, Some(FirewallAction::Block));
        assert_eq!(domain.log_max_file_size_kb, Some(1024));

        let rendered = serde_json::to_value(to_wire(&spec, &policy.description)).expect("serialize");
        assert_eq!(normalized(&rendered["settings"]), normalized(&sample["settings"]));
        for field in ["name", "description", "platforms", "technologies", "roleScopeTagIds", "templateReference"] {
            assert_eq!(rendered[field], sample[field], "{field}");
        }
    }
}
