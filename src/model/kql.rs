//! The shape of an advanced hunting query (KQL), as far as it can be read without a KQL engine:
//! its `let` statements, the table it starts from, its pipeline stages, and the columns its last
//! `project` names. Enough to check a detection rule before it reaches a tenant; anything subtler is
//! left to Defender.

/// A query taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryShape {
    /// Whether the query starts with `let` statements.
    pub has_let: bool,
    /// The table the query proper starts from (empty when it starts with something else).
    pub table: String,
    /// The pipeline stages after the table, trimmed, in order (`where …`, `project …`).
    pub stages: Vec<String>,
}

impl QueryShape {
    pub fn parse(query: &str) -> QueryShape {
        let mut rest = strip_comments(query);
        let mut has_let = false;
        while let Some(after) = rest.trim_start().strip_prefix("let ") {
            has_let = true;
            match after.find(';') {
                Some(end) => rest = after[end + 1..].to_string(),
                None => {
                    rest = String::new();
                    break;
                }
            }
        }
        let body = rest.trim_start();
        let table: String = body.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let stages = split_pipes(&body[table.len()..]).into_iter().skip(1).map(|s| s.trim().to_string()).collect();
        QueryShape { has_let, table, stages }
    }

    /// The columns every row has, when the query ends by naming them: the last `project` with no
    /// stage after it that adds or reshapes columns. `None` when that cannot be told.
    pub fn projected_columns(&self) -> Option<Vec<String>> {
        let mut columns: Option<Vec<String>> = None;
        for stage in &self.stages {
            let operator: String = stage.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            match operator.as_str() {
                "project" => columns = Some(column_list(&stage[operator.len()..])),
                // Stages that keep the columns as they are.
                "where" | "filter" | "take" | "limit" | "top" | "sort" | "order" | "distinct" | "sample" => {
                    if operator == "distinct" {
                        columns = Some(column_list(&stage[operator.len()..]));
                    }
                }
                _ => columns = None,
            }
        }
        columns
    }
}

/// The query with `//` comments removed (outside string literals).
pub fn strip_comments(query: &str) -> String {
    query.lines().map(without_comment).collect::<Vec<_>>().join("\n")
}

fn without_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (index, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '/' && previous == '/' => return &line[..index - 1],
            None => {}
        }
        previous = c;
    }
    line
}

/// Splits on `|` outside string literals and brackets.
fn split_pipes(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                '|' if depth == 0 => {
                    parts.push(String::new());
                    continue;
                }
                _ => {}
            },
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

/// The output column names of a `project`/`distinct` list: `A, B = expr, C`.
fn column_list(list: &str) -> Vec<String> {
    let mut columns = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in list.chars().chain(std::iter::once(',')) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                let item = std::mem::take(&mut current);
                let name = item.split('=').next().unwrap_or_default().trim().to_string();
                if !name.is_empty() {
                    columns.push(name);
                }
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_taken_apart() {
        let shape = QueryShape::parse(
            "// LSASS\nlet allowed = dynamic([\"a|b\"]);\nDeviceEvents\n| where ActionType == 'x|y' // no\n| project Timestamp, DeviceId, ReportId, Who = InitiatingProcessAccountUpn",
        );
        assert!(shape.has_let);
        assert_eq!(shape.table, "DeviceEvents");
        assert_eq!(shape.stages.len(), 2);
        assert_eq!(
            shape.projected_columns(),
            Some(vec!["Timestamp".into(), "DeviceId".into(), "ReportId".into(), "Who".into()])
        );
    }

    #[test]
    fn columns_are_unknown_after_a_stage_that_reshapes_rows() {
        let shape = QueryShape::parse("DeviceProcessEvents | project A, B | extend C = 1");
        assert_eq!(shape.projected_columns(), None);
        let kept = QueryShape::parse("DeviceProcessEvents | project A, B | where A > 1 | take 5");
        assert_eq!(kept.projected_columns(), Some(vec!["A".into(), "B".into()]));
        assert_eq!(QueryShape::parse("DeviceProcessEvents | where true").projected_columns(), None);
        assert!(!QueryShape::parse("DeviceProcessEvents").has_let);
    }
}
