//! The lab's state: app registrations (`lab.json`) and one folder per tenant, loaded at start and
//! written through on every change.

mod collection;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Deserialize;
use serde_json::Value;

use super::files::read_json;
use super::{LabApp, LabError};
pub use collection::Collection;

/// App registrations: `{"apps": [{"clientId", "clientSecret", "federatedAssertion"?}]}`.
pub const LAB_FILE: &str = "lab.json";
/// Folder of the tenant folders.
pub const TENANTS_DIR: &str = "tenants";
/// A tenant's own description: `{"displayName", "consentedApps"}`.
pub const TENANT_FILE: &str = "tenant.json";
/// Folder of a tenant's Settings Catalog policies.
pub const POLICIES_DIR: &str = "configurationPolicies";
/// Folder of a tenant's Entra groups.
pub const GROUPS_DIR: &str = "groups";
pub const ROLE_DEFINITIONS_DIR: &str = "roleDefinitions";
pub const ROLE_ASSIGNMENTS_DIR: &str = "roleAssignments";
/// Folder of a tenant's Defender incidents.
pub const INCIDENTS_DIR: &str = "incidents";
/// The advanced hunting response a tenant gives for any query.
pub const HUNTING_FILE: &str = "hunting.json";

#[derive(Deserialize)]
struct LabFile {
    apps: Vec<LabApp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantFile {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    consented_apps: Vec<String>,
}

/// Reads the app registrations of a state directory.
pub fn read_apps(state_dir: &Path) -> Result<Vec<LabApp>, LabError> {
    let path = state_dir.join(LAB_FILE);
    let file: LabFile = serde_json::from_value(read_json(&path)?).map_err(|e| {
        LabError::invalid(&path, format!("expected {{\"apps\": [{{\"clientId\", \"clientSecret\"}}]}}: {e}"))
    })?;
    if file.apps.is_empty() {
        return Err(LabError::NoApps(path));
    }
    Ok(file.apps)
}

/// Everything one tenant holds.
#[derive(Debug)]
pub struct TenantData {
    pub display_name: String,
    /// Client ids of the apps an admin consented to in this tenant.
    pub consented_apps: Vec<String>,
    pub policies: Collection,
    pub groups: Collection,
    pub incidents: Collection,
    pub hunting: Option<Value>,
    /// Custom Intune role definitions (built-in ones are served from code).
    pub role_definitions: Collection,
    pub role_assignments: Collection,
}

impl TenantData {
    fn load(root: &Path, dir: &Path, id: &str) -> Result<TenantData, LabError> {
        let tenant_file = dir.join(TENANT_FILE);
        let description: TenantFile = serde_json::from_value(read_json(&tenant_file)?).map_err(|e| {
            LabError::invalid(&tenant_file, format!("expected {{\"displayName\", \"consentedApps\": […]}}: {e}"))
        })?;
        let scope = |folder: &str| {
            let relative = dir.strip_prefix(root).unwrap_or(dir).join(folder);
            relative.to_string_lossy().replace('\\', "/")
        };
        let hunting_file = dir.join(HUNTING_FILE);
        Ok(TenantData {
            display_name: description.display_name.unwrap_or_else(|| id.to_string()),
            consented_apps: description.consented_apps,
            policies: Collection::load(&dir.join(POLICIES_DIR), &scope(POLICIES_DIR))?,
            groups: Collection::load(&dir.join(GROUPS_DIR), &scope(GROUPS_DIR))?,
            incidents: Collection::load(&dir.join(INCIDENTS_DIR), &scope(INCIDENTS_DIR))?,
            hunting: if hunting_file.is_file() { Some(read_json(&hunting_file)?) } else { None },
            role_definitions: Collection::load(&dir.join(ROLE_DEFINITIONS_DIR), &scope(ROLE_DEFINITIONS_DIR))?,
            role_assignments: Collection::load(&dir.join(ROLE_ASSIGNMENTS_DIR), &scope(ROLE_ASSIGNMENTS_DIR))?,
        })
    }

    /// Number of assignments across the tenant's policies.
    pub fn assignment_count(&self) -> usize {
        self.policies.iter().filter_map(|p| p.get("assignments")?.as_array().map(Vec::len)).sum()
    }
}

/// The loaded state directory. Each tenant has its own lock, so tenants never wait for each other.
#[derive(Debug)]
pub struct Store {
    pub apps: Vec<LabApp>,
    tenants: BTreeMap<String, Mutex<TenantData>>,
}

impl Store {
    pub fn load(root: &Path) -> Result<Store, LabError> {
        let apps = read_apps(root)?;
        let tenants_dir = root.join(TENANTS_DIR);
        let mut tenants = BTreeMap::new();
        let entries = match std::fs::read_dir(&tenants_dir) {
            Ok(entries) => entries.collect::<Result<Vec<_>, _>>().map_err(|e| LabError::io(&tenants_dir, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(LabError::io(&tenants_dir, e)),
        };
        for entry in entries {
            let dir = entry.path();
            let Some(id) = dir.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
            if dir.is_dir() && !super::files::is_temporary(&id) {
                let tenant = TenantData::load(root, &dir, &id)?;
                tenants.insert(id, Mutex::new(tenant));
            }
        }
        Ok(Store { apps, tenants })
    }

    /// The tenant's id as stored, for an id given in any letter case.
    pub fn tenant_id(&self, given: &str) -> Option<&str> {
        self.tenants.keys().find(|id| id.eq_ignore_ascii_case(given)).map(String::as_str)
    }

    pub fn tenant_ids(&self) -> impl Iterator<Item = &str> {
        self.tenants.keys().map(String::as_str)
    }

    /// Locks a tenant. A panic while a tenant was locked leaves its state as the last completed write
    /// made it (memory is only changed after the disk), so the lock is taken over rather than refused.
    pub fn tenant(&self, id: &str) -> Option<MutexGuard<'_, TenantData>> {
        self.tenants.get(id).map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn app(&self, client_id: &str) -> Option<&LabApp> {
        self.apps.iter().find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }
}
