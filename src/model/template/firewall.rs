//! `FirewallPolicy` ↔ template "Windows Firewall" (`6078910e-d808-4a9f-a51d-1b8a7bacb7c0_1`).
//!
//! Each network profile is one top-level choice `<profile>_enablefirewall`; the profile's other
//! settings are children of its `_true` option, as in Microsoft's documented create request, so they
//! may only be given when the profile is enabled. Settings for every profile live under `global`, the
//! audit policy for the filtering platform under `audit`, Hyper-V firewall settings under `hyperV`.

use std::sync::LazyLock;

use super::*;

const STORE: &str = "vendor_msft_firewall_mdmstore_";
const HYPER_V: &str = "vendor_msft_firewall_mdmstore_hypervvmsettings_{vmcreatorid}";
const AUDIT: &str = "device_vendor_msft_policy_config_audit_objectaccess_";
const NLM: &str = "device_vendor_msft_policy_config_networklistmanager_";

fn actions() -> Vec<Opt> {
    options(&[("allow", "0"), ("block", "1")])
}

fn audit_options() -> Vec<Opt> {
    options(&[("none", "0"), ("success", "1"), ("failure", "2"), ("successAndFailure", "3")])
}

const LOG_PATH: TextRule = TextRule { min_len: 0, max_len: 87516, forbidden: "", secret: false };

/// A network profile: manifest field, CSP segment, template ids of its `enablefirewall` instance.
struct Profile {
    field: &'static str,
    segment: &'static str,
    instance: &'static str,
    value: &'static str,
}

const PROFILES: [Profile; 3] = [
    Profile {
        field: "domain",
        segment: "domainprofile",
        instance: "7714c373-a19a-4b64-ba6d-2e9db04a7684",
        value: "120c5dbe-0c88-46f0-b897-2c996d3e5277",
    },
    Profile {
        field: "private",
        segment: "privateprofile",
        instance: "1c14f914-69bb-49f8-af5b-e29173a6ee95",
        value: "9d55dfae-d55f-4f2a-af03-9a9524f61e76",
    },
    Profile {
        field: "public",
        segment: "publicprofile",
        instance: "e2714734-708e-4286-8ae9-d56821e306a3",
        value: "c38694c7-51a4-4a35-8f64-b10866a04776",
    },
];

fn profile(p: &Profile) -> Node {
    let id = |name: &str| format!("{STORE}{}_{name}", p.segment);
    let path = |name: &str| format!("{}.{name}", p.field);
    let flag = |name: &str, field: &str, doc: &str| choice(id(name), path(field), doc, boolean()).under(&["true"]);
    choice(
        id("enablefirewall"),
        path("enabled"),
        format!("Turn Windows Firewall on for the {} profile.", p.field),
        boolean(),
    )
    .refs(p.instance, p.value)
    .with(vec![
        choice(
            id("defaultinboundaction"),
            path("defaultInboundAction"),
            "What happens to inbound traffic no rule matches.",
            actions(),
        )
        .under(&["true"]),
        choice(
            id("defaultoutboundaction"),
            path("defaultOutboundAction"),
            "What happens to outbound traffic no rule matches.",
            actions(),
        )
        .under(&["true"]),
        flag(
            "disableinboundnotifications",
            "disableInboundNotifications",
            "Hide notifications when an application is blocked from listening.",
        ),
        flag("disablestealthmode", "disableStealthMode", "Turn off stealth mode."),
        flag(
            "disablestealthmodeipsecsecuredpacketexemption",
            "disableStealthModeIpsecSecuredPacketExemption",
            "In stealth mode, do not exempt IPsec-secured packets.",
        ),
        flag("shielded", "shielded", "Shielded mode: block all inbound traffic, whatever the rules say."),
        flag("allowlocalpolicymerge", "allowLocalPolicyMerge", "Merge local firewall rules with policy rules."),
        flag("allowlocalipsecpolicymerge", "allowLocalIpsecPolicyMerge", "Merge local IPsec rules with policy rules."),
        flag("authappsallowuserprefmerge", "authAppsAllowUserPrefMerge", "Merge locally authorized application rules."),
        flag(
            "globalportsallowuserprefmerge",
            "globalPortsAllowUserPrefMerge",
            "Merge locally defined global port rules.",
        ),
        flag(
            "disableunicastresponsestomulticastbroadcast",
            "disableUnicastResponsesToMulticastBroadcast",
            "Ignore unicast responses to multicast and broadcast traffic.",
        ),
        flag("enablelogdroppedpackets", "logDroppedPackets", "Log dropped packets."),
        flag("enablelogsuccessconnections", "logSuccessfulConnections", "Log successful connections."),
        flag("enablelogignoredrules", "logIgnoredRules", "Log ignored rules."),
        text(id("logfilepath"), path("logFilePath"), "Path of the firewall log file.", LOG_PATH).under(&["true"]),
        integer(id("logmaxfilesize"), path("logMaxFileSizeKb"), "Maximum log file size in KB (1–32767).", 1, 32767)
            .under(&["true"]),
    ])
}

