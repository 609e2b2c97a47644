//! `FirewallRulesPolicy` ↔ template "Windows Firewall Rules"
//! (`19c8aa67-f286-4861-9aa0-f23541d31680_1`): a list of firewall rules, one group of the group
//! collection `..._firewallrules_{firewallrulename}` per rule. Intune puts template references on the
//! children of the first rule only; the writer does the same.

use std::sync::LazyLock;

use super::*;

const RULE: &str = "vendor_msft_firewall_mdmstore_firewallrules_{firewallrulename}";

fn id(name: &str) -> String {
    format!("{RULE}_{name}")
}

const NAME: TextRule = TextRule { min_len: 1, max_len: 1024, forbidden: "", secret: false };
const ANY: TextRule = TextRule::ANY;

pub static TABLE: LazyLock<TemplateTable> = LazyLock::new(|| TemplateTable {
    template: Template::windows("19c8aa67-f286-4861-9aa0-f23541d31680_1"),
    nodes: vec![
        group_list(
            RULE,
            "rules",
            "The firewall rules, each with a name unique in the policy.",
            150,
            vec![
                text(id("name"), "name", "Name of the rule (unique in the policy).", NAME)
                    .refs("116a696a-3270-493e-9938-c336cf05ea98", "12994a33-6185-4c3d-a0e8-69316f6293ea"),
                text(id("description"), "description", "What the rule is for.", ANY)
                    .refs("6c85987f-3adb-4f8d-93e1-4f23e238121b", "18ab9c3a-b6be-4995-9438-289c34eee294"),
                choice(id("enabled"), "enabled", "Whether the rule is in force.", flag())
                    .refs("4e150e1a-6a10-49b2-a20c-911bf44ea767", "7562f243-f281-4f6f-b7e6-ecdb76dc1f1b"),
                choice(
                    id("direction"),
                    "direction",
                    "Traffic the rule applies to: in or out.",
                    options(&[("in", "in"), ("out", "out")]),
                )
                .refs("2114ad3d-157c-47d3-b646-60fcf50949c7", "8b45e13b-952d-4164-bbac-37f4e97b7985"),
                choice(
                    id("action_type"),
                    "action",
                    "What the rule does with matching traffic: allow or block.",
                    options(&[("block", "0"), ("allow", "1")]),
                )
                .refs("0565cfd1-21c2-4965-b87f-6bde2b8d2cbd", "419773d8-bffe-4d6f-a91f-286871963f5c"),
                integer(
                    id("protocol"),
                    "protocol",
                    "IANA protocol number (6 TCP, 17 UDP, 1 ICMPv4, 58 ICMPv6).",
                    0,
                    255,
                )
                .refs("b8f45398-674f-40c3-ab18-e002aa8e589b", "27d0d86c-d87d-473b-a41c-eef503d8baec"),
                text_list(
                    id("localportranges"),
                    "localPorts",
                    "Local ports or ranges (`443`, `1000-2000`).",
                    ANY,
                    1000,
                )
                .instance("b57dc83e-5bf3-439a-b923-4c3e49ac9e2d"),
                text_list(
                    id("remoteportranges"),
                    "remotePorts",
                    "Remote ports or ranges (`443`, `1000-2000`).",
                    ANY,
                    1000,
                )
                .instance("de5d058e-ab1d-4772-81f5-32b6a35b4587"),
                text_list(
                    id("localaddressranges"),
                    "localAddresses",
                    "Local addresses, subnets or ranges; absent: any.",
                    ANY,
                    1000,
                )
                .instance("8b5de251-c683-4440-91d6-3b679b0aa5aa"),
                text_list(
                    id("remoteaddressranges"),
                    "remoteAddresses",
                    "Remote addresses, subnets, ranges or keywords; absent: any.",
                    ANY,
                    1000,
                )
                .instance("bf9855fc-f2c0-4241-94cf-94cf823f1c1c"),
                text_list(
                    id("remoteaddressdynamickeywords"),
                    "remoteAddressKeywords",
                    "Ids of reusable firewall settings groups whose addresses the rule matches.",
                    ANY,
                    100,
                ),
                text(id("app_filepath"), "filePath", "Program the rule applies to (full path).", ANY)
                    .refs("dd825fa0-961b-4fcc-a6b3-4d2dc0419d4e", "8c94fefa-67e5-40b5-8d97-6fca4f0c1e98"),
                text(
                    id("app_packagefamilyname"),
                    "packageFamilyName",
                    "Store app (package family name) the rule applies to.",
                    ANY,
                )
                .refs("1a91448b-b04e-4cb0-a80c-10ec64addfda", "a9b123c6-1c6f-4de3-8840-34f91dfb9422"),
                text(id("app_servicename"), "serviceName", "Windows service the rule applies to.", ANY)
                    .refs("1bd709fe-1cd4-4cc4-9a6f-4cb7f104da66", "c77294ec-795e-43dc-9af6-775b3b2f911d"),
                text(
                    id("app_policyappid"),
                    "policyAppId",
                    "Application id of an App Control tag the rule applies to.",
                    ANY,
                ),
                choice_list(
                    id("interfacetypes"),
                    "interfaceTypes",
                    "Interface types: remoteAccess, wireless, lan, mobileBroadband, mbb, all.",
                    options(&[
                        ("remoteAccess", "remoteaccess"),
                        ("wireless", "wireless"),
                        ("lan", "lan"),
                        ("mobileBroadband", "mobilebroadband"),
                        ("mbb", "mbb"),
                        ("all", "all"),
                    ]),
                )
                .instance("406b5410-e52e-4df3-933f-1ee6e550a5c8"),
                choice_list(
                    id("profiles"),
                    "profiles",
                    "Network profiles: domain, private, public, or all.",
                    options(&[("domain", "1"), ("private", "2"), ("public", "4"), ("all", "2147483647")]),
                )
                .instance("7dc9b243-cdd2-4359-b5f5-0c48edb8fd34"),
                choice(
                    id("edgetraversal"),
                    "edgeTraversal",
                    "Allow traffic through NAT edge devices (Teredo).",
                    flag(),
                )
                .refs("fe674767-404d-4994-ac86-016f209851ee", "682b3827-caec-4378-99b3-0400c2c0537b"),
                text_list(
                    id("localuserauthorizedlist"),
                    "authorizedLocalUsers",
                    "SDDL strings of local users the rule applies to.",
                    ANY,
                    100,
                )
                .instance("b11c8e7d-babc-4899-a4b4-04683b898faa"),
                text_list(id("icmptypesandcodes"), "icmpTypesAndCodes", "ICMP types and codes (`8:*`).", ANY, 100),
            ],
        )
        .instance("76c7a8be-67d2-44bf-81a5-38c94926b1a1")
        .keyed_by("name"),
    ],
});
