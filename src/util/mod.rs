//! Small pure helpers shared across layers.

pub mod clock;
pub mod endpoint;
pub mod fanout;
pub mod pem;
pub mod plural;
pub mod secret;
pub mod suggest;
pub mod yaml11;
