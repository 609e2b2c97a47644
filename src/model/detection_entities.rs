//! What a detection rule's alerts are about and what Defender does to it, in Graph's own terms: each
//! field names a column of the query's rows (`deviceIdColumn: DeviceId`). The shapes are those of
//! `entityMappingConfiguration` and `automatedActionSet` (Graph beta), so a rule is written as the
//! portal would send it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Declares an entity or action type whose fields each name a query column.
macro_rules! columns {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident : $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<String>,
            )+
        }

        impl $name {
            /// Each column named, with the field (as manifests write it) that names it.
            pub fn columns(&self) -> Vec<(&'static str, &str)> {
                let mut named = Vec::new();
                $(if let Some(column) = &self.$field { named.push(($wire, column.as_str())); })+
                named
            }
        }
    };
}

columns!(
    /// An account, by object id, SID, UPN, or name with its domain.
    AccountMapping { aad_user_id_column: "aadUserIdColumn", sid_column: "sidColumn", upn_column: "upnColumn",
    name_column: "nameColumn", nt_domain_column: "ntDomainColumn", dns_domain_column: "dnsDomainColumn",
    upn_suffix_column: "upnSuffixColumn" }
);
columns!(
    /// A device, by Defender device id or name.
    HostMapping { device_id_column: "deviceIdColumn", name_column: "nameColumn",
    net_bios_name_column: "netBiosNameColumn", nt_domain_column: "ntDomainColumn", dns_domain_column: "dnsDomainColumn" }
);
columns!(
    /// A file, by hash.
    FileMapping { name_column: "nameColumn", sha1_column: "sha1Column", sha256_column: "sha256Column" }
);
columns!(
    /// A process, by its image's hash.
    ProcessMapping { sha1_column: "sha1Column", sha256_column: "sha256Column" }
);
columns!(
    /// An IP address.
    IpMapping { address_column: "addressColumn", scope_column: "scopeColumn" }
);
columns!(
    /// A URL.
    UrlMapping { address_column: "addressColumn" }
);
columns!(
    /// A mailbox, by its primary address.
    MailboxMapping { primary_address_column: "primaryAddressColumn" }
);
columns!(
    /// An email message (all four columns together).
    MailMessageMapping { network_message_id_column: "networkMessageIdColumn", recipient_column: "recipientColumn",
    sender_column: "senderColumn", subject_column: "subjectColumn" }
);
columns!(
    /// A registry value, by key and value name.
    RegistryValueMapping { key_column: "keyColumn", value_name_column: "valueNameColumn" }
);
columns!(
    /// A cloud application.
    CloudApplicationMapping { app_id_column: "appIdColumn", name_column: "nameColumn" }
);

/// Entities the alert is about, each as columns of the query's rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntityMappings {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<ProcessMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<IpMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<UrlMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mailboxes: Vec<MailboxMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mail_messages: Vec<MailMessageMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry_values: Vec<RegistryValueMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cloud_applications: Vec<CloudApplicationMapping>,
}

/// One mapping's columns with its place in the manifest (`accounts[0].upnColumn`).
pub struct NamedColumn<'a> {
    pub path: String,
    pub column: &'a str,
}

fn named<'a>(list: &'static str, items: Vec<Vec<(&'static str, &'a str)>>, out: &mut Vec<NamedColumn<'a>>) {
    for (i, columns) in items.into_iter().enumerate() {
        for (field, column) in columns {
            out.push(NamedColumn { path: format!("{list}[{i}].{field}"), column });
        }
    }
}

impl EntityMappings {
    /// Every column named, with where.
    pub fn columns(&self) -> Vec<NamedColumn<'_>> {
        let mut out = Vec::new();
        named("accounts", self.accounts.iter().map(AccountMapping::columns).collect(), &mut out);
        named("hosts", self.hosts.iter().map(HostMapping::columns).collect(), &mut out);
        named("files", self.files.iter().map(FileMapping::columns).collect(), &mut out);
        named("processes", self.processes.iter().map(ProcessMapping::columns).collect(), &mut out);
        named("ips", self.ips.iter().map(IpMapping::columns).collect(), &mut out);
        named("urls", self.urls.iter().map(UrlMapping::columns).collect(), &mut out);
        named("mailboxes", self.mailboxes.iter().map(MailboxMapping::columns).collect(), &mut out);
        named("mailMessages", self.mail_messages.iter().map(MailMessageMapping::columns).collect(), &mut out);
        named("registryValues", self.registry_values.iter().map(RegistryValueMapping::columns).collect(), &mut out);
        let apps = self.cloud_applications.iter().map(CloudApplicationMapping::columns).collect();
        named("cloudApplications", apps, &mut out);
        out
    }

    /// Whether an asset Defender can attach an alert to (a device, account, mailbox or IP) is mapped.
    pub fn has_asset(&self) -> bool {
        !(self.hosts.is_empty() && self.accounts.is_empty() && self.mailboxes.is_empty() && self.ips.is_empty())
    }
}

