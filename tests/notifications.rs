//! `drift --notify` against the lab, a real SMTP server (aiosmtpd from PyPI, on loopback) and a local
//! webhook receiver: a drift that persists over three cycles is told exactly once per target; a
//! changed set of findings is told again.

#[allow(dead_code)]
#[path = "workflow/support.rs"]
mod support;

#[path = "smtp/receivers.rs"]
mod receivers;

use std::path::Path;
use std::process::Command;

use receivers::{SmtpServer, webhook_receiver};
use serde_json::Value;
use support::{LabProcess, contoso_state, expect_code, root, stderr};

/// These files of the Contoso example and its policies, copied into `work/manifests`.
fn contoso_copy(work: &Path, files: &[&str]) -> std::path::PathBuf {
    let manifests = work.join("manifests");
    std::fs::create_dir_all(manifests.join("policies")).expect("mkdir");
    for file in files {
        std::fs::copy(root().join("examples/contoso").join(file), manifests.join(file)).expect("copy");
    }
    for entry in std::fs::read_dir(root().join("examples/contoso/policies")).expect("policies") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), manifests.join("policies").join(entry.file_name())).expect("copy");
    }
    manifests
}

/// `drift --notify` on the embedded lab, on the given day.
fn drift_on_lab(manifests: &Path, notify_state: &Path, lab_state: &Path, day: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["drift", "-f"])
        .arg(manifests)
        .args(["--notify", "--notify-state"])
        .arg(notify_state)
        .args(["--lab", "--lab-state"])
        .arg(lab_state)
        .env("TENANTCTL_NOW", day)
        .current_dir(root())
        .output()
        .expect("drift runs")
}

#[test]
fn drift_persisting_over_three_cycles_is_notified_once_per_target() {
    let state = contoso_state();
    let lab = LabProcess::serve(state.path(), &[]);
    let work = tempfile::tempdir().expect("tempdir");
    let smtp = SmtpServer::start(work.path());
    let (hook_url, received) = webhook_receiver();

    let manifests = contoso_copy(work.path(), &["tenants.yaml", "profiles.yaml"]);
    std::fs::write(
        manifests.join("notifications.yaml"),
        format!(
            "apiVersion: tenantctl.dev/v1alpha1\nkind: NotificationPolicy\nmetadata: {{name: soc}}\nspec:\n  triggers: [drift]\n  \
             email:\n    smtp: {{host: 127.0.0.1, port: {}, security: none}}\n    from: tenantctl@contoso.example\n    \
             to: [soc@contoso.example, oncall@contoso.example]\n  webhook:\n    url: {hook_url}\n    \
             authorization: {{env: SOC_WEBHOOK_TOKEN}}\n",
            smtp.port
        ),
    )
    .expect("write");
    let notify_state = work.path().join("notify-state");
    let drift = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenantctl"));
        let app: Value =
            serde_json::from_str(&std::fs::read_to_string(state.path().join("lab.json")).expect("lab.json"))
                .expect("json");
        command
            .args(["drift", "-f"])
            .arg(&manifests)
            .args(["--notify", "--notify-state"])
            .arg(&notify_state)
            .args(["--graph-url", &lab.url, "--login-url", &lab.url])
            .env("AZURE_CLIENT_ID", app["apps"][0]["clientId"].as_str().expect("id"))
            .env("AZURE_CLIENT_SECRET", app["apps"][0]["clientSecret"].as_str().expect("secret"))
            .env("SOC_WEBHOOK_TOKEN", "Bearer webhook-canary")
            .current_dir(root())
            .output()
            .expect("drift runs")
    };

    for cycle in 1..=3 {
        let output = drift();
        // Drift found (2), woodgrove-emea unreadable with its own app: exit 3 outranks 2.
        expect_code(&output, 3);
        let expected = if cycle == 1 { "email sent" } else { "email not sent: nothing changed" };
        assert!(stderr(&output).contains(expected), "cycle {cycle}: {}", stderr(&output));
    }
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one email for a drift that persisted over three cycles");
    assert!(messages[0].contains("Subject: [tenantctl] "), "{}", messages[0]);
    assert!(messages[0].contains("drifted across"), "{}", messages[0]);
    assert!(messages[0].contains("fabrikam-emea"), "{}", messages[0]);
    assert!(messages[0].contains("soc@contoso.example") && messages[0].contains("oncall@contoso.example"));
    {
        let hooks = received.lock().expect("lock");
        assert_eq!(hooks.len(), 1, "one webhook call");
        assert_eq!(hooks[0].0.as_deref(), Some("Bearer webhook-canary"));
        assert_eq!(hooks[0].1["notificationPolicy"], "soc");
        assert!(hooks[0].1["findings"].as_array().is_some_and(|f| !f.is_empty()));
        assert!(hooks[0].1["findings"].as_array().expect("findings").iter().all(|f| f["trigger"] == "drift"));
    }

    // Applying repairs the enforce-mode drift: the set of findings changes, and that is told once more.
    let apply = lab.tenantctl(state.path(), &["apply", "-f", &manifests.to_string_lossy(), "--auto-approve"]);
    assert!(matches!(apply.status.code(), Some(0 | 3)), "{}", stderr(&apply));
    let after = drift();
    assert!(stderr(&after).contains("email sent"), "{}", stderr(&after));
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(received.lock().expect("lock").len(), 2);
    assert!(!stderr(&after).contains("webhook-canary"), "secrets never printed");
}

