//! `tenantctl export --tenant N --out DIR`: a tenant's live policies as manifests, to bootstrap a
//! repository from an existing tenant. Policies tenantctl owns keep their names; the others get a name
//! from their display name and are taken over with `plan --adopt`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use kube::ResourceExt;
use serde_json::{Value, json};

use super::EXIT_OK;
use super::connect::{GraphArgs, connect, tenant_credentials};
use super::pipeline::{prepare, runtime};
use crate::engine::assignments::GroupsByName;
use crate::graph::client::GraphError;
use crate::manifest::ManifestSet;
use crate::mapping;
use crate::model::ownership::split_marker;
use crate::model::{API_VERSION, ObjectRef, PolicyKind, is_guid};
use crate::wire::common::Group;
use crate::wire::{AssignmentTarget, ConfigurationPolicy};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The tenant: a `metadata.name` from the manifests, or a tenant ID.
    #[arg(long, value_name = "NAME")]
    pub tenant: String,
    /// Manifests that define the tenant (and its credentials). Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub paths: Vec<String>,
    /// Directory to write the manifests to (created; existing files are replaced).
    #[arg(long, value_name = "DIR", default_value = "export")]
    pub out: PathBuf,
    #[command(flatten)]
    pub graph: GraphArgs,
}

pub fn run(args: &ExportArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let (set, seed) = if args.paths.is_empty() {
        (ManifestSet::default(), None)
    } else {
        let Some(prepared) = prepare(&args.paths, err)? else { return Ok(super::EXIT_ERROR) };
        (prepared.set, prepared.lab_seed)
    };
    let (name, tenant_id, display_name) = match set.tenants.iter().find(|t| t.name() == args.tenant) {
        Some(t) => (t.name(), t.object.spec.tenant_id.clone(), t.object.spec.display_name.clone()),
        None if is_guid(&args.tenant) => {
            let short = args.tenant.split('-').next().unwrap_or_default().to_ascii_lowercase();
            (format!("tenant-{short}"), args.tenant.clone(), args.tenant.clone())
        }
        None => bail!("--tenant {}: not a tenant of the manifests, nor a tenant ID", args.tenant),
    };
    let (policies, groups, rules, defender) = runtime()?.block_on(async {
        let connection = connect(&args.graph, &tenant_credentials(&set), seed.as_deref()).await?;
        let graph = connection.client.tenant(&tenant_id);
        let policies = graph.list_policies_in_full().await?;
        let ids: Vec<String> = policies
            .iter()
            .flat_map(|p| p.assignments.iter().flatten())
            .filter_map(|a| match &a.target {
                AssignmentTarget::Group { group_id, .. } | AssignmentTarget::ExclusionGroup { group_id, .. } => {
                    Some(group_id.clone())
                }
                _ => None,
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let groups = if ids.is_empty() { BTreeMap::new() } else { graph.groups_by_id(&ids).await? };
        // Detection rules need a permission of their own: without it the policies are still exported.
        let rules = graph.list_detection_rules().await;
        let defender = defender_roles(&graph).await;
        connection.close().await;
        anyhow::Ok((policies, groups, rules, defender))
    })?;
    let rules = match rules {
        Ok(rules) => rules,
        Err(error) => {
            writeln!(err, "note: detection rules not exported: {error}")?;
            Vec::new()
        }
    };
    let overridden = overrides_of(&set, &name);
    let mut files = manifests(&name, &tenant_id, &display_name, &policies, &groups, &overridden)?;
    files.extend(rule_manifests(&name, &rules, err)?);
    match defender {
        Ok(defender) => files.extend(defender_manifests(&name, &defender)?),
        Err(error) => writeln!(err, "note: Defender roles not exported: {error}")?,
    }
    for (relative, text) in &files {
        let path = args.out.join(relative);
        write(&path, text)?;
    }
    let exported_rules = files.iter().filter(|(path, _)| path.starts_with("detections/")).count();
    writeln!(
        out,
        "Exported {} policies{} of {name} to {} ({} files).",
        policies.len(),
        if exported_rules > 0 { format!(" and {exported_rules} detection rules") } else { String::new() },
        args.out.display(),
        files.len()
    )?;
    Ok(EXIT_OK)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// For each object the manifests' overrides patch in the tenant, what they do: a comment heading the
/// exported object, whose live settings include the overrides' edits.
fn overrides_of(set: &ManifestSet, tenant: &str) -> BTreeMap<ObjectRef, Vec<String>> {
    let labels = set.tenants.iter().find(|t| t.name() == tenant).map(|t| t.object.labels().clone()).unwrap_or_default();
    let mut by_object: BTreeMap<ObjectRef, Vec<String>> = BTreeMap::new();
    for o in set.overrides.iter().filter(|o| o.object.spec.covers(tenant, &labels)) {
        let Some(object) = o.object.spec.object() else { continue };
        let shaped = crate::engine::overrides::overridden(o);
        by_object.entry(object).or_default().push(format!("{} ({})", shaped.r#override, shaped.edits.join(", ")));
    }
    by_object
}

/// The manifests for one tenant: `(relative path, YAML)`. An object that overrides patch is headed
/// by a comment naming them: its live settings are the shared object's with the overrides applied.
pub fn manifests(
    tenant: &str,
    tenant_id: &str,
    display_name: &str,
    policies: &[ConfigurationPolicy],
    groups: &BTreeMap<String, Group>,
    overridden: &BTreeMap<ObjectRef, Vec<String>>,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut files = vec![(
        "tenant.yaml".to_string(),
        document("Tenant", tenant, json!({"tenantId": tenant_id, "displayName": display_name}))?,
    )];
    let by_name: GroupsByName = groups.values().map(|g| (g.display_name.clone(), vec![g.clone()])).collect();
    let mut used_names = std::collections::BTreeSet::new();
    // Policies that share assignments share a profile.
    let mut profiles: BTreeMap<String, (Value, Vec<Value>)> = BTreeMap::new();
    for policy in policies {
        let (description, owner) = split_marker(&policy.description);
        let (kind, spec) = typed(policy, &description, owner.as_ref().and_then(|o| PolicyKind::from_kind(o.kind)));
        let heading = owner
            .as_ref()
            .and_then(|o| overridden.get(o))
            .map(|overrides| format!("# In this tenant the settings below include {}.\n", overrides.join(" and ")));
        let base = owner.map(|o| o.name).unwrap_or_else(|| slug(&policy.name));
        let mut name = base.clone();
        let mut n = 2;
        while !used_names.insert((kind, name.clone())) {
            name = format!("{base}-{n}");
            n += 1;
        }
        let text = format!("{}{}", heading.unwrap_or_default(), document(kind.as_str(), &name, spec)?);
        files.push((format!("policies/{}-{name}.yaml", kind_slug(kind)), text));
        let targets: Vec<AssignmentTarget> = policy.assignments.iter().flatten().map(|a| a.target.clone()).collect();
        let assignments = crate::engine::assignments::display(&targets, &by_name);
        let key = assignments.to_string();
        profiles
            .entry(key)
            .or_insert_with(|| (assignments, Vec::new()))
            .1
            .push(json!({"kind": kind.as_str(), "name": name}));
    }
    let mut text = String::new();
    for (index, (assignments, references)) in profiles.into_values().enumerate() {
        let name = if index == 0 { tenant.to_string() } else { format!("{tenant}-{}", index + 1) };
        let spec = json!({"tenants": [tenant], "policies": references, "assignments": assignments});
        text.push_str(&format!("---\n{}", document("DistributionProfile", &name, spec)?));
    }
    if !text.is_empty() {
        files.push(("profiles.yaml".to_string(), text));
    }
    Ok(files)
}

/// A tenant's own Defender roles with their assignments, and the names of the groups they name.
type DefenderRoles = (Vec<crate::engine::managed::LiveDefenderRole>, BTreeMap<String, String>);

async fn defender_roles(graph: &crate::graph::client::TenantClient) -> Result<DefenderRoles, GraphError> {
    let definitions = graph.list_defender_role_definitions().await?;
    let assignments = graph.list_defender_role_assignments().await?;
    let mut ids: Vec<String> = assignments.iter().flat_map(|a| a.principal_ids.iter().cloned()).collect();
    ids.sort();
    ids.dedup();
    let groups = if ids.is_empty() { BTreeMap::new() } else { graph.groups_by_id(&ids).await? };
    let names = groups.into_iter().map(|(id, group)| (id, group.display_name)).collect();
    let roles = crate::engine::managed::LiveDefenderRole::join(definitions, assignments);
    Ok((roles.into_iter().filter(|r| !r.definition.is_built_in).collect(), names))
}

/// A tenant's Defender roles as manifests (`roles/<name>.yaml`) and a profile delivering them.
fn defender_manifests(tenant: &str, (roles, names): &DefenderRoles) -> anyhow::Result<Vec<(String, String)>> {
    use crate::model::defender_role::{DataSource, DefenderRoleAssignment, DefenderRoleSpec};
    let sources = [
        DataSource::Endpoint,
        DataSource::Office365,
        DataSource::Identity,
        DataSource::CloudApps,
        DataSource::Cloud,
        DataSource::SecureScore,
    ];
    let mut files = Vec::new();
    let mut exported = Vec::new();
    for role in roles {
        let (description, owner) = split_marker(&role.definition.description);
        let mut spec = DefenderRoleSpec::from_actions(
            &role.definition.display_name,
            description.trim(),
            &role.definition.actions(),
        );
        spec.assignments = role
            .assignments
            .iter()
            .map(|a| DefenderRoleAssignment {
                display_name: a.display_name.clone(),
                members: a
                    .principal_ids
                    .iter()
                    .map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()))
                    .collect(),
                data_sources: sources
                    .iter()
                    .copied()
                    .filter(|s| a.app_scope_ids.iter().any(|id| id == s.app_scope()))
                    .collect(),
            })
            .collect();
        let base = owner.map(|o| o.name).unwrap_or_else(|| slug(&role.definition.display_name));
        let mut name = base.clone();
        let mut n = 2;
        while exported.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        files.push((format!("roles/{name}.yaml"), document("DefenderRole", &name, serde_json::to_value(&spec)?)?));
        exported.push(name);
    }
    if !exported.is_empty() {
        let spec = json!({"tenants": [tenant], "roles": exported});
        files.push(("role-profile.yaml".into(), document("DistributionProfile", &format!("{tenant}-roles"), spec)?));
    }
    Ok(files)
}

/// A tenant's detection rules as manifests (`detections/<name>.yaml`) and a profile delivering them.
/// A rule the kind cannot express is named on standard error and left out.
fn rule_manifests(
    tenant: &str,
    rules: &[crate::wire::detection::DetectionRule],
    err: &mut dyn Write,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    let mut names = Vec::new();
    for rule in rules {
        let spec = match mapping::detection_rule::to_spec(rule) {
            Ok(spec) => spec,
            Err(problem) => {
                writeln!(err, "note: detection rule \"{}\" not exported: {problem}", rule.display_name)?;
                continue;
            }
        };
        let owner = split_marker(rule.description.as_deref().unwrap_or_default()).1;
        let base = owner.map(|o| o.name).unwrap_or_else(|| slug(&rule.display_name));
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        files
            .push((format!("detections/{name}.yaml"), document("DetectionRule", &name, serde_json::to_value(&spec)?)?));
        names.push(name);
    }
    if !names.is_empty() {
        let spec = json!({"tenants": [tenant], "detectionRules": names});
        files.push((
            "detection-profile.yaml".into(),
            document("DistributionProfile", &format!("{tenant}-detections"), spec)?,
        ));
    }
    Ok(files)
}

/// The typed kind of a live policy when it maps onto one (the marker's kind first), else the raw kind.
fn typed(policy: &ConfigurationPolicy, description: &str, hint: Option<PolicyKind>) -> (PolicyKind, Value) {
    let typed = hint
        .or_else(|| mapping::kind_of_template(policy))
        .and_then(|kind| mapping::typed_spec(kind, policy, description).map(|spec| (kind, spec)));
    typed.unwrap_or_else(|| {
        let spec = mapping::typed_spec(PolicyKind::SettingsCatalogPolicy, policy, description)
            .unwrap_or_else(|| json!({"displayName": policy.name, "settings": []}));
        (PolicyKind::SettingsCatalogPolicy, spec)
    })
}

fn document(kind: &str, name: &str, spec: Value) -> anyhow::Result<String> {
    let value = json!({"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec});
    Ok(crate::util::yaml11::quote_ambiguous(&serde_yaml::to_string(&value)?))
}

/// A Kubernetes name from a display name: `Contoso AV - Standard` → `contoso-av-standard`.
pub fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').chars().take(63).collect::<String>();
    if slug.is_empty() { "policy".to_string() } else { slug }
}

fn kind_slug(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::AntivirusPolicy => "antivirus",
        PolicyKind::FirewallPolicy => "firewall",
        PolicyKind::AttackSurfaceReductionPolicy => "asr",
        PolicyKind::FirewallRulesPolicy => "firewall-rules",
        PolicyKind::SecurityExperiencePolicy => "security-experience",
        PolicyKind::DefenderUpdateControlsPolicy => "update-controls",
        PolicyKind::AntivirusExclusionsPolicy => "antivirus-exclusions",
        PolicyKind::EndpointDetectionPolicy => "edr",
        PolicyKind::SettingsCatalogPolicy => "settings-catalog",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_valid_names() {
        assert_eq!(slug("Contoso AV - Standard"), "contoso-av-standard");
        assert_eq!(slug("  ***  "), "policy");
        assert_eq!(slug("Ünïcode Pölicy"), "n-code-p-licy");
    }
}
