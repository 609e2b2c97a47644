//! Rollout decisions from where tenants stand: one wave per run, soak times, health gates, rollbacks.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::plan::{TenantPlan, TenantState};
use super::rollout::{Health, RolloutState, Staged, hold_tenant};
use crate::model::rollout::{Gates, Rollout, TenantRollout, Wave};

fn wave(name: &str, soak: Option<&str>) -> Wave {
    Wave { name: name.into(), tenants: Vec::new(), tenant_selector: None, percent: None, soak: soak.map(Into::into) }
}

fn standing(wave: usize, pending: usize, since: &str) -> TenantRollout {
    TenantRollout {
        profile: "baseline".into(),
        wave: ["pilot", "early", "broad"][wave].into(),
        wave_number: wave + 1,
        runs: Some(if pending == 0 { "new" } else { "old" }.into()),
        gets: "new".into(),
        since: (!since.is_empty()).then(|| since.to_string()),
        present: 3,
        pending,
        drifted: 0,
        rolled_back_from: None,
        waiting: None,
    }
}

fn staged(tenants: Vec<(usize, &str, Option<TenantRollout>)>) -> Staged {
    let rollout = Rollout {
        waves: vec![wave("pilot", Some("1h")), wave("early", Some("2h")), wave("broad", None)],
        gates: Gates::default(),
        pin: None,
    };
    let mut waves = vec![Vec::new(); 3];
    for (index, name, standing) in tenants {
        waves[index].push((name.to_string(), standing));
    }
    Staged::new("ns", "baseline", Arc::new(rollout), waves)
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().expect("timestamp")
}

#[test]
fn one_wave_per_run_after_the_soak_of_the_one_before() {
    let first = staged(vec![(0, "a", Some(standing(0, 1, ""))), (1, "b", Some(standing(1, 1, "")))]);
    let report = first.decide(&BTreeMap::new(), at("2026-12-01T00:00:00Z"));
    assert_eq!((report.state, report.wave), (RolloutState::Advancing, 1));
    assert!(first.health_checks().is_empty(), "nothing gates the first wave");

    let soaking = staged(vec![
        (0, "a", Some(standing(0, 0, "2026-12-01T00:00:00.5Z"))),
        (1, "b", Some(standing(1, 1, ""))),
        (2, "c", Some(standing(2, 1, ""))),
    ]);
    let early = soaking.decide(&BTreeMap::new(), at("2026-12-01T00:30:00Z"));
    assert_eq!((early.state, early.wave), (RolloutState::Waiting, 2));
    assert_eq!(early.soaks_until.as_deref(), Some("2026-12-01T01:00:01Z"), "rounded up to the second");
    let later = soaking.decide(&BTreeMap::new(), at("2026-12-01T01:00:01Z"));
    assert_eq!((later.state, later.wave), (RolloutState::Advancing, 2));
    assert_eq!(later.waves.iter().map(|w| (w.current, w.tenants)).collect::<Vec<_>>(), vec![(1, 1), (0, 1), (0, 1)]);
}

#[test]
fn an_incident_halts_an_unread_tenant_waits_and_a_rollback_holds() {
    let tenants = || vec![(0, "a", Some(standing(0, 0, "2026-12-01T00:00:00Z"))), (1, "b", Some(standing(1, 1, "")))];
    let checks = staged(tenants()).health_checks();
    assert_eq!(checks.iter().map(|c| c.tenant.as_str()).collect::<Vec<_>>(), vec!["a"]);
    let sick = Health { incidents: Some(Ok(vec!["7 \"Ransomware\" (high)".into()])), hunting_rows: None };
    let health = BTreeMap::from([("a".to_string(), sick)]);
    let halted = staged(tenants()).decide(&health, at("2026-12-02T00:00:00Z"));
    assert_eq!((halted.state, halted.blocked_by.as_deref()), (RolloutState::Halted, Some("a")));
    let unreadable = Health { incidents: Some(Err("timeout".into())), hunting_rows: None };
    let waiting = staged(tenants()).decide(&BTreeMap::from([("a".into(), unreadable)]), at("2026-12-02T00:00:00Z"));
    assert_eq!(waiting.state, RolloutState::Waiting, "an unknown health is no reason to go on");
    let rows = Health { incidents: Some(Ok(Vec::new())), hunting_rows: Some(Ok(2)) };
    let hunted = staged(tenants()).decide(&BTreeMap::from([("a".into(), rows)]), at("2026-12-02T00:00:00Z"));
    assert_eq!(hunted.state, RolloutState::Halted);
    assert!(hunted.reason.as_deref().is_some_and(|r| r.contains("hunting query returned 2 rows in a")), "{hunted:?}");
    let unknown = staged(vec![(0, "a", None), (1, "b", Some(standing(1, 1, "")))]);
    assert_eq!(unknown.decide(&BTreeMap::new(), at("2026-12-02T00:00:00Z")).wave, 1);

    let mut rolled_back = standing(1, 1, "");
    rolled_back.rolled_back_from = Some("FirewallPolicy/fw 0a1b2c3d".into());
    let held = staged(vec![(0, "a", Some(standing(0, 0, ""))), (1, "b", Some(rolled_back))]);
    let report = held.decide(&BTreeMap::new(), at("2026-12-02T00:00:00Z"));
    assert_eq!((report.state, report.blocked_by.as_deref()), (RolloutState::Halted, Some("b")));
}

#[test]
fn tenants_write_only_their_open_wave_and_joining_tenants_never_wait() {
    let report = staged(vec![(0, "a", Some(standing(0, 1, "")))]).decide(&BTreeMap::new(), at("2026-12-01T00:00:00Z"));
    let plan = |standing: TenantRollout| TenantPlan {
        rollouts: vec![standing],
        ..TenantPlan::empty("t", "id", TenantState::Planned)
    };
    let mut later = plan(standing(2, 1, ""));
    hold_tenant(&mut later, "ns", std::slice::from_ref(&report));
    assert_eq!(later.rollouts[0].waiting.as_deref(), Some("wave 3 (broad) waits for wave 1 (pilot)"));
    let mut joining = plan(TenantRollout { present: 0, ..standing(2, 4, "") });
    hold_tenant(&mut joining, "ns", std::slice::from_ref(&report));
    assert_eq!(joining.rollouts[0].waiting, None);
    let mut overridden = plan(TenantRollout { gets: "other".into(), ..standing(0, 1, "") });
    hold_tenant(&mut overridden, "ns", std::slice::from_ref(&report));
    assert!(overridden.rollouts[0].waiting.as_deref().is_some_and(|w| w.contains("not decided yet")));
}
