//! "Did you mean …?": the candidate closest to a mistyped word, when one is close enough to be the
//! word meant.

/// The candidate most like `word` (case-insensitive first, then by edit similarity), when it is
/// similar enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let score = if candidate.to_lowercase() == lower {
            1.0
        } else {
            strsim::normalized_damerau_levenshtein(&lower, &candidate.to_lowercase())
                .max(strsim::jaro_winkler(&lower, &candidate.to_lowercase()) - 0.1)
        };
        if score >= 0.75 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// ` (did you mean `x`?)` when a candidate is close, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default()
}

/// Adds a suggestion to serde's "unknown field `x`, expected one of `a`, `b`" and "unknown variant …"
/// messages, from the candidates they list.
pub fn serde_message(message: &str) -> String {
    for prefix in ["unknown field `", "unknown variant `"] {
        let Some(start) = message.find(prefix).map(|i| i + prefix.len()) else { continue };
        let Some(length) = message[start..].find('`') else { continue };
        let word = &message[start..start + length];
        let rest = &message[start + length + 1..];
        let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        let Some(suggestion) = closest(word, candidates) else { continue };
        let head = &message[..start + length + 1];
        return format!("{head} (did you mean `{suggestion}`?){rest}");
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_words_are_suggested_and_far_ones_are_not() {
        let fields = ["tenantId", "displayName", "access", "credentials", "suspend", "deletionPolicy"];
        assert_eq!(closest("tenantID", fields), Some("tenantId"));
        assert_eq!(closest("dispalyName", fields), Some("displayName"));
        assert_eq!(closest("credential", fields), Some("credentials"));
        assert_eq!(closest("scanArchives", ["archiveScanning", "emailScanning"]), None);
        assert_eq!(closest("zzz", fields), None);
        assert_eq!(closest("northwind-su", ["northwind-us", "northwind-emea"]), Some("northwind-us"));
    }

    #[test]
    fn serde_messages_get_the_suggestion_after_the_unknown_word() {
        assert_eq!(
            serde_message("unknown field `tenantID`, expected one of `tenantId`, `displayName`"),
            "unknown field `tenantID` (did you mean `tenantId`?), expected one of `tenantId`, `displayName`"
        );
        assert_eq!(
            serde_message("unknown variant `blok`, expected one of `off`, `block`, `audit`"),
            "unknown variant `blok` (did you mean `block`?), expected one of `off`, `block`, `audit`"
        );
        let far = "unknown field `status`, expected one of `apiVersion`, `kind`, `metadata`, `spec`";
        assert_eq!(serde_message(far), far);
    }
}
