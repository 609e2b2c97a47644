//! Checks of a detection rule that its schema cannot express: what Defender would refuse at create
//! time (lengths, `let` in a near-real-time rule, a query that returns no `Timestamp`/`ReportId`)
//! and what would make the rule raise alerts nobody can act on (an impacted asset or a response
//! action naming a column the query does not return, a device action with no device to act on).

use std::collections::BTreeSet;

use super::typed_checks::Problem;
use crate::model::detection::{DetectionRuleSpec, Frequency};
use crate::model::detection_entities::{EntityMappings, Target};
use crate::model::kql::QueryShape;

/// Longest display name and alert title Defender takes.
pub const MAX_NAME: usize = 256;
/// Longest description and alert description Defender takes.
pub const MAX_DESCRIPTION: usize = 4000;
/// Longest query Defender takes.
pub const MAX_QUERY: usize = 30_000;

fn error(path: &str, message: String) -> Problem {
    Problem { path: path.to_string(), message, warning: false, about_key: false }
}

/// Everything wrong with a detection rule.
pub fn problems(spec: &DetectionRuleSpec) -> Vec<Problem> {
    let mut out = Vec::new();
    let lengths = [
        ("spec.displayName", &spec.display_name, MAX_NAME),
        ("spec.description", &spec.description, MAX_DESCRIPTION),
        ("spec.alert.title", &spec.alert.title, MAX_NAME),
        ("spec.alert.description", &spec.alert.description, MAX_DESCRIPTION),
        ("spec.query", &spec.query, MAX_QUERY),
    ];
    for (path, text, max) in lengths {
        let length = text.chars().count();
        if text.trim().is_empty() && path != "spec.description" {
            out.push(error(path, "must not be empty".into()));
        } else if length > max {
            out.push(error(path, format!("is {length} characters long; Defender takes at most {max}")));
        }
    }
    for (i, technique) in spec.alert.techniques.iter().enumerate() {
        if !is_technique(technique) {
            out.push(error(
                &format!("spec.alert.techniques[{i}]"),
                format!("`{technique}` is not a MITRE ATT&CK technique id (T1234 or T1234.001)"),
            ));
        }
    }
    check_entities(&spec.alert.entities, &mut out);
    check_query(spec, &mut out);
    out
}

fn check_query(spec: &DetectionRuleSpec, out: &mut Vec<Problem>) {
    if spec.query.trim().is_empty() {
        return;
    }
    let shape = QueryShape::parse(&spec.query);
    if shape.table.is_empty() {
        out.push(error("spec.query", "must start with a table of the advanced hunting schema".into()));
        return;
    }
    if spec.frequency == Frequency::NearRealTime && shape.has_let {
        out.push(error(
            "spec.query",
            "a NearRealTime rule's query cannot use `let`; inline the values, or run the rule every hour (PT1H)".into(),
        ));
    }
    let columns = shape.projected_columns().map(|c| c.into_iter().collect::<BTreeSet<String>>());
    if let Some(columns) = &columns {
        let missing: Vec<&str> = ["Timestamp", "ReportId"].into_iter().filter(|c| !columns.contains(*c)).collect();
        if !missing.is_empty() {
            out.push(error(
                "spec.query",
                format!(
                    "the query's last `project` leaves out {}: every row of a detection rule needs Timestamp and ReportId",
                    missing.join(" and ")
                ),
            ));
        }
    }
    let projected = |path: String, column: &str, what: &str, out: &mut Vec<Problem>| {
        if let Some(columns) = &columns
            && !columns.contains(column)
        {
            out.push(error(
                &path,
                format!("{what} column `{column}`, which the query's last `project` does not return"),
            ));
        }
    };
    let entities = &spec.alert.entities;
    for named in entities.columns() {
        projected(format!("spec.alert.entities.{}", named.path), named.column, "names", out);
    }
    for (detail, column) in &spec.alert.custom_details {
        projected(format!("spec.alert.customDetails.{detail}"), column, "names", out);
    }
    for action in spec.automated_actions.all() {
        let path = format!("spec.automatedActions.{}", action.path);
        if action.columns.is_empty() {
            out.push(error(&path, "name the column that identifies what the action acts on".into()));
        }
        if let Some(missing) = unmapped(entities, action.target) {
            out.push(error(&path, format!("acts on {missing}: map one in spec.alert.entities")));
        }
        for named in &action.columns {
            projected(format!("spec.automatedActions.{}", named.path), named.column, "needs", out);
        }
    }
}

/// What an action acts on, when the alert maps no such entity.
fn unmapped(entities: &EntityMappings, target: Target) -> Option<&'static str> {
    match target {
        Target::Device if entities.hosts.is_empty() => Some("a device (hosts)"),
        Target::Account if entities.accounts.is_empty() => Some("an account (accounts)"),
        Target::File if entities.files.is_empty() && entities.processes.is_empty() => Some("a file (files)"),
        Target::Email if entities.mail_messages.is_empty() && entities.mailboxes.is_empty() => {
            Some("an email (mailMessages)")
        }
        _ => None,
    }
}

