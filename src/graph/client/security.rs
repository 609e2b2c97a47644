//! The security API (v1.0): incidents and advanced hunting; and the fleet views' reads (managed
//! devices, risky users).

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::TenantClient;
use super::error::GraphError;
use super::http::{CallKind, decode_reply};
use crate::wire::common::{HuntingQueryRequest, HuntingQueryResponse, Incident};
use crate::wire::fleet::{ManagedDevice, RiskyUser};

impl TenantClient {
    /// Sets properties of an incident (`PATCH`, safe to repeat); the answer is the incident as stored.
    pub async fn update_incident(&self, id: &str, changes: &Map<String, Value>) -> Result<Incident, GraphError> {
        let url = self.url("v1.0", &format!("/security/incidents/{}", encode(id)))?;
        let reply = self.send_json(Method::PATCH, url.clone(), changes, CallKind::Write).await?;
        decode_reply("PATCH", &url, &reply.body)
    }

    /// Appends a comment to an incident. Not repeated when its answer is lost: a second copy is
    /// somebody's noise; the caller looks before commenting again.
    pub async fn add_incident_comment(&self, id: &str, comment: &str) -> Result<(), GraphError> {
        let url = self.url("v1.0", &format!("/security/incidents/{}/comments", encode(id)))?;
        let body = json!({"@odata.type": "microsoft.graph.security.alertComment", "comment": comment});
        self.send_json(Method::POST, url, &body, CallKind::Create).await.map(|_| ())
    }

    /// One incident with its alerts.
    pub async fn incident_with_alerts(&self, id: &str) -> Result<Value, GraphError> {
        let url = self.url("v1.0", &format!("/security/incidents/{}?$expand=alerts", encode(id)))?;
        let reply = self.execute(&super::http::Call::new(Method::GET, url.clone(), None, CallKind::Read)).await?;
        decode_reply("GET", &url, &reply.body)
    }

    /// Every Intune managed device (paged).
    pub async fn list_managed_devices(&self) -> Result<Vec<ManagedDevice>, GraphError> {
        self.get_all(self.url("v1.0", "/deviceManagement/managedDevices")?).await
    }

    /// Every user Entra ID Protection holds at risk, or held (paged).
    pub async fn list_risky_users(&self) -> Result<Vec<RiskyUser>, GraphError> {
        self.get_all(self.url("v1.0", "/identityProtection/riskyUsers")?).await
    }

    /// Every incident (paged), optionally narrowed by an OData `$filter`.
    pub async fn list_incidents(&self, filter: Option<&str>) -> Result<Vec<Incident>, GraphError> {
        let query = match filter {
            Some(filter) => {
                let encoded: String =
                    url::form_urlencoded::Serializer::new(String::new()).append_pair("$filter", filter).finish();
                format!("?{encoded}")
            }
            None => String::new(),
        };
        self.get_all(self.url("v1.0", &format!("/security/incidents{query}"))?).await
    }

    /// Runs a KQL query. A query has no side effect, so it is retried like a read.
    pub async fn run_hunting_query(
        &self,
        query: &str,
        timespan: Option<&str>,
    ) -> Result<HuntingQueryResponse, GraphError> {
        let url = self.url("v1.0", "/security/runHuntingQuery")?;
        let body = HuntingQueryRequest { query: query.to_string(), timespan: timespan.map(str::to_string) };
        let reply = self.send_json(Method::POST, url.clone(), &body, CallKind::Read).await?;
        decode_reply("POST", &url, &reply.body)
    }
}

/// An id as one path segment.
fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}
