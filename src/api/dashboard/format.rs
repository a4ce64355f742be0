//! Numbers and times as people read them: "4,832", "1 Aug 2026 (in 9 days)". Times are
//! rendered in UTC inside `<time datetime>`; the dashboard's script shows them in the
//! viewer's time zone and keeps UTC in the tooltip.
use chrono::{DateTime, NaiveDate, Utc};

pub use crate::api::text::thousands;

/// "1 credit", "4,832 credits".
pub fn credits(n: i64) -> String {
    if n == 1 {
        "1 credit".into()
    } else {
        format!("{} credits", thousands(n))
    }
}

pub fn parse(at: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// "1 Aug 2026".
pub fn day(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

/// "1 Aug 2026 (in 9 days)", for the reset date.
pub fn day_with_distance(at: &str, now: DateTime<Utc>) -> String {
    let Some(t) = parse(at) else {
        return at.to_string();
    };
    let days = (t.date_naive() - now.date_naive()).num_days();
    let distance = match days {
        0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        d if d > 1 => format!("in {d} days"),
        -1 => "yesterday".to_string(),
        d => format!("{} days ago", -d),
    };
    format!("{} ({distance})", day(t.date_naive()))
}

/// A moment as the page shows it before the script localises it: "3 Dec 2026, 14:05 UTC".
pub fn moment(at: &str) -> String {
    parse(at).map_or_else(
        || at.to_string(),
        |t| t.format("%-d %b %Y, %H:%M UTC").to_string(),
    )
}

/// A price in dollars, to the cent unless it needs more: "$0.03", "$0.0045".
pub fn dollars(micros: i64) -> String {
    if micros % 10_000 == 0 {
        return format!("${:.2}", micros as f64 / 1_000_000.0);
    }
    let exact = format!("{:.6}", micros as f64 / 1_000_000.0);
    format!("${}", exact.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(credits(1), "1 credit");
        assert_eq!(credits(25_000), "25,000 credits");
        assert_eq!(dollars(30_000), "$0.03");
        assert_eq!(dollars(4_500), "$0.0045");
    }

    #[test]
    fn dates_say_how_far_away_they_are() {
        let now = parse("2026-07-23T10:00:00.000Z").unwrap();
        assert_eq!(
            day_with_distance("2026-08-01T00:00:00.000Z", now),
            "1 Aug 2026 (in 9 days)"
        );
        assert_eq!(moment("2026-12-03T14:05:09.120Z"), "3 Dec 2026, 14:05 UTC");
    }
}
