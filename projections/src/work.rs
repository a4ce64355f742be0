//! The process manager's work, derived from events: bulk items to run, webhooks to deliver,
//! reservations still open. Workers claim rows with a lease; an expired lease (its holder
//! died) makes the row claimable again.
use altframe_domain::account::AccountEvent;
use altframe_domain::batch::{BatchEvent, BatchItem};
use altframe_domain::generation::GenerationOptions;
use altframe_domain::job::JobEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::staged::StagedRow;
use crate::{on_db, timestamp, Arg, Db, Round, Tx};

/// What a worker needs to run one bulk item, stored with its queue row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedItem {
    pub batch_id: String,
    pub account_id: String,
    pub item: BatchItem,
    pub options: GenerationOptions,
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) async fn apply_batch(
    tx: &mut Tx,
    id: &str,
    event: &BatchEvent,
) -> Result<(), sqlx::Error> {
    match event {
        BatchEvent::BatchSubmitted {
            account_id,
            items,
            options,
            webhook_url,
            at,
            ..
        } => {
            for (index, item) in items.iter().enumerate() {
                let spec = QueuedItem {
                    batch_id: id.to_string(),
                    account_id: account_id.clone(),
                    item: item.clone(),
                    options: (**options).clone(),
                };
                tx.execute(
                    "INSERT INTO bulk_queue (job_id, batch_id, account_id, batch_index, spec, enqueued_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    vec![
                        item.job_id.clone().into(),
                        id.into(),
                        account_id.clone().into(),
                        Arg::Int(index as i64),
                        serde_json::to_string(&spec).unwrap_or_default().into(),
                        timestamp(*at).into(),
                    ],
                )
                .await?;
            }
            if let Some(url) = webhook_url {
                tx.execute(
                    "INSERT INTO webhook_queue (batch_id, account_id, url) VALUES ($1, $2, $3)",
                    vec![id.into(), account_id.clone().into(), url.clone().into()],
                )
                .await?;
            }
        }
        BatchEvent::BatchFinished {
            webhook_id: Some(webhook_id),
            at,
            ..
        } => {
            tx.execute(
                "UPDATE webhook_queue SET webhook_id = $1, next_attempt_at = $2 WHERE batch_id = $3",
                vec![webhook_id.clone().into(), Arg::Int(millis(*at)), id.into()],
            )
            .await?;
        }
        BatchEvent::WebhookAttempted { attempt, .. } => {
            tx.execute(
                "UPDATE webhook_queue SET attempts = $1, next_attempt_at = $2, lease_until = 0
                  WHERE batch_id = $3",
                vec![
                    Arg::Int(i64::from(attempt.attempt)),
                    Arg::OptInt(attempt.next_attempt_at.map(millis)),
                    id.into(),
                ],
            )
            .await?;
        }
        BatchEvent::WebhookRedeliveryRequested { at, .. } => {
            tx.execute(
                "UPDATE webhook_queue SET next_attempt_at = $1, lease_until = 0 WHERE batch_id = $2",
                vec![Arg::Int(millis(*at)), id.into()],
            )
            .await?;
        }
        BatchEvent::BatchFinished { .. }
        | BatchEvent::BatchItemCompleted { .. }
        | BatchEvent::BatchItemFailed { .. } => {}
    }
    Ok(())
}

pub(crate) async fn apply_job(tx: &mut Tx, id: &str, event: &JobEvent) -> Result<(), sqlx::Error> {
    let has_outcome = matches!(
        event,
        JobEvent::JobCompleted {
            batch_id: Some(_),
            ..
        } | JobEvent::JobFailed {
            batch_id: Some(_),
            ..
        }
    );
    if has_outcome {
        tx.execute("DELETE FROM bulk_queue WHERE job_id = $1", vec![id.into()])
            .await?;
        tx.execute("DELETE FROM bulk_images WHERE job_id = $1", vec![id.into()])
            .await?;
    }
    Ok(())
}

/// A reservation not yet captured or released, as the table holds it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct ReservationRow {
    reservation_id: String,
    account_id: String,
    purpose: String,
    credits: i64,
    reserved_at: String,
}

