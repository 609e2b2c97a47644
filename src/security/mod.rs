//! One pane of glass across tenants: the merged incident queue and hunting results. Pure: the
//! commands fetch per tenant with the Graph client's fan-out, this merges, filters and sorts.

pub mod access_view;
pub mod cases;
pub mod fleet;
pub mod hunting;
pub mod incidents;
pub mod triage;

/// What one tenant answered, or why it could not be read.
#[derive(Clone, Debug)]
pub struct TenantAnswer<T> {
    /// `metadata.name` of the Tenant.
    pub tenant: String,
    pub tenant_id: String,
    pub answer: Result<T, String>,
}
