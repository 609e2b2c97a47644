//! Secret strings (client secrets, access tokens, assertions): never shown by `Debug` or `Display`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret value. Its text is reachable only through [`Secret::expose`], so it cannot end up in a
/// log line, an error message or a plan by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let secret = Secret::new("canary-3f1d");
        assert!(!format!("{secret:?} {secret} {:?}", Some(&secret)).contains("canary"));
        assert_eq!(secret.expose(), "canary-3f1d");
    }
}
