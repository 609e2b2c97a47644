//! `tenantctl lab serve` as a child process, for the test binaries and benches that need the lab in a
//! process of its own. Included with `#[path]` by each of them; each uses part of it.
//!
//! The lab binds `127.0.0.1:0`: the kernel picks a free port while the lab holds it, and the lab
//! prints its URL as the first line of stdout. Nothing here picks a port by binding and releasing
//! it, which races with every other process looking for a free port.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};

/// A running `tenantctl lab serve`, killed when dropped.
pub struct LabChild {
    /// `http://127.0.0.1:PORT` (`https://` with `--tls`), as the lab printed it.
    pub url: String,
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// Where the lab's stderr goes: a file rather than a pipe, so that a lab logging more than a
    /// pipe holds never blocks, and so that what it said can be shown when it fails.
    stderr: File,
}

impl Drop for LabChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LabChild {
    /// Starts `tenantctl lab serve --state STATE --addr 127.0.0.1:0 ARGS…` and waits for its URL.
    pub fn serve<A: AsRef<OsStr>>(state: &Path, args: &[A]) -> LabChild {
        LabChild::serve_on("127.0.0.1:0", state, args)
    }

    /// The same on a given address (a lab started again where it served before).
    pub fn serve_on<A: AsRef<OsStr>>(addr: &str, state: &Path, args: &[A]) -> LabChild {
        let stderr = tempfile::tempfile().expect("a file for the lab's stderr");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
            .args(["lab", "serve", "--addr", addr, "--state"])
            .arg(state)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr.try_clone().expect("the lab's stderr"))
            .spawn()
            .expect("tenantctl lab serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("the lab's stdout"));
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let mut lab = LabChild { url: line.trim().to_string(), child, stdout, stderr };
        let url_first = ["http://127.0.0.1:", "https://127.0.0.1:"].iter().any(|scheme| lab.url.starts_with(scheme));
        if !matches!(read, Ok(n) if n > 0) || !url_first {
            panic!("lab serve did not print its URL first (got {line:?}, {read:?}):\n{}", lab.output_now());
        }
        lab
    }

    /// The lab's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The lab's exit status, when it has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("the lab's status")
    }

    /// Stops the lab and returns everything it printed after its URL (stdout, then stderr).
    pub fn output(mut self) -> String {
        self.output_now()
    }

    fn output_now(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut text = String::new();
        let _ = self.stdout.read_to_string(&mut text);
        // The file's offset is shared with the lab's copy of it, which is closed now.
        if self.stderr.rewind().is_ok() {
            let _ = self.stderr.read_to_string(&mut text);
        }
        text
    }
}
