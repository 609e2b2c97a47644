//! tenantctl: endpoint security policy as code for many Microsoft 365 tenants.
//!
//! The engine is pure (load → validate → resolve → diff → plan); Microsoft Graph and Kubernetes are the
//! only IO edges, and the CLI and the operator are thin shells over the same engine.

pub mod cli;
pub mod engine;
pub mod graph;
pub mod lab;
pub mod manifest;
pub mod mapping;
pub mod model;
pub mod notify;
pub mod operator;
pub mod render;
pub mod security;
pub mod util;
pub mod wire;

/// Turns transparent huge pages off for this process. mimalloc asks the kernel for huge pages, and
/// the kernel zeroes two megabytes at each first touch; memory given back and taken again (the lab
/// loading and dropping tenants, a plan's replies) then cost a third of the lab's CPU and doubled its
/// memory (measured with the scale bench at 1,000 tenants).
pub fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::debug!(%error, "transparent huge pages stay on");
    }
}
