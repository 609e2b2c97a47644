//! One control plane for the whole test binary, started on first use by `tests/control-plane/start.sh`
//! (which stops it when this process exits), with the CRDs and `deploy/` applied as the admin.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use kube::api::Api;
use kube::{Client, ResourceExt};
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
        CLUSTER
            .get_or_init(|| async {
                let cluster = Cluster::start().await;
                let _ = ADMIN_KUBECONFIG.set(cluster.admin_kubeconfig());
                cluster
            })
            .await
    }

    /// A control plane of its own, for a test that breaks it (kills its kube-apiserver).
    pub async fn private() -> &'static Cluster {
        Box::leak(Box::new(Cluster::start().await))
    }

    /// Kills the kube-apiserver outright, keeps it down `down_seconds`, starts it again and returns
    /// once it is ready.
    pub fn restart_apiserver(&self, down_seconds: u64) {
        let status = Command::new("bash")
            .arg(root().join("tests/control-plane/restart-apiserver.sh"))
            .arg(&self.dir)
            .arg(down_seconds.to_string())
            .status()
            .expect("restart-apiserver.sh runs");
        assert!(status.success(), "kube-apiserver did not come back; logs in {}", self.dir.display());
    }

    /// Runs the real kubectl as this cluster's admin.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
        kubectl_with(&self.admin_kubeconfig(), args, stdin)
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

    /// `kubectl apply -f crds/`, `kubectl apply -k deploy/`, and the operator's credentials Secret,
    /// with the real kubectl.
    async fn set_up(&self) {
        let admin = self.admin().await;
        let crds = root().join("crds");
        self.kubectl(&["apply", "-f", &crds.to_string_lossy()], None).unwrap_or_else(|e| panic!("{e}"));
        wait_for_crds(&admin).await;
        // The operator with its CRDs again, as an admin installs it.
        let deploy = root().join("deploy");
        self.kubectl(&["apply", "-k", &deploy.to_string_lossy()], None).unwrap_or_else(|e| panic!("{e}"));
        let lab: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("examples/contoso/lab/lab.json")).expect("lab.json"),
        )
        .expect("json");
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: {CREDENTIALS_SECRET}}}\nstringData: {{clientId: '{}', clientSecret: '{}'}}\n",
            lab["apps"][0]["clientId"].as_str().expect("client id"),
            lab["apps"][0]["clientSecret"].as_str().expect("secret"),
        );
        self.kubectl(&["apply", "-n", OPERATOR_NAMESPACE, "-f", "-"], Some(&secret)).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The admin's kubeconfig, for [`kubectl`].
static ADMIN_KUBECONFIG: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Runs the real kubectl (built with the control plane) as the shared cluster's admin; `stdin` is
/// piped in. Its output, or what it said on failure.
pub fn kubectl(args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    kubectl_with(ADMIN_KUBECONFIG.get().expect("the cluster is set up"), args, stdin)
}

fn kubectl_with(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    let binary = kubeconfig.parent().expect("cluster folder").join("kubectl");
    let mut child = Command::new(&binary)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(if stdin.is_some() { std::process::Stdio::piped() } else { std::process::Stdio::null() })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write to kubectl");
    }
    let output = child.wait_with_output().expect("kubectl ends");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!("kubectl {}: {}{stdout}", args.join(" "), String::from_utf8_lossy(&output.stderr)))
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
