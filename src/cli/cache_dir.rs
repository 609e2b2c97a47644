//! `--cache DIR`: what was read of each tenant's policies kept between runs, one file per tenant
//! (`DIR/<tenantId>.json`), so that a plan re-reads only the policies whose version moved. A file
//! that cannot be read is no cache (everything is read); one that cannot be written is a warning.
//! Secret setting values are never in it: Graph answers them with an encrypted token.

use std::path::{Path, PathBuf};

use crate::engine::policy_cache::{CacheStore, PolicyCache};

/// A cache folder.
pub struct CacheDir {
    dir: PathBuf,
}

impl CacheDir {
    /// The folder, created when missing.
    pub fn open(dir: &Path) -> anyhow::Result<CacheDir> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create the cache folder {}: {e}", dir.display()))?;
        Ok(CacheDir { dir: dir.to_path_buf() })
    }

    fn file(&self, tenant_id: &str) -> Option<PathBuf> {
        // Tenant ids are GUIDs; anything else never names a file.
        let safe = !tenant_id.is_empty() && tenant_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        safe.then(|| self.dir.join(format!("{tenant_id}.json")))
    }
}

impl CacheStore for CacheDir {
    fn load(&self, tenant_id: &str) -> PolicyCache {
        let Some(file) = self.file(tenant_id) else { return PolicyCache::default() };
        let Ok(text) = std::fs::read(&file) else { return PolicyCache::default() };
        serde_json::from_slice(&text).unwrap_or_else(|error| {
            tracing::warn!(file = %file.display(), %error, "cache file unreadable: the tenant is read in full");
            PolicyCache::default()
        })
    }

    fn save(&self, tenant_id: &str, cache: PolicyCache) {
        let Some(file) = self.file(tenant_id) else { return };
        let written = serde_json::to_vec(&cache).map_err(std::io::Error::other).and_then(|bytes| {
            let temporary = file.with_extension("json.tmp");
            std::fs::write(&temporary, bytes)?;
            std::fs::rename(&temporary, &file)
        });
        if let Err(error) = written {
            tracing::warn!(file = %file.display(), %error, "cannot write the cache");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_broken_file_is_no_cache_and_names_are_tenant_ids_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = CacheDir::open(dir.path()).expect("open");
        assert!(store.load("11111111-1111-1111-1111-111111111111").is_empty());
        std::fs::write(dir.path().join("22222222-2222-2222-2222-222222222222.json"), "{not json").expect("write");
        assert!(store.load("22222222-2222-2222-2222-222222222222").is_empty());
        assert!(store.file("../etc/passwd").is_none());
        store.save("33333333-3333-3333-3333-333333333333", PolicyCache::default());
        assert!(dir.path().join("33333333-3333-3333-3333-333333333333.json").is_file());
    }
}
