//! Microsoft Graph over HTTP: the client (tokens, paging, retries, budgets) and its adapter to the
//! engine's tenant API. Wire types live in `crate::wire`, the kind ↔ payload mapping in `crate::mapping`.

pub mod client;
pub mod health;
pub mod readiness;
