//! Advanced hunting over a tenant's own event rows (`hunting.json`'s `tables`), so that two queries
//! answer differently: the rows of the table the query starts from, inside the look-back window,
//! narrowed by the `where` conditions the lab understands (`==`, `=~`, `!=`, `in`, `in~`, `!in~`,
//! `has`, `contains`, `startswith`, `endswith`, joined by `and`), then `project`, `take` and `count`.
//! A condition the lab cannot read keeps every row: the lab answers too much rather than too little.
//! Rows say when they happened as `hoursAgo` (lab-only), rendered as `Timestamp` when asked.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::model::kql::QueryShape;

/// Defender's look-back when a query names none.
const DEFAULT_LOOKBACK_SECONDS: i64 = 30 * 24 * 3600;
/// The lab-only field that places a row in time.
const HOURS_AGO: &str = "hoursAgo";

/// The answer (`schema` and `results`) for a query over `tables`, when its table is among them.
pub fn answer(tables: &Map<String, Value>, query: &str, timespan: Option<&str>, now: Timestamp) -> Option<Value> {
    let shape = QueryShape::parse(query);
    let rows = tables.get(&shape.table)?.as_array()?;
    let lookback = timespan.and_then(seconds_of).unwrap_or(DEFAULT_LOOKBACK_SECONDS);
    let mut kept: Vec<Map<String, Value>> = rows
        .iter()
        .filter_map(Value::as_object)
        .filter(|row| hours_ago(row).is_none_or(|hours| hours * 3600.0 <= lookback as f64))
        .map(|row| dated(row, now))
        .collect();
    let mut counted = false;
    for stage in &shape.stages {
        let (operator, rest) = stage.split_once(char::is_whitespace).unwrap_or((stage.as_str(), ""));
        match operator {
            "where" | "filter" => kept.retain(|row| matches(row, rest)),
            "take" | "limit" => {
                if let Ok(n) = rest.trim().parse::<usize>() {
                    kept.truncate(n);
                }
            }
            "project" => {
                let columns: Vec<String> =
                    rest.split(',').map(|c| c.split('=').next().unwrap_or("").trim().to_string()).collect();
                for row in &mut kept {
                    row.retain(|key, _| columns.contains(key));
                }
            }
            "count" => counted = true,
            _ => {}
        }
    }
    if counted {
        return Some(json!({"schema": [{"name": "Count", "type": "Int64"}], "results": [{"Count": kept.len()}]}));
    }
    let schema: Vec<Value> = kept
        .first()
        .map(|row| row.iter().map(|(name, value)| json!({"name": name, "type": column_type(name, value)})).collect())
        .unwrap_or_default();
    Some(json!({"schema": schema, "results": kept}))
}

fn hours_ago(row: &Map<String, Value>) -> Option<f64> {
    row.get(HOURS_AGO).and_then(Value::as_f64)
}

/// The row as Graph answers it: `Timestamp` from `hoursAgo`.
fn dated(row: &Map<String, Value>, now: Timestamp) -> Map<String, Value> {
    let mut row = row.clone();
    if let Some(hours) = row.remove(HOURS_AGO).and_then(|h| h.as_f64()) {
        let at = now.checked_sub(jiff::SignedDuration::from_secs((hours * 3600.0) as i64)).unwrap_or(now);
        row.insert("Timestamp".into(), Value::String(format!("{at:.7}")));
    }
    row
}

fn column_type(name: &str, value: &Value) -> &'static str {
    match value {
        _ if name == "Timestamp" => "DateTime",
        Value::Number(_) => "Int64",
        Value::Bool(_) => "Boolean",
        _ => "String",
    }
}

