//! validate: semantic checks across a loaded manifest set. Every finding is collected, each pointing at
//! the field it is about.

use std::collections::{BTreeMap, HashMap};

use kube::ResourceExt;

use super::metadata::{label_problem, name_problem};
use super::spec_paths::check_spec_path;
use super::{Diagnostic, Location, Manifest, ManifestSet, PolicyResource};
use crate::model::exception::{Allowance, TargetRef};
use crate::model::patch::overlaps;
use crate::model::profile::SelectorOperator;
use crate::model::select::profile_selects;
use crate::model::{Kind, ObjectRef, is_guid};
use crate::util::suggest::did_you_mean;

/// Validates a set, object by object and across objects. What needs the resolution (conflicting
/// profiles) is found by the resolver, which runs after this.
pub fn validate(set: &ManifestSet) -> Vec<Diagnostic> {
    let mut out = Findings::default();
    check_metadata(set, &mut out);
    check_unique_names(set, &mut out);
    for tenant in &set.tenants {
        check_tenant(tenant, &mut out);
    }
    check_unique_tenant_ids(set, &mut out);
    for profile in &set.profiles {
        check_profile(set, profile, &mut out);
    }
    for policy in &set.policies {
        check_policy(policy, &mut out);
    }
    for notification in &set.notifications {
        check_notification(notification, &mut out);
    }
    for role in &set.roles {
        check_role(role, &mut out);
    }
    for role in &set.defender_roles {
        check_defender_role(role, &mut out);
    }
    for exception in &set.exceptions {
        check_exception(set, exception, &mut out);
    }
    for manifest in &set.overrides {
        check_override(set, manifest, &mut out);
    }
    for case in &set.cases {
        check_case(set, case, &mut out);
    }
    for rule in &set.detection_rules {
        let resource = format!("DetectionRule/{}", rule.name());
        for problem in super::detection_checks::problems(&rule.object.spec) {
            out.error(rule, resource.clone(), &problem.path, problem.message);
        }
    }
    out.list
}

#[derive(Default)]
struct Findings {
    list: Vec<Diagnostic>,
}

impl Findings {
    fn error<T>(&mut self, manifest: &Manifest<T>, resource: String, path: &str, message: String) {
        self.list.push(Diagnostic::error(message).resource(resource).path(path).at(manifest.value_at(path)));
    }

    /// An error about a field name rather than its value: placed at the key.
    fn key_error<T>(&mut self, manifest: &Manifest<T>, resource: String, path: &str, message: String) {
        self.list.push(Diagnostic::error(message).resource(resource).path(path).at(manifest.key_at(path)));
    }

    fn warning<T>(&mut self, manifest: &Manifest<T>, resource: String, path: &str, message: String) {
        self.list.push(Diagnostic::warning(message).resource(resource).path(path).at(manifest.value_at(path)));
    }
}

/// What the checks that apply to every kind need to know of a resource.
struct ResourceInfo<'a> {
    kind: String,
    namespace: String,
    name: String,
    labels: BTreeMap<String, String>,
    source: Option<&'a super::Source>,
}

fn every_resource(set: &ManifestSet) -> Vec<ResourceInfo<'_>> {
    let mut all = Vec::new();
    for t in &set.tenants {
        let (kind, labels) = ("Tenant".to_string(), t.object.labels().clone());
        all.push(ResourceInfo { kind, namespace: t.namespace(), name: t.name(), labels, source: t.source.as_ref() });
    }
    for p in &set.profiles {
        let (kind, labels) = ("DistributionProfile".to_string(), p.object.labels().clone());
        all.push(ResourceInfo { kind, namespace: p.namespace(), name: p.name(), labels, source: p.source.as_ref() });
    }
    for p in &set.policies {
        let (kind, labels) = (p.object.kind().to_string(), p.object.meta().labels.clone().unwrap_or_default());
        let (namespace, name) = (p.namespace(), p.object.name());
        all.push(ResourceInfo { kind, namespace, name, labels, source: p.source.as_ref() });
    }
    for r in &set.roles {
        let (kind, labels) = ("IntuneRole".to_string(), r.object.labels().clone());
        all.push(ResourceInfo { kind, namespace: r.namespace(), name: r.name(), labels, source: r.source.as_ref() });
    }
    for e in &set.exceptions {
        let (kind, labels) = ("PolicyException".to_string(), e.object.labels().clone());
        all.push(ResourceInfo { kind, namespace: e.namespace(), name: e.name(), labels, source: e.source.as_ref() });
    }
    for c in &set.cases {
        let (kind, labels) = ("Case".to_string(), c.object.labels().clone());
        all.push(ResourceInfo { kind, namespace: c.namespace(), name: c.name(), labels, source: c.source.as_ref() });
    }
    for o in &set.overrides {
        let (kind, labels) = ("PolicyOverride".to_string(), o.object.labels().clone());
        all.push(ResourceInfo { kind, namespace: o.namespace(), name: o.name(), labels, source: o.source.as_ref() });
    }
    for r in &set.defender_roles {
        let (kind, labels) = ("DefenderRole".to_string(), r.object.labels().clone());
        all.push(ResourceInfo { kind, namespace: r.namespace(), name: r.name(), labels, source: r.source.as_ref() });
    }
    for r in &set.detection_rules {
        let (kind, labels) = ("DetectionRule".to_string(), r.object.labels().clone());
        all.push(ResourceInfo { kind, namespace: r.namespace(), name: r.name(), labels, source: r.source.as_ref() });
    }
    for n in &set.notifications {
        let (kind, labels) = ("NotificationPolicy".to_string(), n.object.labels().clone());
        all.push(ResourceInfo { kind, namespace: n.namespace(), name: n.name(), labels, source: n.source.as_ref() });
    }
    all
}

