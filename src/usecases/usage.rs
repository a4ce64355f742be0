//! The account's plan, balance and billing period: GET /api/v1/usage. A read: the period
//! shown is the one the last command or the billing tick started (see `billing`).
use altframe_domain::AccountId;
use altframe_projections::{jobs, usage};

pub use altframe_projections::jobs::PeriodCounts;
pub use altframe_projections::usage::UsageRow;

use super::{App, Failure};

/// The account's usage row, and what this period's jobs hold beyond its totals.
#[derive(Debug, Clone)]
pub struct Usage {
    pub row: UsageRow,
    pub this_period: PeriodCounts,
}

/// GET /api/v1/usage's facts: the row, and this period's counts from the jobs.
pub async fn usage(app: &App, account_id: &AccountId) -> Result<Usage, Failure> {
    let row = usage_row(app, account_id).await?;
    let this_period =
        jobs::period_counts(&app.store.db, account_id.as_str(), &row.period_start).await?;
    Ok(Usage { row, this_period })
}

/// The account's usage row alone (plan, balance, period), as the last command left it.
pub async fn usage_row(app: &App, account_id: &AccountId) -> Result<UsageRow, Failure> {
    app.read_your_writes().await;
    usage::find(&app.store.db, account_id.as_str())
        .await?
        .ok_or_else(|| Failure::Inconsistent(format!("account {account_id} has no usage row")))
}

/// Credits used on one day of the current period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayUsage {
    pub day: chrono::NaiveDate,
    pub credits: i64,
}

/// Credits used per day of the current period, every day from its start to today (or its
/// end), days without use as zero: what the dashboard's chart draws.
pub async fn daily(app: &App, usage: &UsageRow) -> Result<Vec<DayUsage>, Failure> {
    let parse = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.date_naive())
            .map_err(|_| Failure::Inconsistent(format!("usage has a bad period bound {s}")))
    };
    let (start, end) = (parse(&usage.period_start)?, parse(&usage.period_end)?);
    let today = app.clock.now().date_naive();
    let last = today.min(end.pred_opt().unwrap_or(end)).max(start);
    let used: std::collections::HashMap<String, i64> =
        jobs::credits_per_day(&app.store.db, &usage.account_id, &usage.period_start)
            .await?
            .into_iter()
            .collect();
    Ok(start
        .iter_days()
        .take_while(|day| *day <= last)
        .map(|day| DayUsage {
            credits: used.get(&day.to_string()).copied().unwrap_or(0),
            day,
        })
        .collect())
}