/// Seconds in an ISO 8601 duration of days, hours, minutes and seconds (`P30D`, `PT12H`).
fn seconds_of(duration: &str) -> Option<i64> {
    let rest = duration.trim().strip_prefix('P')?;
    let (days, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut total = 0i64;
    if !days.is_empty() {
        total += days.strip_suffix('D')?.parse::<i64>().ok()? * 86_400;
    }
    let mut number = String::new();
    for c in time.chars() {
        match c {
            '0'..='9' => number.push(c),
            'H' | 'M' | 'S' => {
                let value: i64 = std::mem::take(&mut number).parse().ok()?;
                total += value
                    * match c {
                        'H' => 3600,
                        'M' => 60,
                        _ => 1,
                    };
            }
            _ => return None,
        }
    }
    number.is_empty().then_some(total)
}

/// Whether a row passes a `where` clause; parts the lab cannot read pass every row.
fn matches(row: &Map<String, Value>, clause: &str) -> bool {
    clause.split(" and ").all(|condition| condition_holds(row, condition.trim()).unwrap_or(true))
}

/// `None` when the condition is not one the lab reads, or names a column the row lacks.
fn condition_holds(row: &Map<String, Value>, condition: &str) -> Option<bool> {
    const OPERATORS: &[&str] =
        &["!in~", "in~", "!in", "in", "==", "=~", "!=", "!~", "has", "contains", "startswith", "endswith"];
    let (column, rest) = condition.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let operator = OPERATORS.iter().find(|op| {
        rest.strip_prefix(**op).is_some_and(|after| after.starts_with(char::is_whitespace) || after.starts_with('('))
    })?;
    let operand = rest[operator.len()..].trim();
    let value = row.get(column)?.as_str()?.to_string();
    let value_lower = value.to_ascii_lowercase();
    let case_blind = operator.ends_with('~');
    let literal = |text: &str| -> Option<String> {
        let text = text.trim();
        let unquoted = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))?;
        Some(unquoted.to_string())
    };
    let same = |a: &str, b: &str| if case_blind { a.eq_ignore_ascii_case(b) } else { a == b };
    Some(match *operator {
        "==" | "=~" => same(&value, &literal(operand)?),
        "!=" | "!~" => !same(&value, &literal(operand)?),
        "in" | "in~" | "!in" | "!in~" => {
            let list = operand.strip_prefix('(')?.strip_suffix(')')?;
            let items: Option<Vec<String>> = list.split(',').map(literal).collect();
            let found = items?.iter().any(|item| same(&value, item));
            if operator.starts_with('!') { !found } else { found }
        }
        "has" | "contains" => value_lower.contains(&literal(operand)?.to_ascii_lowercase()),
        "startswith" => value_lower.starts_with(&literal(operand)?.to_ascii_lowercase()),
        "endswith" => value_lower.ends_with(&literal(operand)?.to_ascii_lowercase()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> Map<String, Value> {
        json!({"DeviceProcessEvents": [
            {"hoursAgo": 2, "DeviceId": "d1", "FileName": "powershell.exe", "InitiatingProcessFileName": "WINWORD.EXE", "ReportId": 1},
            {"hoursAgo": 30, "DeviceId": "d2", "FileName": "cmd.exe", "InitiatingProcessFileName": "explorer.exe", "ReportId": 2},
            {"hoursAgo": 900, "DeviceId": "d3", "FileName": "mshta.exe", "InitiatingProcessFileName": "excel.exe", "ReportId": 3}
        ]})
        .as_object()
        .cloned()
        .expect("object")
    }

    #[test]
    fn where_conditions_and_the_window_narrow_the_rows() {
        let now = Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_hours(10_000);
        let office = "DeviceProcessEvents\n| where InitiatingProcessFileName in~ (\"winword.exe\", \"excel.exe\")\n| where FileName in~ (\"powershell.exe\", \"mshta.exe\") | count";
        let count =
            |timespan| answer(&tables(), office, timespan, now).expect("answered")["results"][0]["Count"].clone();
        assert_eq!(count(None), json!(1), "the 900-hour-old row is outside Defender's 30 days");
        assert_eq!(count(Some("P60D")), json!(2));
        assert_eq!(count(Some("PT1H")), json!(0));
        let all = answer(
            &tables(),
            "DeviceProcessEvents | where FileName != 'cmd.exe' | project DeviceId, Timestamp",
            None,
            now,
        )
        .expect("answered");
        assert_eq!(all["results"].as_array().map(Vec::len), Some(1));
        assert_eq!(all["schema"][0], json!({"name": "DeviceId", "type": "String"}));
        assert!(all["results"][0]["Timestamp"].as_str().is_some_and(|t| t.starts_with("1971-02-21T")));
        assert!(answer(&tables(), "DeviceEvents | count", None, now).is_none(), "a table the tenant has no rows of");
        let unreadable = "DeviceProcessEvents | where strlen(FileName) > 3 | count";
        assert_eq!(
            answer(&tables(), unreadable, Some("P60D"), now).expect("answered")["results"][0]["Count"],
            json!(3)
        );
    }

    #[test]
    fn durations() {
        assert_eq!(seconds_of("P30D"), Some(2_592_000));
        assert_eq!(seconds_of("PT1H30M"), Some(5400));
        assert_eq!(seconds_of("P1DT1S"), Some(86_401));
        assert_eq!(seconds_of("30 days"), None);
    }
}
