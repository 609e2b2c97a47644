//! The operator tells a NotificationPolicy's email (a real SMTP server) and webhook about drift and
//! active high-severity incidents once per set of findings, however many sync cycles pass, and again
//! when the set changes.

use std::time::Duration;

use tenantctl::model::NotificationPolicy;

use super::harness::World;
use super::receivers::{SmtpServer, webhook_receiver};

const RESOURCES: &str = r#"
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: fabrikam-emea, labels: {business-group: retail}}
spec: {tenantId: 4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11, displayName: Fabrikam Retail EMEA}
---
apiVersion: tenantctl.dev/v1alpha1
kind: Tenant
metadata: {name: fabrikam-us, labels: {business-group: retail}}
spec: {tenantId: 7a3e9c51-2d84-4f6b-8e10-3c9d2b7f4e22, displayName: Fabrikam Retail US}
---
apiVersion: v1
kind: Secret
metadata: {name: soc-webhook}
stringData: {token: Bearer operator-webhook-canary}
"#;

fn profile(mode: &str) -> String {
    format!(
        "apiVersion: tenantctl.dev/v1alpha1\nkind: DistributionProfile\nmetadata: {{name: strict}}\nspec:\n  \
         tenantSelector: {{matchLabels: {{business-group: retail}}}}\n  policies: [{{kind: AntivirusPolicy, name: av-strict}}]\n  \
         assignments: {{allDevices: true}}\n  mode: {mode}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_and_incidents_are_told_once_per_set_of_findings() {
    let world = World::new("op-notify").await;
    let work = tempfile::tempdir().expect("tempdir");
    let smtp = SmtpServer::start(work.path());
    let (hook_url, received) = webhook_receiver();
    world.apply(RESOURCES).await;
    world
        .apply(
            &std::fs::read_to_string(super::support::root().join("examples/contoso/policies/av-strict.yaml"))
                .expect("policy"),
        )
        .await;
    world.apply(&profile("audit")).await;
    world
        .apply(&format!(
            "apiVersion: tenantctl.dev/v1alpha1\nkind: NotificationPolicy\nmetadata: {{name: soc}}\nspec:\n  \
             triggers: [drift, highSeverityIncident]\n  email:\n    smtp: {{host: 127.0.0.1, port: {}, security: none}}\n    \
             from: tenantctl@contoso.example\n    to: [soc@contoso.example]\n  webhook:\n    url: {hook_url}\n    \
             authorization: {{secretRef: {{name: soc-webhook, key: token}}}}\n",
            smtp.port
        ))
        .await;
    let operator = world.operator("notify-0", "notify");

    world
        .eventually("the first email", 60, || async {
            if smtp.messages().len() == 1 { Ok(()) } else { Err(format!("{} emails", smtp.messages().len())) }
        })
        .await;
    // More than three sync intervals (3 s) with the same findings: nothing more is sent.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one email for findings that persisted over several cycles");
    assert!(messages[0].contains("2 drifted, 3 high-severity incidents across 2 tenants"), "{}", messages[0]);
    {
        let hooks = received.lock().expect("lock");
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].0.as_deref(), Some("Bearer operator-webhook-canary"));
    }
    let policies: kube::Api<NotificationPolicy> = kube::Api::namespaced(world.admin.clone(), &world.namespace);
    let status = policies.get("soc").await.expect("policy").status.expect("status");
    let email = status.email.expect("email status");
    assert_eq!(email.findings, 5);
    assert!(email.findings_digest.is_some() && email.last_error.is_none());

    // Enforcing repairs the drift: the findings change (incidents only), and that is told once more.
    world.apply(&profile("enforce")).await;
    world
        .eventually("the second email", 60, || async {
            if smtp.messages().len() == 2 { Ok(()) } else { Err(format!("{} emails", smtp.messages().len())) }
        })
        .await;
    assert!(smtp.messages().iter().any(|m| m.contains("3 high-severity incidents across 2 tenants")));
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(received.lock().expect("lock").len(), 2);
    assert!(!operator.log_text().contains("operator-webhook-canary"), "secrets never logged");
}
