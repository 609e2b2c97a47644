//! One advanced hunting query across tenants: rows merged under a leading `Tenant` column, the union
//! of the tenants' schemas, and row caps per tenant and in total that say what they cut.

use serde::Serialize;
use serde_json::{Map, Value};

use super::TenantAnswer;
use super::incidents::UnknownTenant;
use crate::wire::common::{HuntingColumn, HuntingQueryResponse};

/// Name of the column that says which tenant a row came from.
pub const TENANT_COLUMN: &str = "Tenant";

/// Row caps.
#[derive(Clone, Copy, Debug)]
pub struct RowLimits {
    pub per_tenant: usize,
    pub total: usize,
}

/// How many rows one tenant returned and how many were kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantRows {
    pub tenant: String,
    pub returned: usize,
    pub kept: usize,
}

/// The merged result.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MergedHunt {
    /// `Tenant`, then every column any tenant returned, in order of first appearance.
    pub schema: Vec<HuntingColumn>,
    pub results: Vec<Map<String, Value>>,
    pub tenants: Vec<TenantRows>,
    pub unknown_tenants: Vec<UnknownTenant>,
}

impl MergedHunt {
    pub fn returned(&self) -> usize {
        self.tenants.iter().map(|t| t.returned).sum()
    }

    /// Whether any cap cut rows.
    pub fn truncated(&self) -> bool {
        self.tenants.iter().any(|t| t.kept < t.returned)
    }
}

/// Merges the answers in the order given (tenants by name).
pub fn merge(answers: Vec<TenantAnswer<HuntingQueryResponse>>, limits: RowLimits) -> MergedHunt {
    let mut merged = MergedHunt {
        schema: vec![HuntingColumn { name: TENANT_COLUMN.into(), column_type: "String".into() }],
        ..MergedHunt::default()
    };
    for answer in answers {
        let response = match answer.answer {
            Ok(response) => response,
            Err(reason) => {
                merged.unknown_tenants.push(UnknownTenant {
                    tenant: answer.tenant,
                    tenant_id: answer.tenant_id,
                    reason,
                });
                continue;
            }
        };
        for column in &response.schema {
            if !merged.schema.iter().any(|c| c.name == column.name) {
                merged.schema.push(column.clone());
            }
        }
        let returned = response.results.len();
        let room = limits.total.saturating_sub(merged.results.len());
        let kept = returned.min(limits.per_tenant).min(room);
        for row in response.results.into_iter().take(kept) {
            let mut with_tenant = Map::new();
            with_tenant.insert(TENANT_COLUMN.into(), Value::String(answer.tenant.clone()));
            with_tenant.extend(row.into_iter().filter(|(name, _)| name != TENANT_COLUMN));
            merged.results.push(with_tenant);
        }
        merged.tenants.push(TenantRows { tenant: answer.tenant, returned, kept });
    }
    merged
}

/// What a query ending in `| count` matched: its `Count` (the first number of its one row), or the
/// number of rows when the answer carries no count.
pub fn count_of(response: &HuntingQueryResponse) -> u64 {
    let counted = response
        .results
        .first()
        .and_then(|row| row.get("Count").or_else(|| row.values().find(|v| v.is_number())).and_then(Value::as_u64));
    match (counted, response.results.len()) {
        (Some(count), 1) => count,
        (_, rows) => rows as u64,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn response(columns: &[&str], rows: usize) -> HuntingQueryResponse {
        serde_json::from_value(json!({
            "schema": columns.iter().map(|c| json!({"name": c, "type": "String"})).collect::<Vec<_>>(),
            "results": (0..rows).map(|i| columns.iter().map(|c| (c.to_string(), json!(format!("{c}{i}")))).collect::<Map<_, _>>()).collect::<Vec<_>>(),
        }))
        .expect("response")
    }

    fn answer(tenant: &str, answer: Result<HuntingQueryResponse, String>) -> TenantAnswer<HuntingQueryResponse> {
        TenantAnswer { tenant: tenant.into(), tenant_id: format!("{tenant}-id"), answer }
    }

    #[test]
    fn rows_get_a_tenant_column_under_the_union_of_schemas() {
        let merged = merge(
            vec![
                answer("a", Ok(response(&["DeviceName", "FileName"], 2))),
                answer("b", Err("unreachable".into())),
                answer("c", Ok(response(&["DeviceName", "AccountName"], 1))),
            ],
            RowLimits { per_tenant: 10, total: 10 },
        );
        let names: Vec<&str> = merged.schema.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Tenant", "DeviceName", "FileName", "AccountName"]);
        assert_eq!(merged.results.len(), 3);
        assert_eq!(merged.results[2]["Tenant"], "c");
        assert_eq!(merged.results[2]["AccountName"], "AccountName0");
        assert_eq!(merged.unknown_tenants.len(), 1);
        assert!(!merged.truncated());
    }

    #[test]
    fn caps_cut_per_tenant_then_in_total_and_say_so() {
        let merged = merge(
            vec![
                answer("a", Ok(response(&["X"], 5))),
                answer("b", Ok(response(&["X"], 5))),
                answer("c", Ok(response(&["X"], 5))),
            ],
            RowLimits { per_tenant: 3, total: 7 },
        );
        let kept: Vec<(usize, usize)> = merged.tenants.iter().map(|t| (t.returned, t.kept)).collect();
        assert_eq!(kept, [(5, 3), (5, 3), (5, 1)]);
        assert_eq!(merged.results.len(), 7);
        assert_eq!(merged.returned(), 15);
        assert!(merged.truncated());
    }

    #[test]
    fn a_count_is_read_from_its_one_row_or_else_the_rows_are_counted() {
        let counted: HuntingQueryResponse =
            serde_json::from_value(serde_json::json!({"schema": [], "results": [{"Count": 14}]})).expect("response");
        assert_eq!(count_of(&counted), 14);
        let rows: HuntingQueryResponse =
            serde_json::from_value(serde_json::json!({"schema": [], "results": [{"A": 1}, {"A": 2}]}))
                .expect("response");
        assert_eq!(count_of(&rows), 2);
    }
}
