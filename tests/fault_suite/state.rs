//! The lab's state directory read as plain files: the figures come from what the lab holds, never
//! from what tenantctl says it did.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

const MARKER_OPEN: &str = "[managed-by tenantctl: ";

/// A stored policy.
struct Stored {
    file: PathBuf,
    /// One of several policies of a collection file.
    in_collection: bool,
    document: Value,
}

impl Stored {
    fn id(&self) -> String {
        self.document["id"].as_str().unwrap_or_default().to_string()
    }

    /// The ownership marker at the end of the description, read without tenantctl's own parser.
    fn marker(&self) -> Option<String> {
        let description = self.document["description"].as_str()?.trim_end();
        let start = description.rfind(MARKER_OPEN)?;
        description.ends_with(']').then(|| description[start..].to_string())
    }
}

fn tenant_ids(state: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(state.join("tenants"))
        .expect("tenants directory")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

/// Every policy of a tenant, whether stored one per file or as a collection.
fn stored(state: &Path, tenant: &str) -> Vec<Stored> {
    let dir = state.join("tenants").join(tenant).join("configurationPolicies");
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut policies = Vec::new();
    for entry in entries {
        let file = entry.expect("entry").path();
        if file.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
        match value.get("value").and_then(Value::as_array) {
            Some(items) => policies.extend(items.iter().map(|item| Stored {
                file: file.clone(),
                in_collection: true,
                document: item.clone(),
            })),
            None => policies.push(Stored { file, in_collection: false, document: value }),
        }
    }
    policies
}

/// What the lab held before any apply: the policies each tenant must end up with (`lab init` gives
/// every tenant every owned policy), and every policy tenantctl does not own.
pub struct Baseline {
    desired: BTreeMap<String, BTreeSet<String>>,
    unmanaged: BTreeMap<(String, String), Value>,
}

impl Baseline {
    pub fn take(state: &Path) -> Baseline {
        let mut baseline = Baseline { desired: BTreeMap::new(), unmanaged: BTreeMap::new() };
        for tenant in tenant_ids(state) {
            for policy in stored(state, &tenant) {
                match policy.marker() {
                    Some(marker) => {
                        baseline.desired.entry(tenant.clone()).or_default().insert(marker);
                    }
                    None => {
                        baseline.unmanaged.insert((tenant.clone(), policy.id()), policy.document);
                    }
                }
            }
        }
        baseline
    }

    pub fn unmanaged_count(&self) -> usize {
        self.unmanaged.len()
    }

    /// Desired policies no live policy stands for.
    pub fn missing(&self, state: &Path) -> usize {
        self.desired
            .iter()
            .map(|(tenant, wanted)| {
                let present: BTreeSet<String> = stored(state, tenant).iter().filter_map(Stored::marker).collect();
                wanted.difference(&present).count()
            })
            .sum()
    }

    /// Unmanaged policies changed in any way, or gone.
    pub fn unmanaged_touched(&self, state: &Path) -> usize {
        let mut now: BTreeMap<(String, String), Value> = BTreeMap::new();
        for tenant in tenant_ids(state) {
            for policy in stored(state, &tenant) {
                now.insert((tenant.clone(), policy.id()), policy.document);
            }
        }
        self.unmanaged.iter().filter(|(key, before)| now.get(*key) != Some(*before)).count()
    }
}

/// Extra live copies of owned policies: every policy beyond the first carrying a marker in a tenant.
pub fn duplicates(state: &Path) -> usize {
    tenant_ids(state)
        .iter()
        .map(|tenant| {
            let mut copies: BTreeMap<String, usize> = BTreeMap::new();
            for marker in stored(state, tenant).iter().filter_map(Stored::marker) {
                *copies.entry(marker).or_default() += 1;
            }
            copies.values().map(|n| n - 1).sum::<usize>()
        })
        .sum()
}

/// Removes about `share` of the owned policies (those stored one per file), chosen by `seed`, so
/// that the apply has creates to do besides the updates of drifted policies. Returns how many.
pub fn remove_owned(state: &Path, seed: u64, share: f64) -> usize {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut removed = 0;
    for tenant in tenant_ids(state) {
        for policy in stored(state, &tenant) {
            if policy.marker().is_some() && !policy.in_collection && rng.random_bool(share) {
                std::fs::remove_file(&policy.file).expect("remove a policy file");
                removed += 1;
            }
        }
    }
    removed
}