/// Each mapping names a combination of columns Defender can identify its entity by.
fn check_entities(entities: &EntityMappings, out: &mut Vec<Problem>) {
    if !entities.has_asset() {
        out.push(error(
            "spec.alert.entities",
            "map at least one device (hosts), account, mailbox or IP: Defender attaches every alert to one".into(),
        ));
    }
    let mut incomplete = |path: String, needs: &str| {
        out.push(error(&path, format!("names too little to identify it: give {needs}")));
    };
    for (i, host) in entities.hosts.iter().enumerate() {
        let domain = host.nt_domain_column.is_some() || host.dns_domain_column.is_some();
        if host.device_id_column.is_none()
            && host.name_column.is_none()
            && !(host.net_bios_name_column.is_some() && domain)
        {
            incomplete(
                format!("spec.alert.entities.hosts[{i}]"),
                "deviceIdColumn, nameColumn, or netBiosNameColumn with a domain column",
            );
        }
    }
    for (i, account) in entities.accounts.iter().enumerate() {
        let domain = account.nt_domain_column.is_some()
            || account.dns_domain_column.is_some()
            || account.upn_suffix_column.is_some();
        let by_id =
            account.aad_user_id_column.is_some() || account.sid_column.is_some() || account.upn_column.is_some();
        if !(by_id || account.name_column.is_some() && domain) {
            incomplete(
                format!("spec.alert.entities.accounts[{i}]"),
                "aadUserIdColumn, sidColumn, upnColumn, or nameColumn with a domain column",
            );
        }
    }
    for (i, file) in entities.files.iter().enumerate() {
        if file.sha1_column.is_none() && file.sha256_column.is_none() {
            incomplete(format!("spec.alert.entities.files[{i}]"), "sha1Column or sha256Column");
        }
    }
    for (i, message) in entities.mail_messages.iter().enumerate() {
        if message.columns().len() < 4 {
            incomplete(format!("spec.alert.entities.mailMessages[{i}]"), "all four columns");
        }
    }
    for (i, value) in entities.registry_values.iter().enumerate() {
        if value.key_column.is_none() || value.value_name_column.is_none() {
            incomplete(format!("spec.alert.entities.registryValues[{i}]"), "keyColumn and valueNameColumn");
        }
    }
}

/// `T1234` or `T1234.001`.
fn is_technique(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('T') else { return false };
    let (main, sub) = match rest.split_once('.') {
        Some((main, sub)) => (main, Some(sub)),
        None => (rest, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    digits(main, 4) && sub.is_none_or(|s| digits(s, 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> DetectionRuleSpec {
        serde_yaml::from_str(yaml).expect("spec")
    }

    const GOOD: &str = r#"
displayName: LSASS read
frequency: PT1H
query: |
  let x = 1;
  DeviceEvents
  | where ActionType == "OpenProcessApiCall"
  | project Timestamp, ReportId, DeviceId, InitiatingProcessAccountSid
alert:
  title: LSASS read
  description: A process read LSASS memory.
  severity: high
  tactic: CredentialAccess
  techniques: [T1003.001]
  entities:
    hosts: [{deviceIdColumn: DeviceId}]
    accounts: [{sidColumn: InitiatingProcessAccountSid}]
automatedActions:
  isolateDevices: [{deviceIdColumn: DeviceId, isolationType: full}]
  disableUsers: [{accountSidColumn: InitiatingProcessAccountSid}]
"#;

    fn paths(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    #[test]
    fn a_sound_rule_passes() {
        assert!(problems(&spec(GOOD)).is_empty(), "{:?}", paths(&problems(&spec(GOOD))));
    }

    #[test]
    fn near_real_time_refuses_let() {
        let rule = spec(&GOOD.replace("frequency: PT1H", "frequency: NearRealTime"));
        let found = problems(&rule);
        assert_eq!(paths(&found), ["spec.query"]);
        assert!(found[0].message.contains("cannot use `let`"), "{}", found[0].message);
    }

    #[test]
    fn columns_the_query_does_not_return_are_named() {
        let rule = spec(&GOOD.replace(
            "| project Timestamp, ReportId, DeviceId, InitiatingProcessAccountSid",
            "| project Timestamp, DeviceName",
        ));
        assert_eq!(
            paths(&problems(&rule)),
            [
                "spec.query",
                "spec.alert.entities.accounts[0].sidColumn",
                "spec.alert.entities.hosts[0].deviceIdColumn",
                "spec.automatedActions.isolateDevices[0].deviceIdColumn",
                "spec.automatedActions.disableUsers[0].accountSidColumn"
            ]
        );
    }

    #[test]
    fn actions_need_their_entity_mapped() {
        let rule = spec(&GOOD.replace("    hosts: [{deviceIdColumn: DeviceId}]\n", ""));
        assert_eq!(paths(&problems(&rule)), ["spec.automatedActions.isolateDevices[0]"]);
    }

    #[test]
    fn lengths_techniques_and_identifiable_entities() {
        let long = "x".repeat(MAX_NAME + 1);
        let rule = spec(
            &GOOD
                .replace("title: LSASS read", &format!("title: {long}"))
                .replace("T1003.001", "T13")
                .replace("{sidColumn: InitiatingProcessAccountSid}", "{ntDomainColumn: InitiatingProcessAccountSid}"),
        );
        assert_eq!(
            paths(&problems(&rule)),
            ["spec.alert.title", "spec.alert.techniques[0]", "spec.alert.entities.accounts[0]"]
        );
    }
}
