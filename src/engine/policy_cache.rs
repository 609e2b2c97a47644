//! What observation keeps of a tenant between reads: for each policy it read in full, the version it
//! read (`lastModifiedDateTime`, `settingCount`) and a digest of its settings as the plan compares
//! them; and the groups it looked up. Graph's list of policies carries every policy's version and
//! assignments, so a policy whose version has not moved and whose settings were seen equal to the
//! desired ones is known in sync without reading its settings again: a tenant in sync costs one list.
//! A few hundred bytes per tenant, whatever its policies hold.
//!
//! What is known from the cache is never the ground of a write: when a plan writes, what came from
//! the cache is read again first ([`super::observe::observe_and_plan_tenant`]). As a safety net
//! against a change that would not move the version, an entry is read again after
//! [`REUSES_BEFORE_REREAD`] uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::assignments::GroupsByName;
use super::normalize::settings_digest;
use crate::wire::ConfigurationPolicy;

/// Where tenants' caches are kept between observations (a folder, the operator's memory).
pub trait CacheStore: Sync {
    /// The tenant's cache; an empty one when there is none (or it cannot be read).
    fn load(&self, tenant_id: &str) -> PolicyCache;
    fn save(&self, tenant_id: &str, cache: PolicyCache);
}

/// Uses of a cached entry before it is read again anyway.
pub const REUSES_BEFORE_REREAD: u32 = 32;

/// One tenant's cache.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyCache {
    /// By policy id.
    entries: BTreeMap<String, CachedPolicy>,
    /// The groups assignments name, as last looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups: Option<CachedGroups>,
    /// A cache that keeps nothing (an observation no one keeps): nothing is digested for it.
    #[serde(skip)]
    disabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedPolicy {
    last_modified: String,
    setting_count: i64,
    /// Observations that relied on the entry since it was read.
    uses: u32,
    /// [`settings_digest`] of the settings read.
    settings_digest: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedGroups {
    uses: u32,
    by_name: GroupsByName,
}

impl PolicyCache {
    /// A cache that keeps nothing, for an observation that is not kept.
    pub fn none() -> PolicyCache {
        PolicyCache { disabled: true, ..PolicyCache::default() }
    }

    /// The digest of a listed policy's settings, when they were read at the version it has now (and
    /// the entry has not been relied on too often); counts the use.
    pub fn settings_digest_for(&mut self, listed: &ConfigurationPolicy) -> Option<&str> {
        let id = listed.id.as_deref()?;
        let modified = listed.last_modified_date_time.as_deref()?;
        let entry = self.entries.get_mut(id)?;
        let same_count = listed.setting_count.is_none_or(|count| count == entry.setting_count);
        if entry.last_modified != modified || !same_count || entry.uses >= REUSES_BEFORE_REREAD {
            return None;
        }
        entry.uses += 1;
        Some(&entry.settings_digest)
    }

    /// Records a policy just read in full.
    pub fn store(&mut self, read: &ConfigurationPolicy) {
        if self.disabled {
            return;
        }
        let (Some(id), Some(modified)) = (read.id.as_deref(), read.last_modified_date_time.as_deref()) else {
            return;
        };
        let entry = CachedPolicy {
            last_modified: modified.to_string(),
            setting_count: read.settings.len() as i64,
            uses: 0,
            settings_digest: settings_digest(read),
        };
        self.entries.insert(id.to_string(), entry);
    }

    /// Forgets the policies the tenant no longer lists, or no longer compares.
    pub fn keep_only<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        let keep: std::collections::BTreeSet<&str> = ids.into_iter().collect();
        self.entries.retain(|id, _| keep.contains(id.as_str()));
    }

    /// The cached lookup of exactly these group names, unless relied on too often; counts the use.
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
        if self.disabled {
            return;
        }
        self.groups = Some(CachedGroups { uses: 0, by_name: by_name.clone() });
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
    fn a_digest_serves_only_the_version_it_was_read_at() {
        let mut cache = PolicyCache::default();
        cache.store(&policy("2026-01-01T00:00:00Z"));
        let expected = settings_digest(&policy("x"));
        assert_eq!(cache.settings_digest_for(&policy("2026-01-01T00:00:00Z")), Some(expected.as_str()));
        assert!(cache.settings_digest_for(&policy("2026-01-02T00:00:00Z")).is_none(), "modified since");
        let mut other_count = policy("2026-01-01T00:00:00Z");
        other_count.setting_count = Some(3);
        assert!(cache.settings_digest_for(&other_count).is_none(), "another number of settings");
    }

    #[test]
    fn entries_are_read_again_after_enough_uses() {
        let mut cache = PolicyCache::default();
        cache.store(&policy("t"));
        for _ in 0..REUSES_BEFORE_REREAD {
            assert!(cache.settings_digest_for(&policy("t")).is_some());
        }
        assert!(cache.settings_digest_for(&policy("t")).is_none());
        cache.keep_only(std::iter::empty());
        assert!(cache.is_empty());
    }
}
