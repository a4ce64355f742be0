//! Batch status and webhook delivery attempts.
use altframe_domain::batch::BatchEvent;
use serde::Serialize;

use crate::{on_db, timestamp, Arg, Db, Tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct BatchRow {
    pub id: String,
    pub account_id: String,
    pub status: String,
    pub total: i64,
    pub completed: i64,
    pub failed: i64,
    pub credits: i64,
    pub webhook_url: Option<String>,
    pub webhook_id: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct WebhookAttemptRow {
    pub attempt: i64,
    pub webhook_id: String,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub delivered: i64,
    pub next_attempt_at: Option<String>,
    pub at: String,
}

pub(crate) async fn apply(tx: &mut Tx, id: &str, event: &BatchEvent) -> Result<(), sqlx::Error> {
    match event {
        BatchEvent::BatchSubmitted {
            account_id,
            items,
            webhook_url,
            credits_reserved,
            at,
            ..
        } => {
            tx.execute(
                "INSERT INTO batches (id, account_id, status, total, completed, failed, credits,
                                      webhook_url, created_at)
                 VALUES ($1, $2, 'processing', $3, 0, 0, $4, $5, $6)",
                vec![
                    id.into(),
                    account_id.clone().into(),
                    Arg::Int(items.len() as i64),
                    Arg::Int(i64::from(*credits_reserved)),
                    webhook_url.clone().into(),
                    timestamp(*at).into(),
                ],
            )
            .await?;
        }
        BatchEvent::BatchItemCompleted { .. } => {
            tx.execute(
                "UPDATE batches SET completed = completed + 1 WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        }
        BatchEvent::BatchItemFailed { .. } => {
            tx.execute(
                "UPDATE batches SET failed = failed + 1 WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        }
        BatchEvent::BatchFinished {
            status,
            webhook_id,
            at,
            ..
        } => {
            tx.execute(
                "UPDATE batches SET status = $1, webhook_id = $2, finished_at = $3 WHERE id = $4",
                vec![
                    status.as_str().into(),
                    webhook_id.clone().into(),
                    timestamp(*at).into(),
                    id.into(),
                ],
            )
            .await?;
        }
        BatchEvent::WebhookAttempted {
            webhook_id,
            attempt,
            at,
            ..
        } => {
            tx.execute(
                "INSERT INTO webhook_attempts (batch_id, attempt, webhook_id, status, error, delivered,
                                               next_attempt_at, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    id.into(),
                    Arg::Int(i64::from(attempt.attempt)),
                    webhook_id.clone().into(),
                    attempt.status.map_or(Arg::OptInt(None), |s| Arg::Int(i64::from(s))),
                    attempt.error.clone().into(),
                    Arg::Int(i64::from(attempt.delivered)),
                    attempt.next_attempt_at.map(timestamp).into(),
                    timestamp(*at).into(),
                ],
            )
            .await?;
        }
        BatchEvent::WebhookRedeliveryRequested { .. } => {}
    }
    Ok(())
}

pub async fn find(db: &Db, id: &str) -> Result<Option<BatchRow>, sqlx::Error> {
    let sql = "SELECT id, account_id, status, total, completed, failed, credits, webhook_url,
                      webhook_id, created_at, finished_at FROM batches WHERE id = $1";
    on_db!(db, pool => sqlx::query_as::<_, BatchRow>(sql).bind(id).fetch_optional(pool).await)
}

/// The account's latest batches, newest first.
pub async fn recent_for_account(
    db: &Db,
    account_id: &str,
    limit: i64,
) -> Result<Vec<BatchRow>, sqlx::Error> {
    let sql = "SELECT id, account_id, status, total, completed, failed, credits, webhook_url,
                      webhook_id, created_at, finished_at FROM batches
                WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2";
    on_db!(db, pool => sqlx::query_as::<_, BatchRow>(sql)
        .bind(account_id)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

pub async fn webhook_attempts(
    db: &Db,
    batch_id: &str,
) -> Result<Vec<WebhookAttemptRow>, sqlx::Error> {
    let sql = "SELECT attempt, webhook_id, status, error, delivered, next_attempt_at, at
                 FROM webhook_attempts WHERE batch_id = $1 ORDER BY attempt";
    on_db!(db, pool => sqlx::query_as::<_, WebhookAttemptRow>(sql).bind(batch_id).fetch_all(pool).await)
}

/// Webhook delivery attempts so far, delivered and not, for GET /metrics.
pub async fn webhook_attempt_counts(db: &Db) -> Result<(i64, i64), sqlx::Error> {
    let sql = "SELECT COALESCE(SUM(CASE WHEN delivered <> 0 THEN 1 ELSE 0 END), 0),
                      COALESCE(SUM(CASE WHEN delivered = 0 THEN 1 ELSE 0 END), 0)
               FROM webhook_attempts";
    on_db!(db, pool => sqlx::query_as::<_, (i64, i64)>(sql).fetch_one(pool).await)
}
