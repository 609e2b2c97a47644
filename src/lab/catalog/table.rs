//! The reference tables of the endpoint-security templates (`reference/templates/*.tsv`, one row per
//! setting definition, with its sources), read into setting definitions.

/// One row of a template's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub definition_id: String,
    pub parent_id: String,
    pub value_type: String,
    pub options: Vec<Choice>,
    pub range: String,
    pub default: String,
    pub instance_template_id: String,
    pub value_template_id: String,
    pub csp_path: String,
    pub display_name: String,
}

/// One option of a choice setting: `suffix=meaning [value X]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub suffix: String,
    pub meaning: String,
    /// The option's value when it differs from the suffix.
    pub value: Option<String>,
}

/// The rows of a table (header and malformed lines left out).
pub fn rows(table: &str) -> Vec<Row> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            if cells.len() < 10 {
                return None;
            }
            let (csp_path, display_name) = cells[9].split_once(" | ").unwrap_or((cells[9], cells[9]));
            Some(Row {
                definition_id: cells[1].to_string(),
                parent_id: cells[2].to_string(),
                value_type: cells[3].to_string(),
                options: choices(cells[4]),
                range: cells[5].to_string(),
                default: cells[6].to_string(),
                instance_template_id: cells[7].to_string(),
                value_template_id: cells[8].to_string(),
                csp_path: csp_path.trim().to_string(),
                display_name: display_name.trim().to_string(),
            })
        })
        .collect()
}

fn choices(cell: &str) -> Vec<Choice> {
    cell.split("; ")
        .filter(|part| !part.trim().is_empty())
        .filter_map(|part| {
            let (head, value) = match part.split_once(" [value ") {
                Some((head, rest)) => (head, Some(rest.trim_end_matches(']').to_string())),
                None => (part, None),
            };
            let (suffix, meaning) = head.split_once('=')?;
            Some(Choice { suffix: suffix.trim().to_string(), meaning: meaning.trim().to_string(), value })
        })
        .collect()
}

/// `min..max` of an integer range (`0..100`), when the row gives one.
pub fn integer_range(range: &str) -> Option<(i64, i64)> {
    let bounds = range.split(';').next()?.trim();
    let bounds = bounds.strip_prefix("count ").unwrap_or(bounds);
    let (min, max) = bounds.split_once("..")?;
    Some((min.trim().parse().ok()?, max.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_with_and_without_their_own_values() {
        let parsed = choices("off=Off [value BE9B=0]; block=Block [value BE9B=1]; 0=Not configured");
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0], Choice { suffix: "off".into(), meaning: "Off".into(), value: Some("BE9B=0".into()) });
        assert_eq!(parsed[2].value, None);
        assert_eq!(integer_range("0..100"), Some((0, 100)));
        assert_eq!(integer_range("length 0..1024"), None);
    }
}
