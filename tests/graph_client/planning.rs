use std::time::Duration;

use std::collections::BTreeMap;

use tenantctl::engine::diff::{Observation, PlanOptions, plan};
use tenantctl::engine::observe::{observe_and_plan, observe_tenant};
use tenantctl::engine::plan::{Plan, TenantState};
use tenantctl::engine::resolve::validate_and_resolve_at;
use tenantctl::graph::client::{Credential, Credentials, GraphClient, GraphConfig};
use tenantctl::lab::{InitOptions, init, read_lab_credentials};
use tenantctl::manifest::load::{Input, load_inputs};

use super::support::Lab;

/// The day the examples' exceptions are judged at, whatever the clock says.
const TODAY: jiff::Timestamp = jiff::Timestamp::constant(1_796_083_200, 0);

#[tokio::test(flavor = "multi_thread")]
async fn planning_each_tenant_as_it_is_read_makes_the_same_plan() {
    let dir = tempfile::tempdir().expect("tempdir");
    init(dir.path(), &InitOptions { tenants: 6, policies: 6, seed: 4 }).expect("lab init");
    let loaded = load_inputs(&[Input::Path(dir.path().join("manifests"))], &mut || unreachable!("no stdin"));
    let mut desired = validate_and_resolve_at(&loaded.set, TODAY).0.desired;
    desired.tenants[1].suspended = true;
    let unreachable = desired.tenants[2].tenant_id.clone();
    let app = read_lab_credentials(dir.path()).expect("lab.json");
    let lab = Lab::serve(dir, &["--failing-tenant", &unreachable]);
    let mut config = GraphConfig::new(&lab.url, &lab.url).expect("config");
    (config.backoff_base, config.max_retries) = (Duration::from_millis(5), 2);
    let credential = Credential::ClientSecret { client_id: app.client_id, secret: app.client_secret };
    let client = GraphClient::new(config, Credentials::with_default(credential)).expect("client");

    let mut observations = BTreeMap::new();
    for tenant in desired.tenants.iter().filter(|t| !t.suspended) {
        let observation = match observe_tenant(&client.tenant(&tenant.tenant_id), tenant).await {
            Ok(live) => Observation::Observed(live),
            Err(error) => Observation::Unknown(error.to_string()),
        };
        observations.insert(tenant.name.clone(), observation);
    }
    let expected = without_request_ids(plan(&desired, &observations, PlanOptions::default()));
    let connect = |tenant: &tenantctl::engine::resolve::TenantDesired| client.tenant(&tenant.tenant_id);
    let planned =
        without_request_ids(observe_and_plan(connect, &desired, 4, PlanOptions::default(), None, &|_| {}).await);
    assert_eq!(planned, expected);
    let s = &planned.summary;
    assert!(s.update > 0 && s.unchanged > 0 && s.unmanaged > 0, "drift, no-ops and unmanaged: {s:?}");
    assert_eq!(s.unknown_tenants, 1, "{s:?}");
    assert!(planned.tenants.iter().any(|t| t.state == TenantState::Suspended));
}

/// Each request has an id of its own, and the problems of an unknown tenant quote it.
fn without_request_ids(mut plan: Plan) -> Plan {
    for problem in plan.tenants.iter_mut().flat_map(|t| t.problems.iter_mut()) {
        if let Some(start) = problem.message.find(" (request-id ") {
            problem.message.truncate(start);
        }
    }
    plan
}
