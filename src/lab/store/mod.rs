//! The lab's state: app registrations (`lab.json`) and one folder per tenant, written through on every
//! change. Tenants are loaded when first used and dropped when memory is needed for others.

mod collection;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};

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
/// A policy's settings, kept as text in memory (see [`Collection::load_deferring`]).
pub const POLICY_SETTINGS: &str = "settings";
/// Folder of a tenant's Entra groups.
pub const GROUPS_DIR: &str = "groups";
pub const ROLE_DEFINITIONS_DIR: &str = "roleDefinitions";
pub const ROLE_ASSIGNMENTS_DIR: &str = "roleAssignments";
/// Folder of a tenant's Intune managed devices (`deviceManagement/managedDevices`).
pub const MANAGED_DEVICES_DIR: &str = "managedDevices";
/// Folder of a tenant's risky users (`identityProtection/riskyUsers`).
pub const RISKY_USERS_DIR: &str = "riskyUsers";
/// Folder of a tenant's Defender incidents.
pub const INCIDENTS_DIR: &str = "incidents";
/// Folder of a tenant's singletons (`<name>.json`, e.g. `applePushNotificationCertificate.json`).
pub const SINGLETONS_DIR: &str = "singletons";
/// Folder of a tenant's Defender alerts (each names its incident in `incidentId`).
pub const ALERTS_DIR: &str = "alerts";
/// Multi Admin Approval requests (`deviceManagement/operationApprovalRequests`).
pub const APPROVAL_REQUESTS_DIR: &str = "operationApprovalRequests";
/// Defender XDR role definitions and assignments (`roleManagement/defender`).
pub const DEFENDER_ROLE_DEFINITIONS_DIR: &str = "defenderRoleDefinitions";
pub const DEFENDER_ROLE_ASSIGNMENTS_DIR: &str = "defenderRoleAssignments";
/// Defender custom detection rules (`security/rules/detectionRules`).
pub const DETECTION_RULES_DIR: &str = "detectionRules";
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
    #[serde(default)]
    granted_permissions: Option<Vec<String>>,
    #[serde(default)]
    licenses: Option<Vec<String>>,
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

/// A tenant's directory entry (`tenant.json`), always in memory: token requests need it.
#[derive(Clone, Debug)]
pub struct TenantDirectory {
    pub display_name: String,
    /// Client ids of the apps an admin consented to in this tenant.
    pub consented_apps: Vec<String>,
    /// The application permissions the tenant granted its consented apps; when absent, each app has
    /// the permissions it asks for (its `roles` in `lab.json`).
    pub granted_permissions: Option<Vec<String>>,
    /// SKU part numbers of the tenant's subscriptions (`SPE_E5`, `SPB`, …).
    pub licenses: Vec<String>,
}

/// Everything one tenant holds. Loaded from disk when first needed and dropped again when other
/// tenants need the memory: every change is on disk before it is in memory, so nothing is lost.
#[derive(Debug, Default)]
pub struct TenantData {
    pub policies: Collection,
    pub groups: Collection,
    pub incidents: Collection,
    pub alerts: Collection,
    pub managed_devices: Collection,
    pub risky_users: Collection,
    pub hunting: Option<Value>,
    /// Custom Intune role definitions (built-in ones are served from code).
    pub role_definitions: Collection,
    pub role_assignments: Collection,
    pub approval_requests: Collection,
    pub detection_rules: Collection,
    pub defender_role_definitions: Collection,
    pub defender_role_assignments: Collection,
    /// Singleton resources the tenant has, by name.
    singletons: BTreeMap<String, Value>,
    resident: bool,
}

impl TenantData {
    fn load(root: &Path, dir: &Path) -> Result<TenantData, LabError> {
        let scope = |folder: &str| {
            let relative = dir.strip_prefix(root).unwrap_or(dir).join(folder);
            relative.to_string_lossy().replace('\\', "/")
        };
        let hunting_file = dir.join(HUNTING_FILE);
        Ok(TenantData {
            policies: Collection::load_deferring(&dir.join(POLICIES_DIR), &scope(POLICIES_DIR), Some(POLICY_SETTINGS))?,
            groups: Collection::load(&dir.join(GROUPS_DIR), &scope(GROUPS_DIR))?,
            incidents: Collection::load(&dir.join(INCIDENTS_DIR), &scope(INCIDENTS_DIR))?,
            alerts: Collection::load(&dir.join(ALERTS_DIR), &scope(ALERTS_DIR))?,
            managed_devices: Collection::load(&dir.join(MANAGED_DEVICES_DIR), &scope(MANAGED_DEVICES_DIR))?,
            risky_users: Collection::load(&dir.join(RISKY_USERS_DIR), &scope(RISKY_USERS_DIR))?,
            hunting: if hunting_file.is_file() { Some(read_json(&hunting_file)?) } else { None },
            role_definitions: Collection::load(&dir.join(ROLE_DEFINITIONS_DIR), &scope(ROLE_DEFINITIONS_DIR))?,
            role_assignments: Collection::load(&dir.join(ROLE_ASSIGNMENTS_DIR), &scope(ROLE_ASSIGNMENTS_DIR))?,
            approval_requests: Collection::load(&dir.join(APPROVAL_REQUESTS_DIR), &scope(APPROVAL_REQUESTS_DIR))?,
            detection_rules: Collection::load(&dir.join(DETECTION_RULES_DIR), &scope(DETECTION_RULES_DIR))?,
            defender_role_definitions: Collection::load(
                &dir.join(DEFENDER_ROLE_DEFINITIONS_DIR),
                &scope(DEFENDER_ROLE_DEFINITIONS_DIR),
            )?,
            defender_role_assignments: Collection::load(
                &dir.join(DEFENDER_ROLE_ASSIGNMENTS_DIR),
                &scope(DEFENDER_ROLE_ASSIGNMENTS_DIR),
            )?,
            singletons: read_singletons(&dir.join(SINGLETONS_DIR))?,
            resident: true,
        })
    }

