//! The Helm chart: `helm lint`, `helm template` with every option, and the rendered chart (CRDs
//! included) applied with kubectl to the real API server — Helm and kubectl built from their Go modules.

use std::process::Command;

use super::cluster::kubectl;
use super::harness::World;
use super::support::root;

fn helm(args: &[&str]) -> String {
    let setup = Command::new("bash").arg(root().join("tests/helm/setup.sh")).output().expect("setup.sh runs");
    assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));
    let binary = String::from_utf8_lossy(&setup.stdout).trim().to_string();
    let output = Command::new(binary).args(args).current_dir(root()).output().expect("helm runs");
    assert!(output.status.success(), "helm {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chart_lints_renders_and_applies() {
    let world = World::new("op-helm").await;
    helm(&["lint", "deploy/helm/tenantctl", "--strict"]);
    let full = helm(&[
        "template",
        "tc",
        "deploy/helm/tenantctl",
        "--namespace",
        &world.namespace,
        "--set",
        "metrics.serviceMonitor.enabled=true",
        "--set",
        "antiAffinity=hard",
        "--set",
        "credentials.secretName=",
        "--set",
        "credentials.workloadIdentityClientId=00000000-0000-0000-0000-000000000001",
    ]);
    for expected in [
        "kind: ServiceMonitor",
        "kind: PodDisruptionBudget",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "azure.workload.identity/client-id",
    ] {
        assert!(full.contains(expected), "{expected} in:\n{full}");
    }
    assert!(!full.contains("--credentials-secret"), "no Secret with workload identity");
    let traps = tenantctl::util::yaml11::ambiguous_scalars(&full).expect("the rendered chart is YAML");
    assert!(traps.is_empty(), "{traps:?}");

    let rendered =
        helm(&["template", "tc", "deploy/helm/tenantctl", "--namespace", &world.namespace, "--include-crds"]);
    kubectl(&["apply", "-n", &world.namespace, "-f", "-"], Some(&rendered)).unwrap_or_else(|e| panic!("{e}"));
    let image = kubectl(
        &[
            "get",
            "deployment",
            "tc-operator",
            "-n",
            &world.namespace,
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].args}",
        ],
        None,
    )
    .expect("the Deployment");
    assert!(image.starts_with(&format!("ghcr.io/tenantctl/tenantctl:{} ", env!("CARGO_PKG_VERSION"))), "{image}");
    assert!(
        image.contains("--credentials-secret=tenantctl-graph")
            && image.contains("--lease-name=tc-operator")
            && image.contains("--shards=12"),
        "{image}"
    );
    for kind in [
        "serviceaccount/tc-operator",
        "service/tc-operator-metrics",
        "poddisruptionbudget/tc-operator",
        "role/tc-operator-leader-election",
    ] {
        kubectl(&["get", kind, "-n", &world.namespace], None).unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
    kubectl(&["get", "clusterrole/tc-operator"], None).expect("the ClusterRole");
}
