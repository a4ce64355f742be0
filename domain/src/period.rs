use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A billing period: from 00:00 UTC on the 1st of a month to 00:00 UTC on the 1st of the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingPeriod {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl BillingPeriod {
    pub fn containing(at: DateTime<Utc>) -> BillingPeriod {
        let start = first_of_month(at.year(), at.month());
        let (y, m) = if at.month() == 12 {
            (at.year() + 1, 1)
        } else {
            (at.year(), at.month() + 1)
        };
        BillingPeriod {
            start,
            end: first_of_month(y, m),
        }
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

fn first_of_month(year: i32, month: u32) -> DateTime<Utc> {
    let date = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
    Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn period_runs_from_the_first_to_the_next_first() {
        let p = BillingPeriod::containing(at("2025-07-15T10:30:00Z"));
        assert_eq!(p.start, at("2025-07-01T00:00:00Z"));
        assert_eq!(p.end, at("2025-08-01T00:00:00Z"));
    }

    #[test]
    fn december_rolls_into_the_next_year() {
        let p = BillingPeriod::containing(at("2025-12-31T23:59:59Z"));
        assert_eq!(p.end, at("2026-01-01T00:00:00Z"));
        assert!(!p.contains(at("2026-01-01T00:00:00Z")));
        assert!(p.contains(at("2025-12-01T00:00:00Z")));
    }
}