    /// The tenant's own singleton of this name (any letter case), when it has one.
    pub fn singleton(&self, name: &str) -> Option<&Value> {
        self.singletons.iter().find(|(stored, _)| stored.eq_ignore_ascii_case(name)).map(|(_, value)| value)
    }

    /// Number of assignments across the tenant's policies.
    pub fn assignment_count(&self) -> usize {
        self.policies.iter().filter_map(|p| p.get("assignments")?.as_array().map(Vec::len)).sum()
    }
}

fn read_singletons(dir: &Path) -> Result<BTreeMap<String, Value>, LabError> {
    let mut singletons = BTreeMap::new();
    for path in super::files::json_files_in(dir)? {
        let Some(name) = path.file_stem().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        singletons.insert(name, read_json(&path)?);
    }
    Ok(singletons)
}

fn read_directory(dir: &Path, id: &str) -> Result<TenantDirectory, LabError> {
    let tenant_file = dir.join(TENANT_FILE);
    let description: TenantFile = serde_json::from_value(read_json(&tenant_file)?).map_err(|e| {
        LabError::invalid(&tenant_file, format!("expected {{\"displayName\", \"consentedApps\": […]}}: {e}"))
    })?;
    let licenses = description
        .licenses
        .unwrap_or_else(|| super::licences::DEFAULT_LICENSES.iter().map(|l| l.to_string()).collect());
    if let Some(problem) = licenses.iter().find_map(|l| super::licences::unknown_licence(l)) {
        return Err(LabError::invalid(&tenant_file, problem));
    }
    Ok(TenantDirectory {
        display_name: description.display_name.unwrap_or_else(|| id.to_string()),
        consented_apps: description.consented_apps,
        granted_permissions: description.granted_permissions,
        licenses,
    })
}

/// One tenant of the store.
#[derive(Debug)]
struct TenantSlot {
    dir: PathBuf,
    /// Changed by an admin's consent.
    directory: RwLock<TenantDirectory>,
    data: Mutex<TenantData>,
    /// When the tenant was last used, on the store's clock.
    last_used: AtomicU64,
}

/// How many tenants the lab keeps in memory by default: enough for any client's concurrency, few
/// enough that ten thousand tenants fit in well under a gigabyte.
pub const DEFAULT_RESIDENT_TENANTS: usize = 256;

/// The state directory. Each tenant has its own lock, so tenants never wait for each other; at most
/// `capacity` tenants are in memory at once (the least recently used are dropped first).
#[derive(Debug)]
pub struct Store {
    pub apps: Vec<LabApp>,
    root: PathBuf,
    tenants: BTreeMap<String, TenantSlot>,
    capacity: usize,
    resident: AtomicUsize,
    clock: AtomicU64,
}

