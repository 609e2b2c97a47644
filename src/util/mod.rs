//! Small pure helpers shared across layers.

pub mod clock;
pub mod endpoint;
pub mod fanout;
pub mod pem;
pub mod plural;
pub mod secret;
pub mod stable_hash;
pub mod suggest;
pub mod yaml11;

pub use stable_hash::stable_hash;