#[test]
fn an_exception_is_told_once_as_it_nears_its_end_and_once_more_when_it_has_ended() {
    let state = contoso_state();
    let work = tempfile::tempdir().expect("tempdir");
    let smtp = SmtpServer::start(work.path());
    let manifests = contoso_copy(work.path(), &["tenants.yaml", "profiles.yaml", "exceptions.yaml"]);
    std::fs::write(
        manifests.join("notifications.yaml"),
        format!(
            "apiVersion: tenantctl.dev/v1alpha1\nkind: NotificationPolicy\nmetadata: {{name: owners}}\nspec:\n  \
             triggers: [exceptionExpiring]\n  exceptionWarningDays: 14\n  \
             email:\n    smtp: {{host: 127.0.0.1, port: {}, security: none}}\n    from: tenantctl@contoso.example\n    \
             to: [soc-lead@contoso.example]\n",
            smtp.port
        ),
    )
    .expect("write");
    let notify_state = work.path().join("notify-state");
    let drift_on = |day: &str| stderr(&drift_on_lab(&manifests, &notify_state, state.path(), day));

    // The exception holds through 2027-06-30: on June 17th it has 14 days left, and it enters the window.
    let days = ["2027-06-01", "2027-06-16", "2027-06-17", "2027-06-18", "2027-06-30", "2027-07-01", "2027-07-02"];
    let told: Vec<bool> =
        days.iter().map(|day| drift_on(day).contains("NotificationPolicy/owners: email sent")).collect();
    assert_eq!(told, [false, false, true, false, false, true, false], "told on {days:?}");
    // Quoted-printable soft line breaks joined again.
    let messages: Vec<String> = smtp.messages().iter().map(|m| m.replace("=\r\n", "").replace("=\n", "")).collect();
    assert_eq!(messages.len(), 2);
    // A maildir lists messages in no particular order.
    assert!(messages.iter().all(|m| m.contains("1 exception expiring or expired across 1 tenant")), "{messages:?}");
    let nearing = "AttackSurfaceReductionPolicy/asr-block is enforced again after 2027-06-30 (14 days left; owner soc-lead@contoso.example)";
    assert!(messages.iter().any(|m| m.contains(nearing)), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("expired on 2027-06-30")), "{messages:?}");
}

#[test]
fn a_new_medium_incident_is_told_once_and_case_tasks_with_it() {
    let state = contoso_state();
    let work = tempfile::tempdir().expect("tempdir");
    let smtp = SmtpServer::start(work.path());
    let manifests = contoso_copy(work.path(), &["tenants.yaml", "profiles.yaml", "cases.yaml"]);
    std::fs::write(
        manifests.join("notifications.yaml"),
        format!(
            "apiVersion: tenantctl.dev/v1alpha1\nkind: NotificationPolicy\nmetadata: {{name: soc}}\nspec:\n  \
             triggers: [incident, caseTask]\n  incidentSeverities: [medium]\n  \
             email:\n    smtp: {{host: 127.0.0.1, port: {}, security: none}}\n    from: tenantctl@contoso.example\n    \
             to: [soc@contoso.example]\n",
            smtp.port
        ),
    )
    .expect("write");
    let notify_state = work.path().join("notify-state");
    let drift = || {
        stderr(&drift_on_lab(&manifests, &notify_state, state.path(), "2026-12-01"))
            .contains("NotificationPolicy/soc: email sent")
    };
    assert!(drift(), "the first run tells what there is");
    assert!(!drift(), "nothing new");
    let before = smtp.messages().len();
    assert!(smtp.messages()[0].contains("case task"), "{}", smtp.messages()[0]);

    // A new medium-severity incident in Fabrikam EMEA.
    let dir = state.path().join("tenants/4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11/incidents");
    let incident = serde_json::json!({
        "id": "2999", "displayName": "Suspicious inbox forwarding rule", "severity": "medium", "status": "active",
        "createdDateTime": "2026-11-30T10:00:00.0000000Z", "lastUpdateDateTime": "2026-11-30T10:00:00.0000000Z",
        "assignedTo": null, "classification": "unknown", "determination": "unknown", "customTags": [],
        "systemTags": [], "comments": [], "tenantId": "4f1c2a0e-6b7d-4c3e-9a21-1d5e8f0b7a11"
    });
    std::fs::write(dir.join("2999.json"), incident.to_string()).expect("write");
    assert!(drift(), "the new incident is news");
    assert!(!drift(), "and only once");
    let messages: Vec<String> = smtp.messages().iter().map(|m| m.replace("=\r\n", "").replace("=\n", "")).collect();
    assert_eq!(messages.len(), before + 1, "exactly one more email");
    assert!(messages.iter().any(|m| m.contains("incident 2999")), "{messages:?}");
}
