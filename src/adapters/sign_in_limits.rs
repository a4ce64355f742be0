//! Failed sign-ins (and sign-ups), counted per subject (an e-mail, a client address) in fixed windows in the
//! shared database, so that several processes together enforce one limit.
use altframe_projections::{on_db, Db};
use chrono::{DateTime, Utc};

/// The window failures are counted in.
pub const WINDOW_SECS: i64 = 15 * 60;

fn window_start(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(WINDOW_SECS) * WINDOW_SECS
}

/// Counts one attempt of `subject` as a failure, at once and atomically, and returns the
/// window's count with it and the window's start. Counting before the password is checked
/// means attempts sent together cannot all slip under the limit; a success is taken back with
/// [`forgive`].
pub async fn count_attempt(
    db: &Db,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(i64, i64), sqlx::Error> {
    let start = window_start(now);
    let sql = "INSERT INTO sign_in_failures (subject, window_start, failures) VALUES ($1, $2, 1)
               ON CONFLICT (subject, window_start)
               DO UPDATE SET failures = sign_in_failures.failures + 1
               RETURNING CAST(failures AS BIGINT)";
    let failures: i64 = on_db!(db, pool => sqlx::query_scalar(sql)
        .bind(subject)
        .bind(start)
        .fetch_one(pool)
        .await)?;
    Ok((failures, start))
}

/// Takes back an attempt counted by [`count_attempt`] in the window starting at
/// `window_start`, which did not fail.
pub async fn forgive(db: &Db, subject: &str, window_start: i64) -> Result<(), sqlx::Error> {
    let sql = "UPDATE sign_in_failures SET failures = failures - 1
                WHERE subject = $1 AND window_start = $2 AND failures > 0";
    on_db!(db, pool => sqlx::query(sql)
        .bind(subject)
        .bind(window_start)
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
