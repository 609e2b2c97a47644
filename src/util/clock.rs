//! The time exceptions are judged at: `TENANTCTL_NOW` when set (RFC 3339, or a date for its start,
//! UTC), a fixed instant, to see ahead what a date will bring and to test expiry without sleeping;
//! `TENANTCTL_CLOCK_FROM`, a clock that starts at that instant when the process starts and then runs,
//! to see a long-running process (the operator) cross an expiry; the clock otherwise.

use std::sync::OnceLock;
use std::time::Instant;

/// Now, as the environment says.
pub fn now() -> Result<jiff::Timestamp, String> {
    if let Ok(text) = std::env::var("TENANTCTL_NOW") {
        return parse(&text);
    }
    let Ok(text) = std::env::var("TENANTCTL_CLOCK_FROM") else { return Ok(jiff::Timestamp::now()) };
    static START: OnceLock<(Instant, Result<jiff::Timestamp, String>)> = OnceLock::new();
    let (started, from) = START.get_or_init(|| (Instant::now(), parse(&text)));
    let from = from.clone()?;
    let elapsed = jiff::SignedDuration::try_from(started.elapsed()).map_err(|e| e.to_string())?;
    from.checked_add(elapsed).map_err(|e| e.to_string())
}

fn parse(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(instant) = text.parse::<jiff::Timestamp>() {
        return Ok(instant);
    }
    let problem = || {
        format!("`{text}` (TENANTCTL_NOW or TENANTCTL_CLOCK_FROM) is neither an RFC 3339 time nor a date (YYYY-MM-DD)")
    };
    let date: jiff::civil::Date = text.parse().map_err(|_| problem())?;
    date.to_zoned(jiff::tz::TimeZone::UTC).map(|zoned| zoned.timestamp()).map_err(|_| problem())
}

/// The UTC day of an instant, counted from 1970-01-01: exceptions start and end on day boundaries.
pub fn day(instant: jiff::Timestamp) -> i64 {
    instant.as_second().div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(parse("2027-07-01").map(|t| t.to_string()), Ok("2027-07-01T00:00:00Z".to_string()));
        assert_eq!(parse("2027-06-30T23:59:59Z").map(day), parse("2027-06-30").map(day));
        assert!(parse("tomorrow").is_err());
    }
}
