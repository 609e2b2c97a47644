//! Rendering of a realistic plan (the Contoso example against a synthetic live state), pinned by
//! snapshots: the human view, the stable JSON document and the Markdown comment.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tenantctl::engine::assignments::{GroupsByName, resolve_targets};
use tenantctl::engine::diff::{Observation, PlanOptions, plan};
use tenantctl::engine::managed::LiveTenant;
use tenantctl::engine::plan::Plan;
use tenantctl::engine::resolve::validate_and_resolve_at;
use tenantctl::engine::resolve::{DesiredPolicy, DesiredState};
use tenantctl::manifest::load::{Input, load_inputs};
use tenantctl::render::{self, Heading, Style};
use tenantctl::wire::common::Group;
use tenantctl::wire::{ChoiceValue, ConfigurationPolicy, PolicyAssignment, SettingInstance};

/// The day the examples' exceptions are judged at, whatever the clock says.
const TODAY: jiff::Timestamp = jiff::Timestamp::constant(1_796_083_200, 0);

fn desired() -> DesiredState {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/contoso");
    let loaded = load_inputs(&[Input::Path(root)], &mut || unreachable!("no stdin"));
    assert!(loaded.diagnostics.is_empty());
    validate_and_resolve_at(&loaded.set, TODAY).0.desired
}

fn groups() -> GroupsByName {
    let group = |name: &str, id: &str| (name.to_string(), vec![Group { id: id.into(), display_name: name.into() }]);
    [
        group("SG-Retail-Devices", "6f1d0c1a-0000-4000-8000-000000000001"),
        group("SG-Break-Glass-Devices", "6f1d0c1a-0000-4000-8000-000000000002"),
    ]
    .into()
}

fn live_copy(policy: &DesiredPolicy, id: &str) -> ConfigurationPolicy {
    let mut live = ConfigurationPolicy::clone(&policy.payload);
    live.id = Some(id.into());
    live.created_date_time = Some("2026-10-01T08:00:00Z".into());
    let targets = resolve_targets(&policy.assignments, &groups()).expect("targets");
    live.assignments = Some(targets.into_iter().map(|target| PolicyAssignment { id: None, target }).collect());
    live
}

/// Sets `blockCredentialStealingFromLsass` to audit in a rendered ASR policy.
fn drift_lsass(policy: &mut ConfigurationPolicy) {
    let SettingInstance::GroupCollection { group_setting_collection_value, .. } =
        &mut policy.settings[0].setting_instance
    else {
        panic!("ASR container")
    };
    for rule in &mut group_setting_collection_value[0].children {
        if let SettingInstance::Choice { setting_definition_id, choice_setting_value, .. } = rule
            && setting_definition_id.ends_with("blockcredentialstealingfromwindowslocalsecurityauthoritysubsystem")
        {
            *choice_setting_value = ChoiceValue::new(format!("{setting_definition_id}_audit"), vec![]);
        }
    }
}

fn contoso_plan() -> Plan {
    let desired = desired();
    let mut observations = BTreeMap::new();
    for tenant in &desired.tenants {
        let find =
            |reference: &str| tenant.policies.iter().find(|p| p.object.to_string() == reference).expect(reference);
        let mut policies = Vec::new();
        match tenant.name.as_str() {
            "fabrikam-emea" => {
                let mut asr = live_copy(find("AttackSurfaceReductionPolicy/asr-block"), "a1");
                drift_lsass(&mut asr);
                policies.push(asr);
                let mut hand_made = ConfigurationPolicy::clone(&find("AntivirusPolicy/av-standard").payload);
                hand_made.id = Some("u1".into());
                hand_made.description = "Created in the Intune portal".into();
                policies.push(hand_made);
            }
            "northwind-us" => policies.push(live_copy(find("FirewallPolicy/firewall-baseline"), "f1")),
            "litware-us" => {
                let reason = "token request for tenant 8e0a2c4f-6b93-4d1e-b5a7-3f9b1d5e7a99 failed: unauthorized_client \
                              (AADSTS700016: Application with identifier '2b4d…' was not found in the directory)";
                observations.insert(tenant.name.clone(), Observation::Unknown(reason.into()));
                continue;
            }
            _ => {}
        }
        let mut live = LiveTenant { policies, groups: groups(), ..LiveTenant::default() };
        live.policies.sort_by(|a, b| a.id.cmp(&b.id));
        observations.insert(tenant.name.clone(), Observation::Observed(live));
    }
    plan(&desired, &observations, PlanOptions::default())
}

#[test]
fn human_view() {
    let mut out = Vec::new();
    render::human::render(&contoso_plan(), Heading::Plan, Style::PLAIN, &mut out).expect("render");
    insta::assert_snapshot!(String::from_utf8(out).expect("utf-8"));
}

#[test]
fn json_document() {
    let mut out = Vec::new();
    render::json::render(&contoso_plan(), &mut out).expect("render");
    let value: serde_json::Value = serde_json::from_slice(&out).expect("json");
    let summary = &value["summary"];
    for key in ["create", "update", "delete", "unchanged", "tenants", "unknownTenants"] {
        assert!(summary[key].is_u64(), "summary.{key} is an integer");
    }
    assert!(value["tenants"][0]["changes"].is_array());
    assert!(!String::from_utf8_lossy(&out).contains("\"payload\""), "payloads only in saved plans");
    insta::assert_snapshot!(String::from_utf8(out).expect("utf-8"));
}

#[test]
fn markdown_comment() {
    let mut out = Vec::new();
    render::markdown::render(&contoso_plan(), Heading::Plan, &mut out).expect("render");
    insta::assert_snapshot!(String::from_utf8(out).expect("utf-8"));
}
