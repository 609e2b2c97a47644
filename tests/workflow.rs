//! The main job end to end: the real binary plans, applies, detects drift and exports against the lab
//! over HTTP, with `examples/contoso` and its lab seed. The cases live in `tests/workflow/`.

#[path = "support/eventually.rs"]
mod eventually;
// Each test binary uses part of the shared support.
#[allow(dead_code)]
#[path = "workflow/support.rs"]
mod support;

#[path = "workflow/adopt_corpus.rs"]
mod adopt_corpus;
#[path = "workflow/approval.rs"]
mod approval;
#[path = "workflow/cache.rs"]
mod cache;
#[path = "workflow/cases.rs"]
mod cases;
#[path = "workflow/converge.rs"]
mod converge;
#[path = "workflow/credentials.rs"]
mod credentials;
#[path = "workflow/defender_roles.rs"]
mod defender_roles;
#[path = "workflow/detections.rs"]
mod detections;
#[path = "workflow/exceptions.rs"]
mod exceptions;
#[path = "workflow/faults.rs"]
mod faults;
#[path = "workflow/interrupt.rs"]
mod interrupt;
#[path = "workflow/onboarding.rs"]
mod onboarding;
#[path = "workflow/overrides.rs"]
mod overrides;
#[path = "workflow/roles.rs"]
mod roles;
#[path = "workflow/rollout.rs"]
mod rollout;
#[path = "workflow/safety.rs"]
mod safety;
