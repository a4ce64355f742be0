//! Signed-in browsers, in the shared database so that every `serve` process honours them.
//! The cookie carries a random secret; the table keeps only its SHA-256, so a copy of the
//! table signs nobody in.
use altframe_projections::{on_db, Db};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub email: String,
    pub account_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

pub async fn create(
    db: &Db,
    id_hash: &str,
    row: &SessionRow,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql =
        "INSERT INTO sessions (id_hash, email, account_id, csrf_token, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6)";
    on_db!(db, pool => sqlx::query(sql)
        .bind(id_hash)
        .bind(&row.email)
        .bind(&row.account_id)
        .bind(&row.csrf_token)
        .bind(now.timestamp())
        .bind(row.expires_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The session, unless it has expired.
pub async fn find(
    db: &Db,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let sql = "SELECT email, account_id, csrf_token, expires_at FROM sessions
                WHERE id_hash = $1 AND expires_at > $2";
    on_db!(db, pool => sqlx::query_as::<_, SessionRow>(sql)
        .bind(id_hash)
        .bind(now.timestamp())
        .fetch_optional(pool)
        .await)
}

pub async fn delete(db: &Db, id_hash: &str) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends every session of a login (its password changed); returns how many ended.
pub async fn delete_for_email(db: &Db, email: &str) -> Result<u64, sqlx::Error> {
    let done = on_db!(db, pool => sqlx::query("DELETE FROM sessions WHERE email = $1")
        .bind(email)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done)
}

pub async fn delete_expired(db: &Db, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = on_db!(db, pool => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now.timestamp())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done)
}
