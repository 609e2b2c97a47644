//! `drift --notify` against the lab, a real SMTP server (aiosmtpd from PyPI, on loopback) and a local
//! webhook receiver: a drift that persists over three cycles is told exactly once per target; a
//! changed set of findings is told again.

#[allow(dead_code)]
#[path = "workflow/support.rs"]
mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::Value;
use support::{LabProcess, contoso_state, expect_code, root, stderr};

/// `python -m aiosmtpd` delivering into a maildir.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    fn start(dir: &Path) -> SmtpServer {
        let setup = Command::new("bash").arg(root().join("tests/smtp/setup.sh")).output().expect("setup.sh runs");
        assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));
        let python = String::from_utf8_lossy(&setup.stdout).trim().to_string();
        let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let maildir = dir.join("maildir");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        SmtpServer { child, port, maildir }
    }

    /// The messages received, as text.
    fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else { return Vec::new() };
        entries.map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("message")).collect()
    }
}

/// What the webhook receiver got: the Authorization header and the body of each POST.
type Received = Arc<Mutex<Vec<(Option<String>, Value)>>>;

fn webhook_receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let state = received.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async move {
            listener.set_nonblocking(true).expect("nonblocking");
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let app = axum::Router::new()
                .route(
                    "/hook",
                    axum::routing::post(
                        |State(state): State<Received>, headers: HeaderMap, body: axum::Json<Value>| async move {
                            let authorization =
                                headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
                            state.lock().expect("lock").push((authorization, body.0));
                            "ok"
                        },
                    ),
                )
                .with_state(state);
            axum::serve(listener, app).await.expect("serve");
        });
    });
    (url, received)
}

#[test]
fn drift_persisting_over_three_cycles_is_notified_once_per_target() {
    let state = contoso_state();
    let lab = LabProcess::serve(state.path(), &[]);
    let work = tempfile::tempdir().expect("tempdir");
    let smtp = SmtpServer::start(work.path());
    let (hook_url, received) = webhook_receiver();

    let manifests = work.path().join("manifests");
    std::fs::create_dir_all(manifests.join("policies")).expect("mkdir");
    for file in ["tenants.yaml", "profiles.yaml"] {
        std::fs::copy(root().join("examples/contoso").join(file), manifests.join(file)).expect("copy");
    }
    for entry in std::fs::read_dir(root().join("examples/contoso/policies")).expect("policies") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), manifests.join("policies").join(entry.file_name())).expect("copy");
    }
    std::fs::write(
        manifests.join("notifications.yaml"),
        format!(
            "apiVersion: tenantctl.dev/v1alpha1\nkind: NotificationPolicy\nmetadata: {{name: soc}}\nspec:\n  on: [drift]\n  \
             email:\n    smtp: {{host: 127.0.0.1, port: {}, security: none}}\n    from: tenantctl@contoso.example\n    \
             to: [soc@contoso.example, oncall@contoso.example]\n  webhook:\n    url: {hook_url}\n    \
             authorization: {{env: SOC_WEBHOOK_TOKEN}}\n",
            smtp.port
        ),
    )
    .expect("write");
    let notify_state = work.path().join("notify-state");
    let drift = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenantctl"));
        let app: Value =
            serde_json::from_str(&std::fs::read_to_string(state.path().join("lab.json")).expect("lab.json"))
                .expect("json");
        command
            .args(["drift", "-f"])
            .arg(&manifests)
            .args(["--notify", "--notify-state"])
            .arg(&notify_state)
            .args(["--graph-url", &lab.url, "--login-url", &lab.url])
            .env("AZURE_CLIENT_ID", app["apps"][0]["clientId"].as_str().expect("id"))
            .env("AZURE_CLIENT_SECRET", app["apps"][0]["clientSecret"].as_str().expect("secret"))
            .env("SOC_WEBHOOK_TOKEN", "Bearer webhook-canary")
            .current_dir(root())
            .output()
            .expect("drift runs")
    };

    for cycle in 1..=3 {
        let output = drift();
        // Drift found (2), woodgrove-emea unreadable with its own app: exit 3 outranks 2.
        expect_code(&output, 3);
        let expected = if cycle == 1 { "email sent" } else { "email not sent: nothing changed" };
        assert!(stderr(&output).contains(expected), "cycle {cycle}: {}", stderr(&output));
    }
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one email for a drift that persisted over three cycles");
    assert!(messages[0].contains("Subject: [tenantctl] "), "{}", messages[0]);
    assert!(messages[0].contains("drifted across"), "{}", messages[0]);
    assert!(messages[0].contains("fabrikam-emea"), "{}", messages[0]);
    assert!(messages[0].contains("soc@contoso.example") && messages[0].contains("oncall@contoso.example"));
    {
        let hooks = received.lock().expect("lock");
        assert_eq!(hooks.len(), 1, "one webhook call");
        assert_eq!(hooks[0].0.as_deref(), Some("Bearer webhook-canary"));
        assert_eq!(hooks[0].1["notificationPolicy"], "soc");
        assert!(hooks[0].1["findings"].as_array().is_some_and(|f| !f.is_empty()));
        assert!(hooks[0].1["findings"].as_array().expect("findings").iter().all(|f| f["trigger"] == "drift"));
    }

    // Applying repairs the enforce-mode drift: the set of findings changes, and that is told once more.
    let apply = lab.tenantctl(state.path(), &["apply", "-f", &manifests.to_string_lossy(), "--auto-approve"]);
    assert!(matches!(apply.status.code(), Some(0 | 3)), "{}", stderr(&apply));
    let after = drift();
    assert!(stderr(&after).contains("email sent"), "{}", stderr(&after));
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(received.lock().expect("lock").len(), 2);
    assert!(!stderr(&after).contains("webhook-canary"), "secrets never printed");
}
