//! Logins: an e-mail and a password hash that sign in to one account. Credentials, not
//! account history, so they live in a table of their own rather than in events: a reset
//! replaces the hash and the old one is gone (docs/decisions/0013-owners-sign-in.md).
use altframe_projections::{on_db, timestamp, Db};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRow {
    pub email: String,
    pub account_id: String,
    pub password_hash: String,
    pub created_at: String,
    pub password_changed_at: String,
}

/// Adds a login; `false` when the e-mail already has one.
pub async fn create(
    db: &Db,
    email: &str,
    account_id: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql =
        "INSERT INTO logins (email, account_id, password_hash, created_at, password_changed_at)
               VALUES ($1, $2, $3, $4, $4) ON CONFLICT (email) DO NOTHING";
    let done = on_db!(db, pool => sqlx::query(sql)
        .bind(email)
        .bind(account_id)
        .bind(password_hash)
        .bind(timestamp(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn find(db: &Db, email: &str) -> Result<Option<LoginRow>, sqlx::Error> {
    let sql = "SELECT email, account_id, password_hash, created_at, password_changed_at
                 FROM logins WHERE email = $1";
    on_db!(db, pool => sqlx::query_as::<_, LoginRow>(sql).bind(email).fetch_optional(pool).await)
}

/// Replaces the password; `false` when the e-mail has no login.
pub async fn set_password(
    db: &Db,
    email: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE logins SET password_hash = $1, password_changed_at = $2 WHERE email = $3";
    let done = on_db!(db, pool => sqlx::query(sql)
        .bind(password_hash)
        .bind(timestamp(now))
        .bind(email)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Removes a login (one whose account could not be opened).
pub async fn delete(db: &Db, email: &str) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query("DELETE FROM logins WHERE email = $1")
        .bind(email)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
