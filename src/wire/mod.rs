//! Microsoft Graph's wire format: the JSON shapes of the endpoints tenantctl reads and writes, as serde
//! types. Pure data, shared by the client, the lab and the engine.

pub mod batch_reply;
pub mod common;
pub mod defender_rbac;
pub mod detection;
pub mod fleet;
pub mod organization;
mod policy;
mod policy_decode;
pub mod rbac;
mod settings;

pub use policy::*;
pub use settings::{Settings, decoding_shared};