impl StagedRow for ReservationRow {
    const TABLE: &'static str = "open_reservations";
    const COLUMNS: &'static [&'static str] = &[
        "reservation_id",
        "account_id",
        "purpose",
        "credits",
        "reserved_at",
    ];
    const TYPES: &'static [&'static str] = &["text", "text", "text", "bigint", "text"];

    fn key(&self) -> &str {
        &self.reservation_id
    }

    fn values(&self) -> Vec<Arg> {
        vec![
            self.reservation_id.clone().into(),
            self.account_id.clone().into(),
            self.purpose.clone().into(),
            self.credits.into(),
            self.reserved_at.clone().into(),
        ]
    }
}

pub(crate) async fn apply_account(
    tx: &mut Tx,
    round: &mut Round,
    account_id: &str,
    event: &AccountEvent,
) -> Result<(), sqlx::Error> {
    match event {
        AccountEvent::CreditsReserved {
            reservation_id,
            purpose,
            credits,
            at,
            ..
        } => round.reservations.create(ReservationRow {
            reservation_id: reservation_id.clone(),
            account_id: account_id.to_string(),
            purpose: purpose.clone(),
            credits: i64::from(*credits),
            reserved_at: timestamp(*at),
        }),
        AccountEvent::ReservationIncreased {
            reservation_id,
            credits,
            ..
        } => {
            round
                .reservations
                .update(tx, reservation_id, |r| r.credits += i64::from(*credits))
                .await?;
        }
        AccountEvent::CreditsCaptured { reservation_id, .. }
        | AccountEvent::CreditsReleased { reservation_id, .. } => {
            round.reservations.delete(reservation_id)
        }
        _ => {}
    }
    Ok(())
}

/// A claimed bulk item.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedItem {
    pub job_id: String,
    pub spec: String,
    pub attempts: i64,
}

