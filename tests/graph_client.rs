//! The Graph client against `tenantctl lab serve` over real HTTP: paging over many pages, every fault
//! kind, token isolation between tenants, the canary secret absent from all output, and Microsoft's
//! documented samples served by the lab and read back unchanged. The cases live in `tests/graph_client/`.

#[path = "graph_client/support.rs"]
mod support;

#[path = "graph_client/auth.rs"]
mod auth;
#[path = "graph_client/detections.rs"]
mod detections;
#[path = "graph_client/faults.rs"]
mod faults;
#[path = "graph_client/paging.rs"]
mod paging;
#[path = "graph_client/planning.rs"]
mod planning;
#[path = "graph_client/rbac.rs"]
mod rbac;
#[path = "graph_client/samples.rs"]
mod samples;
