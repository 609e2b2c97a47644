//! Receivers for notification tests: a real SMTP server (aiosmtpd from PyPI, installed by
//! `tests/smtp/setup.sh`, started by `tests/smtp/serve.py`) delivering into a maildir, and a webhook
//! receiver on loopback. Both listen on ports the kernel picks while they hold them.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// aiosmtpd delivering into a maildir.
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
        let maildir = dir.join("maildir");
        let mut child = Command::new(python)
            .arg(root().join("tests/smtp/serve.py"))
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        // The first line is the port, printed once the server listens.
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the SMTP port");
        let Ok(port) = line.trim().parse() else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the SMTP server did not print its port (got {line:?}); run tests/smtp/serve.py by hand to see why");
        };
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