impl Store {
    /// Reads the app registrations and every tenant's directory entry, and loads the first
    /// `capacity` tenants (so a lab that fits in memory finds a broken file before it serves).
    pub fn load(root: &Path, capacity: usize) -> Result<Store, LabError> {
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
                let directory = read_directory(&dir, &id)?;
                let directory = RwLock::new(directory);
                let slot = TenantSlot { dir, directory, data: Mutex::default(), last_used: AtomicU64::new(0) };
                tenants.insert(id, slot);
            }
        }
        let capacity = capacity.max(1);
        let store = Store {
            apps,
            root: root.to_path_buf(),
            tenants,
            capacity,
            resident: AtomicUsize::new(0),
            clock: AtomicU64::new(0),
        };
        for slot in store.tenants.values().take(capacity) {
            let mut data = slot.data.lock().unwrap_or_else(PoisonError::into_inner);
            *data = TenantData::load(&store.root, &slot.dir)?;
            store.resident.fetch_add(1, Ordering::Relaxed);
        }
        Ok(store)
    }

    /// The tenant's id as stored, for an id given in any letter case.
    pub fn tenant_id(&self, given: &str) -> Option<&str> {
        if let Some((id, _)) = self.tenants.get_key_value(given) {
            return Some(id.as_str());
        }
        self.tenants.keys().find(|id| id.eq_ignore_ascii_case(given)).map(String::as_str)
    }

    pub fn tenant_ids(&self) -> impl Iterator<Item = &str> {
        self.tenants.keys().map(String::as_str)
    }

    /// A tenant's directory entry.
    pub fn directory(&self, id: &str) -> Option<TenantDirectory> {
        self.tenants.get(id).map(|slot| slot.directory.read().unwrap_or_else(PoisonError::into_inner).clone())
    }

    /// An admin of the tenant consents to the app: it is added to `consentedApps`, on disk first.
    pub fn consent(&self, id: &str, client_id: &str) -> Result<(), LabError> {
        let Some(slot) = self.tenants.get(id) else { return Ok(()) };
        let mut directory = slot.directory.write().unwrap_or_else(PoisonError::into_inner);
        if directory.consented_apps.iter().any(|a| a.eq_ignore_ascii_case(client_id)) {
            return Ok(());
        }
        let path = slot.dir.join(TENANT_FILE);
        let mut file = read_json(&path)?;
        if let Value::Object(fields) = &mut file {
            let mut apps = directory.consented_apps.clone();
            apps.push(client_id.to_string());
            fields.insert("consentedApps".into(), Value::from(apps.clone()));
            super::files::write_json_atomically(&path, &file)?;
            directory.consented_apps = apps;
        }
        Ok(())
    }

    /// Locks a tenant, loading it first when it is not in memory. A panic while a tenant was locked
    /// leaves its state as the last completed write made it (memory is only changed after the disk),
    /// so the lock is taken over rather than refused.
    pub fn tenant(&self, id: &str) -> Result<Option<MutexGuard<'_, TenantData>>, LabError> {
        let Some(slot) = self.tenants.get(id) else { return Ok(None) };
        slot.last_used.store(self.clock.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        let mut data = slot.data.lock().unwrap_or_else(PoisonError::into_inner);
        if !data.resident {
            *data = TenantData::load(&self.root, &slot.dir)?;
            if self.resident.fetch_add(1, Ordering::Relaxed) + 1 > self.capacity {
                self.evict(id);
            }
        }
        Ok(Some(data))
    }

    /// Drops the least recently used tenants (not `keep`, nor any in use) until a quarter of the
    /// capacity is free again, so that a scan of every tenant is paid once per many loads.
    fn evict(&self, keep: &str) {
        let target = self.capacity - self.capacity / 4;
        let mut candidates: Vec<(u64, &String, &TenantSlot)> = self
            .tenants
            .iter()
            .filter(|(id, _)| id.as_str() != keep)
            .map(|(id, slot)| (slot.last_used.load(Ordering::Relaxed), id, slot))
            .collect();
        candidates.sort_unstable_by_key(|(used, _, _)| *used);
        for (_, _, slot) in candidates {
            if self.resident.load(Ordering::Relaxed) <= target {
                break;
            }
            let Ok(mut data) = slot.data.try_lock() else { continue };
            if data.resident {
                *data = TenantData::default();
                self.resident.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Tenants in memory now.
    pub fn resident_tenants(&self) -> usize {
        self.resident.load(Ordering::Relaxed)
    }

    pub fn app(&self, client_id: &str) -> Option<&LabApp> {
        self.apps.iter().find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{InitOptions, init};

    #[test]
    fn at_most_capacity_tenants_stay_in_memory_and_evicted_ones_come_back_as_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        init(dir.path(), &InitOptions { tenants: 6, policies: 3, seed: 1 }).expect("init");
        let store = Store::load(dir.path(), 2).expect("load");
        assert_eq!(store.resident_tenants(), 2, "the first tenants are loaded (and checked) at start");
        let ids: Vec<String> = store.tenant_ids().map(str::to_string).collect();
        let first = ids[0].clone();
        {
            let mut tenant = store.tenant(&first).expect("loads").expect("exists");
            let mut policy = tenant.policies.iter().next().expect("a policy").clone();
            policy.insert("name".into(), Value::String("changed".into()));
            let id = policy["id"].as_str().expect("id").to_string();
            tenant.policies.put(&id, policy).expect("written");
        }
        for id in &ids {
            let tenant = store.tenant(id).expect("loads").expect("exists");
            assert_eq!(tenant.policies.len(), 3);
            drop(tenant);
            assert!(store.resident_tenants() <= 2, "{} resident", store.resident_tenants());
        }
        let tenant = store.tenant(&first).expect("loads again").expect("exists");
        assert!(tenant.policies.iter().any(|p| p["name"] == "changed"), "the write survived eviction");
        assert!(store.tenant("nobody").expect("no error").is_none());
    }
}
