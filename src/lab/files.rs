//! Durable file writes for the state directory: a write either happened completely or not at all,
//! and has reached the disk before the lab answers the request that caused it.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::LabError;

/// Distinguishes temporary files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `value` as pretty-printed JSON to `path`: a temporary file in the same directory is written
/// and synced, then renamed over `path`, and the directory is synced so the rename survives a crash.
pub fn write_json_atomically(path: &Path, value: &Value) -> Result<(), LabError> {
    let mut text =
        serde_json::to_vec_pretty(value).map_err(|e| LabError::InvalidJson { path: path.into(), source: e })?;
    text.push(b'\n');
    write_atomically(path, &text)
}

/// Writes `bytes` to `path` atomically and durably (see [`write_json_atomically`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), LabError> {
    let dir = parent(path);
    fs::create_dir_all(&dir).map_err(|e| LabError::io(&dir, e))?;
    let temp = temp_path(path);
    let written = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(error) = written {
        // The temporary file is garbage whatever happened; the target is untouched.
        let _ = fs::remove_file(&temp);
        return Err(LabError::io(path, error));
    }
    sync_dir(&dir)
}

/// Removes `path` durably. A file that is already gone is not an error.
pub fn remove_durably(path: &Path) -> Result<(), LabError> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(&parent(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(LabError::io(path, e)),
    }
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Result<Value, LabError> {
    let text = fs::read(path).map_err(|e| LabError::io(path, e))?;
    serde_json::from_slice(&text).map_err(|e| LabError::InvalidJson { path: path.into(), source: e })
}

/// Whether a directory entry is a temporary file of an interrupted write, never state.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.')
}

/// `*.json` files directly in `dir`, sorted by name; none when `dir` does not exist.
pub fn json_files_in(dir: &Path) -> Result<Vec<PathBuf>, LabError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LabError::io(dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| LabError::io(dir, e))?;
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        // The entry's type comes with the directory listing: no `stat` per file, except to follow a link.
        let kind = entry.file_type().map_err(|e| LabError::io(&path, e))?;
        let is_file = kind.is_file() || (kind.is_symlink() && path.is_file());
        if is_file && !is_temporary(name) && path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let unique = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    parent(path).join(format!(".{name}.{}.{unique}.tmp", std::process::id()))
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), LabError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| LabError::io(dir, e))
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> Result<(), LabError> {
    // Directories cannot be opened for syncing on this platform; the rename is as durable as it gets.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn atomic_write_replaces_the_whole_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested").join("a.json");
        write_json_atomically(&path, &json!({"id": "a", "long": "x".repeat(1000)})).expect("first write");
        write_json_atomically(&path, &json!({"id": "a"})).expect("second write");
        assert_eq!(read_json(&path).expect("read"), json!({"id": "a"}));
        let names: Vec<_> = fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .collect();
        assert_eq!(names, ["a.json"]);
    }

    #[test]
    fn failed_write_keeps_the_previous_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.json");
        write_json_atomically(&path, &json!({"v": 1})).expect("write");
        // A directory where the file should go makes the rename fail.
        let blocked = dir.path().join("blocked.json");
        fs::create_dir(&blocked).expect("mkdir");
        fs::write(blocked.join("x"), "keep").expect("fill");
        assert!(write_json_atomically(&blocked, &json!({"v": 2})).is_err());
        assert_eq!(read_json(&path).expect("read"), json!({"v": 1}));
        let leftovers = fs::read_dir(dir.path()).expect("list").filter_map(Result::ok);
        assert!(leftovers.map(|e| e.file_name()).all(|n| !n.to_string_lossy().ends_with(".tmp")));
    }

    #[test]
    fn listing_skips_temporaries_and_other_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["b.json", "a.json", ".a.json.1.0.tmp", "notes.txt"] {
            fs::write(dir.path().join(name), "{}").expect("write");
        }
        let names: Vec<_> = json_files_in(dir.path())
            .expect("list")
            .iter()
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.json", "b.json"]);
        assert!(json_files_in(&dir.path().join("missing")).expect("missing dir").is_empty());
        remove_durably(&dir.path().join("a.json")).expect("remove");
        remove_durably(&dir.path().join("a.json")).expect("removing twice is fine");
    }
}
