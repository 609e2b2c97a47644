//! Fault suites: `tenantctl apply` (the real binary) against a `tenantctl lab serve` process that
//! injects faults, or killed with SIGKILL at a random moment, then rerun until `plan
//! --detailed-exitcode` finds nothing to change. The figures (duplicates, missing, unmanaged
//! touched) are counted from the lab's state directory. Shared by `tests/faults.rs` (small sizes,
//! asserted) and `benches/faults.rs` (any size, printed).

mod lab;
mod state;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tempfile::TempDir;
use tenantctl::lab::{InitOptions, init};

use lab::ServedLab;
use state::{Baseline, duplicates, remove_owned};

/// Apply runs after which a suite stops waiting for convergence.
pub const MAX_RUNS: usize = 10;

/// Share of the owned policies removed before the first apply, so that it creates (the writes that
/// can duplicate) as well as updates the drifted ones `lab init` makes.
const REMOVED_SHARE: f64 = 0.5;

/// The lab each run works on, and how the apply goes about it.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub tenants: usize,
    pub policies: usize,
    /// Tenants the apply works on at once (`--concurrency`).
    pub concurrency: usize,
    /// Latency the lab adds to every request.
    pub latency_ms: u64,
}

/// The faults of the fault scenario, per Graph request: 5xx 10 %, 429 5 %, connection resets 2 %,
/// responses lost after the write committed 2 %.
pub fn standard_faults() -> Value {
    json!({"serverError": 0.10, "throttle": 0.05, "connectionReset": 0.02, "lostResponse": 0.02})
}

/// What one seed or trial came to.
#[derive(Debug)]
pub struct Figures {
    pub scenario: &'static str,
    pub seed: u64,
    /// `plan --detailed-exitcode` (with faults off) found nothing to change within [`MAX_RUNS`].
    pub converged: bool,
    /// The most extra copies of owned policies the lab held after any run.
    pub duplicates: usize,
    /// Desired policies absent at the end.
    pub missing: usize,
    /// Policies tenantctl does not own that were changed or deleted.
    pub unmanaged_touched: usize,
    /// Apply runs until convergence, the interrupted one included.
    pub runs_needed: usize,
    /// Figures that explain the run (faults injected, when the kill came, …).
    pub details: Value,
}

impl Figures {
    pub fn to_json(&self, size: &Size) -> Value {
        let mut line = json!({
            "scenario": self.scenario,
            "seed": self.seed,
            "tenants": size.tenants,
            "policies": size.policies,
            "converged": self.converged,
            "duplicates": self.duplicates,
            "missing": self.missing,
            "unmanaged_touched": self.unmanaged_touched,
            "runs_needed": self.runs_needed,
        });
        if let (Some(line), Some(details)) = (line.as_object_mut(), self.details.as_object()) {
            line.extend(details.clone());
        }
        line
    }
}

/// A generated lab with some owned policies removed, and what it held before.
struct Prepared {
    _dir: TempDir,
    state: PathBuf,
    baseline: Baseline,
    removed: usize,
}

fn prepare(size: &Size, seed: u64) -> Prepared {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("lab");
    init(&state, &InitOptions { tenants: size.tenants, policies: size.policies, seed }).expect("lab init");
    let baseline = Baseline::take(&state);
    let removed = remove_owned(&state, seed, REMOVED_SHARE);
    Prepared { _dir: dir, state, baseline, removed }
}

/// Applies and checks until converged; `faults` are on during applies, off while checking.
struct Runs<'a> {
    lab: &'a ServedLab,
    size: &'a Size,
    state: &'a Path,
    count: usize,
    duplicates: usize,
    exit_codes: Vec<i32>,
    converged: bool,
}

impl<'a> Runs<'a> {
    fn new(lab: &'a ServedLab, size: &'a Size, state: &'a Path) -> Self {
        Runs { lab, size, state, count: 0, duplicates: 0, exit_codes: Vec::new(), converged: false }
    }

    /// Counts a finished (or killed) apply run and checks the lab with faults off.
    fn after_run(&mut self, exit_code: Option<i32>) {
        self.count += 1;
        // A run ended by a signal has no exit code: shown as -9, as the kill that ended it.
        self.exit_codes.push(exit_code.unwrap_or(-9));
        self.lab.set_faults(&json!({}));
        self.duplicates = self.duplicates.max(duplicates(self.state));
        let plan = self.lab.tenantctl(&["plan", "--detailed-exitcode"], self.size.concurrency).status();
        self.converged = plan.expect("plan runs").code() == Some(0);
    }

    fn until_converged(&mut self, faults: &Value) {
        while !self.converged && self.count < MAX_RUNS {
            self.lab.set_faults(faults);
            let apply = self.lab.tenantctl(&["apply", "--auto-approve"], self.size.concurrency).status();
            self.after_run(apply.expect("apply runs").code());
        }
    }

