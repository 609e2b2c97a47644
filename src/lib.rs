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