/// The label syntax and operator arity of a `spec.tenantSelector`.
fn check_selector<T>(
    manifest: &Manifest<T>,
    resource: &str,
    selector: &crate::model::profile::LabelSelector,
    out: &mut Findings,
) {
    for (key, value) in &selector.match_labels {
        if let Some(problem) = label_problem(key, value) {
            out.error(manifest, resource.to_string(), &format!("spec.tenantSelector.matchLabels.{key}"), problem);
        }
    }
    for (i, requirement) in selector.match_expressions.iter().enumerate() {
        let path = format!("spec.tenantSelector.matchExpressions[{i}]");
        if let Some(problem) = label_problem(&requirement.key, "") {
            out.error(manifest, resource.to_string(), &format!("{path}.key"), problem);
        }
        for (j, value) in requirement.values.iter().enumerate() {
            if let Some(problem) = label_problem("key", value) {
                out.error(manifest, resource.to_string(), &format!("{path}.values[{j}]"), problem);
            }
        }
        let needs_values = matches!(requirement.operator, SelectorOperator::In | SelectorOperator::NotIn);
        if needs_values && requirement.values.is_empty() {
            let message = format!("operator `{:?}` needs at least one value", requirement.operator);
            out.error(manifest, resource.to_string(), &path, message);
        }
        if !needs_values && !requirement.values.is_empty() {
            out.error(
                manifest,
                resource.to_string(),
                &path,
                format!("operator `{:?}` takes no values", requirement.operator),
            );
        }
    }
}

fn check_metadata(set: &ManifestSet, out: &mut Findings) {
    for ResourceInfo { kind, namespace, name, labels, source } in every_resource(set) {
        let at = |path: &str| source.and_then(|s| s.positions.value(path));
        let resource = format!("{kind}/{name}");
        if let Some(problem) = name_problem(&name) {
            out.list.push(
                Diagnostic::error(problem).resource(resource.clone()).path("metadata.name").at(at("metadata.name")),
            );
        }
        if let Some(problem) = name_problem(&namespace) {
            let path = "metadata.namespace";
            out.list.push(Diagnostic::error(problem).resource(resource.clone()).path(path).at(at(path)));
        }
        for (key, value) in &labels {
            if let Some(problem) = label_problem(key, value) {
                let path = format!("metadata.labels.{key}");
                let location = source.and_then(|s| s.positions.key(&path));
                out.list.push(Diagnostic::error(problem).resource(resource.clone()).path(path).at(location));
            }
        }
    }
}

fn check_unique_names(set: &ManifestSet, out: &mut Findings) {
    let mut seen: HashMap<(String, String, String), Option<Location>> = HashMap::new();
    for ResourceInfo { kind, namespace, name, source, .. } in every_resource(set) {
        let location = source.and_then(|s| s.positions.value("metadata.name"));
        match seen.get(&(kind.clone(), namespace.clone(), name.clone())) {
            Some(first) => {
                let first = first.as_ref().map(|l| format!(" (first defined at {l})")).unwrap_or_default();
                out.list.push(
                    Diagnostic::error(format!("duplicate {kind} `{name}` in namespace `{namespace}`{first}"))
                        .resource(format!("{kind}/{name}"))
                        .path("metadata.name")
                        .at(location),
                );
            }
            None => {
                seen.insert((kind, namespace, name), location);
            }
        }
    }
}

