//! Delivery: email through SMTP (lettre) and a JSON `POST` to a webhook. Each target is told once
//! per set of findings; a failed delivery is retried at the next cycle.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;

use super::findings::Findings;
use crate::model::notification::{
    DeliveryStatus, EmailTarget, NotificationPolicySpec, NotificationPolicyStatus, SecretValue, SmtpSecurity,
    WebhookTarget,
};
use crate::util::secret::Secret;

/// Looks a secret value up (environment variable, or Secret for the operator).
pub type SecretLookup<'a> = &'a (dyn Fn(&SecretValue) -> Result<Secret, String> + Sync);

/// A secret value from the environment variable `name` (the CLI's only source, the operator's first).
pub fn secret_from_env(name: &str) -> Result<Secret, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret::new)
        .ok_or(format!("environment variable {name} is not set"))
}

/// Delivers `findings` for the policy `name` to every target that has not been told this set yet,
/// and returns the new status. Delivery problems are recorded in the status, not returned.
pub async fn notify(
    name: &str,
    spec: &NotificationPolicySpec,
    findings: &Findings,
    previous: &NotificationPolicyStatus,
    secret: SecretLookup<'_>,
) -> NotificationPolicyStatus {
    let mut status = previous.clone();
    if let Some(email) = &spec.email {
        let last = previous.email.clone().unwrap_or_default();
        if findings.is_news(last.findings_digest.as_deref()) {
            status.email = Some(delivered(last, findings, send_email(name, email, findings, secret).await));
        }
    }
    if let Some(webhook) = &spec.webhook {
        let last = previous.webhook.clone().unwrap_or_default();
        if findings.is_news(last.findings_digest.as_deref()) {
            status.webhook = Some(delivered(last, findings, send_webhook(name, webhook, findings, secret).await));
        }
    }
    status
}

fn delivered(last: DeliveryStatus, findings: &Findings, result: Result<(), String>) -> DeliveryStatus {
    match result {
        Ok(()) => DeliveryStatus {
            findings_digest: Some(findings.digest()),
            findings: findings.len() as u32,
            last_sent_time: Some(Time(jiff::Timestamp::now())),
            last_error: None,
        },
        Err(error) => DeliveryStatus { last_error: Some(error), ..last },
    }
}

fn body_text(name: &str, findings: &Findings) -> String {
    let mut text = format!("tenantctl notification policy {name}: {}.\n\n", findings.summary());
    for finding in &findings.0 {
        let tenant = if finding.tenant.is_empty() { String::new() } else { format!("{}: ", finding.tenant) };
        text.push_str(&format!("- [{:?}] {tenant}{} — {}\n", finding.trigger, finding.subject, finding.detail));
    }
    text
}

async fn send_email(
    name: &str,
    email: &EmailTarget,
    findings: &Findings,
    secret: SecretLookup<'_>,
) -> Result<(), String> {
    let from: Mailbox = email.from.parse().map_err(|e| format!("from `{}`: {e}", email.from))?;
    let mut message = Message::builder().from(from).subject(format!("[tenantctl] {}", findings.summary()));
    for to in &email.to {
        message = message.to(to.parse().map_err(|e| format!("to `{to}`: {e}"))?);
    }
    let message = message.body(body_text(name, findings)).map_err(|e| format!("cannot build the email: {e}"))?;
    let smtp = &email.smtp;
    let mut transport = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| format!("SMTP {}: {e}", smtp.host))?,
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| format!("SMTP {}: {e}", smtp.host))?
        }
    }
    .port(smtp.port)
    .timeout(Some(Duration::from_secs(30)));
    if let (Some(username), Some(password)) = (&smtp.username, &smtp.password) {
        let password = secret(password)?;
        transport = transport.credentials(Credentials::new(username.clone(), password.expose().to_string()));
    }
    transport.build().send(message).await.map(|_| ()).map_err(|e| format!("SMTP {}:{}: {e}", smtp.host, smtp.port))
}

async fn send_webhook(
    name: &str,
    webhook: &WebhookTarget,
    findings: &Findings,
    secret: SecretLookup<'_>,
) -> Result<(), String> {
    let url = crate::util::endpoint::parse_endpoint(&webhook.url, "webhook URL")?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("tenantctl/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let body = json!({
        "notificationPolicy": name,
        "summary": findings.summary(),
        "text": body_text(name, findings),
        "findings": findings.0,
    });
    let mut request = client.post(url.clone()).json(&body);
    if let Some(authorization) = &webhook.authorization {
        request = request.header(reqwest::header::AUTHORIZATION, secret(authorization)?.expose());
    }
    let response =
        request.send().await.map_err(|e| format!("webhook {}: {}", url.host_str().unwrap_or(""), e.without_url()))?;
    if !response.status().is_success() {
        return Err(format!("webhook {} answered {}", url.host_str().unwrap_or(""), response.status()));
    }
    Ok(())
}
