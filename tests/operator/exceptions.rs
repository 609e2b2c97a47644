//! A PolicyException applied with kubectl: the operator leaves the excepted policy as the tenant has
//! it and reports it `Excepted` in the Tenant's status, with the exception, its owner and its expiry.

use super::harness::World;

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