/// Claims up to `limit` items whose lease has expired, leasing them to `worker` until
/// `lease_until` (epoch ms). On Postgres, `SKIP LOCKED` lets several processes claim at once
/// without waiting on each other or taking the same row.
pub async fn claim_items(
    db: &Db,
    worker: &str,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
) -> Result<Vec<ClaimedItem>, sqlx::Error> {
    let lock = if db.is_postgres() {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE bulk_queue SET lease_until = $1, leased_by = $2, attempts = attempts + 1
          WHERE job_id IN (SELECT job_id FROM bulk_queue WHERE lease_until < $3
                            ORDER BY enqueued_at, batch_index LIMIT $4 {lock})
          RETURNING job_id, spec, attempts"
    );
    on_db!(db, pool => sqlx::query_as::<_, ClaimedItem>(&sql)
        .bind(lease_until_ms)
        .bind(worker)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// Extends a lease this worker still holds. Returns false when it was lost.
pub async fn renew_item(
    db: &Db,
    job_id: &str,
    worker: &str,
    lease_until_ms: i64,
) -> Result<bool, sqlx::Error> {
    let n = db
        .execute(
            "UPDATE bulk_queue SET lease_until = $1 WHERE job_id = $2 AND leased_by = $3",
            vec![Arg::Int(lease_until_ms), job_id.into(), worker.into()],
        )
        .await?;
    Ok(n == 1)
}

/// Hands an item back, to be claimed again after `retry_at_ms` (a transient failure).
pub async fn retry_item_later(
    db: &Db,
    job_id: &str,
    worker: &str,
    retry_at_ms: i64,
) -> Result<(), sqlx::Error> {
    db.execute(
        "UPDATE bulk_queue SET lease_until = $1, leased_by = NULL WHERE job_id = $2 AND leased_by = $3",
        vec![Arg::Int(retry_at_ms), job_id.into(), worker.into()],
    )
    .await?;
    Ok(())
}

/// Hands every item this worker holds back at once (a graceful shutdown).
pub async fn release_items(db: &Db, worker: &str) -> Result<u64, sqlx::Error> {
    db.execute(
        "UPDATE bulk_queue SET lease_until = 0, leased_by = NULL WHERE leased_by = $1",
        vec![worker.into()],
    )
    .await
}

pub async fn queued_items(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM bulk_queue").fetch_one(pool).await)
}

pub async fn store_image(
    db: &Db,
    job_id: &str,
    bytes: &[u8],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO bulk_images (job_id, bytes, created_at) VALUES ($1, $2, $3)";
    on_db!(db, pool => sqlx::query(sql).bind(job_id).bind(bytes).bind(timestamp(at)).execute(pool).await.map(|_| ()))?;
    Ok(())
}

pub async fn load_image(db: &Db, job_id: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let sql = "SELECT bytes FROM bulk_images WHERE job_id = $1";
    on_db!(db, pool => sqlx::query_scalar::<_, Vec<u8>>(sql).bind(job_id).fetch_optional(pool).await)
}

pub async fn delete_images(db: &Db, job_ids: &[String]) -> Result<(), sqlx::Error> {
    for id in job_ids {
        db.execute(
            "DELETE FROM bulk_images WHERE job_id = $1",
            vec![id.clone().into()],
        )
        .await?;
    }
    Ok(())
}

/// A webhook due for delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueWebhook {
    pub batch_id: String,
    pub account_id: String,
    pub webhook_id: String,
    pub url: String,
    pub attempts: i64,
}

/// Claims up to `limit` due webhooks until `lease_until_ms`.
pub async fn claim_webhooks(
    db: &Db,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
) -> Result<Vec<DueWebhook>, sqlx::Error> {
    let lock = if db.is_postgres() {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE webhook_queue SET lease_until = $1
          WHERE batch_id IN (SELECT batch_id FROM webhook_queue
                              WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $2
                                AND lease_until < $2 AND webhook_id IS NOT NULL
                              ORDER BY next_attempt_at LIMIT $3 {lock})
          RETURNING batch_id, account_id, webhook_id, url, attempts"
    );
    on_db!(db, pool => sqlx::query_as::<_, DueWebhook>(&sql)
        .bind(lease_until_ms)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenReservation {
    pub reservation_id: String,
    pub account_id: String,
    pub purpose: String,
}

/// Reservations made before `before` and still open, skipping bulk items still queued (their
/// lease, not this timeout, says whether their worker is alive).
pub async fn stale_reservations(
    db: &Db,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OpenReservation>, sqlx::Error> {
    let sql = "SELECT reservation_id, account_id, purpose FROM open_reservations r
                WHERE reserved_at < $1
                  AND NOT EXISTS (SELECT 1 FROM bulk_queue q WHERE q.job_id = r.purpose)
                ORDER BY reserved_at LIMIT $2";
    on_db!(db, pool => sqlx::query_as::<_, OpenReservation>(sql)
        .bind(timestamp(before))
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// How much work waits in the shared queues, for GET /metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueDepths {
    /// Bulk items a worker may take now.
    pub bulk_waiting: i64,
    /// Bulk items a worker holds.
    pub bulk_running: i64,
    /// Bulk items waiting out a retry delay after a transient failure.
    pub bulk_retry_wait: i64,
    /// Webhooks scheduled for a first try or a retry (a delivered or abandoned one has no
    /// next attempt).
    pub webhooks_pending: i64,
}

pub async fn queue_depths(db: &Db, now_ms: i64) -> Result<QueueDepths, sqlx::Error> {
    let sql = "SELECT
          (SELECT COUNT(*) FROM bulk_queue WHERE lease_until <= $1) AS bulk_waiting,
          (SELECT COUNT(*) FROM bulk_queue
            WHERE lease_until > $1 AND leased_by IS NOT NULL) AS bulk_running,
          (SELECT COUNT(*) FROM bulk_queue
            WHERE lease_until > $1 AND leased_by IS NULL) AS bulk_retry_wait,
          (SELECT COUNT(*) FROM webhook_queue WHERE next_attempt_at IS NOT NULL) AS webhooks_pending";
    on_db!(db, pool => sqlx::query_as::<_, QueueDepths>(sql).bind(now_ms).fetch_one(pool).await)
}
