//! The operator against a real Kubernetes API server (kube-apiserver and etcd built from the official
//! modules by `tests/control-plane/`) and the lab: the operator runs as its own process with the
//! service account's identity and the RBAC from `deploy/`. Each case uses its own namespace, lab and
//! Lease. The cases live in `tests/operator/`.

#[allow(dead_code)]
#[path = "workflow/support.rs"]
mod support;

#[path = "smtp/receivers.rs"]
mod receivers;

#[path = "operator/cluster.rs"]
mod cluster;
#[path = "operator/harness.rs"]
mod harness;

#[path = "operator/access.rs"]
mod access;
#[path = "operator/admission.rs"]
mod admission;
#[path = "operator/approval.rs"]
mod approval;
#[path = "operator/cases.rs"]
mod cases;
#[path = "operator/converge.rs"]
mod converge;
#[path = "operator/crds.rs"]
mod crds;
#[path = "operator/credentials.rs"]
mod credentials;
#[path = "operator/defender_roles.rs"]
mod defender_roles;
#[path = "operator/deletion.rs"]
mod deletion;
#[path = "operator/detections.rs"]
mod detections;
#[path = "operator/exceptions.rs"]
mod exceptions;
#[path = "operator/faults.rs"]
mod faults;
#[path = "operator/helm.rs"]
mod helm;
#[path = "operator/kubectl.rs"]
mod kubectl;
#[path = "operator/modes.rs"]
mod modes;
#[path = "operator/notifications.rs"]
mod notifications;
#[path = "operator/rbac.rs"]
mod rbac;
#[path = "operator/replicas.rs"]
mod replicas;
#[path = "operator/roles.rs"]
mod roles;
#[path = "operator/rollout.rs"]
mod rollout;
#[path = "operator/sharding.rs"]
mod sharding;
