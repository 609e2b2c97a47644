//! A lab state folder for someone who has none yet: the example lab (Contoso's tenants, built into
//! the binary so that it works from any directory), or an empty lab with one app registration.

use std::fmt;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde_json::json;

use super::LabError;
use super::files::{write_atomically, write_json_atomically};
use super::ids::{random_guid, random_token};
use super::store::{LAB_FILE, TENANTS_DIR};

/// `examples/contoso/lab`, the lab the README's demo runs against.
static EXAMPLE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/examples/contoso/lab");

/// What a state folder was seeded with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    Example,
    Empty,
}

/// What seeding did, for the line that tells the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seeded {
    pub dir: PathBuf,
    pub seed: Seed,
    pub tenants: usize,
}

impl fmt::Display for Seeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.seed {
            Seed::Example => "the example lab (examples/contoso/lab)",
            Seed::Empty => "an empty lab",
        };
        write!(
            f,
            "seeded {} with {what}: {}, app credentials in {}",
            self.dir.display(),
            crate::util::plural::count(self.tenants, "tenant"),
            self.dir.join(LAB_FILE).display()
        )
    }
}

/// Whether `dir` holds nothing yet (missing, or an empty folder).
pub fn is_unseeded(dir: &Path) -> Result<bool, LabError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(LabError::io(dir, e)),
    }
}

/// Seeds a missing or empty folder; refuses anything else.
pub fn seed(dir: &Path, seed: Seed) -> Result<Seeded, LabError> {
    if !is_unseeded(dir)? {
        return Err(LabError::DirectoryNotEmpty(dir.to_path_buf()));
    }
    match seed {
        Seed::Example => write_example(&EXAMPLE, dir)?,
        Seed::Empty => {
            let app = json!({"apps": [{"clientId": random_guid(), "clientSecret": random_token()}]});
            write_json_atomically(&dir.join(LAB_FILE), &app)?;
            std::fs::create_dir_all(dir.join(TENANTS_DIR)).map_err(|e| LabError::io(dir.join(TENANTS_DIR), e))?;
        }
    }
    let tenants = match std::fs::read_dir(dir.join(TENANTS_DIR)) {
        Ok(entries) => entries.filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir())).count(),
        Err(e) => return Err(LabError::io(dir.join(TENANTS_DIR), e)),
    };
    Ok(Seeded { dir: dir.to_path_buf(), seed, tenants })
}

fn write_example(from: &Dir<'_>, to: &Path) -> Result<(), LabError> {
    for file in from.files() {
        write_atomically(&to.join(file.path()), file.contents())?;
    }
    for dir in from.dirs() {
        write_example(dir, to)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_seeds_a_loadable_lab_and_only_into_an_empty_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("new");
        let seeded = seed(&target, Seed::Example).expect("seeded");
        assert!(seeded.tenants >= 2, "{seeded}");
        let store = super::super::store::Store::load(&target, 8).expect("loads");
        assert_eq!(store.tenant_ids().count(), seeded.tenants);
        assert!(matches!(seed(&target, Seed::Example), Err(LabError::DirectoryNotEmpty(_))));
        let empty = seed(&dir.path().join("empty"), Seed::Empty).expect("seeded");
        assert_eq!(empty.tenants, 0);
        assert_eq!(super::super::read_lab_credentials(&empty.dir).map(|_| ()).ok(), Some(()));
    }
}
