//! The time exceptions are judged at: `TENANTCTL_NOW` when set (RFC 3339, or a date for its start,
//! UTC), to see ahead what a date will bring and to test expiry without sleeping; the clock otherwise.

/// Now, as the environment says.
pub fn now() -> Result<jiff::Timestamp, String> {
    let Ok(text) = std::env::var("TENANTCTL_NOW") else { return Ok(jiff::Timestamp::now()) };
    parse(&text)
}

fn parse(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(instant) = text.parse::<jiff::Timestamp>() {
        return Ok(instant);
    }
    let problem = || format!("TENANTCTL_NOW=`{text}` is neither an RFC 3339 time nor a date (YYYY-MM-DD)");
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
