//! Failed sign-ins, counted per subject (an e-mail, a client address) in fixed windows in the
//! shared database, so that several processes together enforce one limit.
use altframe_projections::{on_db, Db};
use chrono::{DateTime, Utc};

/// The window failures are counted in.
pub const WINDOW_SECS: i64 = 15 * 60;

fn window_start(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(WINDOW_SECS) * WINDOW_SECS
}

/// Failures of `subject` in the current window, and when that window ends.
pub async fn failures(
    db: &Db,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(i64, i64), sqlx::Error> {
    let start = window_start(now);
    let sql = "SELECT CAST(failures AS BIGINT) FROM sign_in_failures
               WHERE subject = $1 AND window_start = $2";
    let found: Option<i64> = on_db!(db, pool => sqlx::query_scalar(sql)
        .bind(subject)
        .bind(start)
        .fetch_optional(pool)
        .await)?;
    Ok((found.unwrap_or(0), start + WINDOW_SECS))
}

pub async fn record_failure(db: &Db, subject: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO sign_in_failures (subject, window_start, failures) VALUES ($1, $2, 1)
               ON CONFLICT (subject, window_start)
               DO UPDATE SET failures = sign_in_failures.failures + 1";
    on_db!(db, pool => sqlx::query(sql)
        .bind(subject)
        .bind(window_start(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Drops the counts of windows that have ended.
pub async fn forget_ended(db: &Db, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = on_db!(db, pool => sqlx::query("DELETE FROM sign_in_failures WHERE window_start < $1")
        .bind(window_start(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done)
}
