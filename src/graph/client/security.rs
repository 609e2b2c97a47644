//! The security API (v1.0): incidents and advanced hunting.

use reqwest::Method;

use super::TenantClient;
use super::error::GraphError;
use super::http::{CallKind, decode_reply};
use crate::wire::common::{HuntingQueryRequest, HuntingQueryResponse, Incident};

impl TenantClient {
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
