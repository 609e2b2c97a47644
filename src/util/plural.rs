//! Counts as people write them: "1 tenant", "2 tenants".

/// `count` and the noun, in the singular for one.
pub fn count(count: usize, one: &str) -> String {
    if count == 1 { format!("1 {one}") } else { format!("{count} {}", plural(one)) }
}

fn plural(one: &str) -> String {
    if let Some(stem) = one.strip_suffix('y').filter(|stem| !stem.ends_with(['a', 'e', 'o', 'u'])) {
        format!("{stem}ies")
    } else {
        format!("{one}s")
    }
}

/// "tenant `a`", "tenants `a`, `b`", and past five "… and 7 more".
pub fn tenant_list(tenants: &[String]) -> String {
    const SHOWN: usize = 5;
    let names: Vec<String> = tenants.iter().take(SHOWN).map(|t| format!("`{t}`")).collect();
    let noun = if tenants.len() == 1 { "tenant" } else { "tenants" };
    match tenants.len().saturating_sub(SHOWN) {
        0 => format!("{noun} {}", names.join(", ")),
        more => format!("{noun} {} and {more} more", names.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_many() {
        assert_eq!(count(1, "tenant"), "1 tenant");
        assert_eq!(count(0, "tenant"), "0 tenants");
        assert_eq!(count(2, "policy"), "2 policies");
        assert_eq!(count(3, "token request"), "3 token requests");
        assert_eq!(count(2, "change"), "2 changes");
    }
}
