//! Just enough of KQL for the lab to refuse what advanced hunting refuses: a query must start (after
//! `let` statements) with a table of the advanced hunting schema, followed by nothing or a pipe.
//! The rows answered are the tenant's canned ones; this only keeps nonsense from being answered.

/// Tables of Microsoft Defender XDR advanced hunting.
const TABLES: &[&str] = &[
    "AADSignInEventsBeta",
    "AADSpnSignInEventsBeta",
    "AlertEvidence",
    "AlertInfo",
    "BehaviorEntities",
    "BehaviorInfo",
    "CloudAppEvents",
    "DeviceEvents",
    "DeviceFileCertificateInfo",
    "DeviceFileEvents",
    "DeviceImageLoadEvents",
    "DeviceInfo",
    "DeviceLogonEvents",
    "DeviceNetworkEvents",
    "DeviceNetworkInfo",
    "DeviceProcessEvents",
    "DeviceRegistryEvents",
    "DeviceTvmSoftwareInventory",
    "DeviceTvmSoftwareVulnerabilities",
    "EmailAttachmentInfo",
    "EmailEvents",
    "EmailPostDeliveryEvents",
    "EmailUrlInfo",
    "IdentityDirectoryEvents",
    "IdentityInfo",
    "IdentityLogonEvents",
    "IdentityQueryEvents",
    "UrlClickEvents",
];

/// Why advanced hunting would refuse the query, in its words; `Ok` when the lab answers it.
pub fn check(query: &str) -> Result<(), String> {
    let mut rest = strip_comments(query);
    // `let name = …;` statements come first; the query proper follows the last one.
    while let Some(after) = rest.trim_start().strip_prefix("let ") {
        let Some(end) = after.find(';') else {
            return Err("Query could not be parsed: a `let` statement must end with `;`.".into());
        };
        rest = after[end + 1..].to_string();
    }
    let body = rest.trim_start();
    let table: String = body.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if table.is_empty() {
        let near: String = body.chars().take(20).collect();
        return Err(format!("Query could not be parsed at '{near}': a query starts with a table."));
    }
    let after = body[table.len()..].trim_start();
    if !(after.is_empty() || after.starts_with('|')) {
        let token: String = after.chars().take_while(|c| !c.is_whitespace()).collect();
        return Err(format!("Query could not be parsed at '{token}': expected `|` after `{table}`."));
    }
    if !TABLES.contains(&table.as_str()) {
        return Err(format!("Failed to resolve table expression named '{table}'."));
    }
    Ok(())
}

fn strip_comments(query: &str) -> String {
    query.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pipes_and_lets_pass_and_nonsense_does_not() {
        assert!(check("DeviceProcessEvents | take 10").is_ok());
        assert!(check("  // recent\nDeviceProcessEvents\n| where Timestamp > ago(1d)").is_ok());
        assert!(check("let lookback = 7d;\nAlertInfo | where Timestamp > ago(lookback)").is_ok());
        assert_eq!(
            check("this is not kql"),
            Err("Query could not be parsed at 'is': expected `|` after `this`.".into())
        );
        assert_eq!(check("Devices | take 1"), Err("Failed to resolve table expression named 'Devices'.".into()));
        assert!(check("| take 1").is_err());
        assert!(check("let x = 1").is_err());
    }
}
