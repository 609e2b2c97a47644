//! `lab init`: generates a lab state directory and the manifests that go with it, deterministically
//! from a seed, for tests and benchmarks.
//!
//! Every tenant holds every owned policy of the manifests (most exactly as tenantctl renders them,
//! some drifted by one setting), assigned to all devices as the `lab` profile says, plus unmanaged
//! policies tenantctl must leave alone — one of them with the display name of an owned one.

mod catalog;
mod directory;
mod manifests;
mod seeded;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::LabError;
use super::policy_document::{assigned, created};
use super::store::{
    ALERTS_DIR, GROUPS_DIR, HUNTING_FILE, INCIDENTS_DIR, LAB_FILE, MANAGED_DEVICES_DIR, POLICIES_DIR, RISKY_USERS_DIR,
    TENANT_FILE, TENANTS_DIR,
};
use crate::model::ObjectRef;
use crate::model::ownership::description_with_marker;
use catalog::{LabSpec, OwnedPolicy, owned_policies, unmanaged_policy};
pub use manifests::SHARD_LABEL;
use manifests::TenantManifest;
use seeded::Seeded;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitOptions {
    pub tenants: usize,
    /// Policies per tenant, owned and unmanaged together.
    pub policies: usize,
    pub seed: u64,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions { tenants: 10, policies: 8, seed: 1 }
    }
}

/// What was generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitSummary {
    pub state_dir: PathBuf,
    pub manifests_dir: PathBuf,
    pub tenants: usize,
    /// All policies across tenants.
    pub policies: usize,
    /// Owned policies across tenants (drifted ones included).
    pub owned: usize,
    pub drifted: usize,
    pub unmanaged: usize,
    pub groups: usize,
    pub incidents: usize,
}

impl fmt::Display for InitSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Generated {} tenants in {}: {} policies ({} owned, {} of them drifted; {} unmanaged), {} groups, {} incidents; manifests in {}",
            self.tenants,
            self.state_dir.display(),
            self.policies,
            self.owned,
            self.drifted,
            self.unmanaged,
            self.groups,
            self.incidents,
            self.manifests_dir.display()
        )
    }
}

/// Generates lab state in `dir` (which must be empty or absent), with manifests in `dir/manifests`.
pub fn init(dir: &Path, options: &InitOptions) -> Result<InitSummary, LabError> {
    let not_empty = std::fs::read_dir(dir).map(|mut entries| entries.next().is_some()).unwrap_or(false);
    if not_empty {
        return Err(LabError::DirectoryNotEmpty(dir.to_path_buf()));
    }
    let seeded = Seeded::new(options.seed);
    let client_id = seeded.guid("app");
    let lab = json!({"apps": [{"clientId": client_id, "clientSecret": seeded.secret("app/secret")}]});
    write_json(&dir.join(LAB_FILE), &lab)?;

    // A quarter of each tenant's policies are unmanaged, at least one as soon as there are two.
    let unmanaged_count = if options.policies >= 2 { (options.policies / 4).max(1) } else { 0 };
    let owned = owned_policies(&seeded, options.policies - unmanaged_count);
    let manifests_dir = dir.join("manifests");
    let mut summary = InitSummary {
        state_dir: dir.to_path_buf(),
        manifests_dir: manifests_dir.clone(),
        tenants: options.tenants,
        policies: 0,
        owned: 0,
        drifted: 0,
        unmanaged: 0,
        groups: 0,
        incidents: 0,
    };
    let mut tenant_manifests = Vec::with_capacity(options.tenants);
    for index in 0..options.tenants {
        let tenant = generate_tenant(dir, &seeded, index, &client_id, &owned, unmanaged_count, &mut summary)?;
        tenant_manifests.push(tenant);
    }

    write_text(&manifests_dir.join("tenants.yaml"), &manifests::tenants_yaml(&tenant_manifests)?)?;
    if !owned.is_empty() {
        write_text(&manifests_dir.join("profiles.yaml"), &manifests::profile_yaml(&owned)?)?;
    }
    for policy in &owned {
        write_text(
            &manifests_dir.join("policies").join(format!("{}.yaml", policy.name)),
            &manifests::policy_yaml(policy)?,
        )?;
    }
    Ok(summary)
}

