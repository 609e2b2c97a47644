//! Settings Catalog policies, their assignments, and the groups assignments name.

use std::collections::BTreeMap;

use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use url::Url;

use super::TenantClient;
use super::error::GraphError;
use super::http::{CallKind, decode_reply};
use crate::wire::batch_reply::{BatchItemOf, BatchResponseOf};
use crate::wire::common::{AssignRequest, BatchRequest, BatchRequestItem, BatchResponseItem, Group, Page};
use crate::wire::{ConfigurationPolicy, PolicyAssignment, Setting, decoding_shared};

const POLICIES: &str = "/deviceManagement/configurationPolicies";
/// The properties a list of policies selects: all the plan needs of a policy it does not read in full.
const LISTED: &str = "id,name,description,platforms,technologies,roleScopeTagIds,templateReference,settingCount,\
createdDateTime,lastModifiedDateTime";
/// Items asked per page of a list.
const MAX_TOP: usize = 1000;
/// Graph's limit of requests in one `$batch`.
pub const BATCH_LIMIT: usize = 20;
/// `$batch` requests of reads one tenant has in flight at once (80 policies' settings in one round
/// trip). Intune counts each request of a batch against the tenant's budget, concurrent or not.
const READ_BATCHES_AT_ONCE: usize = 4;

/// Percent-encodes one path segment (ids come from Graph, but they are data, not URL syntax).
pub(super) fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>().replace('+', "%20")
}