fn check_tenant(tenant: &Manifest<crate::model::Tenant>, out: &mut Findings) {
    let resource = format!("Tenant/{}", tenant.name());
    let spec = &tenant.object.spec;
    if !is_guid(&spec.tenant_id) {
        let message = format!("`{}` is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", spec.tenant_id);
        out.error(tenant, resource.clone(), "spec.tenantId", message);
    }
    if spec.display_name.trim().is_empty() {
        out.error(tenant, resource.clone(), "spec.displayName", "must not be empty".into());
    }
    if let Some(client_id) = spec.credentials.as_ref().and_then(|c| c.client_id.as_ref())
        && !is_guid(client_id)
    {
        out.error(tenant, resource, "spec.credentials.clientId", format!("`{client_id}` is not a GUID"));
    }
}

fn check_unique_tenant_ids(set: &ManifestSet, out: &mut Findings) {
    let mut seen: HashMap<String, String> = HashMap::new();
    for tenant in &set.tenants {
        let id = tenant.object.spec.tenant_id.to_ascii_lowercase();
        if !is_guid(&id) {
            continue;
        }
        match seen.get(&id) {
            Some(first) => out.error(
                tenant,
                format!("Tenant/{}", tenant.name()),
                "spec.tenantId",
                format!("tenant ID `{id}` is already used by Tenant `{first}`"),
            ),
            None => {
                seen.insert(id, tenant.name());
            }
        }
    }
}

/// A rollout's waves: named once each, with readable soak times and shares, naming tenants the
/// profile selects.
fn check_rollout(
    set: &ManifestSet,
    profile: &Manifest<crate::model::DistributionProfile>,
    resource: &str,
    rollout: &crate::model::rollout::Rollout,
    out: &mut Findings,
) {
    let namespace = profile.namespace();
    if rollout.waves.is_empty() {
        out.error(profile, resource.to_string(), "spec.rollout.waves", "a rollout needs at least one wave".into());
    }
    for (i, wave) in rollout.waves.iter().enumerate() {
        let path = format!("spec.rollout.waves[{i}]");
        if wave.name.trim().is_empty() {
            out.error(profile, resource.to_string(), &format!("{path}.name"), "a wave needs a name".into());
        } else if rollout.waves[..i].iter().any(|w| w.name == wave.name) {
            let message = format!("wave `{}` is named twice", wave.name);
            out.error(profile, resource.to_string(), &format!("{path}.name"), message);
        }
        if let Err(message) = wave.soak() {
            out.error(profile, resource.to_string(), &format!("{path}.soak"), message);
        }
        if let Some(percent) = wave.percent.filter(|p| !(1..=100).contains(p)) {
            let message = format!("{percent} is out of range 1–100");
            out.error(profile, resource.to_string(), &format!("{path}.percent"), message);
        }
        if let Some(selector) = &wave.tenant_selector {
            check_selector(profile, resource, selector, out);
        }
        for (j, name) in wave.tenants.iter().enumerate() {
            let selected = set
                .tenant(&namespace, name)
                .is_some_and(|t| profile_selects(&profile.object.spec, name, t.object.labels()));
            if !selected && !set.is_broken(Kind::Tenant, &namespace, name) {
                let message = format!("Tenant `{name}` is not one of the tenants this profile selects");
                out.error(profile, resource.to_string(), &format!("{path}.tenants[{j}]"), message);
            }
        }
    }
    if let Some(pin) = &rollout.pin {
        if let Some(wave) = pin.wave.as_ref().filter(|w| !rollout.waves.iter().any(|x| &x.name == *w)) {
            let names = rollout.waves.iter().map(|w| w.name.as_str());
            let message = format!("no wave named `{wave}`{}", did_you_mean(wave, names));
            out.error(profile, resource.to_string(), "spec.rollout.pin.wave", message);
        }
        let message = "is carried out by the operator, from the revisions it recorded; the CLI returns tenants \
                       to a revision with `tenantctl rollback --from-git`"
            .to_string();
        out.warning(profile, resource.to_string(), "spec.rollout.pin", message);
    }
    if rollout.gates.hunting_query.as_deref().is_some_and(|q| q.trim().is_empty()) {
        let message = "an empty hunting query gates nothing: remove it or write one".to_string();
        out.error(profile, resource.to_string(), "spec.rollout.gates.huntingQuery", message);
    }
}

