//! Microsoft Graph: wire types, the client, and the mapping between tenantctl's kinds and Graph
//! payloads.

pub mod client;
pub mod mapping;
pub mod secret;
pub mod wire;
pub mod wire_common;
pub mod wire_rbac;
