//! The lab over real HTTP: tokens, tenant isolation, configurationPolicies CRUD, paging, `$expand`,
//! assignments, groups, `$batch`, the write budget, every fault, persistence, Microsoft's documented
//! payloads, stats, `lab init` and the `lab` command. The cases live in `tests/lab/`.

#[path = "lab/support.rs"]
mod support;

#[path = "lab/auth.rs"]
mod auth;
#[path = "lab/batch_and_budget.rs"]
mod batch_and_budget;
#[path = "lab/cli.rs"]
mod cli;
#[path = "lab/defender_rbac.rs"]
mod defender_rbac;
#[path = "lab/detections.rs"]
mod detections;
#[path = "lab/faults.rs"]
mod faults;
#[path = "lab/generated.rs"]
mod generated;
#[path = "lab/incidents.rs"]
mod incidents;
#[path = "lab/odata.rs"]
mod odata;
#[path = "lab/policies.rs"]
mod policies;
#[path = "lab/queries.rs"]
mod queries;
#[path = "lab/state.rs"]
mod state;
