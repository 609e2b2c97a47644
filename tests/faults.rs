//! Fault suites, small: apply under injected faults, and apply killed with SIGKILL at random
//! moments, each rerun until converged, with no duplicate, nothing missing and no unmanaged policy
//! touched. `cargo bench --bench faults` runs the same suites at scale.

#[path = "fault_suite/mod.rs"]
mod fault_suite;

use fault_suite::{Figures, Size, apply_duration, apply_under_faults, concurrent_applies, kill_during_apply};

const SIZE: Size = Size { tenants: 5, policies: 5, concurrency: 8, latency_ms: 0 };

fn assert_clean(figures: &Figures, size: &Size) {
    let line = figures.to_json(size);
    // Shown with --nocapture: the same figures the benchmark prints.
    println!("{line}");
    assert!(figures.converged, "converged: {line}");
    assert_eq!(figures.duplicates, 0, "duplicates: {line}");
    assert_eq!(figures.missing, 0, "missing: {line}");
    assert_eq!(figures.unmanaged_touched, 0, "unmanaged touched: {line}");
}

#[test]
fn applies_under_injected_faults_converge_without_damage() {
    for seed in 1..=5 {
        let figures = apply_under_faults(&SIZE, seed);
        assert_clean(&figures, &SIZE);
        assert!(figures.details["removed_before_apply"].as_u64() > Some(0), "{}", figures.to_json(&SIZE));
    }
}

#[test]
fn applies_killed_at_random_moments_are_finished_by_rerunning() {
    // Latency stretches the apply, so that kills land while it writes.
    let size = Size { latency_ms: 20, ..SIZE };
    let window = apply_duration(&size);
    for trial in 1..=3 {
        let figures = kill_during_apply(&size, trial, window);
        assert_clean(&figures, &size);
    }
}

#[test]
fn concurrent_applies_leave_no_duplicate_after_the_next_apply() {
    // Latency keeps the writers' creates in flight together.
    let size = Size { latency_ms: 20, ..SIZE };
    for seed in 1..=2 {
        let figures = concurrent_applies(&size, 3, seed);
        assert_clean(&figures, &size);
    }
}