fn check_profile(set: &ManifestSet, profile: &Manifest<crate::model::DistributionProfile>, out: &mut Findings) {
    let resource = format!("DistributionProfile/{}", profile.name());
    let namespace = profile.namespace();
    let spec = &profile.object.spec;

    if spec.policies.is_empty() && spec.roles.is_empty() && spec.detection_rules.is_empty() {
        out.warning(profile, resource.clone(), "spec.policies", "delivers no policy".into());
    }
    for (i, name) in spec.roles.iter().enumerate() {
        let path = format!("spec.roles[{i}]");
        let intune = set.role(&namespace, name).is_some() || set.is_broken(Kind::IntuneRole, &namespace, name);
        let defender =
            set.defender_role(&namespace, name).is_some() || set.is_broken(Kind::DefenderRole, &namespace, name);
        match (intune, defender) {
            (false, false) => {
                let known = set
                    .roles
                    .iter()
                    .filter(|r| r.namespace() == namespace)
                    .map(|r| r.name_str())
                    .chain(set.defender_roles.iter().filter(|r| r.namespace() == namespace).map(|r| r.name_str()));
                let message = format!(
                    "no IntuneRole or DefenderRole named `{name}` in namespace `{namespace}`{}",
                    did_you_mean(name, known)
                );
                out.error(profile, resource.clone(), &path, message);
            }
            (true, true) => {
                let message = format!("`{name}` names both an IntuneRole and a DefenderRole: rename one of them");
                out.error(profile, resource.clone(), &path, message);
            }
            _ => {}
        }
    }
    for (i, name) in spec.detection_rules.iter().enumerate() {
        if set.detection_rule(&namespace, name).is_none() && !set.is_broken(Kind::DetectionRule, &namespace, name) {
            let known = set.detection_rules.iter().filter(|r| r.namespace() == namespace).map(|r| r.name_str());
            let message =
                format!("DetectionRule/{name} not found in namespace `{namespace}`{}", did_you_mean(name, known));
            out.error(profile, resource.clone(), &format!("spec.detectionRules[{i}]"), message);
        }
    }
    for (i, reference) in spec.policies.iter().enumerate() {
        let path = format!("spec.policies[{i}]");
        if reference.name.trim().is_empty() {
            out.error(profile, resource.clone(), &format!("{path}.name"), "policy name must not be empty".into());
            continue;
        }
        if set.policy(&namespace, reference).is_none()
            && !set.is_broken(reference.kind.kind(), &namespace, &reference.name)
        {
            let same_kind = set
                .policies
                .iter()
                .filter(|p| p.namespace() == namespace && p.object.reference().kind == reference.kind)
                .map(|p| p.name_str());
            let hint = did_you_mean(&reference.name, same_kind);
            out.error(
                profile,
                resource.clone(),
                &path,
                format!("{reference} not found in namespace `{namespace}`{hint}"),
            );
        }
        if spec.policies[..i].contains(reference) {
            out.error(profile, resource.clone(), &path, format!("{reference} is listed twice"));
        }
    }
    for (field, names) in [("tenants", &spec.tenants), ("excludeTenants", &spec.exclude_tenants)] {
        for (i, name) in names.iter().enumerate() {
            let path = format!("spec.{field}[{i}]");
            if set.tenant(&namespace, name).is_none() && !set.is_broken(Kind::Tenant, &namespace, name) {
                let tenants = set.tenants.iter().filter(|t| t.namespace() == namespace).map(|t| t.name_str());
                let message =
                    format!("Tenant `{name}` not found in namespace `{namespace}`{}", did_you_mean(name, tenants));
                out.error(profile, resource.clone(), &path, message);
            }
            if names[..i].contains(name) {
                out.error(profile, resource.clone(), &path, format!("Tenant `{name}` is listed twice"));
            }
        }
    }
    if let Some(selector) = &spec.tenant_selector {
        check_selector(profile, &resource, selector, out);
    }
    let selects_any =
        set.tenants.iter().any(|t| t.namespace() == namespace && profile_selects(spec, &t.name(), t.object.labels()));
    let some_tenant_broken = set.broken.iter().any(|(kind, _, _)| *kind == Kind::Tenant);
    if !selects_any && !some_tenant_broken {
        out.warning(profile, resource.clone(), "spec", "selects no tenant".into());
    }
    if let Some(rollout) = &spec.rollout {
        check_rollout(set, profile, &resource, rollout, out);
    }
    if spec.prune.max_delete_percent > 100 {
        let message = format!("{} is out of range 0–100", spec.prune.max_delete_percent);
        out.error(profile, resource.clone(), "spec.prune.maxDeletePercent", message);
    }
    let assignments = &spec.assignments;
    if assignments.is_empty() && !spec.policies.is_empty() {
        out.warning(
            profile,
            resource.clone(),
            "spec",
            "has no assignments: its policies are created but apply to no one".into(),
        );
    }
    for (field, groups) in [("groups", &assignments.groups), ("excludeGroups", &assignments.exclude_groups)] {
        for (i, group) in groups.iter().enumerate() {
            let path = format!("spec.assignments.{field}[{i}]");
            if group.trim().is_empty() {
                out.error(profile, resource.clone(), &path, "group name must not be empty".into());
            } else if groups[..i].contains(group) {
                out.error(profile, resource.clone(), &path, format!("group `{group}` is listed twice"));
            }
        }
    }
    for (i, group) in assignments.exclude_groups.iter().enumerate() {
        if assignments.groups.contains(group) {
            let path = format!("spec.assignments.excludeGroups[{i}]");
            out.error(profile, resource.clone(), &path, format!("group `{group}` is both included and excluded"));
        }
    }
}