fn generate_tenant(
    dir: &Path,
    seeded: &Seeded,
    index: usize,
    client_id: &str,
    owned: &[OwnedPolicy],
    unmanaged_count: usize,
    summary: &mut InitSummary,
) -> Result<TenantManifest, LabError> {
    let label = format!("tenant/{index}");
    let tenant_id = seeded.guid(&label);
    let number = index + 1;
    let display_name = format!("Lab Tenant {number:04}");
    let tenant_dir = dir.join(TENANTS_DIR).join(&tenant_id);
    write_json(&tenant_dir.join(TENANT_FILE), &json!({"displayName": display_name, "consentedApps": [client_id]}))?;

    let groups: Vec<Value> = directory::LAB_GROUPS.iter().map(|name| directory::group(seeded, &label, name)).collect();
    for group in &groups {
        write_json(&tenant_dir.join(GROUPS_DIR).join(format!("{}.json", id_of(group))), group)?;
    }
    let incident_count = 3 + seeded.number(&format!("{label}/incidents"), 3) as usize;
    for incident_index in 0..incident_count {
        let incident_number = 1000 + (index as u64) * 10 + incident_index as u64;
        let incident = directory::incident(seeded, &label, &tenant_id, incident_number, incident_index);
        write_json(&tenant_dir.join(INCIDENTS_DIR).join(format!("{}.json", id_of(&incident))), &incident)?;
        let alert = directory::alert(&incident);
        write_json(&tenant_dir.join(ALERTS_DIR).join(format!("{}.json", id_of(&alert))), &alert)?;
    }
    let short = format!("lab{number:04}");
    write_json(&tenant_dir.join(HUNTING_FILE), &directory::hunting(seeded, &label, &short))?;
    for device_index in 0..4 + seeded.number(&format!("{label}/devices"), 4) as usize {
        let device = directory::managed_device(seeded, &label, &short, device_index);
        write_json(&tenant_dir.join(MANAGED_DEVICES_DIR).join(format!("{}.json", id_of(&device))), &device)?;
    }
    for user_index in 0..1 + seeded.number(&format!("{label}/risky"), 3) as usize {
        let user = directory::risky_user(seeded, &label, &short, user_index);
        write_json(&tenant_dir.join(RISKY_USERS_DIR).join(format!("{}.json", id_of(&user))), &user)?;
    }

    let all_devices = json!({"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"});
    for (policy_index, policy) in owned.iter().enumerate() {
        // One policy in five drifts, and the first tenant always has one drifted policy to show.
        let drifts =
            seeded.number(&format!("{label}/drift/{policy_index}"), 5) == 0 || (index == 0 && policy_index == 0);
        let spec = if drifts { policy.spec.drifted() } else { policy.spec.clone() };
        let description = description_with_marker(policy.spec.description(), &ObjectRef::from(&policy.reference()));
        let policy_label = format!("{label}/owned/{policy_index}");
        write_policy(&tenant_dir, seeded, &policy_label, &spec, &description, &all_devices)?;
        summary.drifted += usize::from(drifts);
        summary.owned += 1;
    }
    let pilot_group = json!({"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": id_of(&groups[1])});
    for unmanaged_index in 0..unmanaged_count {
        let spec = unmanaged_policy(seeded, index, unmanaged_index, owned);
        let policy_label = format!("{label}/unmanaged/{unmanaged_index}");
        write_policy(&tenant_dir, seeded, &policy_label, &spec, spec.description(), &pilot_group)?;
        summary.unmanaged += 1;
    }
    summary.policies += owned.len() + unmanaged_count;
    summary.groups += groups.len();
    summary.incidents += incident_count;
    Ok(TenantManifest { name: format!("lab-tenant-{number:04}"), tenant_id, display_name, shard: index % 10 })
}

/// A policy as the lab stores it: what Graph would hold after tenantctl created and assigned it.
fn write_policy(
    tenant_dir: &Path,
    seeded: &Seeded,
    label: &str,
    spec: &LabSpec,
    description: &str,
    target: &Value,
) -> Result<(), LabError> {
    let id = seeded.guid(label);
    let path = tenant_dir.join(POLICIES_DIR).join(format!("{id}.json"));
    let payload = serde_json::to_value(spec.to_wire(description)).unwrap_or_default();
    let stored = created(&payload, &id, &seeded.timestamp(label))
        .and_then(|policy| assigned(&policy, &id, &json!({"assignments": [{"target": target}]})))
        .map_err(|reason| LabError::invalid(&path, reason))?
        .0;
    write_json(&path, &Value::Object(stored))
}

fn id_of(object: &Value) -> &str {
    object.get("id").and_then(Value::as_str).unwrap_or_default()
}

fn write_json(path: &Path, value: &Value) -> Result<(), LabError> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|source| LabError::InvalidJson { path: path.into(), source })?;
    text.push('\n');
    write_text(path, &text)
}

/// Generated files are written plainly: `init` makes a new directory, nothing to protect yet.
fn write_text(path: &Path, text: &str) -> Result<(), LabError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| LabError::io(parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| LabError::io(path, e))
}
