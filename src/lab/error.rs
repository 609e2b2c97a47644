//! Errors of the lab outside request handling (requests answer with Graph error bodies instead).

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the lab could not load, persist, start or generate state.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {source}")]
    InvalidJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {reason}")]
    InvalidState { path: PathBuf, reason: String },
    #[error(
        "the lab state {0} is in use by another tenantctl process (a `lab serve`, or a command with --lab); \
         wait for it to finish, or use another state folder"
    )]
    InUse(PathBuf),
    #[error("{0}: no app registration in `apps`")]
    NoApps(PathBuf),
    #[error("invalid lab option: {0}")]
    InvalidOption(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: refusing to generate lab state into a directory that is not empty")]
    DirectoryNotEmpty(PathBuf),
    #[error("cannot render manifest {path}: {source}")]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_yaml::Error,
    },
}

impl LabError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LabError::Io { path: path.into(), source }
    }

    pub(crate) fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        LabError::InvalidState { path: path.into(), reason: reason.into() }
    }
}
