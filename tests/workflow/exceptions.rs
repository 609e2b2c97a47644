//! A PolicyException through the CLI and the lab, with the clock set by `TENANTCTL_NOW`: Contoso's
//! exception keeps Fabrikam EMEA's drifted LSASS rule untouched and out of drift until it expires;
//! from the day after, `drift` reports the deviation and the next apply restores the baseline.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::support::*;

/// `tenantctl ARGS --lab` on the given day.
fn on(day: &str, state: &Path, args: &[&str]) -> Output {
    let state = state.to_string_lossy().to_string();
    at(day, &[args, &["--lab", "--lab-state", &state]].concat())
}

/// `tenantctl ARGS` on the given day.
fn at(day: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(args)
        .current_dir(root())
        .env("TENANTCTL_NOW", day)
        .output()
        .expect("tenantctl runs")
}

#[test]
fn an_exception_holds_a_drifted_rule_until_it_expires_then_the_baseline_returns() {
    let state = contoso_state();
    let lab = state.path();
    let contoso = ["-f", "examples/contoso"];

    let plan = on(TODAY, lab, &[&["plan"], &contoso[..]].concat());
    let text = stdout(&plan);
    assert!(
        text.contains("= AttackSurfaceReductionPolicy/asr-block")
            && text.contains("excepted until 2027-06-30 (soc-lead@contoso.example"),
        "{text}"
    );
    let applied = on(TODAY, lab, &[&["apply", "--auto-approve"], &contoso[..]].concat());
    expect_code(&applied, 0);
    assert!(
        stdout(&applied).contains("fabrikam-emea: 10 created, 0 updated"),
        "the rule is left alone: {}",
        stdout(&applied)
    );
    let drift = on(TODAY, lab, &[&["drift"], &contoso[..]].concat());
    expect_code(&drift, 0);
    assert!(stdout(&drift).contains("1 excepted"), "listed, not drift: {}", stdout(&drift));

    let listed = at(TODAY, &["exceptions", "-f", "examples/contoso", "-o", "json"]);
    let rows: Value = serde_json::from_str(&stdout(&listed)).expect("json");
    assert_eq!(rows[0]["tenant"], "fabrikam-emea");
    assert_eq!((rows[0]["daysLeft"].as_i64(), rows[0]["state"].as_str()), (Some(212), Some("active")));

    // The last day it holds, then the day after.
    expect_code(&on("2027-06-30T23:59:59Z", lab, &[&["drift"], &contoso[..]].concat()), 0);
    let after = on("2027-07-01", lab, &[&["drift"], &contoso[..]].concat());
    expect_code(&after, 2);
    assert!(stderr(&after).contains("expired on 2027-06-30"), "{}", stderr(&after));
    assert!(stdout(&after).contains("blockCredentialStealingFromLsass: block"), "{}", stdout(&after));
    let restored = on("2027-07-01", lab, &[&["apply", "--auto-approve"], &contoso[..]].concat());
    expect_code(&restored, 0);
    assert!(stdout(&restored).contains("fabrikam-emea: 0 created, 1 updated"), "{}", stdout(&restored));
    expect_code(&on("2027-07-01", lab, &[&["drift"], &contoso[..]].concat()), 0);
    let listed = at("2027-07-01", &["exceptions", "-f", "examples/contoso", "-o", "json"]);
    let rows: Value = serde_json::from_str(&stdout(&listed)).expect("json");
    assert_eq!(rows[0]["state"], "expired");
}