fn check_policy(policy: &Manifest<PolicyResource>, out: &mut Findings) {
    let resource = policy.object.reference().to_string();
    if policy.object.display_name().trim().is_empty() {
        out.error(policy, resource.clone(), "spec.displayName", "must not be empty".into());
    }
    match &policy.object {
        PolicyResource::Typed(p) => {
            for problem in super::typed_checks::problems(p) {
                if problem.warning {
                    out.warning(policy, resource.clone(), &problem.path, problem.message);
                } else if problem.about_key {
                    out.key_error(policy, resource.clone(), &problem.path, problem.message);
                } else {
                    out.error(policy, resource.clone(), &problem.path, problem.message);
                }
            }
        }
        PolicyResource::SettingsCatalog(p) => {
            if !PLATFORMS.contains(&p.spec.platforms.as_str()) {
                let message =
                    format!("unknown platform `{}`, expected one of {}", p.spec.platforms, quoted_list(PLATFORMS));
                out.error(policy, resource.clone(), "spec.platforms", message);
            }
            for flag in p.spec.technologies.split(',').map(str::trim) {
                if !TECHNOLOGIES.contains(&flag) {
                    let message = format!(
                        "unknown technology `{flag}`, expected a comma-separated list of {}",
                        quoted_list(TECHNOLOGIES)
                    );
                    out.error(policy, resource.clone(), "spec.technologies", message);
                }
            }
            if let Some(template) = &p.spec.template_id {
                let valid = template.rsplit_once('_').is_some_and(|(base, version)| {
                    is_guid(base) && !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())
                });
                if !valid {
                    out.error(
                        policy,
                        resource,
                        "spec.templateId",
                        format!("`{template}` is not a template id (`<GUID>_<version>`)"),
                    );
                }
            }
        }
    }
}

/// Graph's `deviceManagementConfigurationPlatforms`.
const PLATFORMS: &[&str] = &[
    "none",
    "android",
    "iOS",
    "macOS",
    "windows10X",
    "windows10",
    "linux",
    "androidEnterprise",
    "aosp",
    "visionOS",
    "tvOS",
];

/// Graph's `deviceManagementConfigurationTechnologies` flags.
const TECHNOLOGIES: &[&str] = &[
    "none",
    "mdm",
    "windows10XManagement",
    "configManager",
    "appleRemoteManagement",
    "microsoftSense",
    "exchangeOnline",
    "mobileApplicationManagement",
    "linuxMdm",
    "extensibility",
    "enrollment",
    "endpointPrivilegeManagement",
    "windowsOsRecovery",
    "android",
];