fn hyper_v_profile(segment: &str, field: &str) -> Node {
    let id = |name: &str| format!("{HYPER_V}_{segment}_{name}");
    let path = |name: &str| format!("{field}.{name}");
    choice(id("enablefirewall"), path("enabled"), format!("Hyper-V firewall for the {field} profile."), boolean()).with(
        vec![
            choice(
                id("allowlocalpolicymerge"),
                path("allowLocalPolicyMerge"),
                "Merge local rules with policy rules.",
                boolean(),
            )
            .under(&["true"]),
            choice(
                id("defaultinboundaction"),
                path("defaultInboundAction"),
                "What happens to inbound traffic no rule matches.",
                actions(),
            )
            .under(&["true"]),
            choice(
                id("defaultoutboundaction"),
                path("defaultOutboundAction"),
                "What happens to outbound traffic no rule matches.",
                actions(),
            )
            .under(&["true"]),
        ],
    )
}

pub static TABLE: LazyLock<TemplateTable> = LazyLock::new(|| {
    let global = |name: &str| format!("{STORE}global_{name}");
    let mut nodes: Vec<Node> = PROFILES.iter().map(profile).collect();
    nodes.extend([
        choice(global("disablestatefulftp"), "global.disableStatefulFtp", "Turn off stateful FTP.", boolean())
            .refs("38329af6-2670-4a71-972d-482010ca97fc", "559f6e01-53a9-4c10-9f10-d09d8fe7f903"),
        choice(
            global("crlcheck"),
            "global.crlCheck",
            "Certificate revocation list checks: none, attempt (fail only when revoked) or require (fail on any error).",
            options(&[("none", "0"), ("attempt", "1"), ("require", "2")]),
        )
        .refs("e7a56c46-ef6b-453b-a280-5c5677eed4b2", "95ffe5ce-c873-420f-aeba-b740b513251b"),
        choice_list(
            global("enablepacketqueue"),
            "global.packetQueue",
            "Packet queuing: disabled, queueInbound (encrypted inbound packets) and/or queueForwarded (after decryption).",
            options(&[("disabled", "0"), ("queueInbound", "1"), ("queueForwarded", "2")]),
        )
        .instance("290a576c-b314-4305-98e7-ac98ad5452c4"),
        choice_list(
            global("ipsecexempt"),
            "global.ipsecExemptions",
            "Traffic exempt from IPsec: none, neighborDiscovery, icmp, routerDiscovery, dhcp.",
            options(&[("none", "0"), ("neighborDiscovery", "1"), ("icmp", "2"), ("routerDiscovery", "4"), ("dhcp", "8")]),
        ),
        choice(
            global("opportunisticallymatchauthsetperkm"),
            "global.opportunisticallyMatchAuthSetPerKm",
            "Keying modules ignore authentication suites they do not support.",
            boolean(),
        ),
        choice(
            global("presharedkeyencoding"),
            "global.presharedKeyEncoding",
            "Encoding of preshared keys: none or utf8.",
            options(&[("none", "0"), ("utf8", "1")]),
        )
        .refs("a49fb169-715e-42ea-9916-35ac9de66f69", "25ecf79d-adde-4cbd-948b-c1095058a6ee"),
        integer(global("saidletime"), "global.saIdleTimeSeconds", "Seconds (300–3600) before an idle security association is deleted.", 300, 3600)
            .refs("2663b68f-6624-4cf2-ba68-9d355b086824", "39a12cfe-2766-40a1-b63f-292ead946168"),
        choice(
            format!("{AUDIT}auditfilteringplatformconnection"),
            "audit.filteringPlatformConnection",
            "Audit connections allowed or blocked by the filtering platform: none, success, failure, successAndFailure.",
            audit_options(),
        )
        .refs("be9453a7-6348-4112-a49e-ad029d5d3548", "f5e48ffe-d924-4ee1-a1a1-677e259952fa"),
        choice(
            format!("{AUDIT}auditfilteringplatformpacketdrop"),
            "audit.filteringPlatformPacketDrop",
            "Audit packets dropped by the filtering platform: none, success, failure, successAndFailure.",
            audit_options(),
        )
        .refs("43f5366a-7e27-47a9-be51-d14189d02a17", "bf48ef86-73e5-4a66-a693-24ff8e4be799"),
        text_list(
            format!("{NLM}allowedtlsauthenticationendpoints"),
            "networkListManager.allowedTlsAuthenticationEndpoints",
            "HTTPS endpoints that identify the domain network by TLS authentication.",
            TextRule::ANY,
            100,
        ),
        text(
            format!("{NLM}configuredtlsauthenticationnetworkname"),
            "networkListManager.tlsAuthenticatedNetworkName",
            "Name of the network identified by TLS authentication.",
            TextRule::ANY,
        ),
        group_list(HYPER_V, "hyperV", "Hyper-V firewall settings, one item per kind of virtual machine (target).", 10, vec![
            choice(format!("{HYPER_V}_target"), "target", "Virtual machines the settings apply to: wsl.", options(&[("wsl", "wsl")]))
                .with(vec![
                    hyper_v_profile("domainprofile", "domain"),
                    hyper_v_profile("privateprofile", "private"),
                    hyper_v_profile("publicprofile", "public"),
                    choice(format!("{HYPER_V}_enableloopback"), "loopback", "Allow loopback between the host and the virtual machines.", boolean()),
                    choice(
                        format!("{HYPER_V}_allowhostpolicymerge"),
                        "allowHostPolicyMerge",
                        "Apply the host's firewall rules to the virtual machines.",
                        boolean(),
                    ),
                ]),
        ])
        .instance("24805bd4-1133-4790-82ae-4caa63e16aa6"),
    ]);
    TemplateTable { template: Template::windows("6078910e-d808-4a9f-a51d-1b8a7bacb7c0_1"), nodes }
});
