//! One control plane for the whole test binary, started on first use by `tests/control-plane/start.sh`
//! (which stops it when this process exits), with the CRDs and `deploy/` applied as the admin.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{Scope, pinned_kind};
use kube::{Client, ResourceExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::support::root;

/// Secret in the operator's namespace holding the lab app's credential.
pub const CREDENTIALS_SECRET: &str = "tenantctl-graph";
pub const OPERATOR_NAMESPACE: &str = "tenantctl-system";

pub struct Cluster {
    pub dir: PathBuf,
}

static CLUSTER: OnceCell<Cluster> = OnceCell::const_new();

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

impl Cluster {
    /// The shared control plane, started and set up on first use.
    pub async fn shared() -> &'static Cluster {
        CLUSTER.get_or_init(|| async { Cluster::start().await }).await
    }

    async fn start() -> Cluster {
        let dir = tempfile::Builder::new().prefix("tenantctl-cluster-").tempdir().expect("tempdir").keep();
        let (etcd, peer, api) = (free_port(), free_port(), free_port());
        let status = Command::new("bash")
            .arg(root().join("tests/control-plane/start.sh"))
            .arg(&dir)
            .args([etcd.to_string(), peer.to_string(), api.to_string(), std::process::id().to_string()])
            .status()
            .expect("start.sh runs");
        assert!(status.success(), "the control plane did not start; logs in {}", dir.display());
        let cluster = Cluster { dir };
        cluster.set_up().await;
        cluster
    }

    pub fn admin_kubeconfig(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }

    pub fn operator_kubeconfig(&self) -> PathBuf {
        self.dir.join("operator.kubeconfig")
    }

    pub async fn admin(&self) -> Client {
        client(&self.admin_kubeconfig()).await
    }

    /// A client with the operator's identity (its service account, bound by `deploy/rbac.yaml`).
    pub async fn as_operator(&self) -> Client {
        client(&self.operator_kubeconfig()).await
    }

    /// `kubectl apply -f crds/`, `kubectl apply -k deploy/`, and the operator's credentials Secret.
    async fn set_up(&self) {
        let admin = self.admin().await;
        for entry in std::fs::read_dir(root().join("crds")).expect("crds/") {
            apply_file(&admin, None, &entry.expect("entry").path()).await;
        }
        wait_for_crds(&admin).await;
        let kustomization: Value =
            serde_yaml::from_str(&std::fs::read_to_string(root().join("deploy/kustomization.yaml")).expect("read"))
                .expect("yaml");
        for resource in kustomization["resources"].as_array().expect("resources") {
            apply_file(&admin, None, &root().join("deploy").join(resource.as_str().expect("path"))).await;
        }
        let lab: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("examples/contoso/lab/lab.json")).expect("lab.json"),
        )
        .expect("json");
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: {CREDENTIALS_SECRET}}}\nstringData: {{clientId: '{}', clientSecret: '{}'}}\n",
            lab["apps"][0]["clientId"].as_str().expect("client id"),
            lab["apps"][0]["clientSecret"].as_str().expect("secret"),
        );
        apply_yaml(&admin, Some(OPERATOR_NAMESPACE), &secret).await;
    }
}

pub async fn client(kubeconfig: &Path) -> Client {
    let file = kube::config::Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(file, &Default::default()).await.expect("config");
    Client::try_from(config).expect("client")
}

async fn wait_for_crds(admin: &Client) {
    let api: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(admin.clone());
    for _ in 0..100 {
        let crds = api.list(&Default::default()).await.expect("list CRDs");
        let established =
            crds.items
                .iter()
                .filter(|crd| crd.name_any().ends_with(".tenantctl.dev"))
                .filter(|crd| {
                    crd.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|conditions| {
                        conditions.iter().any(|c| c.type_ == "Established" && c.status == "True")
                    })
                })
                .count();
        if established == std::fs::read_dir(root().join("crds")).map(|d| d.count()).unwrap_or(0) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the tenantctl CRDs were not established");
}

pub async fn apply_file(client: &Client, namespace: Option<&str>, path: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    apply_yaml(client, namespace, &text).await;
}

/// What `kubectl apply` does, by server-side apply: every document of `text`, namespaced ones into
/// `namespace` unless they name their own.
pub async fn apply_yaml(client: &Client, namespace: Option<&str>, text: &str) {
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(document).expect("yaml");
        if value.is_null() {
            continue;
        }
        let object: DynamicObject = serde_json::from_value(value).expect("a Kubernetes object");
        let types = object.types.clone().expect("apiVersion and kind");
        let gvk = GroupVersionKind::try_from(&types).expect("gvk");
        let (resource, capabilities) = pinned_kind(client, &gvk).await.expect("kind served");
        let api: Api<DynamicObject> = match capabilities.scope {
            Scope::Namespaced => {
                let ns = object.namespace().or(namespace.map(str::to_string)).unwrap_or_else(|| "default".into());
                Api::namespaced_with(client.clone(), &ns, &resource)
            }
            Scope::Cluster => Api::all_with(client.clone(), &resource),
        };
        let name = object.name_any();
        api.patch(&name, &PatchParams::apply("kubectl").force(), &Patch::Apply(&object))
            .await
            .unwrap_or_else(|e| panic!("apply {} {name}: {e}", types.kind));
    }
}
