//! The engine: pure stages between the two IO edges (manifests in, Graph state in, plans out).

pub mod apply;
mod apply_roles;
pub mod assignments;
pub mod diff;
pub mod display;
pub mod normalize;
pub mod observe;
pub mod ownership;
pub mod plan;
pub mod resolve;
pub mod roles;
pub mod select;
