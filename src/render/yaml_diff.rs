//! Line diffs of two policies in their YAML display form (patience algorithm, grouped hunks).

use std::time::Duration;

use serde_json::Value;
use similar::{Algorithm, ChangeTag, TextDiff};

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    pub tag: ChangeTag,
    pub text: String,
}

/// Context lines kept around each change.
const CONTEXT: usize = 2;

pub fn to_yaml(value: &Value) -> String {
    // Quoted where YAML 1.1 would read otherwise: what a plan shows can be copied into a manifest.
    crate::util::yaml11::quote_ambiguous(&serde_yaml::to_string(value).unwrap_or_default())
}

/// The changed lines of `before` → `after` with some context; `None` separates hunks.
pub fn diff(before: &Value, after: &Value) -> Vec<Option<DiffLine>> {
    let (old, new) = (to_yaml(before), to_yaml(after));
    let text_diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        // Policies are small; the deadline only guards against pathological inputs.
        .timeout(Duration::from_millis(500))
        .diff_lines(&old, &new);
    let mut lines = Vec::new();
    for (index, group) in text_diff.grouped_ops(CONTEXT).iter().enumerate() {
        if index > 0 {
            lines.push(None);
        }
        for op in group {
            for change in text_diff.iter_changes(op) {
                lines.push(Some(DiffLine {
                    tag: change.tag(),
                    text: change.value().trim_end_matches('\n').to_string(),
                }));
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_lines_with_context() {
        let before = serde_json::json!({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6});
        let mut after = before.clone();
        after["e"] = serde_json::json!(50);
        let lines: Vec<String> = diff(&before, &after)
            .into_iter()
            .flatten()
            .map(|l| {
                format!(
                    "{}{}",
                    match l.tag {
                        ChangeTag::Delete => "-",
                        ChangeTag::Insert => "+",
                        ChangeTag::Equal => " ",
                    },
                    l.text
                )
            })
            .collect();
        assert_eq!(lines, vec![" c: 3", " d: 4", "-e: 5", "+e: 50", " f: 6"]);
    }
}
