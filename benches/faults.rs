//! Fault suites at scale, printing one JSON object per seed or trial.
//!
//! `cargo bench --bench faults -- [--scenario faults|crash] [--tenants N] [--policies M] [--seeds K]
//! [--concurrency C] [--latency-ms L]`
//!
//! `faults` (default): apply under injected faults (5xx 10 %, 429 5 %, connection resets 2 %,
//! responses lost after the write committed 2 %), rerun until converged, once per seed.
//! `crash`: kill -9 the apply after a random delay within the time an uninterrupted apply takes,
//! rerun until converged, once per trial (`--seeds` trials).
//! `concurrent`: `--writers W` (default 3) applies at once against one lab, then one more apply;
//! reports the duplicates the race left and what remained after that apply.

#[path = "../tests/fault_suite/mod.rs"]
mod fault_suite;

use fault_suite::{Size, apply_duration, apply_under_faults, concurrent_applies, kill_during_apply};
use serde_json::json;

struct Settings {
    scenario: String,
    size: Size,
    seeds: u64,
    writers: usize,
}

fn settings() -> Settings {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let number = |name: &str, default: u64| value(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let scenario = value("--scenario").unwrap_or_else(|| "faults".into());
    let slow = scenario == "crash" || scenario == "concurrent";
    let size = Size {
        tenants: number("--tenants", 100) as usize,
        policies: number("--policies", 30) as usize,
        concurrency: number("--concurrency", 32) as usize,
        // A crash needs an apply long enough for a kill to land while it writes; racing writers need
        // their creates in flight together.
        latency_ms: number("--latency-ms", if slow { 20 } else { 0 }),
    };
    Settings { scenario, size, seeds: number("--seeds", 20), writers: number("--writers", 3) as usize }
}

fn main() {
    let s = settings();
    match s.scenario.as_str() {
        "faults" => {
            for seed in 1..=s.seeds {
                println!("{}", apply_under_faults(&s.size, seed).to_json(&s.size));
            }
        }
        "crash" => {
            let window = apply_duration(&s.size);
            println!("{}", json!({"scenario": "crash-window", "uninterrupted_apply_s": window.as_secs_f64()}));
            for trial in 1..=s.seeds {
                println!("{}", kill_during_apply(&s.size, trial, window).to_json(&s.size));
            }
        }
        "concurrent" => {
            for seed in 1..=s.seeds {
                println!("{}", concurrent_applies(&s.size, s.writers, seed).to_json(&s.size));
            }
        }
        other => {
            eprintln!("unknown scenario `{other}` (faults, crash, concurrent)");
            std::process::exit(2);
        }
    }
}
