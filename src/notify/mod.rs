//! Notifications: findings (drift, failed applies, high-severity incidents) gathered across tenants,
//! sent by email or webhook when their set changes — not every cycle.

pub mod findings;
pub mod send;

pub use findings::{Finding, Findings};
