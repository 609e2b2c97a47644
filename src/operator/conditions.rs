//! Status conditions with Kubernetes semantics: `lastTransitionTime` moves only when a condition's
//! status flips; reason and message follow every reconcile.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// A condition as a reconcile concludes it, before times are settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub type_: &'static str,
    /// `True`, `False` or `Unknown`.
    pub status: &'static str,
    pub reason: &'static str,
    pub message: String,
}

impl Verdict {
    pub fn new(type_: &'static str, status: bool, reason: &'static str, message: impl Into<String>) -> Self {
        Verdict { type_, status: if status { "True" } else { "False" }, reason, message: message.into() }
    }

    pub fn unknown(type_: &'static str, reason: &'static str, message: impl Into<String>) -> Self {
        Verdict { type_, status: "Unknown", reason, message: message.into() }
    }
}

/// The new conditions: each verdict keeps the previous `lastTransitionTime` of its type when the
/// status did not change, and takes `now` otherwise.
pub fn merge(previous: &[Condition], verdicts: Vec<Verdict>, generation: Option<i64>, now: &Time) -> Vec<Condition> {
    verdicts
        .into_iter()
        .map(|verdict| {
            let before = previous.iter().find(|c| c.type_ == verdict.type_);
            let last_transition_time = match before {
                Some(before) if before.status == verdict.status => before.last_transition_time.clone(),
                _ => now.clone(),
            };
            Condition {
                type_: verdict.type_.to_string(),
                status: verdict.status.to_string(),
                reason: verdict.reason.to_string(),
                message: truncate(verdict.message, 1024),
                observed_generation: generation,
                last_transition_time,
            }
        })
        .collect()
}

/// Kubernetes caps condition messages at 32 KiB; a status stays readable well below that.
fn truncate(mut message: String, limit: usize) -> String {
    if message.len() > limit {
        let mut end = limit;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> Time {
        Time(text.parse().expect("timestamp"))
    }

    #[test]
    fn transition_time_moves_only_when_the_status_flips() {
        let first =
            merge(&[], vec![Verdict::new("Ready", true, "Reconciled", "ok")], Some(1), &time("2026-01-01T00:00:00Z"));
        assert_eq!(first[0].last_transition_time, time("2026-01-01T00:00:00Z"));

        let same = merge(
            &first,
            vec![Verdict::new("Ready", true, "Reconciled", "still ok")],
            Some(2),
            &time("2026-01-01T01:00:00Z"),
        );
        assert_eq!(same[0].last_transition_time, time("2026-01-01T00:00:00Z"), "no flip, no move");
        assert_eq!(same[0].message, "still ok");
        assert_eq!(same[0].observed_generation, Some(2));

        let flipped = merge(
            &same,
            vec![Verdict::new("Ready", false, "Unreachable", "down")],
            Some(2),
            &time("2026-01-01T02:00:00Z"),
        );
        assert_eq!(flipped[0].last_transition_time, time("2026-01-01T02:00:00Z"));
        assert_eq!(flipped[0].status, "False");
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let message = "é".repeat(1000);
        let cut = truncate(message, 1023);
        assert!(cut.ends_with('…'));
        assert!(cut.len() <= 1026);
    }
}