fn quoted_list(items: &[&str]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

/// A NotificationPolicy: somewhere to send, addresses that look like addresses, transport security
/// for anything that carries a secret, and one source per secret.
fn check_notification(policy: &Manifest<crate::model::NotificationPolicy>, out: &mut Findings) {
    let resource = format!("NotificationPolicy/{}", policy.name());
    let spec = &policy.object.spec;
    let error =
        |out: &mut Findings, path: &str, message: &str| out.error(policy, resource.clone(), path, message.to_string());
    if spec.email.is_none() && spec.webhook.is_none() {
        error(out, "spec", "give `email`, `webhook` or both: there is nowhere to send");
    }
    if spec.triggers.is_empty() {
        error(out, "spec.triggers", "name at least one trigger (drift, failedApply, highSeverityIncident)");
    }
    if let Some(selector) = &spec.tenant_selector {
        check_selector(policy, &resource, selector, out);
    }
    let check_secret = |out: &mut Findings, path: &str, value: &crate::model::notification::SecretValue| {
        if value.env.is_some() == value.secret_ref.is_some() {
            error(out, path, "give exactly one of `env` and `secretRef`");
        }
    };
    if let Some(email) = &spec.email {
        let looks_like_address = |a: &str| {
            a.split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && (host.contains('.') || host == "localhost"))
        };
        if !looks_like_address(&email.from) {
            error(out, "spec.email.from", &format!("`{}` is not an email address", email.from));
        }
        if email.to.is_empty() {
            error(out, "spec.email.to", "name at least one recipient");
        }
        for (i, to) in email.to.iter().enumerate() {
            if !looks_like_address(to) {
                error(out, &format!("spec.email.to[{i}]"), &format!("`{to}` is not an email address"));
            }
        }
        let smtp = &email.smtp;
        if smtp.host.trim().is_empty() {
            error(out, "spec.email.smtp.host", "must not be empty");
        }
        if smtp.security == crate::model::notification::SmtpSecurity::None && !is_loopback(&smtp.host) {
            error(
                out,
                "spec.email.smtp.security",
                "`none` sends in clear text: only for a relay on loopback; use startTls or tls",
            );
        }
        if smtp.password.is_some() && smtp.username.is_none() {
            error(out, "spec.email.smtp.username", "a password needs a username");
        }
        if let Some(password) = &smtp.password {
            check_secret(out, "spec.email.smtp.password", password);
        }
    }
    if let Some(webhook) = &spec.webhook {
        if let Err(problem) = crate::util::endpoint::parse_endpoint(&webhook.url, "webhook URL") {
            error(out, "spec.webhook.url", &problem.to_string());
        }
        if let Some(authorization) = &webhook.authorization {
            check_secret(out, "spec.webhook.authorization", authorization);
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A PolicyException: an owner and a reason, a date, an object that exists, tenants that exist.
fn check_exception(set: &ManifestSet, exception: &Manifest<crate::model::PolicyException>, out: &mut Findings) {
    let resource = format!("PolicyException/{}", exception.name());
    let spec = &exception.object.spec;
    for (path, value) in [("spec.owner", &spec.owner), ("spec.reason", &spec.reason)] {
        if value.trim().is_empty() {
            out.error(
                exception,
                resource.clone(),
                path,
                "must not be empty: an exception answers to someone, for a reason".into(),
            );
        }
    }
    if crate::model::exception::ends_at(&spec.expires).is_none() {
        let message = format!("`{}` is not a date (YYYY-MM-DD)", spec.expires);
        out.error(exception, resource.clone(), "spec.expires", message);
    }
    let target = check_target(set, exception, &resource, &spec.target, out);
    match (spec.allow, spec.settings.is_empty()) {
        (Allowance::SettingsDiffer, true) => {
            let message = "name the settings that may differ (dotted paths in the target's spec)";
            out.error(exception, resource.clone(), "spec.settings", message.into());
        }
        (Allowance::SettingsDiffer, false) => {}
        (_, false) => {
            let message = "only `allow: settingsDiffer` names settings";
            out.error(exception, resource.clone(), "spec.settings", message.into());
        }
        (_, true) => {}
    }
    if let (Some(object), Allowance::SettingsDiffer) = (target, spec.allow) {
        for (i, path) in spec.settings.iter().enumerate() {
            if let Err(message) = check_spec_path(object.kind, path) {
                out.error(exception, resource.clone(), &format!("spec.settings[{i}]"), message);
            }
        }
    }
    check_covered_tenants(set, exception, &resource, &spec.tenants, |t| spec.covers(&t.name(), t.object.labels()), out);
}

/// The object an exception or override is about: a managed kind, an object that exists.
fn check_target<T: kube::Resource>(
    set: &ManifestSet,
    manifest: &Manifest<T>,
    resource: &str,
    target: &TargetRef,
    out: &mut Findings,
) -> Option<ObjectRef> {
    let namespace = manifest.namespace();
    let Some(object) = ObjectRef::parse(&format!("{}/{}", target.kind, target.name)).filter(|o| o.kind.is_managed())
    else {
        let message = format!(
            "`{}` is not a kind tenantctl manages in tenants (a policy kind, IntuneRole, DefenderRole, DetectionRule){}",
            target.kind,
            did_you_mean(&target.kind, Kind::ALL.iter().filter(|k| k.is_managed()).map(|k| k.as_str()))
        );
        out.error(manifest, resource.to_string(), "spec.target.kind", message);
        return None;
    };
    let exists = match object.kind {
        Kind::IntuneRole => set.role(&namespace, &object.name).is_some(),
        Kind::DefenderRole => set.defender_role(&namespace, &object.name).is_some(),
        Kind::DetectionRule => set.detection_rule(&namespace, &object.name).is_some(),
        kind => set
            .policies
            .iter()
            .any(|p| p.namespace() == namespace && p.object.kind().kind() == kind && p.object.name() == object.name),
    };
    if !exists && !set.is_broken(object.kind, &namespace, &object.name) {
        let message = format!("{object} not found in namespace `{namespace}`");
        out.error(manifest, resource.to_string(), "spec.target.name", message);
    }
    Some(object)
}

/// Named tenants that exist, and a warning when the object covers no tenant at all.
fn check_covered_tenants<T: kube::Resource>(
    set: &ManifestSet,
    manifest: &Manifest<T>,
    resource: &str,
    named: &[String],
    covers: impl Fn(&Manifest<crate::model::Tenant>) -> bool,
    out: &mut Findings,
) {
    let namespace = manifest.namespace();
    for (i, name) in named.iter().enumerate() {
        if set.tenant(&namespace, name).is_none() {
            let message = format!("Tenant/{name} not found in namespace `{namespace}`");
            out.error(manifest, resource.to_string(), &format!("spec.tenants[{i}]"), message);
        }
    }
    if !set.tenants.iter().any(|t| t.namespace() == namespace && covers(t)) {
        out.warning(manifest, resource.to_string(), "spec", "covers no tenant".into());
    }
}

/// A Case: a title and an owner, incident references to tenants that exist, a way to find members,
/// dates it can read, closing values Graph knows.
fn check_case(set: &ManifestSet, case: &Manifest<crate::model::Case>, out: &mut Findings) {
    let resource = format!("Case/{}", case.name());
    let namespace = case.namespace();
    let spec = &case.object.spec;
    for (path, value) in [("spec.title", &spec.title), ("spec.owner", &spec.owner)] {
        if value.trim().is_empty() {
            out.error(case, resource.clone(), path, "must not be empty".into());
        }
    }
    for (i, reference) in spec.incidents.iter().enumerate() {
        let path = format!("spec.incidents[{i}]");
        match reference.split_once('/') {
            Some((tenant, id)) if !tenant.is_empty() && !id.is_empty() => {
                if set.tenant(&namespace, tenant).is_none() {
                    out.error(
                        case,
                        resource.clone(),
                        &path,
                        format!("Tenant/{tenant} not found in namespace `{namespace}`"),
                    );
                }
            }
            _ => out.error(
                case,
                resource.clone(),
                &path,
                format!("`{reference}` is not an incident reference (TENANT/ID)"),
            ),
        }
    }
    if let Some(selector) = &spec.selector {
        let empty = selector.tag.is_none() && selector.title_contains.is_none() && selector.created_after.is_none();
        if empty && selector.created_before.is_none() {
            out.error(
                case,
                resource.clone(),
                "spec.selector",
                "matches every incident: give a tag, a title or dates".into(),
            );
        }
        for (path, date) in [
            ("spec.selector.createdAfter", &selector.created_after),
            ("spec.selector.createdBefore", &selector.created_before),
        ] {
            if let Some(date) = date.as_deref().filter(|d| d.parse::<jiff::civil::Date>().is_err()) {
                out.error(case, resource.clone(), path, format!("`{date}` is not a date (YYYY-MM-DD)"));
            }
        }
        for (i, tenant) in selector.tenants.iter().enumerate() {
            if set.tenant(&namespace, tenant).is_none() {
                let message = format!("Tenant/{tenant} not found in namespace `{namespace}`");
                out.error(case, resource.clone(), &format!("spec.selector.tenants[{i}]"), message);
            }
        }
    } else if spec.incidents.is_empty() {
        out.warning(case, resource.clone(), "spec", "has no member incidents: give `incidents` or a `selector`".into());
    }
    if let Some(close) = &spec.close {
        const CLASSIFICATIONS: &[&str] = &["truePositive", "falsePositive", "informationalExpectedActivity", "unknown"];
        if let Some(value) = close.classification.as_deref().filter(|c| !CLASSIFICATIONS.contains(c)) {
            let message = format!("unknown classification `{value}`, expected one of {}", quoted_list(CLASSIFICATIONS));
            out.error(case, resource.clone(), "spec.close.classification", message);
        }
    }
    for (i, task) in spec.tasks.iter().enumerate() {
        if task.title.trim().is_empty() {
            out.error(case, resource.clone(), &format!("spec.tasks[{i}].title"), "must not be empty".into());
        }
    }
}

/// A PolicyOverride: a reason, an object that exists, edits at paths of its spec, tenants that
/// exist. Whether the patched spec is valid is judged per tenant when resolving.
fn check_override(set: &ManifestSet, manifest: &Manifest<crate::model::PolicyOverride>, out: &mut Findings) {
    let resource = format!("PolicyOverride/{}", manifest.name());
    let spec = &manifest.object.spec;
    if spec.reason.trim().is_empty() {
        out.error(manifest, resource.clone(), "spec.reason", "must not be empty: say why these tenants differ".into());
    }
    let target = check_target(set, manifest, &resource, &spec.target, out);
    let edits = spec.edits();
    if edits.is_empty() {
        out.error(manifest, resource.clone(), "spec", "changes nothing: give `set` or `append`".into());
    }
    if let Some(object) = target {
        for (path, _, field) in &edits {
            if let Err(message) = check_spec_path(object.kind, path) {
                out.key_error(manifest, resource.clone(), field, message);
            }
        }
    }
    for (n, (path, _, field)) in edits.iter().enumerate() {
        if let Some((other, _, _)) = edits[..n].iter().find(|(other, _, _)| overlaps(path, other)) {
            let message = format!("`{path}` is also edited by `{other}` of this override: edit each setting once");
            out.key_error(manifest, resource.clone(), field, message);
        }
    }
    check_covered_tenants(set, manifest, &resource, &spec.tenants, |t| spec.covers(&t.name(), t.object.labels()), out);
}

/// A DefenderRole: a name, at least one action, actions that look like Defender XDR actions, and
/// assignments that are named once each and name members.
fn check_defender_role(role: &Manifest<crate::model::DefenderRole>, out: &mut Findings) {
    let resource = format!("DefenderRole/{}", role.name());
    let spec = &role.object.spec;
    if spec.display_name.trim().is_empty() {
        out.error(role, resource.clone(), "spec.displayName", "must not be empty".into());
    }
    if spec.actions().is_empty() {
        let message = "grants nothing: name a permission (securityOperations, securityPosture, authorizationAndSettings) or an action";
        out.error(role, resource.clone(), "spec", message.into());
    }
    for (i, action) in spec.actions.iter().enumerate() {
        let parts: Vec<&str> = action.split('/').collect();
        let shaped = action.starts_with("microsoft.xdr/")
            && parts.len() >= 3
            && matches!(parts.last(), Some(&("read" | "manage")))
            && parts.iter().all(|p| !p.is_empty() && !p.contains(char::is_whitespace));
        if !shaped {
            let message = format!(
                "`{action}` is not a Defender XDR action (such as microsoft.xdr/secops/securitydata/alerts/manage)"
            );
            out.error(role, resource.clone(), &format!("spec.actions[{i}]"), message);
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, assignment) in spec.assignments.iter().enumerate() {
        let path = format!("spec.assignments[{i}]");
        if assignment.display_name.trim().is_empty() {
            out.error(role, resource.clone(), &format!("{path}.displayName"), "must not be empty".into());
        } else if !names.insert(assignment.display_name.as_str()) {
            let message = format!("another assignment of the role is named `{}`", assignment.display_name);
            out.error(role, resource.clone(), &format!("{path}.displayName"), message);
        }
        if assignment.members.is_empty() {
            out.error(role, resource.clone(), &format!("{path}.members"), "name at least one group".into());
        }
    }
}

/// An IntuneRole: a name, Intune operations that look like Intune operations, and assignments that
/// name who holds the role, each once.
fn check_role(role: &Manifest<crate::model::IntuneRole>, out: &mut Findings) {
    let resource = format!("IntuneRole/{}", role.name());
    let spec = &role.object.spec;
    if spec.display_name.trim().is_empty() {
        out.error(role, resource.clone(), "spec.displayName", "must not be empty".into());
    }
    if spec.allowed_resource_actions.is_empty() {
        out.error(role, resource.clone(), "spec.allowedResourceActions", "name at least one operation".into());
    }
    for (field, actions) in [
        ("allowedResourceActions", &spec.allowed_resource_actions),
        ("notAllowedResourceActions", &spec.not_allowed_resource_actions),
    ] {
        for (i, action) in actions.iter().enumerate() {
            if !action.starts_with("Microsoft.Intune_") || action.contains(char::is_whitespace) {
                let message = format!(
                    "`{action}` is not an Intune operation (such as Microsoft.Intune_DeviceConfigurations_Read)"
                );
                out.error(role, resource.clone(), &format!("spec.{field}[{i}]"), message);
            }
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, assignment) in spec.assignments.iter().enumerate() {
        let path = format!("spec.assignments[{i}]");
        if assignment.display_name.trim().is_empty() {
            out.error(role, resource.clone(), &format!("{path}.displayName"), "must not be empty".into());
        } else if !names.insert(assignment.display_name.as_str()) {
            let message = format!("another assignment of the role is named `{}`", assignment.display_name);
            out.error(role, resource.clone(), &format!("{path}.displayName"), message);
        }
        if assignment.members.is_empty() {
            out.error(role, resource.clone(), &format!("{path}.members"), "name at least one group".into());
        }
    }
}
