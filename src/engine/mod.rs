//! The engine: pure stages between the two IO edges. `resolve` turns validated manifests into what each
//! tenant must have; `observe` reads tenants through the [`api::TenantApi`] port; `diff` plans every
//! managed family through one generic path (`managed/`); `apply` carries plans out through the same
//! port. No HTTP, no runtime, no Kubernetes client here.

pub mod access;
pub mod api;
pub mod apply;
pub mod assignments;
pub mod desired;
pub mod diff;
pub mod managed;
#[cfg(test)]
pub mod memory;
pub mod normalize;
pub mod observe;
pub mod once;
pub mod overrides;
pub mod plan;
pub mod policy_cache;
pub mod preview;
pub mod problem;
pub mod resolve;
pub mod respec;
pub mod revision;
pub mod rollback;
pub mod rollout;
pub mod standing;

#[cfg(test)]
mod defender_tests;
#[cfg(test)]
mod detection_tests;
#[cfg(test)]
mod exception_tests;
#[cfg(test)]
mod generic_tests;
#[cfg(test)]
mod override_tests;
#[cfg(test)]
mod rollout_tests;