columns!(
    /// An action on a device.
    DeviceAction { device_id_column: "deviceIdColumn" }
);
columns!(
    /// Stops a file's process on a device and quarantines the file.
    StopAndQuarantineFile { device_id_column: "deviceIdColumn", sha1_column: "sha1Column" }
);
columns!(
    /// An action on an account, by SID.
    AccountSidAction { account_sid_column: "accountSidColumn" }
);
columns!(
    /// An action on an account, by Entra object id.
    AccountObjectIdAction { account_object_id_column: "accountObjectIdColumn" }
);
columns!(
    /// An action on an email, by message id and recipient.
    EmailAction { network_message_id_column: "networkMessageIdColumn", recipient_column: "recipientColumn" }
);

/// Cuts a device off the network.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IsolateDevice {
    pub device_id_column: String,
    /// `full`, or `selective` (Outlook, Teams and Skype keep working).
    pub isolation_type: IsolationType,
}

// Network isolation of a device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum IsolationType {
    #[default]
    Full,
    Selective,
}

/// Allows or blocks a file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileAction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1_column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256_column: Option<String>,
    /// Device groups the action applies in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_group_names: Vec<String>,
}

impl FileAction {
    pub fn columns(&self) -> Vec<(&'static str, &str)> {
        let mut named = Vec::new();
        if let Some(column) = &self.sha1_column {
            named.push(("sha1Column", column.as_str()));
        }
        if let Some(column) = &self.sha256_column {
            named.push(("sha256Column", column.as_str()));
        }
        named
    }
}

/// What Defender does on its own for each alert.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutomatedActions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub isolate_devices: Vec<IsolateDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collect_investigation_packages: Vec<DeviceAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub run_antivirus_scans: Vec<DeviceAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub initiate_investigations: Vec<DeviceAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restrict_app_executions: Vec<DeviceAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_and_quarantine_files: Vec<StopAndQuarantineFile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_files: Vec<FileAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block_files: Vec<FileAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disable_users: Vec<AccountSidAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub force_user_password_resets: Vec<AccountSidAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mark_users_as_compromised: Vec<AccountObjectIdAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub soft_delete_emails: Vec<EmailAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hard_delete_emails: Vec<EmailAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub move_emails_to_junk: Vec<EmailAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub move_emails_to_deleted_items: Vec<EmailAction>,
}

/// The entity an action needs mapped in the alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Device,
    Account,
    File,
    Email,
}

/// One action's columns, for checks.
pub struct ActionColumns<'a> {
    /// `isolateDevices[0]`.
    pub path: String,
    pub target: Target,
    pub columns: Vec<NamedColumn<'a>>,
}

fn actions<'a>(
    list: &'static str,
    target: Target,
    items: Vec<Vec<(&'static str, &'a str)>>,
    out: &mut Vec<ActionColumns<'a>>,
) {
    for (i, columns) in items.into_iter().enumerate() {
        let path = format!("{list}[{i}]");
        let columns =
            columns.into_iter().map(|(f, column)| NamedColumn { path: format!("{path}.{f}"), column }).collect();
        out.push(ActionColumns { path, target, columns });
    }
}

impl AutomatedActions {
    pub fn is_empty(&self) -> bool {
        self.all().is_empty()
    }

    /// Every action, with its target and the columns it names.
    pub fn all(&self) -> Vec<ActionColumns<'_>> {
        let mut out = Vec::new();
        let isolate = self.isolate_devices.iter().map(|a| vec![("deviceIdColumn", a.device_id_column.as_str())]);
        actions("isolateDevices", Target::Device, isolate.collect(), &mut out);
        for (list, items) in [
            ("collectInvestigationPackages", &self.collect_investigation_packages),
            ("runAntivirusScans", &self.run_antivirus_scans),
            ("initiateInvestigations", &self.initiate_investigations),
            ("restrictAppExecutions", &self.restrict_app_executions),
        ] {
            actions(list, Target::Device, items.iter().map(DeviceAction::columns).collect(), &mut out);
        }
        let quarantine = self.stop_and_quarantine_files.iter().map(StopAndQuarantineFile::columns);
        actions("stopAndQuarantineFiles", Target::File, quarantine.collect(), &mut out);
        for (list, items) in [("allowFiles", &self.allow_files), ("blockFiles", &self.block_files)] {
            actions(list, Target::File, items.iter().map(FileAction::columns).collect(), &mut out);
        }
        for (list, items) in
            [("disableUsers", &self.disable_users), ("forceUserPasswordResets", &self.force_user_password_resets)]
        {
            actions(list, Target::Account, items.iter().map(AccountSidAction::columns).collect(), &mut out);
        }
        let compromised = self.mark_users_as_compromised.iter().map(AccountObjectIdAction::columns);
        actions("markUsersAsCompromised", Target::Account, compromised.collect(), &mut out);
        for (list, items) in [
            ("softDeleteEmails", &self.soft_delete_emails),
            ("hardDeleteEmails", &self.hard_delete_emails),
            ("moveEmailsToJunk", &self.move_emails_to_junk),
            ("moveEmailsToDeletedItems", &self.move_emails_to_deleted_items),
        ] {
            actions(list, Target::Email, items.iter().map(EmailAction::columns).collect(), &mut out);
        }
        out
    }
}
