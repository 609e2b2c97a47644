//! The engine: pure stages between the two IO edges (manifests in, Graph state in, plans out).

pub mod ownership;
pub mod resolve;
pub mod select;
