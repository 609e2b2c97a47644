//! Receivers for notification tests: a real SMTP server (aiosmtpd from PyPI, installed by
//! `tests/smtp/setup.sh`) delivering into a maildir, and a webhook receiver on loopback.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `python -m aiosmtpd` delivering into a maildir.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    pub fn start(dir: &Path) -> SmtpServer {
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
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else { return Vec::new() };
        entries.map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("message")).collect()
    }
}

/// What the webhook receiver got: the Authorization header and the body of each POST.
pub type Received = Arc<Mutex<Vec<(Option<String>, Value)>>>;

pub fn webhook_receiver() -> (String, Received) {
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
