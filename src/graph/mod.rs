//! Microsoft Graph: wire types and the mapping between tenantctl's kinds and Graph payloads.

pub mod mapping;
pub mod wire;
