//! Defender custom detection rules (Graph beta `security/rules/detectionRules`).

use reqwest::Method;

use super::TenantClient;
use super::error::GraphError;
use super::http::{Call, CallKind, decode_reply};
use super::policies::segment;
use crate::wire::detection::DetectionRule;

const RULES: &str = "/security/rules/detectionRules";

impl TenantClient {
    /// Every custom detection rule (paged).
    pub async fn list_detection_rules(&self) -> Result<Vec<DetectionRule>, GraphError> {
        self.get_all(self.url("beta", RULES)?).await
    }

    /// The rule of this id; `None` when Graph answers 404.
    pub async fn get_detection_rule(&self, id: &str) -> Result<Option<DetectionRule>, GraphError> {
        let url = self.url("beta", &format!("{RULES}/{}", segment(id)))?;
        match self.execute(&Call::new(Method::GET, url.clone(), None, CallKind::Read)).await {
            Ok(reply) => decode_reply("GET", &url, &reply.body).map(Some),
            Err(error) if error.status() == Some(404) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Creates a rule under the id it carries. Not retried once it may have reached Graph: the
    /// engine decides, and a second attempt under the same id is refused as a duplicate (409).
    pub async fn create_detection_rule(&self, rule: &DetectionRule) -> Result<DetectionRule, GraphError> {
        let url = self.url("beta", RULES)?;
        let reply = self.send_json(Method::POST, url.clone(), rule, CallKind::Create).await?;
        decode_reply("POST", &url, &reply.body)
    }

    pub async fn update_detection_rule(&self, id: &str, rule: &DetectionRule) -> Result<(), GraphError> {
        let url = self.url("beta", &format!("{RULES}/{}", segment(id)))?;
        self.send_json(Method::PATCH, url, rule, CallKind::Write).await.map(|_| ())
    }

    pub async fn delete_detection_rule(&self, id: &str) -> Result<(), GraphError> {
        let url = self.url("beta", &format!("{RULES}/{}", segment(id)))?;
        self.execute(&Call::new(Method::DELETE, url, None, CallKind::Write)).await.map(|_| ())
    }
}
