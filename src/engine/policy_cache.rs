//! What observation keeps of a tenant between reads: the settings of each policy it read in full,
//! with the version they were read at. Graph's list of policies carries every policy's version
//! (`lastModifiedDateTime`, `settingCount`) and assignments; a policy whose version has not moved
//! keeps its cached settings, so a tenant in sync costs one list per observation. Settings are used
//! only for the version the tenant reports in the same observation: a cache never stands in for a
//! read of what changed. As a safety net against a change that would not move the version, an entry
//! is read again after [`REUSES_BEFORE_REREAD`] uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::assignments::GroupsByName;
use crate::wire::{ConfigurationPolicy, Setting};

/// Where tenants' caches are kept between observations (a folder, the operator's memory).
pub trait CacheStore: Sync {
    /// The tenant's cache; an empty one when there is none (or it cannot be read).
    fn load(&self, tenant_id: &str) -> PolicyCache;
    fn save(&self, tenant_id: &str, cache: PolicyCache);
}

/// Uses of cached settings before they are read again anyway.
pub const REUSES_BEFORE_REREAD: u32 = 32;

/// One tenant's cached policy settings, by policy id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyCache {
    entries: BTreeMap<String, CachedSettings>,
    /// The groups assignments name, as last looked up, and how often they were reused since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups: Option<CachedGroups>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedGroups {
    uses: u32,
    by_name: GroupsByName,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedSettings {
    last_modified: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    setting_count: Option<i64>,
    /// Observations that used these settings since they were read.
    uses: u32,
    settings: Vec<Setting>,
}

impl PolicyCache {
    /// The cached settings of a listed policy, when they were read at the version it has now (and
    /// have not been reused too often); counts the use.
    pub fn settings_for(&mut self, listed: &ConfigurationPolicy) -> Option<Vec<Setting>> {
        let id = listed.id.as_deref()?;
        let modified = listed.last_modified_date_time.as_deref()?;
        let entry = self.entries.get_mut(id)?;
        let other_count = matches!((entry.setting_count, listed.setting_count), (Some(a), Some(b)) if a != b);
        if entry.last_modified != modified || other_count {
            return None;
        }
        if entry.uses >= REUSES_BEFORE_REREAD {
            return None;
        }
        entry.uses += 1;
        Some(entry.settings.clone())
    }

    /// Records the settings of a policy just read in full.
    pub fn store(&mut self, read: &ConfigurationPolicy) {
        let (Some(id), Some(modified)) = (read.id.as_deref(), read.last_modified_date_time.as_deref()) else {
            return;
        };
        let entry = CachedSettings {
            last_modified: modified.to_string(),
            setting_count: Some(read.settings.len() as i64),
            uses: 0,
            settings: read.settings.clone(),
        };
        self.entries.insert(id.to_string(), entry);
    }

    /// Forgets the policies the tenant no longer lists, or no longer reads in full.
    pub fn keep_only<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        let keep: std::collections::BTreeSet<&str> = ids.into_iter().collect();
        self.entries.retain(|id, _| keep.contains(id.as_str()));
    }

    /// The cached lookup of exactly these group names, unless reused too often; counts the use.
    pub fn groups_for(&mut self, names: &[String]) -> Option<GroupsByName> {
        let cached = self.groups.as_mut()?;
        let same = cached.by_name.len() == names.len() && names.iter().all(|n| cached.by_name.contains_key(n));
        if !same || cached.uses >= REUSES_BEFORE_REREAD {
            return None;
        }
        cached.uses += 1;
        Some(cached.by_name.clone())
    }

    /// Records a lookup of groups just made.
    pub fn store_groups(&mut self, by_name: &GroupsByName) {
        self.groups = Some(CachedGroups { uses: 0, by_name: by_name.clone() });
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::PolicyProperties;

    fn policy(modified: &str) -> ConfigurationPolicy {
        let properties = PolicyProperties { platforms: "windows10", technologies: "mdm" };
        let mut policy = ConfigurationPolicy::desired("p", "", properties, None, Vec::new());
        policy.id = Some("id-1".into());
        policy.last_modified_date_time = Some(modified.into());
        policy
    }

    #[test]
    fn settings_are_reused_only_at_the_version_they_were_read_at() {
        let mut cache = PolicyCache::default();
        cache.store(&policy("2026-01-01T00:00:00Z"));
        assert!(cache.settings_for(&policy("2026-01-01T00:00:00Z")).is_some());
        assert!(cache.settings_for(&policy("2026-01-02T00:00:00Z")).is_none(), "modified since");
        let mut other_count = policy("2026-01-01T00:00:00Z");
        other_count.setting_count = Some(3);
        assert!(cache.settings_for(&other_count).is_none(), "another number of settings");
    }

    #[test]
    fn settings_are_read_again_after_enough_reuses() {
        let mut cache = PolicyCache::default();
        cache.store(&policy("t"));
        for _ in 0..REUSES_BEFORE_REREAD {
            assert!(cache.settings_for(&policy("t")).is_some());
        }
        assert!(cache.settings_for(&policy("t")).is_none());
        cache.keep_only(std::iter::empty());
        assert!(cache.is_empty());
    }
}
