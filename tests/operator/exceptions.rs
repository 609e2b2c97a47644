//! A PolicyException applied with kubectl: the operator leaves the excepted policy as the tenant has
//! it and reports it `Excepted` in the Tenant's status, with the exception, its owner and its expiry.

use super::harness::{OperatorOptions, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_excepted_policy_is_left_alone_and_reported_in_the_status() {
    let world = World::new("op-exceptions").await;
    world.apply_contoso().await;
    let _operator = world.operator("exceptions-0", "exceptions");
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
    let state = world
        .eventually("asr-block Excepted in the status", 30, || async {
            let tenant = world.tenants().get("fabrikam-emea").await.map_err(|e| e.to_string())?;
            let status = tenant.status.unwrap_or_default();
            let asr = status.policies.iter().find(|p| p.policy.name == "asr-block").cloned();
            match asr {
                Some(p) if format!("{:?}", p.state) == "Excepted" => Ok(p),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    let message = state.message.unwrap_or_default();
    assert!(message.contains("PolicyException/fabrikam-emea-till-lsass until 2027-06-30"), "{message}");
    let stored = world.description_of(
        super::support::FABRIKAM_EMEA,
        "[managed-by tenantctl: AttackSurfaceReductionPolicy/asr-block]",
    );
    assert!(stored.is_some(), "the policy is still there, as the tenant has it");
    let drifted = world.condition("fabrikam-emea", "Drifted").await.expect("Drifted condition");
    assert_eq!(drifted.status, "False", "an exception is not drift");
}

const LSASS: &str = "blockcredentialstealingfromwindowslocalsecurityauthoritysubsystem";

/// The LSASS rule's value in Fabrikam EMEA's copy of asr-block, as the lab stores it.
fn lsass_rule(world: &World) -> String {
    let policies = super::support::stored_policies(world.lab_state(), super::support::FABRIKAM_EMEA);
    let asr = policies.values().find(|p| {
        p["description"]
            .as_str()
            .is_some_and(|d| d.ends_with("[managed-by tenantctl: AttackSurfaceReductionPolicy/asr-block]"))
    });
    let text = asr.map(ToString::to_string).unwrap_or_default();
    ["audit", "block"].iter().find(|v| text.contains(&format!("{LSASS}_{v}"))).map_or("absent", |v| v).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_enforces_again_the_instant_an_exception_ends_and_honours_overrides() {
    let world = World::new("op-exception-expiry").await;
    world.apply_contoso().await;
    // The clock starts 40 s before the exception ends and the sync interval is ten minutes: only a
    // requeue at the expiry instant restores the rule within the test.
    let options = OperatorOptions {
        sync_interval: "600s",
        clock_from: Some("2027-06-30T23:59:20Z"),
        ..OperatorOptions::default()
    };
    let _operator = world.operator_with("expiry-0", "expiry", &options);
    world.wait_condition("fabrikam-emea", "Ready", "True", "Reconciled").await;
    assert_eq!(lsass_rule(&world), "audit", "in force: the rule stays as Fabrikam has it");
    let status = world.tenants().get("fabrikam-emea").await.expect("tenant").status.unwrap_or_default();
    let listed: Vec<(String, bool)> = status.exceptions.iter().map(|e| (e.name.clone(), e.in_force)).collect();
    assert_eq!(listed, vec![("fabrikam-emea-till-lsass".to_string(), true)]);

    // The override is honoured: Northwind US alone gets the extra exclusion.
    world.wait_condition("northwind-us", "Ready", "True", "Reconciled").await;
    let northwind = super::support::stored_policies(world.lab_state(), super::support::NORTHWIND_US);
    let shopfloor = northwind
        .values()
        .find(|p| {
            p["description"].as_str().is_some_and(|d| d.ends_with("AntivirusExclusionsPolicy/av-exclusions-shopfloor]"))
        })
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(shopfloor.contains(r"Northwind ERP\\Cache"), "{shopfloor}");

    world
        .eventually("the LSASS rule enforced again after the exception ends", 90, || async {
            let status =
                world.tenants().get("fabrikam-emea").await.map_err(|e| e.to_string())?.status.unwrap_or_default();
            let expired = status.exceptions.iter().any(|e| e.name == "fabrikam-emea-till-lsass" && !e.in_force);
            match (lsass_rule(&world).as_str(), expired) {
                ("block", true) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
}
