//! Rows for people (aligned columns) and for spreadsheets (CSV).

use std::fmt::Write;

/// Longest cell shown in a table; longer ones end in `…` (CSV and JSON keep them whole).
const MAX_CELL: usize = 60;

fn cut(cell: &str) -> String {
    let single_line = cell.replace(['\n', '\r', '\t'], " ");
    if single_line.chars().count() <= MAX_CELL {
        return single_line;
    }
    let mut short: String = single_line.chars().take(MAX_CELL - 1).collect();
    short.push('…');
    short
}

/// Columns aligned on the widest cell, headers first.
pub fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(|c| cut(c)).collect()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (index, cell) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(index) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |row: &[String]| {
        let mut text = String::new();
        for (index, cell) in row.iter().enumerate() {
            let width = widths.get(index).copied().unwrap_or(0);
            if index + 1 == row.len() {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(headers);
    for row in &cells {
        line(row);
    }
    out
}

/// RFC 4180 CSV with a header row.
pub fn csv(headers: &[String], rows: &[Vec<String>]) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(headers)?;
    for row in rows {
        writer.write_record(row)?;
    }
    Ok(String::from_utf8(writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn tables_align_and_csv_quotes() {
        let headers = strings(&["TENANT", "TITLE"]);
        let rows = vec![strings(&["a", "one, \"quoted\""]), strings(&["longer-name", "two"])];
        assert_eq!(table(&headers, &rows), "TENANT       TITLE\na            one, \"quoted\"\nlonger-name  two\n");
        assert_eq!(csv(&headers, &rows).expect("csv"), "TENANT,TITLE\na,\"one, \"\"quoted\"\"\"\nlonger-name,two\n");
    }
}