/// An OData string literal: quotes doubled.
fn odata_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl TenantClient {
    /// Every configuration policy without its settings: identity, description (which carries the
    /// ownership marker), template, version (`lastModifiedDateTime`, `settingCount`) and
    /// assignments, in pages of up to 1000. Settings are read apart ([`Self::read_policies`]) for the
    /// policies that need them: Intune pages a list that expands settings one or two policies at a
    /// time, whatever `$top` asks.
    pub async fn list_policies(&self) -> Result<Vec<ConfigurationPolicy>, GraphError> {
        let url = self.url("beta", &format!("{POLICIES}?$select={LISTED}&$expand=assignments&$top={MAX_TOP}"))?;
        self.get_all(url).await
    }

    /// The policies of these ids with their settings (not their assignments: Intune has been seen
    /// answering a single policy's `$expand=assignments` with none), in `$batch` requests of 20. A
    /// policy deleted since it was listed is left out.
    pub async fn read_policies(&self, ids: &[String]) -> Result<Vec<ConfigurationPolicy>, GraphError> {
        let requests = batch_gets(ids.iter().map(|id| format!("{POLICIES}/{}?$expand=settings", segment(id))));
        let mut policies = Vec::with_capacity(ids.len());
        // Bodies are decoded as the reply is read; tenants mostly hold the same baselines, and equal
        // settings are decoded once (`decoding_shared`).
        for response in self.batch_decoding::<ConfigurationPolicy>("beta", requests).await? {
            match (response.item.status, response.decoded) {
                (200, Some(policy)) => policies.push(policy),
                (200, None) => {
                    let policy: ConfigurationPolicy = decoding_shared(|| {
                        serde_json::from_str(response.item.body_text())
                    })
                    .map_err(|e| GraphError::Decode {
                        method: "GET".into(),
                        path: format!("/beta{POLICIES}/{{id}}"),
                        message: e.to_string(),
                    })?;
                    policies.push(policy);
                }
                (404, _) => {}
                _ => return Err(batch_item_error("GET", &format!("/beta{POLICIES}/{{id}}"), &response.item)),
            }
        }
        for policy in &mut policies {
            // A policy whose inline settings look cut short is read setting by setting, paged.
            let truncated = policy.setting_count.is_some_and(|count| count > policy.settings.len() as i64);
            if let (true, Some(id)) = (truncated, policy.id.clone()) {
                policy.settings = self.list_policy_settings(&id).await?.into();
            }
        }
        Ok(policies)
    }

    /// Every policy with its settings and assignments: the list, then every policy's settings.
    pub async fn list_policies_in_full(&self) -> Result<Vec<ConfigurationPolicy>, GraphError> {
        let mut policies = self.list_policies().await?;
        let ids: Vec<String> = policies.iter().filter_map(|p| p.id.clone()).collect();
        let mut read: BTreeMap<String, ConfigurationPolicy> =
            self.read_policies(&ids).await?.into_iter().filter_map(|p| Some((p.id.clone()?, p))).collect();
        policies.retain_mut(|policy| match policy.id.as_ref().and_then(|id| read.remove(id)) {
            Some(full) => {
                policy.settings = full.settings;
                true
            }
            None => false,
        });
        Ok(policies)
    }

    /// One policy with its settings and assignments.
    pub async fn get_policy(&self, id: &str) -> Result<ConfigurationPolicy, GraphError> {
        let url = self.url("beta", &format!("{POLICIES}/{}?$expand=settings,assignments", segment(id)))?;
        self.get_json(url).await
    }

    /// Every setting of a policy (paged).
    pub async fn list_policy_settings(&self, id: &str) -> Result<Vec<Setting>, GraphError> {
        self.get_all(self.url("beta", &format!("{POLICIES}/{}/settings?$top={MAX_TOP}", segment(id)))?).await
    }

    /// Creates a policy. Not retried once it may have reached Graph: on an ambiguous failure the
    /// caller must look for the policy (by its ownership marker) before creating it again.
    pub async fn create_policy(&self, policy: &ConfigurationPolicy) -> Result<ConfigurationPolicy, GraphError> {
        let url = self.url("beta", POLICIES)?;
        let reply = self.send_json(Method::POST, url.clone(), policy, CallKind::Create).await?;
        decode_reply("POST", &url, &reply.body)
    }

    /// Replaces a policy, settings included (`PUT`, as Intune tooling does; `PATCH` leaves settings).
    pub async fn update_policy(&self, id: &str, policy: &ConfigurationPolicy) -> Result<(), GraphError> {
        let url = self.url("beta", &format!("{POLICIES}/{}", segment(id)))?;
        self.send_json(Method::PUT, url, policy, CallKind::Write).await.map(|_| ())
    }

    pub async fn delete_policy(&self, id: &str) -> Result<(), GraphError> {
        let url = self.url("beta", &format!("{POLICIES}/{}", segment(id)))?;
        self.execute(&super::http::Call::new(Method::DELETE, url, None, CallKind::Write)).await.map(|_| ())
    }

    pub async fn list_assignments(&self, id: &str) -> Result<Vec<PolicyAssignment>, GraphError> {
        self.get_all(self.url("beta", &format!("{POLICIES}/{}/assignments", segment(id)))?).await
    }

    /// Replaces the whole assignment set of a policy.
    pub async fn assign(
        &self,
        id: &str,
        assignments: Vec<PolicyAssignment>,
    ) -> Result<Vec<PolicyAssignment>, GraphError> {
        let url = self.url("beta", &format!("{POLICIES}/{}/assign", segment(id)))?;
        let reply = self.send_json(Method::POST, url.clone(), &AssignRequest { assignments }, CallKind::Write).await?;
        if reply.body.is_empty() {
            return Ok(Vec::new());
        }
        let page: Page<PolicyAssignment> = decode_reply("POST", &url, &reply.body)?;
        Ok(page.value)
    }

    /// Groups by display name, every name looked up in one `$batch` (of up to 20 names per call).
    /// A name maps to every group that has it: none, one, or (ambiguously) several.
    pub async fn find_groups(&self, names: &[String]) -> Result<BTreeMap<String, Vec<Group>>, GraphError> {
        let requests: Vec<BatchRequestItem> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let filter = format!("displayName eq {}", odata_string(name));
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("$filter", &filter)
                    .append_pair("$select", "id,displayName")
                    .finish();
                BatchRequestItem {
                    id: i.to_string(),
                    method: "GET".into(),
                    url: format!("/groups?{query}"),
                    headers: None,
                    body: None,
                }
            })
            .collect();
        let responses = self.batch("v1.0", requests).await?;
        let mut found = BTreeMap::new();
        for response in responses {
            let index: usize = response.id.parse().unwrap_or(usize::MAX);
            let Some(name) = names.get(index) else { continue };
            if response.status != 200 {
                return Err(batch_item_error("GET", "/v1.0/groups", &response));
            }
            let page: Page<Group> = serde_json::from_str(response.body_text()).map_err(|e| GraphError::Decode {
                method: "GET".into(),
                path: "/v1.0/groups".into(),
                message: e.to_string(),
            })?;
            found.insert(name.clone(), page.value);
        }
        Ok(found)
    }

    /// Groups by id (for showing assignments by name), in one `$batch` per 20 ids. Ids that are not
    /// found are left out.
    pub async fn groups_by_id(&self, ids: &[String]) -> Result<BTreeMap<String, Group>, GraphError> {
        let requests = batch_gets(ids.iter().map(|id| format!("/groups/{}?$select=id,displayName", segment(id))));
        let mut found = BTreeMap::new();
        for response in self.batch("v1.0", requests).await? {
            match response.status {
                200 => {
                    let group: Group = serde_json::from_str(response.body_text()).map_err(|e| GraphError::Decode {
                        method: "GET".into(),
                        path: "/v1.0/groups/{id}".into(),
                        message: e.to_string(),
                    })?;
                    found.insert(group.id.clone(), group);
                }
                404 => {}
                _ => return Err(batch_item_error("GET", "/v1.0/groups/{id}", &response)),
            }
        }
        Ok(found)
    }

    /// JSON batching: requests go out 20 at a time; inner requests throttled or failed transiently are
    /// sent again (in a later batch) after a backoff, as Graph asks. Only reads and idempotent writes
    /// belong in a batch. Responses come back in the order of the requests.
    pub async fn batch(
        &self,
        version: &str,
        requests: Vec<BatchRequestItem>,
    ) -> Result<Vec<BatchResponseItem>, GraphError> {
        let responses = self.batch_decoding::<Box<RawValue>>(version, requests).await?;
        Ok(responses
            .into_iter()
            .map(|response| BatchResponseItem { body: response.decoded.or(response.item.body), ..response.item })
            .collect())
    }

    /// [`Self::batch`], with each successful body decoded as `T` as the reply is read (settings equal
    /// to ones read before are shared: [`decoding_shared`]).
    pub async fn batch_decoding<T: DeserializeOwned>(
        &self,
        version: &str,
        requests: Vec<BatchRequestItem>,
    ) -> Result<Vec<BatchItemOf<T>>, GraphError> {
        let url = self.url(version, "/$batch")?;
        let order: Vec<String> = requests.iter().map(|r| r.id.clone()).collect();
        let mut done: BTreeMap<String, BatchItemOf<T>> = BTreeMap::new();
        let mut pending = requests;
        let mut round = 0;
        while !pending.is_empty() {
            let mut again = Vec::new();
            let mut wait = std::time::Duration::ZERO;
            // Reads go out a few batches at once, so that reading a tenant's settings is one round trip
            // whatever their number; batches that write go one after another, and none is sent after
            // one failed (`try_collect` stops there).
            let reads_only = pending.iter().all(|r| r.method == "GET");
            let at_once = if reads_only { READ_BATCHES_AT_ONCE } else { 1 };
            let replies: Vec<BatchResponseOf<T>> = stream::iter(pending.chunks(BATCH_LIMIT).map(<[_]>::to_vec))
                .map(|requests| self.send_batch::<T>(url.clone(), requests))
                .buffered(at_once)
                .try_collect()
                .await?;
            for (chunk, parsed) in pending.chunks(BATCH_LIMIT).zip(replies) {
                for response in parsed.responses {
                    let transient = matches!(response.item.status, 429 | 500 | 502 | 503 | 504);
                    if transient && round < self.client.inner.config.max_retries {
                        wait = wait.max(retry_after(&response.item).unwrap_or_default());
                        if let Some(request) = chunk.iter().find(|r| r.id == response.item.id) {
                            again.push(request.clone());
                            continue;
                        }
                    }
                    done.insert(response.item.id.clone(), response);
                }
            }
            if !again.is_empty() {
                round += 1;
                let backoff = self.client.inner.config.backoff_base.saturating_mul(2u32.saturating_pow(round));
                tokio::time::sleep(wait.max(backoff).min(self.client.inner.config.backoff_max)).await;
            }
            pending = again;
        }
        Ok(order.iter().filter_map(|id| done.remove(id)).collect())
    }

    /// One `$batch` request, its reply decoded as it is read.
    async fn send_batch<T: DeserializeOwned>(
        &self,
        url: Url,
        requests: Vec<BatchRequestItem>,
    ) -> Result<BatchResponseOf<T>, GraphError> {
        let kind = if requests.iter().all(|r| r.method == "GET") { CallKind::Read } else { CallKind::Write };
        let reply = self.send_json(Method::POST, url.clone(), &BatchRequest { requests }, kind).await?;
        decoding_shared(|| decode_reply("POST", &url, &reply.body))
    }
}

/// One `GET` batch item per URL, numbered in order.
fn batch_gets(urls: impl Iterator<Item = String>) -> Vec<BatchRequestItem> {
    urls.enumerate()
        .map(|(i, url)| BatchRequestItem { id: i.to_string(), method: "GET".into(), url, headers: None, body: None })
        .collect()
}

fn retry_after(response: &BatchResponseItem) -> Option<std::time::Duration> {
    let headers = response.headers.as_ref()?;
    let value = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))?.1;
    let seconds = value.as_u64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))?;
    Some(std::time::Duration::from_secs(seconds))
}

fn batch_item_error(method: &str, path: &str, response: &BatchResponseItem) -> GraphError {
    let body = response.body_text().to_string();
    super::error::ApiError::from_body(method, path, response.status, body.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_literals_and_path_segments_are_escaped() {
        assert_eq!(odata_string("O'Brien Devices"), "'O''Brien Devices'");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        assert_eq!(segment("3ffd7cd0-7cd0-3ffd-d07c-fd3fd07cfd3f"), "3ffd7cd0-7cd0-3ffd-d07c-fd3fd07cfd3f");
    }
}
