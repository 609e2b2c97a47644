//! YAML that reads the same in YAML 1.1 and 1.2. kubectl, Helm and many other tools read YAML 1.1,
//! where an unquoted `on`, `off`, `yes`, `no`, `y` or `n` is a boolean, `0755` an octal number and
//! `1:30` a base-60 one; tenantctl and YAML 1.2 read them as strings. Every YAML tenantctl writes is
//! passed through [`quote_ambiguous`], and the files a user hands to kubectl are checked with
//! [`ambiguous_scalars`].

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// Whether a plain (unquoted) scalar means something else in YAML 1.1 than in YAML 1.2.
pub fn is_ambiguous(plain: &str) -> bool {
    const BOOLEANS_IN_1_1: &[&str] =
        &["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];
    if BOOLEANS_IN_1_1.contains(&plain) {
        return true;
    }
    let digits = plain.strip_prefix(['-', '+']).unwrap_or(plain);
    let octal = digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit());
    let sexagesimal = digits.contains(':')
        && digits.split(':').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
        && digits.as_bytes().first().is_some_and(u8::is_ascii_digit);
    octal || sexagesimal
}

/// A plain scalar: where it starts (character index, line and column from 1) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plain {
    pub index: usize,
    pub line: usize,
    pub column: usize,
    pub value: String,
}

/// Every plain scalar of `text` that YAML 1.1 reads differently; or the parse error.
pub fn ambiguous_scalars(text: &str) -> Result<Vec<Plain>, String> {
    Ok(plain_scalars(text)?.into_iter().filter(|p| is_ambiguous(&p.value)).collect())
}

/// `text` with every ambiguous plain scalar double-quoted; everything else byte for byte.
pub fn quote_ambiguous(text: &str) -> String {
    let Ok(scalars) = plain_scalars(text) else { return text.to_string() };
    let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
    let mut quoted = text.to_string();
    for Plain { index, value, .. } in scalars.into_iter().rev().filter(|p| is_ambiguous(&p.value)) {
        let Some(&start) = offsets.get(index) else { continue };
        let end = start + value.len();
        if quoted.get(start..end) == Some(value.as_str()) {
            quoted.replace_range(start..end, &format!("\"{value}\""));
        }
    }
    quoted
}

fn plain_scalars(text: &str) -> Result<Vec<Plain>, String> {
    let mut parser = Parser::new_from_str(text);
    let mut scalars = Vec::new();
    loop {
        let (event, mark) = parser.next_token().map_err(|e| e.to_string())?;
        match event {
            Event::StreamEnd => return Ok(scalars),
            Event::Scalar(value, TScalarStyle::Plain, _, None) => {
                scalars.push(Plain { index: mark.index(), line: mark.line(), column: mark.col() + 1, value });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_yaml_1_1_traps_are_found() {
        for trap in ["off", "On", "YES", "n", "0755", "-017", "1:30", "190:20:30"] {
            assert!(is_ambiguous(trap), "{trap}");
        }
        for fine in ["block", "audit", "true", "false", "0", "10", "1.5", "notification", "08:00Z", "a:b", "0x1F"] {
            assert!(!is_ambiguous(fine), "{fine}");
        }
    }

    #[test]
    fn quoting_touches_only_the_traps() {
        let text = "enum:\n- off\n- block\nmode: 'off'\n\"on\": [yes, audit]\nkey: off # a comment\n";
        assert_eq!(
            quote_ambiguous(text),
            "enum:\n- \"off\"\n- block\nmode: 'off'\n\"on\": [\"yes\", audit]\nkey: \"off\" # a comment\n"
        );
        let found: Vec<(usize, usize, String)> = ambiguous_scalars("on: 1\nx: [off]\n")
            .expect("parses")
            .into_iter()
            .map(|p| (p.line, p.column, p.value))
            .collect();
        assert_eq!(found, vec![(1, 1, "on".to_string()), (2, 5, "off".to_string())]);
        assert_eq!(ambiguous_scalars(&quote_ambiguous("on: 1\nx: [off]\n")), Ok(vec![]));
    }
}
