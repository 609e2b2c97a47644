//! ANSI colors, only when writing to a terminal.

/// Colors text when enabled; a no-op otherwise, so piped output stays plain and stable.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { color: false };

    /// Colors on a terminal, unless `NO_COLOR` is set (<https://no-color.org>); `CLICOLOR_FORCE` colors
    /// even when piped.
    pub fn for_output(is_terminal: bool, env: &dyn Fn(&str) -> Option<String>) -> Style {
        let set = |name: &str| env(name).is_some_and(|v| !v.is_empty() && v != "0");
        let color =
            if env("NO_COLOR").is_some_and(|v| !v.is_empty()) { false } else { set("CLICOLOR_FORCE") || is_terminal };
        Style { color }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn magenta(&self, text: &str) -> String {
        self.paint("35", text)
    }

    pub fn cyan(&self, text: &str) -> String {
        self.paint("36", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_wins_and_clicolor_force_colors_pipes() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert!(Style::for_output(true, &env(&[])).color);
        assert!(!Style::for_output(false, &env(&[])).color);
        assert!(!Style::for_output(true, &env(&[("NO_COLOR", "1")])).color);
        assert!(!Style::for_output(true, &env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])).color);
        assert!(Style::for_output(false, &env(&[("CLICOLOR_FORCE", "1")])).color);
        assert!(!Style::for_output(false, &env(&[("CLICOLOR_FORCE", "0")])).color);
        assert!(Style::for_output(true, &env(&[("NO_COLOR", "")])).color, "an empty NO_COLOR is unset");
    }
}