    fn figures(&self, scenario: &'static str, seed: u64, prepared: &Prepared, details: Value) -> Figures {
        let mut all_details = json!({
            "removed_before_apply": prepared.removed,
            "unmanaged": prepared.baseline.unmanaged_count(),
            "apply_exit_codes": self.exit_codes,
            "lab_replies_by_status": self.lab.replies_by_status(),
        });
        if let (Some(all), Some(details)) = (all_details.as_object_mut(), details.as_object()) {
            all.extend(details.clone());
        }
        Figures {
            scenario,
            seed,
            converged: self.converged,
            duplicates: self.duplicates,
            missing: prepared.baseline.missing(self.state),
            unmanaged_touched: prepared.baseline.unmanaged_touched(self.state),
            runs_needed: self.count,
            details: all_details,
        }
    }
}

fn serve(prepared: &Prepared, size: &Size, seed: u64) -> ServedLab {
    let knobs = ["--seed".to_string(), seed.to_string(), "--latency-ms".to_string(), size.latency_ms.to_string()];
    ServedLab::serve(&prepared.state, &knobs)
}

/// Applies under [`standard_faults`] (the fault generator seeded with `seed`), rerunning until
/// converged.
pub fn apply_under_faults(size: &Size, seed: u64) -> Figures {
    let started = Instant::now();
    let prepared = prepare(size, seed);
    let lab = serve(&prepared, size, seed);
    let mut runs = Runs::new(&lab, size, &prepared.state);
    runs.until_converged(&standard_faults());
    let wall = json!({"wall_s": seconds(started.elapsed())});
    runs.figures("faults", seed, &prepared, wall)
}

/// How long an uninterrupted apply of a freshly prepared lab takes: the window kills are drawn from.
pub fn apply_duration(size: &Size) -> Duration {
    let prepared = prepare(size, 0);
    let lab = serve(&prepared, size, 0);
    let started = Instant::now();
    let apply = lab.tenantctl(&["apply", "--auto-approve"], size.concurrency).status().expect("apply runs");
    assert_eq!(apply.code(), Some(0), "an uninterrupted apply without faults succeeds");
    started.elapsed()
}

/// Starts an apply, kills it with SIGKILL after a delay drawn (by `trial`) from `window`, then
/// reruns until converged.
pub fn kill_during_apply(size: &Size, trial: u64, window: Duration) -> Figures {
    let prepared = prepare(size, trial);
    let lab = serve(&prepared, size, trial);
    let delay = window.mul_f64(SmallRng::seed_from_u64(trial).random::<f64>());
    let child = lab.tenantctl(&["apply", "--auto-approve"], size.concurrency).spawn().expect("apply starts");
    let (killed, exit_code) = kill_after(child, delay);
    let write_requests_before_kill = lab.policy_write_requests();
    let mut runs = Runs::new(&lab, size, &prepared.state);
    runs.after_run(exit_code);
    runs.until_converged(&json!({}));
    let details = json!({
        "kill_after_ms": delay.as_millis() as u64,
        "killed": killed,
        "write_requests_before_kill": write_requests_before_kill,
    });
    runs.figures("crash", trial, &prepared, details)
}

/// Starts `writers` applies at once against one lab (two CI pipelines racing), then applies once
/// more; the figures are the lab's after that last apply, with the duplicates the race left before it.
pub fn concurrent_applies(size: &Size, writers: usize, seed: u64) -> Figures {
    let prepared = prepare(size, seed);
    let lab = serve(&prepared, size, seed);
    let children: Vec<Child> = (0..writers)
        .map(|_| lab.tenantctl(&["apply", "--auto-approve"], size.concurrency).spawn().expect("apply starts"))
        .collect();
    let exit_codes: Vec<Option<i32>> =
        children.into_iter().map(|mut child| child.wait().expect("apply ends").code()).collect();
    let raced = duplicates(&prepared.state);
    let mut runs = Runs::new(&lab, size, &prepared.state);
    runs.count = writers;
    runs.exit_codes = exit_codes.iter().map(|code| code.unwrap_or(-9)).collect();
    runs.until_converged(&json!({}));
    runs.duplicates = duplicates(&prepared.state);
    let details = json!({"writers": writers, "duplicates_after_race": raced});
    runs.figures("concurrent", seed, &prepared, details)
}

/// Kills `child` (SIGKILL on Unix: no handler runs, as with `kill -9`) once `delay` has passed,
/// unless it finished first. Returns whether it was killed, and its exit code when it finished.
fn kill_after(mut child: Child, delay: Duration) -> (bool, Option<i32>) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("apply status") {
            return (false, status.code());
        }
        if started.elapsed() >= delay {
            child.kill().expect("kill the apply");
            let status = child.wait().expect("apply reaped");
            return (true, status.code());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn seconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0).round() / 1000.0
}
